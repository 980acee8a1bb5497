"""parse_999 and parse_277ca: generated round trips (pyx12-clean) and pyx12's own 999."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from service.demo.x12_files import (
    ClaimStatusInput,
    ElementErrorInput,
    LineStatusInput,
    Organization,
    SegmentErrorInput,
    SetResult,
    StatusInput,
    make_277ca,
    make_999,
)
from service.remittance.x12.ack277ca import parse_277ca
from service.remittance.x12.ack999 import parse_999
from service.remittance.x12.detect import Kind, detect
from service.x12.tokens import X12ParseError
from service.x12.validate import validate_x12
from tests.remittance.x12.helpers import NO_SAMPLES, NPI, SAMPLES, interchange, pyx12_errors

CLM05_ERROR = SegmentErrorInput(
    "CLM", 22, "2300", "8", (ElementErrorInput(5, "7", "1331", "99", component=1),)
)


def _999() -> str:
    return make_999(
        interchange(),
        group_control_number=123,
        results=[
            SetResult("0001"),
            SetResult("0002", accepted=False, segment_errors=(CLM05_ERROR,)),
        ],
    )


def test_a_generated_999_is_detected_and_passes_pyx12() -> None:
    text = _999()

    assert detect(text) is Kind.ACK_999
    assert pyx12_errors(text) == []


def test_a_999_reports_each_transaction_set_and_the_group() -> None:
    group = parse_999(_999()).groups[0]

    assert (group.functional_id, group.group_control_number, group.version) == (
        "HC",
        "123",
        "005010X222A1",
    )
    assert (group.code, group.included, group.received, group.accepted) == ("P", 2, 2, 1)
    assert group.words == "Partially accepted, at least one transaction set was rejected"
    accepted, rejected = group.transaction_sets
    assert (accepted.control_number, accepted.code, accepted.accepted) == ("0001", "A", True)
    assert (rejected.control_number, rejected.code, rejected.accepted) == ("0002", "R", False)
    assert [e.words for e in rejected.syntax_errors] == ["One or more segments in error"]


def test_a_999_segment_error_carries_its_element_errors_in_plain_words() -> None:
    rejected = parse_999(_999()).groups[0].transaction_sets[1]
    (segment,) = rejected.segment_errors
    (element,) = segment.element_errors

    assert (segment.segment_id, segment.position, segment.loop_id) == ("CLM", 22, "2300")
    assert segment.words == "Segment has data element errors"
    assert (element.position, element.component, element.element_reference) == (5, 1, "1331")
    assert (element.code, element.words, element.bad_value) == ("7", "Invalid code value", "99")


def test_a_999_accepting_everything_says_a() -> None:
    text = make_999(interchange(), group_control_number=9, results=[SetResult("0001")])

    group = parse_999(text).groups[0]

    assert (group.code, group.accepted) == ("A", 1)
    assert pyx12_errors(text) == []


def test_a_999_without_ak9_is_refused() -> None:
    text = _999().replace("AK9*P*2*2*1~", "").replace("SE*10*", "SE*9*")

    with pytest.raises(X12ParseError) as caught:
        parse_999(text)

    assert caught.value.segment_id == "SE"
    assert caught.value.message == "the 999 has no AK9 functional group response trailer"


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=NO_SAMPLES)
def test_the_999_pyx12_writes_for_a_defective_837_is_read() -> None:
    ack = validate_x12(SAMPLES / "837p_published_example9.x12").ack

    group = parse_999(ack).groups[0]

    assert (group.code, group.accepted) == ("R", 0)
    (transaction_set,) = group.transaction_sets
    clm = transaction_set.segment_errors[0]
    assert (clm.segment_id, clm.position, clm.code) == ("CLM", 18, "8")
    assert [(e.position, e.component, e.words) for e in clm.element_errors] == [
        (5, 1, "Data element too long"),
        (5, 1, "Invalid code value"),
        (5, 2, "Required data element missing"),
        (5, 3, "Required data element missing"),
    ]
    assert [(s.segment_id, s.words) for s in transaction_set.segment_errors[1:]] == [
        ("HI", "Unrecognized segment ID"),
        ("HI", "Required segment missing"),
        ("SV1", "Unrecognized segment ID"),
        ("SV1", "Required segment missing"),
    ]


def _277ca() -> str:
    accepted = ClaimStatusInput(
        "PCN1",
        "DOE",
        "JANE",
        "M100",
        Decimal(150),
        date(2026, 11, 2),
        StatusInput("A2", "20", "PR"),
        payer_claim_control_number="PAYER1",
        lines=(
            LineStatusInput(
                "L1-1", "99213", Decimal(100), date(2026, 11, 2), StatusInput("A2", "20")
            ),
            LineStatusInput(
                "L1-2", "36415", Decimal(50), date(2026, 11, 2), StatusInput("A7", "454")
            ),
        ),
    )
    rejected = ClaimStatusInput(
        "PCN2",
        "ROE",
        "JOHN",
        "M200",
        Decimal(80),
        date(2026, 11, 3),
        StatusInput("A7", "562", "85"),
        message="BILLING NPI NOT ON FILE",
    )
    return make_277ca(
        interchange(),
        payer=Organization("ACME HEALTH", "12345"),
        receiver=Organization("SMALL CLINIC", "CLINIC01"),
        billing_provider=Organization("SMALL CLINIC", NPI),
        claims=[accepted, rejected],
        batch_trace="BATCH1",
    )


def test_a_generated_277ca_is_detected_and_passes_pyx12() -> None:
    text = _277ca()

    assert detect(text) is Kind.ACK_277CA
    assert pyx12_errors(text) == []


def test_a_277ca_gives_each_claim_its_status_in_plain_words() -> None:
    ack = parse_277ca(_277ca())
    accepted, rejected = ack.claims

    assert (accepted.patient_control_number, accepted.outcome) == ("PCN1", "accepted")
    assert accepted.payer_claim_control_number == "PAYER1"
    assert accepted.service_date_from == date(2026, 11, 2)
    assert accepted.statuses[0].amount == Decimal(150)
    (code,) = rejected.statuses[0].codes
    assert (rejected.patient_control_number, rejected.outcome) == ("PCN2", "rejected")
    assert (code.category, code.code, code.entity) == ("A7", "562", "85")
    assert code.category_words == "Acknowledgement/Rejected for invalid information"
    assert code.code_words == "Entity's National Provider Identifier (NPI)"
    assert code.entity_words == "Billing provider"
    assert rejected.statuses[0].message == "BILLING NPI NOT ON FILE"


def test_a_277ca_line_status_matches_back_by_line_item_control_number() -> None:
    claim = parse_277ca(_277ca()).claims[0]

    assert [(line.line_item_control_number, line.procedure.code) for line in claim.lines] == [
        ("L1-1", "99213"),
        ("L1-2", "36415"),
    ]
    assert claim.lines[1].statuses[0].codes[0].code_words == "Procedure code for services rendered"


def test_a_277ca_keeps_payer_receiver_and_billing_provider_totals() -> None:
    ack = parse_277ca(_277ca())
    (source,) = ack.sources
    (provider,) = ack.providers

    assert source.payer.name == "ACME HEALTH"
    assert source.receiver is not None
    assert source.receiver.id == "CLINIC01"
    assert source.received == date(2026, 11, 28)
    assert (source.accepted_quantity, source.rejected_quantity) == (1, 1)
    assert (source.accepted_amount, source.rejected_amount) == (Decimal(150), Decimal(80))
    assert provider.provider.npi == NPI
    assert ack.claims[1].billing_provider == provider.provider


def test_a_277ca_patient_hl_must_hang_under_a_billing_provider() -> None:
    text = _277ca().replace("HL*4*3*PT", "HL*4*2*PT")

    with pytest.raises(X12ParseError) as caught:
        parse_277ca(text)

    assert (caught.value.segment_id, caught.value.element) == ("HL", 2)
    assert caught.value.message == "HL02 2 must point to a level 19 HL (loop 2000C)"


def test_a_277ca_with_an_invalid_status_date_is_refused() -> None:
    text = _277ca().replace("STC*A7:562:85*20261128", "STC*A7:562:85*20261332")

    with pytest.raises(X12ParseError) as caught:
        parse_277ca(text)

    assert caught.value.message == (
        'STC02 (status effective date) "20261332" is not a valid date (CCYYMMDD)'
    )
