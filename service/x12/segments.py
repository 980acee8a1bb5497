"""X12 value cleaning, number/date formatting and segment assembly for the 837 writer."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TextIO

# ISA: element `*`, repetition `^` (ISA11), component `:` (ISA16), segment `~`.
ELEMENT_SEPARATOR = "*"
REPETITION_SEPARATOR = "^"
COMPONENT_SEPARATOR = ":"
SEGMENT_TERMINATOR = "~"
DELIMITERS = frozenset("*^:~")

# X12 5010 extended character set (upper case only, since every value is upper-cased);
# anything else is dropped so that pyx12's character-set check passes.
_DISALLOWED = re.compile(r"""[^A-Z0-9!"&'()+,\-./;?= %@\[\]_{}\\|<>#$`]""")
# A value that is already clean: allowed characters, single inner spaces, none at the ends.
# Most elements (codes, numbers, ids, dates) are, and skip the slow path.
_WORD = r"""[A-Z0-9!"&'()+,\-./;?=%@\[\]_{}\\|<>#$`]+"""
_ALREADY_CLEAN = re.compile(rf"{_WORD}(?: {_WORD})*")
_SPACES = re.compile(r"\s+")
# Letters NFKD does not decompose into ASCII.
_LETTERS = str.maketrans(
    {
        "ß": "SS",
        "Æ": "AE",
        "æ": "AE",
        "Ø": "O",
        "ø": "O",
        "Œ": "OE",
        "œ": "OE",
        "Ł": "L",
        "ł": "L",
        "Đ": "D",
        "đ": "D",
        "Þ": "TH",
        "þ": "TH",
        "\u0131": "I",  # dotless i
    }
)
_DELIMITERS_TO_SPACES = str.maketrans(dict.fromkeys(DELIMITERS, " "))
_CENT = Decimal("0.01")


def clean(value: str) -> str:
    """Upper-case, transliterate to ASCII and drop delimiters and characters X12 refuses.

    A name such as ``O'BRIEN*JR`` must never split an element, so the four delimiters go;
    ``Müller`` becomes ``MULLER`` (NFKD then drop the combining marks).
    """
    if not value or _ALREADY_CLEAN.fullmatch(value):
        return value
    if value.isascii():
        # Most of the rest (names, addresses) only need upper-casing: transliteration would
        # leave them as they are, and nothing else changes a value that is clean once upper.
        upper = value.upper()
        if _ALREADY_CLEAN.fullmatch(upper):
            return upper
    ascii_text = (
        unicodedata.normalize("NFKD", value.translate(_LETTERS))
        .encode("ascii", "ignore")
        .decode("ascii")
        .upper()
    )
    # Delimiters become spaces, then runs of whitespace (tabs, newlines) one space.
    spaced = _SPACES.sub(" ", ascii_text.translate(_DELIMITERS_TO_SPACES))
    return _SPACES.sub(" ", _DISALLOWED.sub("", spaced)).strip()


def text(value: str | None, max_len: int) -> str:
    """A cleaned free-text element (names, addresses) cut to the element's maximum length."""
    return clean(value)[:max_len].rstrip() if value else ""


def amount(value: Decimal) -> str:
    """X12 R (money): rounded to cents, no trailing zeros: 125, 125.5, 0, -3.25."""
    return _trim(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def quantity(value: Decimal) -> str:
    """X12 R (units): as given, no trailing zeros or exponent: 1, 1.5."""
    return _trim(value)


def _trim(value: Decimal) -> str:
    formatted = f"{value:f}"
    if "." in formatted:
        formatted = formatted.rstrip("0").rstrip(".")
    return "0" if formatted in ("-0", "") else formatted


def ccyymmdd(value: date) -> str:
    """X12 DT, 8 digits (GS04, BHT04, DTP D8, DMG02)."""
    return value.strftime("%Y%m%d")


def yymmdd(value: date) -> str:
    """X12 DT, 6 digits (ISA09 only)."""
    return value.strftime("%y%m%d")


def hhmm(value: datetime) -> str:
    """X12 TM, 4 digits (ISA10, GS05, BHT05)."""
    return value.strftime("%H%M")


@dataclass(frozen=True, slots=True)
class Composite:
    """A composite element: components joined by ISA16, trailing empty components dropped."""

    components: tuple[str, ...]

    def __init__(self, *components: str) -> None:
        object.__setattr__(self, "components", components)

    def render(self, cleaner: Callable[[str], str] = clean) -> str:
        parts = [cleaner(c) for c in self.components]
        while parts and not parts[-1]:
            parts.pop()
        return COMPONENT_SEPARATOR.join(parts)


Element = str | Composite


def render_segment(
    segment_id: str, *elements: Element, cleaner: Callable[[str], str] = clean
) -> str:
    """One segment with its terminator; values are cleaned, trailing empty elements dropped."""
    rendered = [e.render(cleaner) if isinstance(e, Composite) else cleaner(e) for e in elements]
    while rendered and not rendered[-1]:
        rendered.pop()
    return ELEMENT_SEPARATOR.join([segment_id, *rendered]) + SEGMENT_TERMINATOR


def join_segment(*elements: str) -> str:
    """A segment from its id and elements that are clean already (literals, formatted numbers
    and dates, clean() and text() results): render_segment without cleaning again, for the
    hot paths of a writer (clean() returns a clean value unchanged, so the text is the same)."""
    end = len(elements)
    while end > 1 and not elements[end - 1]:
        end -= 1
    return ELEMENT_SEPARATOR.join(elements[:end]) + SEGMENT_TERMINATOR


def join_composite(*components: str) -> str:
    """Composite.render for components that are clean already."""
    end = len(components)
    while end and not components[end - 1]:
        end -= 1
    return COMPONENT_SEPARATOR.join(components[:end])


Sink = TextIO | Callable[[str], None]


class SegmentWriter:
    """Writes segments one by one to a text stream or callback, counting them (SE01)."""

    def __init__(self, out: Sink, *, newlines: bool = False) -> None:
        self._write: Callable[[str], object] = out if callable(out) else out.write
        self._suffix = "\n" if newlines else ""
        self.count = 0  # segments since reset(), for SE01
        self.total = 0  # segments in the interchange
        # Most elements repeat from claim to claim (qualifiers, codes, dates, amounts): clean
        # each distinct value once. Bounded, and gone with the writer.
        self._clean = self.clean = functools.lru_cache(maxsize=4096)(clean)

    def raw(self, segment: str) -> None:
        """Write an already rendered segment (the fixed-width ISA, join_segment's results)."""
        self._write(segment + self._suffix if self._suffix else segment)
        self.count += 1
        self.total += 1

    def segment(self, segment_id: str, *elements: Element) -> None:
        self.raw(render_segment(segment_id, *elements, cleaner=self._clean))

    def reset(self) -> None:
        self.count = 0
