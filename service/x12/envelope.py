"""The ISA/GS/ST envelope every X12 file here is written in (837 claims, 999, 277CA, 835).

ISA is fixed width; GS06 = GE02, ST02 = SE02; SE01 counts ST through SE, GE01 the sets, IEA01
the groups (one per interchange, as the trading partners here expect)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from service.x12.segments import (
    COMPONENT_SEPARATOR,
    ELEMENT_SEPARATOR,
    REPETITION_SEPARATOR,
    SEGMENT_TERMINATOR,
    SegmentWriter,
    ccyymmdd,
    clean,
    hhmm,
    yymmdd,
)


class X12InputError(ValueError):
    """A value cannot be written as valid X12; the message never carries patient data."""


def require(condition: bool, message: str) -> None:
    if not condition:
        raise X12InputError(message)


@dataclass(frozen=True, slots=True)
class Interchange:
    """ISA/GS envelope values. Control numbers are never reused by a sender."""

    sender_qualifier: str  # ISA05, e.g. ZZ mutually defined, 30 US federal tax id
    sender_id: str  # ISA06, at most 15 characters
    receiver_qualifier: str  # ISA07
    receiver_id: str  # ISA08
    interchange_control_number: int  # ISA13 / IEA02, 1..999999999
    group_control_number: int  # GS06 / GE02, 1..999999999
    application_sender_code: str  # GS02
    application_receiver_code: str  # GS03
    created_at: datetime  # local date and time of creation: ISA09/10, GS04/05, BHT04/05
    usage_indicator: Literal["T", "P"] = "T"  # ISA15 test or production
    acknowledgment_requested: bool = False  # ISA14: ask for a TA1
    batch_reference: str | None = None  # BHT03 prefix; defaults to ISA13

    def __post_init__(self) -> None:
        for qualifier in (self.sender_qualifier, self.receiver_qualifier):
            require(len(qualifier) == 2, "ISA05/ISA07 id qualifiers are 2 characters.")
        for isa_id in (self.sender_id, self.receiver_id):
            cleaned = clean(isa_id)
            require(0 < len(cleaned) <= 15, "ISA06/ISA08 ids are 1 to 15 characters.")
        for number in (self.interchange_control_number, self.group_control_number):
            require(0 < number <= 999_999_999, "ISA13/GS06 are 1 to 999999999.")
        for code in (self.application_sender_code, self.application_receiver_code):
            require(2 <= len(clean(code)) <= 15, "GS02/GS03 are 2 to 15 characters.")
        require(self.usage_indicator in ("T", "P"), "ISA15 must be T or P.")


def isa_segment(interchange: Interchange) -> str:
    """ISA is fixed width (106 characters): ISA06/ISA08 padded to 15, ISA13 to 9 digits."""
    elements = [
        "ISA",
        "00",  # ISA01/02: no authorization information
        " " * 10,
        "00",  # ISA03/04: no security information
        " " * 10,
        interchange.sender_qualifier,
        clean(interchange.sender_id).ljust(15),
        interchange.receiver_qualifier,
        clean(interchange.receiver_id).ljust(15),
        yymmdd(interchange.created_at),
        hhmm(interchange.created_at),
        REPETITION_SEPARATOR,  # ISA11
        "00501",
        f"{interchange.interchange_control_number:09d}",
        "1" if interchange.acknowledgment_requested else "0",
        interchange.usage_indicator,
        COMPONENT_SEPARATOR,  # ISA16
    ]
    return ELEMENT_SEPARATOR.join(elements) + SEGMENT_TERMINATOR


def open_interchange(
    writer: SegmentWriter, interchange: Interchange, functional_id: str, version: str
) -> None:
    """ISA, then GS: GS01 the functional group (HC claims, FA 999, HN 277, HP 835), GS08 the
    guide."""
    writer.raw(isa_segment(interchange))
    writer.segment(
        "GS",
        functional_id,
        interchange.application_sender_code,
        interchange.application_receiver_code,
        ccyymmdd(interchange.created_at),
        hhmm(interchange.created_at),
        str(interchange.group_control_number),
        "X",
        version,
    )


def close_interchange(writer: SegmentWriter, interchange: Interchange, sets: int) -> None:
    """GE01 counts transaction sets; IEA01 counts functional groups (one per interchange)."""
    writer.segment("GE", str(sets), str(interchange.group_control_number))
    writer.segment("IEA", "1", f"{interchange.interchange_control_number:09d}")


def close_set(writer: SegmentWriter, control_number: str) -> None:
    """SE01 counts the segments from ST to SE inclusive."""
    writer.segment("SE", str(writer.count + 1), control_number)
