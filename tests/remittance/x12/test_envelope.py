"""detect() and the strict tokenizer: delimiters, envelope counts and located errors."""

from __future__ import annotations

import pytest

from service.remittance.x12.ack999 import parse_999
from service.remittance.x12.detect import Kind, detect
from service.remittance.x12.remit835 import parse_835
from service.x12.tokens import X12ParseError, parse_interchange
from tests.remittance.x12.helpers import sample_835


def _error(text: str) -> X12ParseError:
    with pytest.raises(X12ParseError) as caught:
        parse_835(text)
    return caught.value


def test_an_835_is_detected_from_gs01_hp_and_st01_835() -> None:
    assert detect(sample_835()) is Kind.REMITTANCE_835


def test_delimiters_come_from_the_isa_and_newlines_between_segments_are_tolerated() -> None:
    # | elements, > components (ISA16), ! segment terminator, a newline after each segment.
    text = sample_835().replace("*", "|").replace(":", ">").replace("~", "!\n")
    remittance = parse_835(text)

    assert parse_interchange(text).delimiters.element == "|"
    assert [c.patient_control_number for c in remittance.claims] == [
        "PCN1",
        "PCN-DENIED",
        "PCN-OLD",
    ]
    assert remittance.payments[0].claims[0].lines[0].procedure.modifiers == ("25",)


def test_a_wrong_se01_names_the_se_segment_and_the_real_count() -> None:
    error = _error(sample_835().replace("SE*35*0001", "SE*34*0001"))

    assert (error.segment_number, error.segment_id, error.element) == (37, "SE", 1)
    assert error.message == (
        "SE01 says 34 segments but transaction set 0001 has 35 (ST to SE inclusive)"
    )
    assert str(error).startswith("segment 37 (SE), element 1: SE01 says 34")


def test_an_se02_that_differs_from_st02_is_refused() -> None:
    error = _error(sample_835().replace("SE*35*0001", "SE*35*0002"))

    assert (error.segment_number, error.element) == (37, 2)
    assert error.message == 'SE02 "0002" does not match ST02 "0001"'


def test_ge_and_iea_counts_and_control_numbers_must_match() -> None:
    ge = _error(sample_835().replace("GE*1*77", "GE*2*77"))
    iea = _error(sample_835().replace("IEA*1*000005001", "IEA*1*000005002"))

    assert (ge.segment_id, ge.element, ge.message) == (
        "GE",
        1,
        "GE01 says 2 transaction sets but group 77 has 1",
    )
    assert (iea.segment_id, iea.element, iea.message) == (
        "IEA",
        2,
        'IEA02 "000005002" does not match ISA13 "000005001"',
    )


def test_an_isa_with_a_short_field_is_refused_with_the_element_named() -> None:
    text = sample_835().replace("*CLEARHOUSE     *", "*CLEARHOUSE    *", 1)

    error = _error(text)

    assert (error.segment_number, error.segment_id, error.element) == (1, "ISA", 6)
    assert error.message == (
        "ISA06 (sender id) is 14 characters, the fixed-width ISA needs 15 "
        "(ISA is exactly 106 characters)"
    )


def test_a_file_cut_inside_a_segment_is_truncated() -> None:
    text = sample_835()
    cut = text[: text.index("CLP*PCN-DENIED") + 10]

    error = _error(cut)

    assert (error.segment_number, error.segment_id) == (30, "CLP")
    assert "has no segment terminator" in error.message
    assert error.message.endswith("the file is truncated")


def test_a_file_cut_after_a_segment_is_truncated_inside_its_transaction_set() -> None:
    text = sample_835()
    cut = text[: text.index("SE*35")]

    error = _error(cut)

    assert (error.segment_number, error.segment_id) == (36, "PLB")
    assert error.message == "the file ends inside a transaction set (no SE): it is truncated"


def test_a_non_numeric_amount_names_the_segment_element_and_value() -> None:
    error = _error(sample_835().replace("CLP*PCN1*1*150*", "CLP*PCN1*1*15O*"))

    assert str(error) == (
        'segment 15 (CLP), element 3: CLP03 (total claim charge) "15O" is not a number'
    )


def test_an_837_is_not_a_file_that_comes_back() -> None:
    text = sample_835().replace("GS*HP", "GS*HC").replace("ST*835*0001", "ST*837*0001")

    with pytest.raises(X12ParseError) as caught:
        detect(text)

    assert (caught.value.segment_number, caught.value.segment_id) == (3, "ST")
    assert caught.value.message == (
        "this is an 837 claim file (what we send, not what comes back), not a 999, 277CA or 835"
    )


def test_an_unknown_transaction_set_is_refused() -> None:
    text = sample_835().replace("ST*835*0001", "ST*810*0001")

    with pytest.raises(X12ParseError) as caught:
        detect(text)

    assert caught.value.message == "transaction set 810 is not a 999, 277CA or 835"


def test_gs01_must_match_the_transaction_set() -> None:
    text = sample_835().replace("GS*HP", "GS*FA")

    with pytest.raises(X12ParseError) as caught:
        detect(text)

    assert (caught.value.segment_id, caught.value.element) == ("GS", 1)
    assert caught.value.message == "GS01 FA does not match ST01 835 (a 835 needs GS01 HP)"


def test_a_277_claim_status_response_is_not_a_277ca() -> None:
    text = (
        sample_835()
        .replace("GS*HP", "GS*HN")
        .replace("005010X221A1", "005010X212")
        .replace("ST*835*0001", "ST*277*0001")
    )

    with pytest.raises(X12ParseError) as caught:
        detect(text)

    assert caught.value.message == (
        "a 277 with guide 005010X212 is not a 277CA claim acknowledgement (005010X214) "
        "(005010X212 is the claim status response to a 276)"
    )


def test_parsing_an_835_as_a_999_says_what_the_file_is() -> None:
    with pytest.raises(X12ParseError) as caught:
        parse_999(sample_835())

    assert caught.value.message == "this is a 835 transaction set, expected a 999"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("GS*HP*A*B~", "the file does not start with an ISA interchange header"),
    ],
)
def test_a_file_without_an_isa_is_refused(text: str, message: str) -> None:
    with pytest.raises(X12ParseError) as caught:
        detect(text)

    assert caught.value.segment_number == 1
    assert caught.value.message == message


def test_data_after_the_iea_is_refused() -> None:
    error = _error(sample_835() + "GS*HP~")

    assert (error.segment_number, error.message) == (40, "data after the IEA interchange trailer")
