"""parse_835 and check_balance: values, round trips through pyx12, balancing errors, speed."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import pytest

from service.demo.x12_835 import (
    AdjustmentInput,
    ClaimPaymentInput,
    LinePaymentInput,
    ProviderAdjustmentInput,
    make_835,
)
from service.remittance.x12.advice835 import Adjustment, ClaimPayment
from service.remittance.x12.balance import check_balance
from service.remittance.x12.remit835 import iter_claims, parse_835
from service.x12.tokens import X12ParseError
from tests.remittance.x12.helpers import (
    DOS,
    NPI,
    PAYEE,
    PAYER,
    interchange,
    paid_claim,
    pyx12_errors,
    sample_835,
)


def test_a_generated_835_passes_pyx12_with_no_error() -> None:
    assert pyx12_errors(sample_835()) == []


def test_the_payment_header_payer_and_payee_are_read() -> None:
    payment = parse_835(sample_835()).payments[0]

    assert (payment.handling_code, payment.credit_debit, payment.payment_method) == (
        "I",
        "C",
        "CHK",
    )
    assert payment.paid_amount == Decimal("5.5")
    assert payment.payment_date == date(2026, 11, 20)
    assert (payment.trace_number, payment.trace_originator) == ("EFT0001", "1999999999")
    assert payment.payer is not None
    assert payment.payer.name == "ACME HEALTH"
    assert payment.payer_id == "12345"  # REF*2U
    assert payment.payee is not None
    assert payment.payee.npi == NPI
    assert payment.payee_references == [("TJ", "123456789")]


def test_claims_lines_and_adjustments_round_trip() -> None:
    claim = parse_835(sample_835()).payments[0].claims[0]

    assert (claim.patient_control_number, claim.status_code, claim.status_words) == (
        "PCN1",
        "1",
        "Processed as primary",
    )
    assert (claim.charge, claim.paid, claim.patient_responsibility) == (
        Decimal(150),
        Decimal(64),
        Decimal(16),
    )
    assert (claim.filing_indicator, claim.payer_claim_control_number) == ("12", "PAYER1")
    assert (claim.facility_type, claim.frequency) == ("11", "1")
    assert claim.statement_from == claim.statement_to == DOS
    assert claim.patient is not None
    assert claim.patient.last_name == "DOE"
    office, venipuncture = claim.lines
    assert (office.procedure.code, office.procedure.modifiers) == ("99213", ("25",))
    assert (office.charge, office.paid, office.units) == (Decimal(100), Decimal(64), Decimal(1))
    assert office.adjustments == [
        Adjustment("CO", "45", Decimal(20)),
        Adjustment("PR", "2", Decimal(16)),
    ]
    assert office.line_item_control_number == "L1-1"
    assert office.allowed == Decimal(80)
    assert office.remark_codes == ["N130"]
    assert office.service_date_from == DOS
    assert venipuncture.original_procedure is not None
    assert venipuncture.original_procedure.code == "36416"


def test_patient_names_stay_out_of_the_repr() -> None:
    claim = parse_835(sample_835()).payments[0].claims[0]

    assert "DOE" not in repr(claim)
    assert "M100" not in repr(claim)


def test_denials_reversals_and_provider_adjustments_are_read() -> None:
    payment = parse_835(sample_835()).payments[0]
    denied, reversed_claim = payment.claims[1], payment.claims[2]

    assert denied.is_denied
    assert denied.paid == 0
    assert denied.adjustments == [Adjustment("CO", "29", Decimal(80))]
    assert reversed_claim.is_reversal
    assert (reversed_claim.charge, reversed_claim.paid) == (Decimal(-60), Decimal(-50))
    assert [(p.reason, p.reference, p.amount) for p in payment.provider_adjustments] == [
        ("L6", "", Decimal("-1.5")),
        ("WO", "PAYER9", Decimal(10)),
    ]
    assert payment.provider_adjustments[0].reason_words == "Interest owed"
    assert payment.provider_adjustments[0].fiscal_period_end == date(2026, 12, 31)


def test_a_generated_835_balances() -> None:
    assert check_balance(parse_835(sample_835())) == []


def test_iter_claims_pairs_each_claim_with_its_payment() -> None:
    pairs = list(iter_claims(parse_835(sample_835())))

    assert [(p.trace_number, c.patient_control_number) for p, c in pairs] == [
        ("EFT0001", "PCN1"),
        ("EFT0001", "PCN-DENIED"),
        ("EFT0001", "PCN-OLD"),
    ]


def test_a_line_that_does_not_balance_is_reported_with_its_line_control_number() -> None:
    text = sample_835().replace("SVC*HC:99213:25*100*64", "SVC*HC:99213:25*100*60")

    errors = check_balance(parse_835(text))

    assert [e.message for e in errors] == [
        "Claim PCN1, line 1 (REF*6R L1-1): charge 100.00 minus paid 60.00 is 40.00, "
        "but the line adjustments total 36.00",
    ]
    assert (errors[0].rule, errors[0].line, errors[0].line_item_control_number) == (
        "service_line",
        1,
        "L1-1",
    )


def test_a_claim_whose_adjustments_miss_the_difference_is_reported() -> None:
    text = sample_835().replace("CAS*CO*29*80", "CAS*CO*29*70")

    errors = check_balance(parse_835(text))

    assert [(e.rule, e.patient_control_number, e.message) for e in errors] == [
        (
            "claim",
            "PCN-DENIED",
            "Claim PCN-DENIED: charge 80.00 minus paid 0.00 is 80.00, but the adjustments "
            "total 70.00 (claim level 70.00, service lines 0.00)",
        )
    ]


def test_patient_responsibility_must_equal_the_pr_adjustments() -> None:
    text = sample_835().replace("CLP*PCN1*1*150*64*16*", "CLP*PCN1*1*150*64*20*")

    errors = check_balance(parse_835(text))

    assert [e.message for e in errors] == [
        "Claim PCN1: patient responsibility (CLP05) is 20.00, but its PR adjustments total 16.00"
    ]


def test_the_payment_total_must_equal_claims_paid_less_plb() -> None:
    text = sample_835().replace("BPR*I*5.5*", "BPR*I*15.5*")

    errors = check_balance(parse_835(text))

    assert [(e.rule, e.message) for e in errors] == [
        (
            "transaction",
            "Payment EFT0001: the total paid (BPR02) is 15.50, but the claim payments 14.00 "
            "less the provider adjustments (PLB) 8.50 come to 5.50",
        )
    ]


def test_a_debit_payment_balances_against_a_negative_total() -> None:
    recoupment = ProviderAdjustmentInput(NPI, date(2026, 12, 31), "WO", Decimal(64))
    text = sample_835(claims=[paid_claim()], provider_adjustments=[recoupment])
    # Recover 100 against 64 paid: the provider owes 36, a debit (BPR03 D) of 36.
    debit = text.replace("BPR*H*0*C", "BPR*H*36*D").replace("WO*64", "WO*100")
    credit = debit.replace("BPR*H*36*D", "BPR*H*36*C")

    assert check_balance(parse_835(debit)) == []
    assert [(e.rule, e.expected, e.actual) for e in check_balance(parse_835(credit))] == [
        ("transaction", Decimal(36), Decimal(-36))
    ]


def test_a_non_numeric_cas_amount_stops_the_reading() -> None:
    with pytest.raises(X12ParseError) as caught:
        parse_835(sample_835().replace("CAS*CO*97*50", "CAS*CO*97*5O"))

    assert str(caught.value) == (
        'segment 28 (CAS), element 3: CAS03 (adjustment amount) "5O" is not a number'
    )


def test_an_unknown_adjustment_group_is_refused() -> None:
    with pytest.raises(X12ParseError) as caught:
        parse_835(sample_835().replace("CAS*CO*97*50", "CAS*CR*97*50"))

    assert caught.value.message == 'CAS01 "CR" is not an adjustment group (CO, OA, PI or PR)'


def test_a_claim_without_a_patient_name_is_reported_as_a_warning() -> None:
    parsed = parse_835(
        sample_835().replace("NM1*QC*1*ROE*JOHN****MI*M200~", "").replace("SE*35", "SE*34")
    )

    assert [str(p) for p in parsed.warnings] == [
        "segment 30 (CLP): claim PCN-DENIED has no NM1*QC patient name, which the 835 requires"
    ]


def test_more_than_six_cas_triplets_in_one_group_take_two_segments() -> None:
    adjustments = tuple(AdjustmentInput("CO", str(r), Decimal(1)) for r in range(1, 9))
    claim = ClaimPaymentInput(
        "PCN7",
        "P7",
        "DOE",
        "JANE",
        "M1",
        lines=(LinePaymentInput("99213", Decimal(100), adjustments, service_date=DOS),),
    )
    text = make_835(
        interchange(), payer=PAYER, payee=PAYEE, payment_date=DOS, trace_number="T7", claims=[claim]
    )

    line = parse_835(text).payments[0].claims[0].lines[0]

    assert text.count("CAS*CO") == 2
    assert (len(line.adjustments), line.paid) == (8, Decimal(92))
    assert pyx12_errors(text) == []


@pytest.fixture(scope="module")
def big_835() -> str:
    claims = [paid_claim(n) for n in range(10_000)]
    return make_835(
        interchange(), payer=PAYER, payee=PAYEE, payment_date=DOS, trace_number="BIG", claims=claims
    )


def test_a_10000_claim_835_parses_and_balances_in_a_few_seconds(big_835: str) -> None:
    started = time.process_time()
    remittance = parse_835(big_835)
    errors = check_balance(remittance)
    elapsed = time.process_time() - started

    assert len(remittance.payments[0].claims) == 10_000
    assert errors == []
    assert elapsed < 5  # about 1 s of CPU on a slow CI runner


def _denied(text: str) -> ClaimPayment:
    return next(c for c in parse_835(text).claims if c.patient_control_number == "PCN-DENIED")


def test_moa_and_mia_remark_codes_are_kept_and_ma18_or_clp02_19_is_a_crossover() -> None:
    plain = sample_835()
    count = int(plain.split("~SE*")[1].split("*")[0])
    text = plain.replace(
        "NM1*QC*1*ROE*JOHN****MI*M200~",
        "NM1*QC*1*ROE*JOHN****MI*M200~MIA*0***0*N1***************MA18~MOA***MA01*N89~",
    ).replace(f"~SE*{count}*", f"~SE*{count + 2}*")

    claim = _denied(text)

    assert claim.remark_codes == ["N1", "MA18", "MA01", "N89"]
    assert claim.is_crossover
    assert not _denied(plain).is_crossover
    assert _denied(plain.replace("CLP*PCN-DENIED*4*", "CLP*PCN-DENIED*19*")).is_crossover
