"""Parse a 999 implementation acknowledgment (005010X231A1) into plain values."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from service.remittance.x12 import codes
from service.remittance.x12.detect import Kind, expect
from service.x12.tokens import (
    Envelope,
    Segment,
    parse_interchange,
    required,
    whole_number,
)


@dataclass(frozen=True, slots=True)
class CodeWords:
    """A code and its plain words."""

    code: str
    words: str


@dataclass(frozen=True, slots=True)
class ElementError:
    """Loop 2110 IK4: an element in error inside the segment of its IK3."""

    position: int  # IK401-1 element position in the segment
    component: int | None  # IK401-2 component position inside a composite
    repetition: int | None  # IK401-3
    element_reference: str  # IK402 data element reference number
    code: str  # IK403
    words: str
    bad_value: str  # IK404, a copy of the value in error ("" when not sent)


@dataclass(frozen=True, slots=True)
class SegmentError:
    """Loop 2100 IK3: a segment in error in the acknowledged transaction set."""

    segment_id: str  # IK301
    position: int  # IK302 segment position in the transaction set (ST is 1)
    loop_id: str  # IK303, e.g. 2300
    code: str  # IK304 ("" when only element errors are reported)
    words: str
    element_errors: list[ElementError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TransactionSetAck:
    """Loop 2000: AK2 (the acknowledged ST), its IK3/IK4 errors and IK5."""

    transaction_set_id: str  # AK201, e.g. 837
    control_number: str  # AK202 = the ST02 we sent
    version: str  # AK203 ("" when not sent)
    code: str  # IK501 A, E, M, R, W or X
    words: str
    syntax_errors: list[CodeWords]  # IK502..IK506
    segment_errors: list[SegmentError]

    @property
    def accepted(self) -> bool:
        """A (accepted) or E (accepted with errors noted); anything else refuses the ST."""
        return self.code in ("A", "E")


@dataclass(frozen=True, slots=True)
class GroupAck:
    """One 999 transaction set: AK1 (the acknowledged GS), per-ST results and AK9."""

    ack_control_number: str  # ST02 of the 999 itself
    functional_id: str  # AK101 = the GS01 we sent (HC for claims)
    group_control_number: str  # AK102 = the GS06 we sent
    version: str  # AK103 = the GS08 we sent
    transaction_sets: list[TransactionSetAck]
    code: str  # AK901 A, E, P, R, ...
    words: str
    included: int  # AK902 transaction sets included in the group we sent
    received: int  # AK903
    accepted: int  # AK904
    syntax_errors: list[CodeWords]  # AK905..AK909


@dataclass(frozen=True, slots=True)
class Ack999:
    """A 999 file: one GroupAck per acknowledged functional group."""

    envelope: Envelope
    groups: list[GroupAck]


def parse_999(text: str | Iterable[str]) -> Ack999:
    """Read a 999; malformed files raise X12ParseError with the segment and element."""
    interchange = parse_interchange(text)
    groups = expect(interchange, Kind.ACK_999)
    acks = [
        _transaction_set(ts.body, ts.control_number, ts.trailer)
        for group in groups
        for ts in group.transaction_sets
    ]
    return Ack999(envelope=interchange.envelope, groups=acks)


def _transaction_set(body: list[Segment], control_number: str, se: Segment) -> GroupAck:
    segments = iter(body)
    ak1 = next(segments, None)
    if ak1 is None or ak1.id != "AK1":
        where = ak1 or se
        raise where.error(None, "a 999 starts with AK1 (the acknowledged functional group)")
    sets: list[TransactionSetAck] = []
    open_set: tuple[str, str, str] | None = None  # AK201, AK202, AK203
    segment_errors: list[SegmentError] = []
    ak9: Segment | None = None
    for segment in segments:
        sid = segment.id
        if ak9 is not None:
            raise segment.error(None, f"{sid} after AK9 (AK9 closes the 999)")
        if sid == "AK2":  # loop 2000
            if open_set is not None:
                raise segment.error(None, "AK2 before the IK5 of the previous transaction set")
            open_set = (
                required(segment, 1, "AK201 (transaction set identifier)"),
                required(segment, 2, "AK202 (transaction set control number)"),
                segment.get(3),
            )
            segment_errors = []
        elif sid == "IK3":  # loop 2100
            if open_set is None:
                raise segment.error(None, "IK3 outside an AK2 transaction set response")
            code = segment.get(4)
            segment_errors.append(
                SegmentError(
                    segment_id=required(segment, 1, "IK301 (segment id in error)"),
                    position=whole_number(segment, 2, "IK302 (segment position)"),
                    loop_id=segment.get(3),
                    code=code,
                    words=codes.words(codes.SEGMENT_ERRORS, code),
                )
            )
        elif sid == "IK4":  # loop 2110
            if not segment_errors:
                raise segment.error(None, "IK4 without an IK3 segment error before it")
            segment_errors[-1].element_errors.append(_element_error(segment))
        elif sid == "CTX":  # segment / element context: location details only
            if open_set is None:
                raise segment.error(None, "CTX outside an AK2 transaction set response")
        elif sid == "IK5":
            if open_set is None:
                raise segment.error(None, "IK5 without an AK2 before it")
            code = required(segment, 1, "IK501 (transaction set acknowledgment code)")
            if code not in codes.ACK_CODES or code == "P":
                raise segment.error(1, f'IK501 "{code}" is not an acknowledgment code')
            sets.append(
                TransactionSetAck(
                    transaction_set_id=open_set[0],
                    control_number=open_set[1],
                    version=open_set[2],
                    code=code,
                    words=codes.ACK_CODES[code],
                    syntax_errors=_code_list(segment, 2, 6, codes.TRANSACTION_SET_ERRORS),
                    segment_errors=segment_errors,
                )
            )
            open_set = None
        elif sid == "AK9":
            if open_set is not None:
                raise segment.error(None, f"AK9 before the IK5 of transaction set {open_set[1]}")
            ak9 = segment
        else:
            raise segment.error(None, f"{sid} is not a 999 segment")
    if ak9 is None:
        raise se.error(None, "the 999 has no AK9 functional group response trailer")
    code = required(ak9, 1, "AK901 (functional group acknowledge code)")
    if code not in codes.ACK_CODES:
        raise ak9.error(1, f'AK901 "{code}" is not an acknowledgment code')
    return GroupAck(
        ack_control_number=control_number,
        functional_id=required(ak1, 1, "AK101 (functional identifier code)"),
        group_control_number=required(ak1, 2, "AK102 (group control number)"),
        version=ak1.get(3),
        transaction_sets=sets,
        code=code,
        words=codes.ACK_CODES[code],
        included=whole_number(ak9, 2, "AK902 (number of transaction sets included)"),
        received=whole_number(ak9, 3, "AK903 (number of received transaction sets)"),
        accepted=whole_number(ak9, 4, "AK904 (number of accepted transaction sets)"),
        syntax_errors=_code_list(ak9, 5, 9, codes.GROUP_ERRORS),
    )


def _element_error(segment: Segment) -> ElementError:
    position = segment.components(1)
    if not position[0].isdigit():
        raise segment.error(1, f'IK401 element position "{position[0]}" is not a whole number')
    code = required(segment, 3, "IK403 (data element syntax error code)")

    def part(index: int) -> int | None:
        value = position[index] if index < len(position) else ""
        if value and not value.isdigit():
            raise segment.error(1, f'IK401-{index + 1} "{value}" is not a whole number')
        return int(value) if value else None

    return ElementError(
        position=int(position[0]),
        component=part(1),
        repetition=part(2),
        element_reference=segment.get(2),
        code=code,
        words=codes.words(codes.ELEMENT_ERRORS, code),
        bad_value=segment.get(4),
    )


def _code_list(segment: Segment, first: int, last: int, table: dict[str, str]) -> list[CodeWords]:
    return [
        CodeWords(code, codes.words(table, code))
        for code in (segment.get(i) for i in range(first, last + 1))
        if code
    ]


__all__ = [
    "Ack999",
    "CodeWords",
    "ElementError",
    "GroupAck",
    "SegmentError",
    "TransactionSetAck",
    "parse_999",
]
