"""837P/837D writer and pyx12 wrapper: structure, envelope counts, escaping, validity."""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from service.claims.x12.model import (
    Address,
    Adjustment,
    BillingProvider,
    ClaimInput,
    Header,
    Interchange,
    Kind,
    LineAdjudication,
    OtherPayer,
    OtherSubscriber,
    Patient,
    Payer,
    PersonName,
    Provider,
    Receiver,
    ServiceFacility,
    ServiceLine,
    Submitter,
    Subscriber,
    Tooth,
    X12InputError,
)
from service.claims.x12.writer_837 import BatchSummary, write_837
from service.x12.validate import DENTAL_MAP_FILE, validate_x12

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED = REPO_ROOT.parent / "shared"
SAMPLES = SHARED / "x12" / "samples"
MAP_DIR = SHARED / "x12" / "pyx12-maps"
NO_SHARED = "../shared (X12 samples and the 837D pyx12 map) is absent beside the checkout"

# Test NPIs with valid check digits (CMS examples and published test data).
NPI_A = "1912301953"
NPI_B = "1999999992"
NPI_C = "1234567893"


def make_header(**changes: Any) -> Header:
    interchange = Interchange(
        sender_qualifier="ZZ",
        sender_id="CLINIC01",
        receiver_qualifier="ZZ",
        receiver_id="CLEARHOUSE",
        interchange_control_number=123,
        group_control_number=77,
        application_sender_code="CLINIC01",
        application_receiver_code="CLEARHOUSE",
        created_at=datetime(2026, 3, 2, 14, 5),  # noqa: DTZ001 - a local wall-clock time
    )
    header = Header(
        interchange=interchange,
        submitter=Submitter(
            name="Sunrise Clinic Billing",
            submitter_id="SUB123",
            contact_name="Ana Ruiz",
            phone="3055552222",
            email="billing@sunrise.example",
        ),
        receiver=Receiver(name="Clearing House Inc", receiver_id="CH001"),
    )
    return dataclasses.replace(header, **changes)


def make_billing_provider(npi: str = NPI_A, **changes: Any) -> BillingProvider:
    provider = BillingProvider(
        npi=npi,
        name="Sunrise Family Practice",
        tax_id="587654321",
        address=Address("234 Seaway St", "Miami", "FL", "331110000", line2="Suite 4"),
        taxonomy="207Q00000X",
    )
    return dataclasses.replace(provider, **changes)


def make_subscriber(member_id: str = "JS00111223333", **changes: Any) -> Subscriber:
    subscriber = Subscriber(
        member_id=member_id,
        name=PersonName("Smith", "Jane", "Q"),
        claim_filing_indicator="CI",
        group_number="2222-SJ",
        birth_date=date(1971, 5, 1),
        sex="F",
        address=Address("236 N Main St", "Miami", "FL", "33413"),
    )
    return dataclasses.replace(subscriber, **changes)


def make_payer(**changes: Any) -> Payer:
    return dataclasses.replace(Payer(name="Key Insurance Company", payer_id="999996666"), **changes)


def make_patient(**changes: Any) -> Patient:
    patient = Patient(
        relationship="19",
        name=PersonName("Smith", "Ted"),
        birth_date=date(2012, 5, 1),
        sex="M",
        address=Address("236 N Main St", "Miami", "FL", "33413"),
    )
    return dataclasses.replace(patient, **changes)


def make_line(number: int = 1, **changes: Any) -> ServiceLine:
    line = ServiceLine(
        procedure_code="99213",
        charge=Decimal("40.00"),
        service_date=date(2026, 2, 27),
        line_control_number=f"LN{number:04d}",
    )
    return dataclasses.replace(line, **changes)


def make_dental_line(number: int = 1, **changes: Any) -> ServiceLine:
    line = ServiceLine(
        procedure_code="D2392",
        charge=Decimal("185.00"),
        service_date=date(2026, 2, 27),
        line_control_number=f"DL{number:04d}",
        teeth=(Tooth("3", ("M", "O")),),
    )
    return dataclasses.replace(line, **changes)


def make_claim(pcn: str = "PCN0001", **changes: Any) -> ClaimInput:
    claim = ClaimInput(
        patient_control_number=pcn,
        billing_provider=make_billing_provider(),
        subscriber=make_subscriber(),
        payer=make_payer(),
        place_of_service="11",
        diagnoses=("J02.9", "R50.9"),
        lines=(make_line(1), make_line(2, procedure_code="87070", charge=Decimal("15.50"))),
        rendering_provider=Provider(NPI_B, PersonName("Kildare", "Ben"), taxonomy="207Q00000X"),
    )
    return dataclasses.replace(claim, **changes)


def make_dental_claim(pcn: str = "DEN0001", **changes: Any) -> ClaimInput:
    claim = make_claim(
        pcn,
        diagnoses=("K02.52",),
        lines=(make_dental_line(1),),
        rendering_provider=Provider(NPI_B, PersonName("Doe", "Jane"), taxonomy="1223G0001X"),
    )
    return dataclasses.replace(claim, **changes)


def write(claims: list[ClaimInput], kind: Kind = "P", **options: Any) -> tuple[str, BatchSummary]:
    out = io.StringIO()
    options.setdefault("first_st_control", 1)
    summary = write_837(make_header(), claims, out, kind=kind, **options)
    return out.getvalue(), summary


def segments(x12: str) -> list[list[str]]:
    """The segments of our own output (delimiters * and ~), split into elements."""
    return [segment.split("*") for segment in x12.split("~") if segment.strip()]


def ids(x12: str) -> list[str]:
    return [elements[0] for elements in segments(x12)]


def find(x12: str, segment_id: str, *prefix: str) -> list[list[str]]:
    """Segments with this id whose first elements are prefix."""
    n = len(prefix)
    return [e for e in segments(x12) if e[0] == segment_id and tuple(e[1 : 1 + n]) == prefix]


needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=NO_SHARED)
needs_dental_map = pytest.mark.skipif(not (MAP_DIR / DENTAL_MAP_FILE).is_file(), reason=NO_SHARED)


# --- 837P ---


def assert_pyx12_valid(x12: str) -> None:
    result = validate_x12(x12, map_dir=MAP_DIR)
    assert result.errors == []
    assert result.ok


def assert_envelope_counts(x12: str) -> None:
    """SE01 counts ST..SE, SE02 = ST02, GE01 counts STs, IEA01 counts groups."""
    segs = segments(x12)
    st_start = 0
    st_count = 0
    for index, elements in enumerate(segs):
        if elements[0] == "ST":
            st_start, st_count = index, st_count + 1
        elif elements[0] == "SE":
            assert int(elements[1]) == index - st_start + 1
            assert elements[2] == segs[st_start][2]
    assert segs[-2][0] == "GE"
    assert int(segs[-2][1]) == st_count
    assert segs[-2][2] == segs[1][6]
    assert segs[-1] == ["IEA", "1", segs[0][13]]


def hl_tree(x12: str) -> list[tuple[str, str, str, str]]:
    return [(e[1], e[2], e[3], e[4]) for e in segments(x12) if e[0] == "HL"]


def test_a_single_claim_is_a_valid_837p() -> None:
    x12, summary = write([make_claim()])

    assert_pyx12_valid(x12)
    assert_envelope_counts(x12)
    assert summary.claim_count == 1
    assert summary.line_count == 2
    assert summary.total_charge == Decimal("55.50")
    assert summary.st_control_numbers == ("0001",)
    assert summary.segment_count == len(segments(x12))


def test_the_isa_is_fixed_width_with_padded_ids_and_control_number() -> None:
    x12, _ = write([make_claim()])

    isa = x12[: x12.index("~") + 1]
    assert len(isa) == 106
    assert isa == (
        "ISA*00*          *00*          *ZZ*CLINIC01       *ZZ*CLEARHOUSE     "
        "*260302*1405*^*00501*000000123*0*T*:~"
    )
    assert find(x12, "GS") == [
        ["GS", "HC", "CLINIC01", "CLEARHOUSE", "20260302", "1405", "77", "X", "005010X222A1"]
    ]
    assert find(x12, "ST") == [["ST", "837", "0001", "005010X222A1"]]


def test_the_claim_segments_follow_the_guide_order() -> None:
    x12, _ = write([make_claim()])

    assert ids(x12) == [
        "ISA", "GS", "ST", "BHT", "NM1", "PER", "NM1",  # header, 1000A, 1000B
        "HL", "PRV", "NM1", "N3", "N4", "REF",  # 2000A, 2010AA
        "HL", "SBR", "NM1", "N3", "N4", "DMG", "NM1",  # 2000B, 2010BA, 2010BB
        "CLM", "HI", "NM1", "PRV",  # 2300, 2310B
        "LX", "SV1", "DTP", "REF", "LX", "SV1", "DTP", "REF",  # 2400 x 2
        "SE", "GE", "IEA",
    ]  # fmt: skip
    assert find(x12, "CLM") == [["CLM", "PCN0001", "55.5", "", "", "11:B:1", "Y", "A", "Y", "Y"]]
    assert find(x12, "HI") == [["HI", "ABK:J029", "ABF:R509"]]
    assert find(x12, "SV1") == [
        ["SV1", "HC:99213", "40", "UN", "1", "", "", "1"],
        ["SV1", "HC:87070", "15.5", "UN", "1", "", "", "1"],
    ]
    assert find(x12, "REF", "6R") == [["REF", "6R", "LN0001"], ["REF", "6R", "LN0002"]]
    assert find(x12, "SBR") == [["SBR", "P", "18", "2222-SJ", "", "", "", "", "", "CI"]]


def test_pay_to_and_payer_addresses_are_written_when_given() -> None:
    provider = make_billing_provider(
        pay_to_address=Address("PO Box 4455", "Miami", "FL", "331110044")
    )
    payer = make_payer(address=Address("PO Box 7000", "Camden", "SC", "29000"))
    x12, _ = write([make_claim(billing_provider=provider, payer=payer)])

    assert_pyx12_valid(x12)
    assert find(x12, "NM1", "87") == [["NM1", "87", "2"]]
    assert find(x12, "N3", "PO BOX 4455") == [["N3", "PO BOX 4455"]]
    position = ids(x12).index("CLM")
    assert ids(x12)[position - 3 : position] == ["NM1", "N3", "N4"]  # 2010BB with address


def test_production_usage_and_ta1_request_are_set_in_isa() -> None:
    interchange = dataclasses.replace(
        make_header().interchange, usage_indicator="P", acknowledgment_requested=True
    )
    out = io.StringIO()
    write_837(
        make_header(interchange=interchange), [make_claim()], out, kind="P", first_st_control=9
    )

    assert out.getvalue()[99:106] == "*1*P*:~"
    assert find(out.getvalue(), "ST") == [["ST", "837", "0009", "005010X222A1"]]


def test_a_dependant_patient_gets_a_2000c_loop_under_the_subscriber() -> None:
    x12, _ = write([make_claim(patient=make_patient())])

    assert_pyx12_valid(x12)
    assert hl_tree(x12) == [("1", "", "20", "1"), ("2", "1", "22", "1"), ("3", "2", "23", "0")]
    assert find(x12, "SBR")[0][2] == ""  # SBR02 18 only when the subscriber is the patient
    assert find(x12, "PAT") == [["PAT", "19"]]
    assert find(x12, "NM1", "QC") == [["NM1", "QC", "1", "SMITH", "TED"]]
    assert ids(x12).index("PAT") < ids(x12).index("CLM")


def test_a_name_suffix_goes_in_nm107() -> None:
    subscriber = make_subscriber(name=PersonName("Smith", "John", "A", "Jr"))
    x12, _ = write([make_claim(subscriber=subscriber)])

    assert_pyx12_valid(x12)
    assert find(x12, "NM1", "IL") == [
        ["NM1", "IL", "1", "SMITH", "JOHN", "A", "", "JR", "MI", "JS00111223333"]
    ]


def test_a_person_with_one_name_has_no_nm104() -> None:
    subscriber = make_subscriber(name=PersonName("Teller", ""))
    patient = make_patient(name=PersonName("Teller", ""))
    x12, _ = write([make_claim(subscriber=subscriber), make_claim("PCN0002", patient=patient)])

    assert_pyx12_valid(x12)
    assert find(x12, "NM1", "IL")[0] == [
        "NM1",
        "IL",
        "1",
        "TELLER",
        "",
        "",
        "",
        "",
        "MI",
        "JS00111223333",
    ]
    assert find(x12, "NM1", "QC") == [["NM1", "QC", "1", "TELLER"]]


def test_delimiters_in_names_are_removed_and_letters_transliterated() -> None:
    patient = make_patient(
        name=PersonName("O'Brien*Núñez~", "Zoë:Ann", "^", "Jr"),
        address=Address("12 Rue de l'Église*", "Montréal~Nord", "FL", "33413"),
    )
    subscriber = make_subscriber(name=PersonName("Müller-Straße", "José"))
    provider = make_billing_provider(name="Ærø & Søn: Dental*Lab~")
    claim = make_claim(patient=patient, subscriber=subscriber, billing_provider=provider)

    x12, _ = write([claim])

    assert_pyx12_valid(x12)
    assert_envelope_counts(x12)
    assert find(x12, "NM1", "QC") == [["NM1", "QC", "1", "O'BRIEN NUNEZ", "ZOE ANN", "", "", "JR"]]
    assert find(x12, "N3")[-1] == ["N3", "12 RUE DE L'EGLISE"]
    assert find(x12, "N4")[-1] == ["N4", "MONTREAL NORD", "FL", "33413"]
    assert find(x12, "NM1", "IL")[0][3:5] == ["MULLER-STRASSE", "JOSE"]
    assert find(x12, "NM1", "85")[0][3] == "AERO & SON DENTAL LAB"
    assert x12.isascii()
    assert "^" not in x12[106:]  # the repetition separator only appears in ISA11


def test_lab_claim_references_clia_prior_authorization_and_referral() -> None:
    claim = make_claim(
        clia_number="05D0987654",
        prior_authorization="PA-778899",
        referral_number="RF12345",
        referring_provider=Provider(NPI_C, PersonName("Welby", "Marcus")),
        service_facility=ServiceFacility(
            "Sunrise Lab", Address("9 Lab Way", "Miami", "FL", "33111"), npi=NPI_C
        ),
    )
    x12, _ = write([claim])

    assert_pyx12_valid(x12)
    assert find(x12, "REF", "9F") == [["REF", "9F", "RF12345"]]
    assert find(x12, "REF", "G1") == [["REF", "G1", "PA-778899"]]
    assert find(x12, "REF", "X4") == [["REF", "X4", "05D0987654"]]
    assert [e[1] for e in find(x12, "NM1")][-3:] == ["DN", "82", "77"]  # 2310A, B, C


def test_a_replacement_claim_carries_the_payer_claim_number() -> None:
    claim = make_claim(frequency="7", payer_claim_number="PAYER-CLM-991")
    x12, _ = write([claim])

    assert_pyx12_valid(x12)
    assert find(x12, "CLM")[0][5] == "11:B:7"
    assert find(x12, "REF", "F8") == [["REF", "F8", "PAYER-CLM-991"]]


def test_a_replacement_claim_without_payer_claim_number_is_refused() -> None:
    with pytest.raises(X12InputError, match="REF\\*F8"):
        make_claim(frequency="8")


def test_claims_group_under_billing_providers_and_subscribers() -> None:
    provider_2 = make_billing_provider(NPI_C, name="Second Practice")
    subscriber_2 = make_subscriber("W99887766", name=PersonName("Jones", "Amy"))
    claims = [
        make_claim("A1"),
        make_claim("A2"),  # same provider, same subscriber: same 2000B
        make_claim("A3", patient=make_patient()),  # dependant: a new 2000B with a 2000C
        make_claim("A4", patient=make_patient()),  # same patient: same 2000C
        make_claim("B1", billing_provider=provider_2),  # new 2000A and 2000B
        make_claim("B2", billing_provider=provider_2, subscriber=subscriber_2),
    ]
    x12, summary = write(claims)

    assert_pyx12_valid(x12)
    assert_envelope_counts(x12)
    assert hl_tree(x12) == [
        ("1", "", "20", "1"),
        ("2", "1", "22", "0"),  # A1, A2
        ("3", "1", "22", "1"),
        ("4", "3", "23", "0"),  # A3, A4
        ("5", "", "20", "1"),
        ("6", "5", "22", "0"),  # B1
        ("7", "5", "22", "0"),  # B2
    ]
    assert [e[1] for e in find(x12, "CLM")] == ["A1", "A2", "A3", "A4", "B1", "B2"]
    assert summary.claim_count == 6
    assert summary.total_charge == Decimal("333.00")


def test_transaction_sets_split_at_max_claims_and_restart_hl_numbering() -> None:
    claims = [make_claim(f"C{n}", subscriber=make_subscriber(f"M{n // 2}")) for n in range(7)]
    x12, summary = write(claims, max_claims_per_st=3, first_st_control=41)

    assert_pyx12_valid(x12)
    assert_envelope_counts(x12)
    assert summary.st_control_numbers == ("0041", "0042", "0043")
    assert [ts.claim_count for ts in summary.transaction_sets] == [3, 3, 1]
    assert [e[2] for e in find(x12, "ST")] == ["0041", "0042", "0043"]
    assert [int(e[1]) for e in find(x12, "SE")] == [
        ts.segment_count for ts in summary.transaction_sets
    ]
    assert find(x12, "GE") == [["GE", "3", "77"]]
    first_hls = [e[1] for e in segments(x12) if e[0] == "HL" and e[3] == "20"]
    assert first_hls == ["1", "1", "1"]  # each ST opens its own 2000A at HL 1
    # C2 shares its subscriber with C3 but not its ST: the second ST repeats the 2000B.
    assert ids(x12).count("BHT") == 3


def test_a_subscriber_with_more_than_100_claims_gets_a_second_2000b() -> None:
    claims = [make_claim(f"P{n:03d}", lines=(make_line(),)) for n in range(101)]
    x12, _ = write(claims)

    assert_envelope_counts(x12)
    assert hl_tree(x12) == [("1", "", "20", "1"), ("2", "1", "22", "0"), ("3", "1", "22", "0")]
    assert_pyx12_valid(x12)


def test_a_secondary_claim_carries_the_primary_payers_adjudication() -> None:
    primary = Payer("Key Insurance Company", "999996666")
    other = OtherPayer(
        payer=primary,
        subscriber=OtherSubscriber("JS00111223333", PersonName("Smith", "Jane")),
        claim_filing_indicator="CI",
        group_number="2222-SJ",
        paid_amount=Decimal("30.00"),
        adjustments=(
            Adjustment("CO", "45", Decimal("10.00")),
            Adjustment("PR", "2", Decimal("5.50")),
            Adjustment("PR", "1", Decimal("10")),
        ),
    )
    adjudicated = LineAdjudication(
        payer_id="999996666",
        paid_amount=Decimal("30"),
        procedure_code="99213",
        adjudication_date=date(2026, 3, 1),
        adjustments=(Adjustment("CO", "45", Decimal("10")),),
    )
    claim = make_claim(
        subscriber=make_subscriber("SEC5544", payer_responsibility="S"),
        payer=Payer("Second Mutual", "SM001"),
        other_payers=(other,),
        lines=(
            make_line(1, adjudications=(adjudicated,)),
            make_line(
                2,
                charge=Decimal("15.50"),
                adjudications=(
                    dataclasses.replace(
                        adjudicated,
                        paid_amount=Decimal("0"),
                        adjustments=(Adjustment("PR", "1", Decimal("15.50")),),
                    ),
                ),
            ),
        ),
    )
    x12, _ = write([claim])

    assert_pyx12_valid(x12)
    assert find(x12, "SBR", "S") == [["SBR", "S", "18", "2222-SJ", "", "", "", "", "", "CI"]]
    assert find(x12, "SBR", "P") == [["SBR", "P", "18", "2222-SJ", "", "", "", "", "", "CI"]]
    assert find(x12, "CAS") == [
        ["CAS", "CO", "45", "10"],
        ["CAS", "PR", "2", "5.5", "", "1", "10"],
        ["CAS", "CO", "45", "10"],
        ["CAS", "PR", "1", "15.5"],
    ]
    assert find(x12, "AMT") == [["AMT", "D", "30"]]
    assert find(x12, "SVD") == [
        ["SVD", "999996666", "30", "HC:99213", "", "1"],
        ["SVD", "999996666", "0", "HC:99213", "", "1"],
    ]
    assert find(x12, "DTP", "573") == [["DTP", "573", "D8", "20260301"]] * 2


def test_line_adjudication_must_name_an_other_payer() -> None:
    adjudicated = LineAdjudication("NOPE", Decimal(1), "99213", date(2026, 3, 1))
    with pytest.raises(X12InputError, match="SVD01"):
        make_claim(lines=(make_line(adjudications=(adjudicated,)),))


def test_modifiers_and_pointers_are_components() -> None:
    line = make_line(
        modifiers=("QW", "59", "91", "XU"), diagnosis_pointers=(2, 1), units=Decimal("2.50")
    )
    x12, _ = write([make_claim(lines=(line,))])

    assert_pyx12_valid(x12)
    assert find(x12, "SV1") == [["SV1", "HC:99213:QW:59:91:XU", "40", "UN", "2.5", "", "", "2:1"]]


def test_segments_are_written_claim_by_claim_while_claims_are_read() -> None:
    written: list[str] = []
    seen_before_second_claim: list[int] = []

    def claims() -> Iterator[ClaimInput]:
        yield make_claim("S1")
        seen_before_second_claim.append(len(written))
        yield make_claim("S2", subscriber=make_subscriber("OTHER1"))

    write_837(make_header(), claims(), written.append, kind="P", first_st_control=1)

    # The envelope and the first claim were out before the second was read, whole segments
    # each time (one write per claim, not per segment).
    first = "".join(written[: seen_before_second_claim[0]])
    assert first.count("~") > 20
    assert "CLM*S1*" in first
    assert "CLM*S2*" not in first
    assert all(chunk.endswith("~") for chunk in written)
    assert_pyx12_valid("".join(written))


def test_newlines_after_segments_are_optional_and_still_valid() -> None:
    x12, _ = write([make_claim()], newlines=True)

    assert x12.splitlines()[0].endswith("~")
    assert len(x12.splitlines()[0]) == 106
    assert_pyx12_valid(x12)


def test_an_empty_batch_is_refused_before_anything_is_written() -> None:
    written: list[str] = []

    with pytest.raises(X12InputError, match="at least one claim"):
        write_837(make_header(), [], written.append, kind="P", first_st_control=1)
    assert written == []


def test_more_than_12_diagnoses_are_refused_for_837p() -> None:
    codes = tuple(f"J0{n % 10}.{n}" for n in range(13))
    with pytest.raises(X12InputError, match="1 to 12"):
        write([make_claim(diagnoses=codes)])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"diagnoses": ("J02.9",), "lines": (make_line(diagnosis_pointers=(2,)),)}, "pointer"),
        ({"patient_control_number": "X" * 21}, "1 to 20"),
        ({"diagnoses": ("250.00",)}, "ICD-10-CM"),
        ({"lines": (make_line(1), make_line(1))}, "unique"),
        ({"lines": ()}, "1 to 50"),
    ],
)
def test_claims_that_cannot_be_valid_x12_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(X12InputError, match=message):
        make_claim(**changes)


def test_an_npi_with_a_bad_check_digit_is_refused() -> None:
    with pytest.raises(X12InputError, match="check digit"):
        Provider("1234567890", "Bad Npi Group")
    assert Provider(NPI_B, "Good Npi Group").npi == NPI_B


def test_a_claim_total_is_the_sum_of_its_lines() -> None:
    claim: ClaimInput = make_claim()
    assert claim.total_charge == Decimal("55.50")


# --- 837D ---


@needs_dental_map
def test_a_dental_claim_with_tooth_and_surfaces_is_a_valid_837d() -> None:
    x12, summary = write([make_dental_claim()], kind="D")

    assert_pyx12_valid(x12)
    assert find(x12, "ST") == [["ST", "837", "0001", "005010X224A2"]]
    assert find(x12, "GS")[0][-1] == "005010X224A2"
    assert find(x12, "SV3") == [["SV3", "AD:D2392", "185", "", "", "", "1", "", "", "", "", "1"]]
    assert find(x12, "TOO") == [["TOO", "JP", "3", "M:O"]]
    assert ids(x12)[ids(x12).index("SV3") :] == [
        "SV3", "TOO", "DTP", "REF", "SE", "GE", "IEA",
    ]  # fmt: skip
    assert summary.total_charge == Decimal("185.00")


@needs_dental_map
def test_oral_cavity_prosthesis_and_several_teeth_are_written() -> None:
    line = make_dental_line(
        procedure_code="D5211",
        charge=Decimal("1200.50"),
        oral_cavity_areas=("01",),
        prosthesis="I",
        teeth=(Tooth("4"), Tooth("5"), Tooth("12", ("B", "L", "M", "O", "D"))),
    )
    quadrant = make_dental_line(
        2, procedure_code="D4341", charge=Decimal(220), oral_cavity_areas=("10", "20"), teeth=()
    )
    x12, _ = write([make_dental_claim(lines=(line, quadrant))], kind="D")

    assert_pyx12_valid(x12)
    assert find(x12, "SV3") == [
        ["SV3", "AD:D5211", "1200.5", "", "01", "I", "1", "", "", "", "", "1"],
        ["SV3", "AD:D4341", "220", "", "10:20", "", "1", "", "", "", "", "1"],
    ]
    assert find(x12, "TOO") == [
        ["TOO", "JP", "4"],
        ["TOO", "JP", "5"],
        ["TOO", "JP", "12", "B:L:M:O:D"],
    ]
    assert find(x12, "CLM")[0][2] == "1420.5"


@needs_dental_map
def test_a_dental_claim_may_have_no_diagnosis() -> None:
    claim = make_dental_claim(diagnoses=(), lines=(make_dental_line(diagnosis_pointers=()),))
    x12, _ = write([claim], kind="D")

    assert_pyx12_valid(x12)
    assert "HI" not in ids(x12)
    assert len(find(x12, "SV3")[0]) == 7  # SV311 dropped with the trailing empty elements


@needs_dental_map
def test_dental_claims_for_dependants_and_st_splitting_are_valid() -> None:
    claims = [
        make_dental_claim(f"D{n}", patient=make_patient(), subscriber=make_subscriber(f"M{n}"))
        for n in range(5)
    ]
    x12, summary = write(claims, kind="D", max_claims_per_st=2)

    assert_pyx12_valid(x12)
    assert summary.st_control_numbers == ("0001", "0002", "0003")
    hl = [(e[1], e[2], e[3]) for e in segments(x12) if e[0] == "HL"]
    assert hl[:4] == [("1", "", "20"), ("2", "1", "22"), ("3", "2", "23"), ("4", "1", "22")]


@needs_dental_map
def test_a_secondary_dental_claim_is_valid() -> None:
    other = OtherPayer(
        payer=Payer("Delta Primary", "DP123"),
        subscriber=OtherSubscriber("PRIM001", PersonName("Smith", "Jane")),
        claim_filing_indicator="CI",
        paid_amount=Decimal("120"),
        adjustments=(Adjustment("PR", "2", Decimal("65")),),
    )
    line = make_dental_line(
        adjudications=(
            LineAdjudication(
                payer_id="DP123",
                paid_amount=Decimal("120"),
                procedure_code="D2392",
                adjudication_date=date(2026, 3, 1),
                adjustments=(Adjustment("PR", "2", Decimal("65")),),
            ),
        )
    )
    claim = make_dental_claim(
        subscriber=make_subscriber("SEC1", payer_responsibility="S"),
        other_payers=(other,),
        lines=(line,),
    )
    x12, _ = write([claim], kind="D")

    result = validate_x12(x12, map_dir=MAP_DIR)
    # X224A2 qualifies CDT codes with AD in SVD03-1 as in SV301, but the shared 837D map
    # still carries the 837P code list (ER, HC, IV, WK) there: the one error it reports.
    # When the map is corrected this assertion fails: then use assert_pyx12_valid here.
    assert result.errors == [
        "Line:36 ELE:7 - (AD) is not a valid code for Product or Service ID Qualifier "
        "(SVD03-01) (AD)"
    ]
    assert find(x12, "SVD") == [["SVD", "DP123", "120", "AD:D2392", "", "1"]]
    assert find(x12, "CAS") == [["CAS", "PR", "2", "65"], ["CAS", "PR", "2", "65"]]
    assert find(x12, "AMT") == [["AMT", "D", "120"]]


def test_more_than_4_diagnoses_are_refused_for_837d() -> None:
    claim = make_dental_claim(diagnoses=("K02.52", "K02.53", "K03.81", "K05.10", "K08.89"))
    with pytest.raises(X12InputError, match="at most 4"):
        write([claim], kind="D")


def test_tooth_surfaces_are_checked() -> None:
    with pytest.raises(X12InputError, match="surfaces"):
        Tooth("3", ("X",))


# --- the pyx12 wrapper ---


@needs_shared
@pytest.mark.parametrize(
    "name", ["837p_tr3_example1_icd10.x12", "837p_tr3_example1.x12", "837d_stedi_example.x12"]
)
def test_published_good_samples_pass(name: str) -> None:
    result = validate_x12(SAMPLES / name, map_dir=MAP_DIR)

    assert result.errors == []
    assert result.ok
    assert "IK5*A" in result.ack


@needs_shared
def test_the_sample_with_bad_npis_fails_on_their_check_digits() -> None:
    result = validate_x12(SAMPLES / "837p_published_example2_bad_npi.x12", map_dir=MAP_DIR)

    assert not result.ok
    # pyx12 itself accepts the file: the NPI scan of the wrapper is what refuses it.
    assert result.errors == [
        "Segment 10 (NM1*85): NPI 9876543210 fails its check digit",
        "Segment 28 (NM1*77): NPI 5812345679 fails its check digit",
    ]


@needs_shared
def test_the_sample_with_a_wrong_component_separator_fails_in_pyx12() -> None:
    result = validate_x12(str(SAMPLES / "837p_published_example9.x12"), map_dir=MAP_DIR)

    assert not result.ok
    assert any("CLM05-01" in error for error in result.errors)
    assert "IK5*R" in result.ack


def test_a_wrong_se01_is_reported() -> None:
    x12, summary = write([make_claim()])
    count = summary.transaction_sets[0].segment_count
    broken = x12.replace(f"SE*{count}*0001~", f"SE*{count + 1}*0001~")

    result = validate_x12(broken, map_dir=MAP_DIR)

    assert not result.ok
    assert result.errors


def test_a_missing_required_segment_is_reported() -> None:
    x12, _ = write([make_claim()])
    broken = x12.replace("REF*EI*587654321~", "")  # 2010AA tax id is required

    result = validate_x12(broken, map_dir=MAP_DIR)

    assert not result.ok
    assert any("REF" in error for error in result.errors)


def test_a_file_path_is_validated_like_text(tmp_path: Path) -> None:
    x12, _ = write([make_claim()])
    path = tmp_path / "batch.x12"
    path.write_text(x12, encoding="ascii")

    assert validate_x12(path, map_dir=MAP_DIR).ok
    assert validate_x12(str(path), map_dir=MAP_DIR).ok


def test_an_837d_file_without_the_dental_map_fails_with_map_not_found(tmp_path: Path) -> None:
    x12, _ = write([make_dental_claim()], kind="D")

    result = validate_x12(x12, map_dir=tmp_path)

    assert not result.ok
    assert any("Map not found" in error for error in result.errors)


def test_pyx12_messages_stay_out_of_the_application_log(caplog: pytest.LogCaptureFixture) -> None:
    x12, _ = write([make_claim()])
    caplog.set_level(logging.DEBUG)

    result = validate_x12(x12.replace("REF*EI*587654321~", ""), map_dir=MAP_DIR)

    assert result.errors
    assert not [r for r in caplog.records if r.name.startswith("pyx12")]
    assert logging.getLogger("pyx12").propagate
