"""Write 999 and 277CA files for tests and the demo: values in, X12 text out (835s: x12_835)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from service.remittance.x12 import codes
from service.x12.envelope import (
    Interchange,
    X12InputError,
    close_interchange,
    close_set,
    open_interchange,
)
from service.x12.segments import (
    Composite,
    Element,
    SegmentWriter,
    amount,
    ccyymmdd,
    hhmm,
    quantity,
    text,
)

GUIDE_999 = "005010X231A1"
GUIDE_277CA = "005010X214"


# --- shared envelope (the same rules as the 837 writer; the 835 writer uses it too) ---


class X12File:
    """ISA/GS ... GE/IEA around transaction sets; SE01 counts ST through SE."""

    def __init__(self, interchange: Interchange, functional_id: str, version: str, newlines: bool):
        self.out = io.StringIO()
        self.writer = SegmentWriter(self.out, newlines=newlines)
        self.interchange = interchange
        self.version = version
        self.sets = 0
        open_interchange(self.writer, interchange, functional_id, version)

    def segment(self, segment_id: str, *elements: Element) -> None:
        self.writer.segment(segment_id, *elements)

    def open_set(self, set_id: str, control: int, *, with_version: bool = True) -> str:
        number = f"{control:04d}"
        self.writer.reset()
        self.segment("ST", set_id, number, self.version if with_version else "")
        return number

    def close_set(self, number: str) -> None:
        close_set(self.writer, number)
        self.sets += 1

    def finish(self) -> str:
        close_interchange(self.writer, self.interchange, self.sets)
        return self.out.getvalue()


# --- 999 ---


@dataclass(frozen=True, slots=True)
class ElementErrorInput:
    """An IK4: element position (and component), IK403 code, the bad value."""

    position: int
    code: str  # IK403, e.g. 7 invalid code value
    element_reference: str = ""  # IK402 data element reference number, e.g. 1331
    bad_value: str = ""  # IK404
    component: int | None = None


@dataclass(frozen=True, slots=True)
class SegmentErrorInput:
    """An IK3: segment id, position in the ST (ST is 1), loop id, IK304 code."""

    segment_id: str
    position: int
    loop_id: str = ""
    code: str = "8"  # IK304 8: segment has data element errors
    element_errors: tuple[ElementErrorInput, ...] = ()


@dataclass(frozen=True, slots=True)
class SetResult:
    """How one 837 ST we sent is acknowledged: accepted (IK5 A, or E with errors) or rejected."""

    control_number: str  # the ST02 we sent
    accepted: bool = True
    segment_errors: tuple[SegmentErrorInput, ...] = ()
    transaction_set_id: str = "837"


def make_999(
    interchange: Interchange,
    *,
    group_control_number: int | str,
    results: Sequence[SetResult],
    acknowledged_version: str = "005010X222A1",
    functional_id: str = "HC",
    st_control: int = 1,
    newlines: bool = False,
) -> str:
    """A 999 acknowledging one functional group we sent (AK1 = its GS01/GS06/GS08)."""
    if not results:
        raise X12InputError("A 999 acknowledges at least one transaction set.")
    out = X12File(interchange, "FA", GUIDE_999, newlines)
    number = out.open_set("999", st_control)
    out.segment("AK1", functional_id, str(group_control_number), acknowledged_version)
    accepted = 0
    with_errors = False
    for result in results:
        out.segment("AK2", result.transaction_set_id, result.control_number, acknowledged_version)
        for error in result.segment_errors:
            out.segment("IK3", error.segment_id, str(error.position), error.loop_id, error.code)
            for element in error.element_errors:
                position = Composite(
                    str(element.position),
                    str(element.component) if element.component is not None else "",
                )
                out.segment(
                    "IK4", position, element.element_reference, element.code, element.bad_value
                )
        if result.accepted:
            accepted += 1
            code = "E" if result.segment_errors else "A"
            with_errors = with_errors or bool(result.segment_errors)
        else:
            code = "R"
        # IK502: 5 one or more segments in error (rejected), I5 implementation errors noted.
        out.segment("IK5", code, {"A": "", "E": "I5", "R": "5"}[code])
    if accepted == len(results):
        group_code = "E" if with_errors else "A"
    else:
        group_code = "P" if accepted else "R"
    count = str(len(results))
    out.segment("AK9", group_code, count, count, str(accepted))
    out.close_set(number)
    return out.finish()


# --- 277CA ---


@dataclass(frozen=True, slots=True)
class Organization:
    """A payer (NM108 PI), receiver (46 ETIN) or billing provider (XX NPI)."""

    name: str
    id: str


@dataclass(frozen=True, slots=True)
class StatusInput:
    """An STC01 composite: category (A2 accepted, A7 rejected ...), status code, entity."""

    category: str
    code: str
    entity: str = ""

    @property
    def rejected(self) -> bool:
        return self.category in codes.REJECTED_CATEGORIES


@dataclass(frozen=True, slots=True)
class LineStatusInput:
    """A 2220D line: the REF*6R we sent comes back as REF*FJ."""

    line_item_control_number: str
    procedure_code: str
    charge: Decimal
    service_date: date
    status: StatusInput
    units: Decimal = Decimal(1)
    qualifier: str = "HC"


@dataclass(frozen=True, slots=True)
class ClaimStatusInput:
    """A 2200D claim: TRN02 = the CLM01 we sent."""

    patient_control_number: str
    patient_last_name: str
    patient_first_name: str
    member_id: str
    charge: Decimal
    service_date: date
    status: StatusInput
    payer_claim_control_number: str = ""
    message: str = ""  # STC12 free-form text
    lines: tuple[LineStatusInput, ...] = ()


def make_277ca(
    interchange: Interchange,
    *,
    payer: Organization,
    receiver: Organization,
    billing_provider: Organization,
    claims: Sequence[ClaimStatusInput],
    batch_trace: str = "0001",
    st_control: int = 1,
    newlines: bool = False,
) -> str:
    """A 277CA for one payer, receiver and billing provider, one patient HL per claim."""
    if not claims:
        raise X12InputError("A 277CA acknowledges at least one claim.")
    out = X12File(interchange, "HN", GUIDE_277CA, newlines)
    today = ccyymmdd(interchange.created_at)
    number = out.open_set("277", st_control)
    out.segment("BHT", "0085", "08", batch_trace, today, hhmm(interchange.created_at), "TH")
    # 2000A information source (payer), 2100A, 2200A receipt and process dates.
    out.segment("HL", "1", "", "20", "1")
    out.segment("NM1", "PR", "2", text(payer.name, 60), "", "", "", "", "PI", payer.id)
    out.segment("TRN", "1", f"{interchange.interchange_control_number}")
    out.segment("DTP", "050", "D8", today)
    out.segment("DTP", "009", "D8", today)
    accepted = [c for c in claims if not c.status.rejected]
    rejected = [c for c in claims if c.status.rejected]
    totals = _277_totals(accepted, rejected)
    total = sum((c.charge for c in claims), Decimal(0))
    # 2000B information receiver (us), 2200B batch status and totals.
    out.segment("HL", "2", "1", "21", "1")
    out.segment("NM1", "41", "2", text(receiver.name, 60), "", "", "", "", "46", receiver.id)
    out.segment("TRN", "2", batch_trace)
    out.segment("STC", Composite("A1", "19", "PR"), today, "WQ", amount(total))
    _277_quantities(out, totals, ("90", "AA"))
    # 2000C billing provider, 2200C.
    out.segment("HL", "3", "2", "19", "1")
    out.segment(
        "NM1", "85", "2", text(billing_provider.name, 60), "", "", "", "", "XX", billing_provider.id
    )
    out.segment("TRN", "1", batch_trace)
    out.segment("STC", Composite("A1", "19", "PR"), "", "WQ", amount(total))  # 2200C: no STC02
    _277_quantities(out, totals, ("QA", "QC"))
    for hl, claim in enumerate(claims, start=4):
        # 2000D patient, 2100D, 2200D claim, 2220D lines.
        out.segment("HL", str(hl), "3", "PT")
        out.segment(
            "NM1",
            "QC",
            "1",
            text(claim.patient_last_name, 60),
            text(claim.patient_first_name, 35),
            "",
            "",
            "",
            "MI",
            claim.member_id,
        )
        out.segment("TRN", "2", claim.patient_control_number)
        status = claim.status
        out.segment(
            "STC",
            Composite(status.category, status.code, status.entity),
            today,
            "U" if status.rejected else "WQ",
            amount(claim.charge),
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            text(claim.message, 264),
        )
        if claim.payer_claim_control_number:
            out.segment("REF", "1K", claim.payer_claim_control_number)
        out.segment("DTP", "472", "D8", ccyymmdd(claim.service_date))
        for line in claim.lines:
            out.segment(
                "SVC",
                Composite(line.qualifier, line.procedure_code),
                amount(line.charge),
                "",
                "",
                "",
                "",
                quantity(line.units),
            )
            # 2220D STC03: the X214 map allows only U here (the loop reports line rejections).
            line_status = line.status
            out.segment(
                "STC",
                Composite(line_status.category, line_status.code, line_status.entity),
                today,
                "U",
            )
            out.segment("REF", "FJ", line.line_item_control_number)
            out.segment("DTP", "472", "D8", ccyymmdd(line.service_date))
    out.close_set(number)
    return out.finish()


def _277_totals(
    accepted: list[ClaimStatusInput], rejected: list[ClaimStatusInput]
) -> tuple[int, int, Decimal, Decimal]:
    return (
        len(accepted),
        len(rejected),
        sum((c.charge for c in accepted), Decimal(0)),
        sum((c.charge for c in rejected), Decimal(0)),
    )


def _277_quantities(
    out: X12File, totals: tuple[int, int, Decimal, Decimal], qualifiers: tuple[str, str]
) -> None:
    accepted, rejected, accepted_amount, rejected_amount = totals
    if accepted:
        out.segment("QTY", qualifiers[0], str(accepted))
    if rejected:
        out.segment("QTY", qualifiers[1], str(rejected))
    if accepted:
        out.segment("AMT", "YU", amount(accepted_amount))
    if rejected:
        out.segment("AMT", "YY", amount(rejected_amount))


__all__ = [
    "GUIDE_277CA",
    "GUIDE_999",
    "ClaimStatusInput",
    "ElementErrorInput",
    "LineStatusInput",
    "Organization",
    "SegmentErrorInput",
    "SetResult",
    "StatusInput",
    "X12File",
    "make_277ca",
    "make_999",
]
