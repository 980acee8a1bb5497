"""The published 835 samples (../shared/x12/samples): good ones balance, defective ones fail."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from service.remittance.x12.balance import check_balance
from service.remittance.x12.detect import Kind, detect
from service.remittance.x12.remit835 import parse_835
from service.x12.tokens import Problem, X12ParseError
from tests.remittance.x12.helpers import NO_SAMPLES, SAMPLES, pyx12_errors

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason=NO_SAMPLES)

GOOD = ["835_pyx12_mult_loops.x12", "835_tr3_managed_care_fixed.x12"]


def _read(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="ascii")


def test_every_835_sample_is_covered_here() -> None:
    names = sorted(p.name for p in SAMPLES.glob("*835*.x12"))

    assert names == sorted([*GOOD, "835_published_managed_care.x12"])


@pytest.mark.parametrize("name", GOOD)
def test_a_good_sample_parses_balances_and_passes_pyx12(name: str) -> None:
    text = _read(name)

    remittance = parse_835(text)

    assert detect(text) is Kind.REMITTANCE_835
    assert remittance.payments
    assert list(remittance.claims)
    assert check_balance(remittance) == []
    assert pyx12_errors(text) == []


def test_the_managed_care_sample_pays_two_claims_by_ach() -> None:
    payment = parse_835(_read("835_tr3_managed_care_fixed.x12")).payments[0]

    assert (payment.paid_amount, payment.payment_method, payment.payment_date) == (
        Decimal("945.00"),
        "ACH",
        date(2002, 3, 16),
    )
    assert payment.trace_number == "7170066655"
    assert [(c.patient_control_number, c.paid) for c in payment.claims] == [
        ("5554555444", Decimal("450.00")),
        ("8765432112", Decimal("495.00")),
    ]
    # Claim-level CO*A2 plus line-level PR*1 (and CO*45) make up each claim's difference.
    second = payment.claims[1]
    assert [a.reason for a in second.adjustments] == ["A2"]
    assert [(a.group, a.reason) for a in second.lines[0].adjustments] == [("PR", "1"), ("CO", "45")]


def test_the_pyx12_sample_is_a_denied_claim_notification() -> None:
    payment = parse_835(_read("835_pyx12_mult_loops.x12")).payments[0]
    (claim,) = payment.claims

    assert (payment.handling_code, payment.paid_amount) == ("H", Decimal(0))
    assert (claim.status_code, claim.status_words) == ("4", "Denied")
    assert claim.rendering_provider is not None
    assert claim.rendering_provider.id == "44452736"
    assert [(line.units, line.remark_codes) for line in claim.lines] == [
        (Decimal(68), ["N14"]),
        (Decimal(16), ["N14"]),
        (Decimal(36), ["N14"]),
    ]
    assert claim.lines[0].service_date_from == date(2003, 11, 29)


def test_the_unrepaired_published_sample_is_read_with_both_defects_as_warnings() -> None:
    parsed = parse_835(_read("835_published_managed_care.x12"))

    assert parsed.warnings == (
        Problem(
            4,
            "BPR",
            16,
            'BPR16 (check issue or EFT effective date) "20002316" is not a valid date (CCYYMMDD)',
        ),
        Problem(
            10,
            "N1",
            None,
            "loop 1000A (payer) has no PER*BL payer technical contact, which the 835 requires",
        ),
    )


def test_pyx12_finds_the_same_two_defects_in_the_published_sample() -> None:
    errors = pyx12_errors(_read("835_published_managed_care.x12"))

    assert len(errors) == 2
    assert "(BPR16) contains an invalid date (20002316)" in errors[0]
    assert 'Mandatory segment "Payer Technical Contact Information" (PER) missing' in errors[1]


def test_the_published_sample_money_balances_once_its_date_is_repaired() -> None:
    text = _read("835_published_managed_care.x12").replace("*20002316~", "*20020316~")
    text = text.replace("N1*PE*", "PER*BL*RUSHMORE EDI*TE*6055551212~N1*PE*").replace(
        "SE*26*", "SE*27*"
    )

    assert check_balance(parse_835(text)) == []


@pytest.mark.parametrize(
    "name",
    [
        "837d_stedi_example.x12",
        "837p_published_example2_bad_npi.x12",
        "837p_published_example9.x12",
        "837p_tr3_example1.x12",
    ],
)
def test_claim_files_are_not_taken_for_an_answer(name: str) -> None:
    with pytest.raises(X12ParseError) as caught:
        detect(_read(name))

    assert caught.value.segment_id == "ST"
    assert caught.value.message.startswith("this is an 837 claim file")
