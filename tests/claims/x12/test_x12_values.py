"""X12 value cleaning and formatting, and the checks made when writer inputs are built."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.claims.x12.model import (
    Address,
    BillingProvider,
    Interchange,
    Patient,
    PersonName,
    ServiceLine,
    Submitter,
    X12InputError,
)
from service.identifiers import npi_is_valid
from service.x12.segments import (
    Composite,
    amount,
    ccyymmdd,
    clean,
    hhmm,
    join_composite,
    join_segment,
    quantity,
    render_segment,
    text,
    yymmdd,
)


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("Smith", "SMITH"),
        ("O'Brien", "O'BRIEN"),  # the apostrophe is in the X12 basic character set
        ("Smith*Jones~Jr", "SMITH JONES JR"),
        ("a:b^c", "A B C"),
        ("Zoë Müller-Núñez", "ZOE MULLER-NUNEZ"),
        ("Straße Ærøskøbing Łódź", "STRASSE AEROSKOBING LODZ"),
        ("  two   spaces\tand tab ", "TWO SPACES AND TAB"),
        ("€ 日本 ☃", ""),
        ("billing@clinic.example", "BILLING@CLINIC.EXAMPLE"),
    ],
)
def test_values_are_upper_cased_transliterated_and_stripped_of_delimiters(
    raw: str, cleaned: str
) -> None:
    assert clean(raw) == cleaned


def test_free_text_is_cut_to_the_element_length_after_cleaning() -> None:
    assert text("Élodie*" + "x" * 80, 35) == ("ELODIE " + "X" * 28)
    assert text(None, 10) == ""


@pytest.mark.parametrize(
    ("value", "formatted"),
    [
        ("125.00", "125"),
        ("125.50", "125.5"),
        ("125.25", "125.25"),
        ("0", "0"),
        ("0.00", "0"),
        ("1E+2", "100"),
        ("10.005", "10.01"),
        ("-3.20", "-3.2"),
        ("-0.001", "0"),
    ],
)
def test_money_has_no_trailing_zeros(value: str, formatted: str) -> None:
    assert amount(Decimal(value)) == formatted


def test_quantities_keep_their_precision_without_trailing_zeros() -> None:
    assert quantity(Decimal("1.000")) == "1"
    assert quantity(Decimal("2.5")) == "2.5"
    assert quantity(Decimal("0.125")) == "0.125"


def test_dates_and_times_use_x12_formats() -> None:
    moment = datetime(2026, 1, 5, 7, 3)  # noqa: DTZ001 - a local wall-clock time
    assert ccyymmdd(date(2026, 1, 5)) == "20260105"
    assert yymmdd(moment) == "260105"
    assert hhmm(moment) == "0703"


def test_segments_drop_trailing_empty_elements_and_components() -> None:
    assert render_segment("SV1", Composite("HC", "99213", "", ""), "40", "", "") == (
        "SV1*HC:99213*40~"
    )
    assert render_segment("HL", "1", "", "20", "1") == "HL*1**20*1~"
    assert render_segment("NM1", "IL", "1", "O'Hara*Ann~") == "NM1*IL*1*O'HARA ANN~"
    assert render_segment("TOO", "JP", "3", Composite()) == "TOO*JP*3~"


# Names, codes and the characters that clean() drops, transliterates or turns into spaces.
_RAW = st.text(st.sampled_from(list("aZ09 *~:^'-.ßÆüñ\t\n#|")), max_size=8)


@given(st.lists(st.one_of(_RAW, st.lists(_RAW, max_size=4)), max_size=8))
def test_joining_values_cleaned_once_renders_the_same_segment(
    elements: list[str | list[str]],
) -> None:
    """The 837 writer's hot path (join_segment on clean() results) writes exactly what
    render_segment writes for the raw values, trailing empty elements and components too."""
    raw = [Composite(*e) if isinstance(e, list) else e for e in elements]
    joined = [join_composite(*map(clean, e)) if isinstance(e, list) else clean(e) for e in elements]
    assert join_segment("NM1", *joined) == render_segment("NM1", *raw)


@pytest.mark.parametrize(
    ("npi", "valid"),
    [
        ("1234567893", True),
        ("1912301953", True),
        ("1999999992", True),
        ("1234567890", False),
        ("9876543210", False),
        ("123456789", False),
        ("12345678A3", False),
    ],
)
def test_npi_check_digit_uses_the_80840_prefix(npi: str, valid: bool) -> None:
    assert npi_is_valid(npi) is valid


def test_a_billing_provider_needs_a_9_digit_zip_and_ein() -> None:
    address = Address("1 Main St", "Miami", "FL", "33111")
    with pytest.raises(X12InputError, match="9 digits"):
        BillingProvider("1234567893", "Clinic", "587654321", address)
    with pytest.raises(X12InputError, match="EIN"):
        BillingProvider("1234567893", "Clinic", "58-7654321", address)


def test_addresses_need_a_state_code_and_a_zip_without_dash() -> None:
    with pytest.raises(X12InputError, match="postal code"):
        Address("1 Main St", "Miami", "FL", "33111-1234")
    with pytest.raises(X12InputError, match="state"):
        Address("1 Main St", "Miami", "Florida", "33111")


def test_a_name_that_cleans_to_nothing_is_refused() -> None:
    with pytest.raises(X12InputError, match="Family name"):
        PersonName("***")


def test_a_patient_who_is_self_is_not_a_2000c_patient() -> None:
    with pytest.raises(X12InputError, match="PAT01"):
        Patient(
            "18",
            PersonName("Smith"),
            date(2000, 1, 1),
            "F",
            Address("1 Main St", "Miami", "FL", "33111"),
        )


def test_the_submitter_needs_a_contact_number() -> None:
    with pytest.raises(X12InputError, match="phone or an email"):
        Submitter("Billing Office", "SUB1", "Ana")


def test_isa_ids_longer_than_15_characters_are_refused() -> None:
    with pytest.raises(X12InputError, match="1 to 15"):
        Interchange(
            "ZZ",
            "A" * 16,
            "ZZ",
            "RECEIVER",
            1,
            1,
            "SENDER",
            "RECEIVER",
            datetime(2026, 1, 1),  # noqa: DTZ001 - a local wall-clock time
        )


def test_a_service_line_takes_at_most_4_modifiers_and_positive_units() -> None:
    with pytest.raises(X12InputError, match="4 modifiers"):
        ServiceLine(
            "99213", Decimal(1), date(2026, 1, 1), "L1", modifiers=("A", "B", "C", "D", "E")
        )
    with pytest.raises(X12InputError, match="units"):
        ServiceLine("99213", Decimal(1), date(2026, 1, 1), "L1", units=Decimal(0))
