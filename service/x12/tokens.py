"""Strict X12 5010 tokenizer, envelope checks and typed element readers for inbound files."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

ISA_LENGTH = 106
# ISA01..ISA16 are fixed width; with 16 separators and the terminator ISA is 106 characters.
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
_ISA_NAMES = (
    "authorization qualifier",
    "authorization information",
    "security qualifier",
    "security information",
    "sender id qualifier",
    "sender id",
    "receiver id qualifier",
    "receiver id",
    "date",
    "time",
    "repetition separator",
    "version",
    "interchange control number",
    "acknowledgment requested",
    "usage indicator",
    "component separator",
)
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}\Z")
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)\Z")
_DIGITS = re.compile(r"\d+\Z")


@dataclass(frozen=True, slots=True)
class Problem:
    """One defect, located: segment number (ISA is 1), segment id and element position."""

    segment_number: int
    segment_id: str
    element: int | None  # 1-based position after the segment id; None: the whole segment
    message: str

    def __str__(self) -> str:
        where = f"segment {self.segment_number} ({self.segment_id})"
        if self.element is not None:
            where += f", element {self.element}"
        return f"{where}: {self.message}"


class X12ParseError(ValueError):
    """A file that cannot be read; the first problem is also exposed as attributes."""

    def __init__(self, problem: Problem, *more: Problem) -> None:
        self.problems: tuple[Problem, ...] = (problem, *more)
        self.segment_number = problem.segment_number
        self.segment_id = problem.segment_id
        self.element = problem.element
        self.message = problem.message
        super().__init__("; ".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class Delimiters:
    """From the ISA: element (4th character), repetition (ISA11), component (ISA16), segment."""

    element: str
    repetition: str
    component: str
    segment: str


class Segment:
    """One segment: elements[0] is the segment id, elements[n] the n-th element."""

    __slots__ = ("component", "elements", "number")

    def __init__(self, number: int, elements: tuple[str, ...], component: str) -> None:
        self.number = number
        self.elements = elements
        self.component = component

    @property
    def id(self) -> str:
        return self.elements[0]

    def __repr__(self) -> str:  # element values may be names: show only where it is
        return f"Segment({self.number}, {self.id})"

    def get(self, position: int) -> str:
        """The element at position, "" when absent."""
        return self.elements[position] if position < len(self.elements) else ""

    def components(self, position: int) -> list[str]:
        """The components of a composite element ([""] when absent)."""
        return self.get(position).split(self.component)

    def problem(self, element: int | None, message: str) -> Problem:
        return Problem(self.number, self.id, element, message)

    def error(self, element: int | None, message: str) -> X12ParseError:
        return X12ParseError(self.problem(element, message))


@dataclass(frozen=True, slots=True)
class Envelope:
    """ISA values of an inbound interchange (sender is the payer or clearinghouse)."""

    sender_qualifier: str  # ISA05
    sender_id: str  # ISA06, trailing spaces removed
    receiver_qualifier: str  # ISA07
    receiver_id: str  # ISA08
    date: str  # ISA09 YYMMDD as sent
    time: str  # ISA10 HHMM
    control_number: str  # ISA13 = IEA02
    acknowledgment_requested: bool  # ISA14
    usage_indicator: str  # ISA15 P production / T test


@dataclass(slots=True)
class TransactionSet:
    """ST, the segments between ST and SE, and SE (SE01 and SE02 already checked)."""

    header: Segment
    body: list[Segment]
    trailer: Segment

    @property
    def control_number(self) -> str:
        return self.header.get(2)


@dataclass(slots=True)
class FunctionalGroup:
    """GS, its transaction sets and GE (GE01 and GE02 already checked)."""

    header: Segment
    transaction_sets: list[TransactionSet]
    trailer: Segment

    @property
    def functional_id(self) -> str:  # GS01
        return self.header.get(1)

    @property
    def control_number(self) -> str:  # GS06
        return self.header.get(6)

    @property
    def version(self) -> str:  # GS08
        return self.header.get(8)


@dataclass(slots=True)
class Interchange:
    """A whole file: one ISA/IEA with its functional groups."""

    envelope: Envelope
    delimiters: Delimiters
    groups: list[FunctionalGroup]


def read_isa(text: str) -> tuple[Delimiters, Segment, int]:
    """Check the fixed-width ISA; return the delimiters, the ISA and where the next one starts."""
    start = len(text) - len(text.lstrip("\ufeff \t\r\n"))
    if not text.startswith("ISA", start):
        raise X12ParseError(
            Problem(1, text[start : start + 3] or "(empty)", None, _not_isa(text[start:]))
        )
    element = text[start + 3 : start + 4]
    if not element or element.isalnum() or element.isspace():
        raise X12ParseError(Problem(1, "ISA", None, "no element separator after ISA"))
    # Walk the 16 fixed-width elements so that a wrong width is named, not just the length.
    position = start + 4
    values: list[str] = []
    for index, width in enumerate(_ISA_WIDTHS, start=1):
        end = text.find(element, position) if index < 16 else position + 1
        if end == -1 or end > len(text):
            raise X12ParseError(
                Problem(1, "ISA", index, "the ISA ends early: the file is truncated")
            )
        value = text[position:end]
        if len(value) != width:
            raise X12ParseError(
                Problem(
                    1,
                    "ISA",
                    index,
                    f"ISA{index:02d} ({_ISA_NAMES[index - 1]}) is {len(value)} characters, "
                    f"the fixed-width ISA needs {width} (ISA is exactly {ISA_LENGTH} characters)",
                )
            )
        values.append(value)
        position = end + 1 if index < 16 else end
    terminator = text[position : position + 1]  # the character after ISA16
    component = values[15]
    if not terminator or terminator.isalnum() or terminator in (element, component, " "):
        raise X12ParseError(
            Problem(
                1,
                "ISA",
                16,
                f"no segment terminator after ISA16: ISA must be exactly {ISA_LENGTH} characters",
            )
        )
    if values[11] != "00501":
        raise X12ParseError(
            Problem(1, "ISA", 12, f'ISA12 version "{values[11]}" is not 00501 (X12 5010)')
        )
    if component.isalnum() or component == element:
        raise X12ParseError(
            Problem(1, "ISA", 16, f'ISA16 component separator "{component}" is not a delimiter')
        )
    delimiters = Delimiters(element, values[10], component, terminator)
    isa = Segment(1, ("ISA", *values), component)
    return delimiters, isa, position + 1


def _not_isa(text: str) -> str:
    if not text.strip():
        return "the file is empty"
    return "the file does not start with an ISA interchange header"


def iter_segments(
    text: str, delimiters: Delimiters, offset: int, *, number: int = 1
) -> Iterator[Segment]:
    """Segments after the ISA, numbered from 2 (from number + 1 when text continues a file);
    newlines between segments are tolerated."""
    terminator, element, component = delimiters.segment, delimiters.element, delimiters.component
    length = len(text)
    while offset < length:
        end = text.find(terminator, offset)
        raw = text[offset:] if end == -1 else text[offset:end]
        stripped = raw.strip("\r\n")
        if end == -1:
            if stripped.strip():
                elements = stripped.split(element)
                raise X12ParseError(
                    Problem(
                        number + 1,
                        elements[0][:3],
                        None,
                        f'the last segment has no segment terminator ("{terminator}"): '
                        "the file is truncated",
                    )
                )
            return
        offset = end + 1
        if not stripped:
            if raw:  # only line breaks between two segments
                continue
            raise X12ParseError(
                Problem(number + 1, "", None, "empty segment (two segment terminators in a row)")
            )
        number += 1
        elements = stripped.split(element)
        if not _SEGMENT_ID.match(elements[0]):
            raise X12ParseError(
                Problem(number, elements[0][:3], None, "this is not a segment identifier")
            )
        # A tuple of str is not tracked by the garbage collector: big files parse faster.
        yield Segment(number, tuple(elements), component)


# Far above any X12 segment; a longer run without a terminator is not X12 (and would otherwise
# be buffered whole, waiting for one).
MAX_SEGMENT_CHARS = 64 * 1024


def read_segments(pieces: Iterable[str]) -> tuple[Delimiters, Segment, Iterator[Segment]]:
    """read_isa and iter_segments over a file that arrives in pieces (an upload read back
    chunk by chunk): only a piece and the segment it cuts are in memory at a time."""
    chunks = iter(pieces)
    head = ""
    for piece in chunks:
        head += piece
        if len(head.lstrip("\ufeff \t\r\n")) > ISA_LENGTH:
            break
    delimiters, isa, offset = read_isa(head)
    return delimiters, isa, _segments_of_pieces(head[offset:], chunks, delimiters)


def _segments_of_pieces(
    first: str, chunks: Iterator[str], delimiters: Delimiters
) -> Iterator[Segment]:
    number = 1
    terminator = delimiters.segment
    carry = ""  # the start of a segment cut by the end of a piece
    for piece in itertools.chain((first,), chunks):
        text = carry + piece
        cut = text.rfind(terminator) + 1
        if cut:
            for segment in iter_segments(text[:cut], delimiters, 0, number=number):
                number = segment.number
                yield segment
            carry = text[cut:]
        else:
            carry = text
        if len(carry) > MAX_SEGMENT_CHARS:
            raise X12ParseError(
                Problem(
                    number + 1,
                    carry.lstrip("\r\n")[:3],
                    None,
                    f"a segment is longer than {MAX_SEGMENT_CHARS} characters without a segment "
                    f'terminator ("{terminator}")',
                )
            )
    yield from iter_segments(carry, delimiters, 0, number=number)  # raises when not blank


def _envelope(isa: Segment) -> Envelope:
    return Envelope(
        sender_qualifier=isa.get(5),
        sender_id=isa.get(6).rstrip(),
        receiver_qualifier=isa.get(7),
        receiver_id=isa.get(8).rstrip(),
        date=isa.get(9),
        time=isa.get(10),
        control_number=isa.get(13),
        acknowledgment_requested=isa.get(14) == "1",
        usage_indicator=isa.get(15),
    )


class Event(StrEnum):
    """What a segment is to the envelope; BODY: a segment between ST and SE."""

    GS = "GS"
    ST = "ST"
    BODY = "BODY"
    SE = "SE"
    GE = "GE"
    IEA = "IEA"


def read_interchange(pieces: Iterable[str]) -> tuple[Envelope, Iterator[tuple[Event, Segment]]]:
    """The envelope, then every segment in order with what it is, ISA/IEA, GS/GE and ST/SE
    counts and control numbers checked as they go (a trailer's event comes once it is
    checked). Nothing is kept but the counts: a file of any size streams through."""
    _, isa, segments = read_segments(pieces)
    envelope = _envelope(isa)
    return envelope, _events(envelope, isa, segments)


def _events(
    envelope: Envelope, isa: Segment, segments: Iterator[Segment]
) -> Iterator[tuple[Event, Segment]]:
    group: Segment | None = None  # the open GS
    current: Segment | None = None  # the open ST
    group_numbers: list[str] = []  # GS06 of the closed groups
    st_numbers: set[str] = set()
    sets_in_group = 0
    body_count = 0
    last: Segment = isa
    iea: Segment | None = None
    for segment in segments:
        last = segment
        sid = segment.id
        if iea is not None:
            raise segment.error(None, "data after the IEA interchange trailer")
        if current is not None:
            if sid == "SE":
                _check_se(current, body_count, segment)
                sets_in_group += 1
                current = None
                yield Event.SE, segment
            elif sid in ("ST", "GS", "GE", "IEA", "ISA"):
                raise segment.error(
                    None,
                    f"transaction set {current.get(2)} (segment {current.number}) "
                    f"has no SE trailer before this {sid}",
                )
            else:
                body_count += 1
                yield Event.BODY, segment
            continue
        if sid == "ST":
            if group is None:
                raise segment.error(None, "ST outside a functional group (no GS before it)")
            control = required(segment, 2, "ST02 (transaction set control number)")
            required(segment, 1, "ST01 (transaction set identifier)")
            if control in st_numbers:
                raise segment.error(
                    2, f"ST02 {control} repeats a transaction set control number of this group"
                )
            st_numbers.add(control)
            current, body_count = segment, 0
            yield Event.ST, segment
        elif sid == "GS":
            if group is not None:
                raise segment.error(
                    None, f"functional group {group.get(6)} has no GE before this GS"
                )
            required(segment, 1, "GS01 (functional identifier code)")
            whole_number(segment, 6, "GS06 (group control number)")
            if segment.get(6) in group_numbers:
                raise segment.error(6, f"GS06 {segment.get(6)} repeats an earlier group")
            group, st_numbers, sets_in_group = segment, set(), 0
            yield Event.GS, segment
        elif sid == "GE":
            if group is None:
                raise segment.error(None, "GE without a GS")
            _check_ge(group, sets_in_group, segment)
            group_numbers.append(group.get(6))
            group = None
            yield Event.GE, segment
        elif sid == "IEA":
            if group is not None:
                raise segment.error(
                    None, f"functional group {group.get(6)} has no GE before the IEA"
                )
            _check_iea(len(group_numbers), segment, envelope)
            iea = segment
            yield Event.IEA, segment
        elif sid == "TA1" and group is None:
            pass  # an interchange acknowledgement of our ISA riding along: not read here
        else:
            raise segment.error(None, f"{sid} outside a transaction set (no ST before it)")
    if iea is None:
        where = "inside a transaction set (no SE)" if current is not None else "without an IEA"
        raise last.error(None, f"the file ends {where}: it is truncated")


def parse_interchange(text: str | Iterable[str]) -> Interchange:
    """Tokenize a whole file and check ISA/IEA, GS/GE and ST/SE counts and control numbers;
    every segment is kept (acknowledgements; an 835 streams through read_interchange)."""
    pieces = (text,) if isinstance(text, str) else text
    delimiters, isa, segments = read_segments(pieces)
    envelope = _envelope(isa)
    groups: list[FunctionalGroup] = []
    group: FunctionalGroup | None = None
    current: TransactionSet | None = None
    for event, segment in _events(envelope, isa, segments):
        if event is Event.BODY:
            assert current is not None
            current.body.append(segment)
        elif event is Event.ST:
            current = TransactionSet(segment, [], segment)
        elif event is Event.SE:
            assert current is not None
            assert group is not None
            current.trailer = segment
            group.transaction_sets.append(current)
        elif event is Event.GS:
            group = FunctionalGroup(segment, [], segment)
        elif event is Event.GE:
            assert group is not None
            group.trailer = segment
            groups.append(group)
    return Interchange(envelope, delimiters, groups)


def _check_se(st: Segment, body_count: int, se: Segment) -> None:
    # SE01 counts the segments from ST to SE inclusive; SE02 = ST02.
    count = whole_number(se, 1, "SE01 (number of included segments)")
    actual = body_count + 2
    control_number = st.get(2)
    if count != actual:
        raise se.error(
            1,
            f"SE01 says {count} segments but transaction set {control_number} "
            f"has {actual} (ST to SE inclusive)",
        )
    if se.get(2) != control_number:
        raise se.error(2, f'SE02 "{se.get(2)}" does not match ST02 "{control_number}"')


def _check_ge(gs: Segment, sets: int, ge: Segment) -> None:
    # GE01 counts the transaction sets of the group; GE02 = GS06.
    count = whole_number(ge, 1, "GE01 (number of transaction sets)")
    control_number = gs.get(6)
    if count != sets:
        raise ge.error(
            1,
            f"GE01 says {count} transaction sets but group {control_number} has {sets}",
        )
    if ge.get(2) != control_number:
        raise ge.error(2, f'GE02 "{ge.get(2)}" does not match GS06 "{control_number}"')
    if not sets:
        raise ge.error(None, f"functional group {control_number} has no transaction set")


def _check_iea(groups: int, iea: Segment, envelope: Envelope) -> None:
    # IEA01 counts the functional groups; IEA02 = ISA13.
    count = whole_number(iea, 1, "IEA01 (number of functional groups)")
    if count != groups:
        raise iea.error(1, f"IEA01 says {count} functional groups but the file has {groups}")
    if iea.get(2) != envelope.control_number:
        raise iea.error(2, f'IEA02 "{iea.get(2)}" does not match ISA13 "{envelope.control_number}"')
    if not groups:
        raise iea.error(None, "the interchange has no functional group")


# --- typed element readers: the label names the element, e.g. "CLP03 (claim charge)" ---


def required(segment: Segment, position: int, label: str) -> str:
    value = segment.get(position)
    if not value:
        raise segment.error(position, f"{label} is missing")
    return value


def whole_number(segment: Segment, position: int, label: str) -> int:
    value = required(segment, position, label)
    if not _DIGITS.match(value):
        raise segment.error(position, f'{label} "{value}" is not a whole number')
    return int(value)


def decimal(segment: Segment, position: int, label: str) -> Decimal:
    """A required X12 R (decimal) element as a Decimal, never a float."""
    value = required(segment, position, label)
    if not _NUMBER.match(value):
        raise segment.error(position, f'{label} "{value}" is not a number')
    return Decimal(value)


def optional_decimal(segment: Segment, position: int, label: str) -> Decimal | None:
    return decimal(segment, position, label) if segment.get(position) else None


def text_date(
    value: str, segment: Segment, position: int, label: str, problems: list[Problem]
) -> date | None:
    """A CCYYMMDD date; an invalid one is recorded in problems (reading goes on) and gives None."""
    if len(value) == 8 and value.isdigit():
        try:
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            pass
    problems.append(segment.problem(position, f'{label} "{value}" is not a valid date (CCYYMMDD)'))
    return None


def optional_date(
    segment: Segment, position: int, label: str, problems: list[Problem]
) -> date | None:
    value = segment.get(position)
    return text_date(value, segment, position, label, problems) if value else None


def date_or_period(
    segment: Segment, label: str, problems: list[Problem]
) -> tuple[date | None, date | None]:
    """DTP02 D8 (one date) or RD8 (CCYYMMDD-CCYYMMDD) with DTP03: (start, end)."""
    qualifier = required(segment, 2, f"{label} format qualifier")
    value = required(segment, 3, label)
    if qualifier == "D8":
        single = text_date(value, segment, 3, label, problems)
        return single, single
    if qualifier == "RD8":
        start, _, end = value.partition("-")
        return (
            text_date(start, segment, 3, label, problems),
            text_date(end, segment, 3, label, problems),
        )
    raise segment.error(2, f'{label} format "{qualifier}" is not D8 or RD8')
