"""835 balancing (005010X221A1 section 1.10.2): service line, claim and transaction totals."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from service.remittance.x12.advice835 import ClaimPayment, Payment, Remittance835

Rule = Literal["service_line", "claim", "patient_responsibility", "transaction"]


@dataclass(frozen=True, slots=True)
class BalanceError:
    """One rule an 835 breaks, in plain words, with the claim (CLP01) and line involved."""

    rule: Rule
    payment_control_number: str  # ST02 of the 835 transaction set
    patient_control_number: str | None  # CLP01 (None for the transaction rule)
    line: int | None  # 1-based position of the SVC in its claim
    line_item_control_number: str | None  # REF*6R of that line
    expected: Decimal
    actual: Decimal
    message: str


def check_balance(remittance: Remittance835) -> list[BalanceError]:
    """Every balancing error of every payment; an empty list means the 835 balances.

    - Service line: SVC02 - sum(line CAS) = SVC03.
    - Claim: CLP03 - sum(claim CAS) - sum(line CAS) = CLP04 (an adjustment is reported at the
      claim or at the line level, never both, so both levels count once).
    - Patient responsibility: CLP05 = sum(PR adjustments, claim and lines), except reversals
      (CLP02 22), per X12 RFI 2548; CLP05 is not part of the money balancing.
    - Transaction: sum(CLP04) - sum(PLB amounts) = BPR02, or -BPR02 when BPR03 is D (debit).
    A positive CAS or PLB amount reduces the payment; a negative one increases it.
    """
    errors: list[BalanceError] = []
    for payment in remittance.payments:
        for claim in payment.claims:
            errors.extend(claim_errors(payment, claim))
        errors.extend(transaction_errors(payment))
    return errors


def claim_errors(payment: Payment, claim: ClaimPayment) -> list[BalanceError]:
    """The service line, claim and patient responsibility rules for one claim."""
    errors: list[BalanceError] = []
    pcn = claim.patient_control_number
    line_total = Decimal(0)
    patient_total = sum((a.amount for a in claim.adjustments if a.group == "PR"), Decimal(0))
    for number, line in enumerate(claim.lines, start=1):
        adjusted = sum((a.amount for a in line.adjustments), Decimal(0))
        line_total += adjusted
        patient_total += sum((a.amount for a in line.adjustments if a.group == "PR"), Decimal(0))
        if line.charge - adjusted != line.paid:
            control = f" (REF*6R {line.line_item_control_number})" * bool(
                line.line_item_control_number
            )
            errors.append(
                BalanceError(
                    rule="service_line",
                    payment_control_number=payment.control_number,
                    patient_control_number=pcn,
                    line=number,
                    line_item_control_number=line.line_item_control_number or None,
                    expected=line.charge - line.paid,
                    actual=adjusted,
                    message=(
                        f"Claim {pcn}, line {number}{control}: charge {_money(line.charge)} "
                        f"minus paid {_money(line.paid)} is {_money(line.charge - line.paid)}, "
                        f"but the line adjustments total {_money(adjusted)}"
                    ),
                )
            )
    claim_level = sum((a.amount for a in claim.adjustments), Decimal(0))
    difference = claim.charge - claim.paid
    if difference != claim_level + line_total:
        errors.append(
            BalanceError(
                rule="claim",
                payment_control_number=payment.control_number,
                patient_control_number=pcn,
                line=None,
                line_item_control_number=None,
                expected=difference,
                actual=claim_level + line_total,
                message=(
                    f"Claim {pcn}: charge {_money(claim.charge)} minus paid "
                    f"{_money(claim.paid)} is {_money(difference)}, but the adjustments total "
                    f"{_money(claim_level + line_total)} (claim level {_money(claim_level)}, "
                    f"service lines {_money(line_total)})"
                ),
            )
        )
    responsibility = claim.patient_responsibility or Decimal(0)
    if not claim.is_reversal and responsibility != patient_total:
        errors.append(
            BalanceError(
                rule="patient_responsibility",
                payment_control_number=payment.control_number,
                patient_control_number=pcn,
                line=None,
                line_item_control_number=None,
                expected=responsibility,
                actual=patient_total,
                message=(
                    f"Claim {pcn}: patient responsibility (CLP05) is {_money(responsibility)}, "
                    f"but its PR adjustments total {_money(patient_total)}"
                ),
            )
        )
    return errors


def transaction_errors(payment: Payment) -> list[BalanceError]:
    """The transaction rule, from the payment's running sum of CLP04 (claims need not be
    kept)."""
    claims_paid = payment.claims_paid
    provider_adjusted = sum((p.amount for p in payment.provider_adjustments), Decimal(0))
    net = claims_paid - provider_adjusted
    expected = -payment.paid_amount if payment.credit_debit == "D" else payment.paid_amount
    if net == expected:
        return []
    sign = " (a debit: BPR03 D)" * (payment.credit_debit == "D")
    return [
        BalanceError(
            rule="transaction",
            payment_control_number=payment.control_number,
            patient_control_number=None,
            line=None,
            line_item_control_number=None,
            expected=expected,
            actual=net,
            message=(
                f"Payment {payment.trace_number or payment.control_number}: the total paid "
                f"(BPR02) is {_money(payment.paid_amount)}{sign}, but the claim payments "
                f"{_money(claims_paid)} less the provider adjustments (PLB) "
                f"{_money(provider_adjusted)} come to {_money(net)}"
            ),
        )
    ]


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


__all__ = ["BalanceError", "Rule", "check_balance", "claim_errors", "transaction_errors"]
