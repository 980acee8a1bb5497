"""Shared inputs for the 999/277CA/835 parser tests: envelope, sample paths, pyx12 wrapper."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from service.demo.x12_835 import (
    AdjustmentInput,
    ClaimPaymentInput,
    LinePaymentInput,
    PayeeInput,
    PayerInput,
    ProviderAdjustmentInput,
    make_835,
)
from service.x12.envelope import Interchange
from service.x12.validate import validate_x12

REPO_ROOT = Path(__file__).resolve().parents[3]
SAMPLES = REPO_ROOT.parent / "shared" / "x12" / "samples"
NO_SAMPLES = "../shared/x12/samples (the published X12 files) is absent beside the checkout"
NPI = "1999999992"  # published test NPI with a valid check digit


def interchange(
    control: int = 5001,
    group: int | None = 77,
    *,
    sender: str = "CLEARHOUSE",
    receiver: str = "CLINIC01",
) -> Interchange:
    """The envelope of a file a clearinghouse sends (the group number is the control number's
    when None)."""
    return Interchange(
        sender_qualifier="ZZ",
        sender_id=sender,
        receiver_qualifier="ZZ",
        receiver_id=receiver,
        interchange_control_number=control,
        group_control_number=control if group is None else group,
        application_sender_code=sender,
        application_receiver_code=receiver,
        created_at=datetime(2026, 11, 28, 9, 30),  # noqa: DTZ001 - a local wall-clock time
    )


def pyx12_errors(text: str) -> list[str]:
    """pyx12's findings for a file (validate_x12 drops its 999-writer failure on 835 files)."""
    result = validate_x12(text)
    assert result.ok == (not result.errors)
    return result.errors


PAYER = PayerInput("ACME HEALTH", "12345", "1 MAIN ST", "ALBANY", "NY", "122070001", "8005551212")
PAYEE = PayeeInput("SMALL CLINIC", NPI, "123456789")
DOS = date(2026, 11, 2)


def paid_claim(number: int = 1) -> ClaimPaymentInput:
    """Two lines: an office visit reduced by contract and coinsurance, a venipuncture bundled."""
    return ClaimPaymentInput(
        patient_control_number=f"PCN{number}",
        payer_claim_control_number=f"PAYER{number}",
        patient_last_name="DOE",
        patient_first_name="JANE",
        member_id="M100",
        statement_from=DOS,
        statement_to=DOS,
        lines=(
            LinePaymentInput(
                "99213",
                Decimal("100.00"),
                (
                    AdjustmentInput("CO", "45", Decimal("20.00")),
                    AdjustmentInput("PR", "2", Decimal("16.00")),
                ),
                service_date=DOS,
                line_item_control_number=f"L{number}-1",
                modifiers=("25",),
                allowed=Decimal("80.00"),
                remark_codes=("N130",),
            ),
            LinePaymentInput(
                "36415",
                Decimal("50.00"),
                (AdjustmentInput("CO", "97", Decimal("50.00")),),
                service_date=DOS,
                line_item_control_number=f"L{number}-2",
                original_procedure_code="36416",
            ),
        ),
    )


def denied_claim() -> ClaimPaymentInput:
    return ClaimPaymentInput(
        patient_control_number="PCN-DENIED",
        payer_claim_control_number="PAYER-D",
        patient_last_name="ROE",
        patient_first_name="JOHN",
        member_id="M200",
        status="4",
        charge=Decimal("80.00"),
        adjustments=(AdjustmentInput("CO", "29", Decimal("80.00")),),
    )


def reversal_claim() -> ClaimPaymentInput:
    return ClaimPaymentInput(
        patient_control_number="PCN-OLD",
        payer_claim_control_number="PAYER-R",
        patient_last_name="POE",
        patient_first_name="JIM",
        member_id="M300",
        status="22",
        charge=Decimal("60.00"),
        adjustments=(AdjustmentInput("PR", "1", Decimal("10.00")),),
    )


def sample_835(
    claims: list[ClaimPaymentInput] | None = None,
    provider_adjustments: list[ProviderAdjustmentInput] | None = None,
) -> str:
    """A balanced 835: paid, denied and reversed claims, interest and a recoupment (PLB)."""
    return make_835(
        interchange(),
        payer=PAYER,
        payee=PAYEE,
        payment_date=date(2026, 11, 20),
        trace_number="EFT0001",
        claims=[paid_claim(), denied_claim(), reversal_claim()] if claims is None else claims,
        provider_adjustments=[
            ProviderAdjustmentInput(NPI, date(2026, 12, 31), "L6", Decimal("-1.50")),
            ProviderAdjustmentInput(NPI, date(2026, 12, 31), "WO", Decimal("10.00"), "PAYER9"),
        ]
        if provider_adjustments is None
        else provider_adjustments,
    )
