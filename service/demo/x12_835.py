"""Write 835 remittance files for tests and the demo: values in, X12 text out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from service.demo.x12_files import X12File
from service.remittance.x12 import codes
from service.x12.envelope import Interchange, X12InputError
from service.x12.segments import (
    Composite,
    Element,
    amount,
    ccyymmdd,
    quantity,
    text,
)

GUIDE_835 = "005010X221A1"
_MAX_CAS_TRIPLETS = 6
_MAX_PLB_PAIRS = 6


@dataclass(frozen=True, slots=True)
class PayerInput:
    """1000A: name, payer id (REF*2U and TRN03), address, technical contact phone."""

    name: str
    payer_id: str
    line1: str
    city: str
    state: str
    postal_code: str
    phone: str
    tax_id: str = "999999999"  # TRN03 is "1" + the payer's 9-digit tax id


@dataclass(frozen=True, slots=True)
class PayeeInput:
    """1000B: name and NPI (N103 XX), optional tax id (REF*TJ)."""

    name: str
    npi: str
    tax_id: str = ""


@dataclass(frozen=True, slots=True)
class AdjustmentInput:
    """A CAS triplet: group CO/OA/PI/PR, CARC reason, amount (positive reduces payment)."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class LinePaymentInput:
    """A 2110 line; paid = charge minus its adjustments."""

    procedure_code: str
    charge: Decimal
    adjustments: tuple[AdjustmentInput, ...] = ()
    units: Decimal = Decimal(1)
    service_date: date | None = None
    line_item_control_number: str = ""
    modifiers: tuple[str, ...] = ()
    original_procedure_code: str = ""  # SVC06 when the payer changed or bundled the code
    remark_codes: tuple[str, ...] = ()  # LQ*HE
    allowed: Decimal | None = None  # AMT*B6
    qualifier: str = "HC"

    @property
    def paid(self) -> Decimal:
        return self.charge - sum((a.amount for a in self.adjustments), Decimal(0))


@dataclass(frozen=True, slots=True)
class ClaimPaymentInput:
    """A 2100 claim, balanced by construction: paid = charge minus every adjustment.

    charge defaults to the sum of the line charges. Status 22 (reversal of a previous
    payment) writes every amount negated, as the 835 guide asks.
    """

    patient_control_number: str
    payer_claim_control_number: str
    patient_last_name: str
    patient_first_name: str
    member_id: str
    status: str = "1"
    charge: Decimal | None = None
    adjustments: tuple[AdjustmentInput, ...] = ()
    lines: tuple[LinePaymentInput, ...] = ()
    filing_indicator: str = "12"  # CLP06 (835 list: 12 PPO, HM HMO, MB Medicare B, MC ...)
    facility_type: str = "11"
    frequency: str = "1"
    statement_from: date | None = None
    statement_to: date | None = None
    remark_codes: tuple[str, ...] = ()  # MOA03-07 claim-level remarks, e.g. MA18 (crossover)

    @property
    def total_charge(self) -> Decimal:
        if self.charge is not None:
            return self.charge
        return sum((line.charge for line in self.lines), Decimal(0))

    @property
    def paid(self) -> Decimal:
        adjusted = sum((a.amount for a in self._all_adjustments()), Decimal(0))
        return self._sign * (self.total_charge - adjusted)

    @property
    def patient_responsibility(self) -> Decimal:
        return self._sign * sum(
            (a.amount for a in self._all_adjustments() if a.group == "PR"), Decimal(0)
        )

    @property
    def _sign(self) -> int:
        return -1 if self.status == "22" else 1

    def _all_adjustments(self) -> list[AdjustmentInput]:
        return [*self.adjustments, *(a for line in self.lines for a in line.adjustments)]


@dataclass(frozen=True, slots=True)
class ProviderAdjustmentInput:
    """A PLB pair: positive amounts (recoupments) reduce the payment, negative (interest) add."""

    provider_id: str
    fiscal_period_end: date
    reason: str  # e.g. WO overpayment recovery, L6 interest, FB forwarding balance
    amount: Decimal
    reference: str = ""


def make_835(
    interchange: Interchange,
    *,
    payer: PayerInput,
    payee: PayeeInput,
    payment_date: date,
    trace_number: str,
    claims: Sequence[ClaimPaymentInput],
    provider_adjustments: Sequence[ProviderAdjustmentInput] = (),
    st_control: int = 1,
    newlines: bool = False,
) -> str:
    """One 835 payment (BPR02 = sum of CLP04 minus PLB), balanced at every level."""
    total = sum((c.paid for c in claims), Decimal(0)) - sum(
        (p.amount for p in provider_adjustments), Decimal(0)
    )
    if total < 0:
        raise X12InputError("The payment total (claims paid less PLB) cannot be negative.")
    out = X12File(interchange, "HP", GUIDE_835, newlines)
    number = out.open_set("835", st_control, with_version=False)  # 835 ST03 is not used
    paid = total > 0
    # BPR: I remittance with payment by check, or H notification only (nothing paid).
    bpr: list[Element] = ["I" if paid else "H", amount(total), "C", "CHK" if paid else "NON"]
    out.segment("BPR", *bpr, *([""] * 11), ccyymmdd(payment_date))
    out.segment("TRN", "1", trace_number, f"1{payer.tax_id}")
    out.segment("DTM", "405", ccyymmdd(interchange.created_at))
    # 1000A payer: N1, N3, N4, REF*2U, PER*BL (required).
    out.segment("N1", "PR", text(payer.name, 60))
    out.segment("N3", text(payer.line1, 55))
    out.segment("N4", text(payer.city, 30), payer.state, payer.postal_code)
    out.segment("REF", "2U", payer.payer_id)
    out.segment("PER", "BL", "EDI SUPPORT", "TE", payer.phone)
    # 1000B payee: N1*PE with the NPI.
    out.segment("N1", "PE", text(payee.name, 60), "XX", payee.npi)
    if payee.tax_id:
        out.segment("REF", "TJ", payee.tax_id)
    if claims:
        out.segment("LX", "1")
    for claim in claims:
        _write_claim(out, claim)
    _write_plb(out, provider_adjustments)
    out.close_set(number)
    return out.finish()


def _write_claim(out: X12File, claim: ClaimPaymentInput) -> None:
    sign = -1 if claim.status == "22" else 1
    responsibility = claim.patient_responsibility
    out.segment(
        "CLP",
        claim.patient_control_number,
        claim.status,
        amount(sign * claim.total_charge),
        amount(claim.paid),
        amount(responsibility) if responsibility else "",
        claim.filing_indicator,
        claim.payer_claim_control_number,
        claim.facility_type,
        claim.frequency,
    )
    _write_cas(out, claim.adjustments, sign)
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
    if claim.remark_codes:
        out.segment("MOA", "", "", *claim.remark_codes[:5])
    if claim.statement_from:
        out.segment("DTM", "232", ccyymmdd(claim.statement_from))
    if claim.statement_to:
        out.segment("DTM", "233", ccyymmdd(claim.statement_to))
    for line in claim.lines:
        original = (
            Composite(line.qualifier, line.original_procedure_code)
            if line.original_procedure_code
            else ""
        )
        out.segment(
            "SVC",
            Composite(line.qualifier, line.procedure_code, *line.modifiers),
            amount(sign * line.charge),
            amount(sign * line.paid),
            "",
            quantity(line.units),
            original,
        )
        if line.service_date:
            out.segment("DTM", "472", ccyymmdd(line.service_date))
        _write_cas(out, line.adjustments, sign)
        if line.line_item_control_number:
            out.segment("REF", "6R", line.line_item_control_number)
        if line.allowed is not None:
            out.segment("AMT", "B6", amount(sign * line.allowed))
        for remark in line.remark_codes:
            out.segment("LQ", "HE", remark)


def _write_cas(out: X12File, adjustments: tuple[AdjustmentInput, ...], sign: int) -> None:
    """One CAS per group (in first-seen order), at most 6 triplets each."""
    groups: dict[str, list[AdjustmentInput]] = {}
    for adjustment in adjustments:
        if adjustment.group not in codes.ADJUSTMENT_GROUPS:
            raise X12InputError(f"CAS group {adjustment.group} is not CO, OA, PI or PR.")
        groups.setdefault(adjustment.group, []).append(adjustment)
    for group, items in groups.items():
        for start in range(0, len(items), _MAX_CAS_TRIPLETS):
            elements: list[Element] = [group]
            for item in items[start : start + _MAX_CAS_TRIPLETS]:
                elements += [
                    item.reason,
                    amount(sign * item.amount),
                    quantity(item.quantity) if item.quantity is not None else "",
                ]
            out.segment("CAS", *elements)


def _write_plb(out: X12File, adjustments: Sequence[ProviderAdjustmentInput]) -> None:
    """PLB per provider and fiscal date, at most 6 reason/amount pairs each."""
    keyed: dict[tuple[str, date], list[ProviderAdjustmentInput]] = {}
    for adjustment in adjustments:
        keyed.setdefault((adjustment.provider_id, adjustment.fiscal_period_end), []).append(
            adjustment
        )
    for (provider_id, fiscal), items in keyed.items():
        for start in range(0, len(items), _MAX_PLB_PAIRS):
            elements: list[Element] = [provider_id, ccyymmdd(fiscal)]
            for item in items[start : start + _MAX_PLB_PAIRS]:
                elements += [Composite(item.reason, item.reference), amount(item.amount)]
            out.segment("PLB", *elements)


__all__ = [
    "GUIDE_835",
    "AdjustmentInput",
    "ClaimPaymentInput",
    "LinePaymentInput",
    "PayeeInput",
    "PayerInput",
    "ProviderAdjustmentInput",
    "make_835",
]
