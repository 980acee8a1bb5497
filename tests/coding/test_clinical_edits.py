"""Issue 17's edits, one test per "Why" example (both databases): each asserts the finding
the edit gives, so that without the edit the test fails."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session

from service.codesets import importers
from service.coding import edits
from service.coding.edits import Finding
from tests.factories import import_fixture_codes

ON = date(2026, 10, 15)


@dataclass(frozen=True)
class Visit:
    diagnoses: list[str]
    place_of_service: str = "11"
    kind: str = "medical"
    date_of_service: date = ON


@dataclass(frozen=True)
class Line:
    code: str
    modifiers: list[str] = field(default_factory=list)
    units: Decimal = Decimal(1)
    code_system: str = "CPT"
    pointers: list[int] = field(default_factory=lambda: [1])
    service_date: date = ON
    tooth: str | None = None
    surfaces: str | None = None
    oral_area: str | None = None


@dataclass(frozen=True)
class Patient:
    birth_date: date
    sex: str


MAN_76 = Patient(date(1950, 3, 1), "M")
WOMAN_40 = Patient(date(1986, 3, 1), "F")
CHILD_10 = Patient(date(2016, 3, 1), "F")


@pytest.fixture
def codes(db: Session) -> Session:
    import_fixture_codes(db)
    return db


def run(
    db: Session, dx: list[str], lines: list[Line], patient: Patient | None = None, **visit: str
) -> list[Finding]:
    return edits.check_encounter(db, Visit(dx, **visit), lines, patient)  # type: ignore[arg-type]


def hits(found: list[Finding], code: str) -> list[Finding]:
    return [f for f in found if f.code == code]


def errors(found: list[Finding]) -> list[Finding]:
    return [f for f in found if f.severity == "error"]


# --- place of service ----------------------------------------------------------------------


def test_place_of_service_00_is_not_a_code(codes: Session) -> None:
    found = run(codes, ["J069"], [Line("99213")], place_of_service="00")
    (finding,) = hits(found, "pos-unknown-code")
    assert finding.severity == "error"
    assert finding.field == "/place_of_service"


def test_place_of_service_is_date_aware(codes: Session) -> None:
    early = Visit(["J069"], "10", date_of_service=date(2021, 6, 1))
    found = edits.check_encounter(
        codes, early, [Line("99213", ["95"], service_date=early.date_of_service)]
    )
    assert hits(found, "pos-not-yet-effective")[0].field == "/place_of_service"
    assert not hits(
        run(codes, ["J069"], [Line("99213", ["95"])], place_of_service="10"),
        "pos-not-yet-effective",
    )


def test_pace_center_place_66_is_refused_before_its_effective_date(codes: Session) -> None:
    before = Visit(["J069"], "66", date_of_service=date(2024, 7, 31))
    found = edits.check_encounter(codes, before, [Line("99213", service_date=date(2024, 7, 31))])
    (finding,) = hits(found, "pos-not-yet-effective")
    assert finding.severity == "error"
    assert "2024-08-01" in finding.message
    after = Visit(["J069"], "66", date_of_service=date(2024, 8, 1))
    found = edits.check_encounter(codes, after, [Line("99213", service_date=date(2024, 8, 1))])
    assert not hits(found, "pos-not-yet-effective")
    assert not hits(found, "pos-unknown-code")


def test_inpatient_place_with_an_office_visit_warns_and_the_reverse(codes: Session) -> None:
    (finding,) = hits(
        run(codes, ["J069"], [Line("99213")], place_of_service="21"), "pos-code-mismatch"
    )
    assert finding.severity == "warning"
    assert finding.field == "/service_lines/0/code"
    assert hits(run(codes, ["J069"], [Line("99221")], place_of_service="11"), "pos-code-mismatch")
    assert not hits(run(codes, ["J069"], [Line("99213")]), "pos-code-mismatch")


def test_telehealth_place_and_modifiers_agree(codes: Session) -> None:
    found = run(codes, ["J069"], [Line("99213")], place_of_service="02")
    assert hits(found, "telehealth-modifier-missing")[0].severity == "warning"
    assert not hits(
        run(codes, ["J069"], [Line("99213", ["95"])], place_of_service="10"),
        "telehealth-modifier-missing",
    )
    assert hits(run(codes, ["J069"], [Line("99213", ["GT"])]), "telehealth-pos-mismatch")
    # CMS: modifier 95 with the place the visit would have been (11) is correct.
    assert not hits(run(codes, ["J069"], [Line("99213", ["95"])]), "telehealth-pos-mismatch")


# --- modifiers -------------------------------------------------------------------------------

WHY = (
    "NU RR UE AA QK QX QZ GT FS CQ CO SL U1 U2 U3 U4 U5 U6 U7 U8 U9 UA UB UC UD HA HB HC HD HE "
    "HF HG HH HI HJ HK HL HM HN HO HP HQ HR HS HT HU HV HW HX HY HZ GE GV GW JB JG 1P 2P 3P 8P "
    "Q0 Q1 24 27 57 58 78 79 LC LD LM RC RI"
)
WHY_MODIFIERS = WHY.split()


def test_modifiers_named_in_the_issue_are_bundled(codes: Session) -> None:
    for i in range(0, len(WHY_MODIFIERS), 4):
        line = Line("71046", WHY_MODIFIERS[i : i + 4])
        assert not hits(run(codes, ["J069"], [line]), "modifier-unknown-code"), line.modifiers
    assert hits(run(codes, ["J069"], [Line("71046", ["ZZ"])]), "modifier-unknown-code")


def test_25_on_a_lab_code_is_refused(codes: Session) -> None:
    (finding,) = hits(run(codes, ["E119"], [Line("83036", ["25"])]), "modifier-code-mismatch")
    assert finding.severity == "error"
    assert finding.field == "/service_lines/0/modifiers/0"
    assert not hits(run(codes, ["E119"], [Line("99213", ["25"])]), "modifier-code-mismatch")


def test_91_only_on_lab_and_components_not_on_visits(codes: Session) -> None:
    assert hits(run(codes, ["J069"], [Line("99213", ["91"])]), "modifier-code-mismatch")
    assert not hits(run(codes, ["E119"], [Line("83036", ["91"])]), "modifier-code-mismatch")
    assert hits(run(codes, ["J069"], [Line("99213", ["26"])]), "modifier-code-mismatch")
    assert hits(run(codes, ["J069"], [Line("99213", ["RT"])]), "modifier-code-mismatch")
    assert hits(run(codes, ["J069"], [Line("71046", ["26", "TC"])]), "modifier-conflict")
    assert not errors(run(codes, ["J069"], [Line("71046", ["26"])]))


# --- code system not loaded ------------------------------------------------------------------


def test_hcpcs_not_loaded_warns_naming_the_set_and_unknown_code_errors_once_loaded(
    codes: Session, tmp_path: Path
) -> None:
    line = Line("Q9999", code_system="HCPCS")
    (finding,) = hits(run(codes, ["J069"], [line]), "hcpcs-not-loaded")
    assert finding.severity == "warning"
    assert "HCPCS Level II" in finding.message
    assert "Q9999" in finding.message
    path = tmp_path / "HCPC.txt"
    path.write_text("G0008" + "00100" + "3" + "Administration of influenza virus vaccine\n")
    importers.import_file(codes, "hcpcs", path, version="2026", effective_from=date(2026, 1, 1))
    codes.commit()
    found = run(codes, ["J069"], [line])
    assert hits(found, "hcpcs-unknown-code")[0].severity == "error"
    assert not hits(found, "hcpcs-not-loaded")


# --- NCCI PTP and MUE ------------------------------------------------------------------------


def _ncci(db: Session, tmp_path: Path, ptp: str, mue: str) -> None:
    (tmp_path / "ptp.txt").write_text(ptp)
    (tmp_path / "mue.csv").write_text(mue)
    for system, name in (("ncci_ptp", "ptp.txt"), ("mue", "mue.csv")):
        importers.import_file(
            db, system, tmp_path / name, version="2026Q4", effective_from=date(2026, 10, 1)
        )
    db.commit()


PTP = (
    "Column 1\tColumn 2\t*\tEffective\tDeletion\tModifier\n"
    "20610\t99213\t0\t20260101\t*\t1\n80053\t82947\t0\t20260101\t*\t1\n"
)
MUE = (
    "HCPCS/CPT Code,Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale\n"
    "97110,8,3 Date of Service Edit: Clinical,Clinical\n36415,1,1 Line Edit,Clinical\n"
)


def test_59_never_bypasses_an_em_pair_but_25_does(codes: Session, tmp_path: Path) -> None:
    _ncci(codes, tmp_path, PTP, MUE)
    with_59 = run(codes, ["M170"], [Line("20610"), Line("99213", ["59"])])
    assert hits(with_59, "ncci-ptp")[0].field == "/service_lines/1/code"
    assert not hits(run(codes, ["M170"], [Line("20610"), Line("99213", ["25"])]), "ncci-ptp")
    # A non-E/M pair is still bypassed by 59 (and by the anatomic and 91 modifiers).
    assert not hits(run(codes, ["E119"], [Line("80053"), Line("82947", ["59"])]), "ncci-ptp")
    assert not hits(run(codes, ["E119"], [Line("80053"), Line("82947", ["91"])]), "ncci-ptp")


@pytest.mark.parametrize(
    "modifier", ["24", "27", "57", "58", "78", "79", "LC", "LD", "LM", "RC", "RI"]
)
def test_the_cms_bypass_modifiers_bypass(codes: Session, tmp_path: Path, modifier: str) -> None:
    _ncci(codes, tmp_path, "20610,71046,0,20260101,*,1\n", MUE)
    assert not hits(run(codes, ["M170"], [Line("20610"), Line("71046", [modifier])]), "ncci-ptp")


def test_mue_per_date_of_service_is_not_summed_across_dates(codes: Session, tmp_path: Path) -> None:
    _ncci(codes, tmp_path, PTP, MUE)
    days = [date(2026, 10, d) for d in (12, 13, 14)]
    spread = [Line("97110", units=Decimal(4), service_date=d) for d in days]
    assert not hits(run(codes, ["M170"], spread), "mue-exceeded")
    one_day = [
        Line("97110", units=Decimal(5), service_date=days[0]),
        Line("97110", ["76"], units=Decimal(4), service_date=days[0]),
    ]
    (finding,) = hits(run(codes, ["M170"], one_day), "mue-exceeded")
    assert "9 units" in finding.message


def test_mue_line_edit_is_per_line(codes: Session, tmp_path: Path) -> None:
    _ncci(codes, tmp_path, PTP, MUE)
    lines = [Line("36415"), Line("36415", ["76"])]
    assert not hits(run(codes, ["E119"], lines), "mue-exceeded")
    assert hits(run(codes, ["E119"], [Line("36415", units=Decimal(2))]), "mue-exceeded")


def test_mue_import_skips_the_header_row(codes: Session, tmp_path: Path) -> None:
    _ncci(codes, tmp_path, PTP, MUE)
    from service.codesets import logic

    assert logic.mue_limit(codes, "HCPCS", ON)[1] is None
    assert logic.list_versions(codes, "mue")[0].row_count == 2


def test_importers_report_every_malformed_row(tmp_path: Path) -> None:
    data = b"HCPCS/CPT Code,MUE\n97110,8,3\n9711,8,3\n97112,x,3\n97113,2,3\n"
    with pytest.raises(importers.ImportFileInvalid) as raised:
        importers.parse_mue(data, "mue.csv")
    assert "2 malformed rows" in raised.value.detail
    assert "3:" in raised.value.detail
    assert "4:" in raised.value.detail
    with pytest.raises(importers.ImportFileInvalid, match="1 malformed rows"):
        importers.parse_ncci_ptp(b"Column 1,Column 2\n20610,99213,0,20260101,*,7\n", "ptp")


def test_modifier_import_reads_the_cms_hcpcs_layout(codes: Session, tmp_path: Path) -> None:
    records = [
        "G0008" + "00100" + "3" + "Administration of influenza virus vaccine",
        "ZZ   " + "00100" + "7" + "A modifier of the dated list",
        "ZZ   " + "00200" + "8" + "continued",
    ]
    path = tmp_path / "HCPC.txt"
    path.write_text("\n".join(records) + "\n")
    created = importers.import_file(
        codes, "modifier", path, version="2027", effective_from=date(2026, 10, 1)
    )
    codes.commit()
    assert created.row_count == 1
    assert not hits(run(codes, ["J069"], [Line("71046", ["ZZ"])]), "modifier-unknown-code")


# --- age and sex -----------------------------------------------------------------------------


def test_maternity_code_on_a_76_year_old_man(codes: Session) -> None:
    found = run(codes, ["O09891"], [Line("99213")], MAN_76)
    assert hits(found, "sex-conflict")[0].field == "/diagnoses/0"
    assert hits(
        run(codes, ["O09891"], [Line("99213")], Patient(date(1950, 3, 1), "F")), "age-conflict"
    )
    assert not hits(run(codes, ["O09891"], [Line("99213")], WOMAN_40), "sex-conflict")


def test_prostate_diagnosis_and_procedure_on_a_woman(codes: Session) -> None:
    found = run(codes, ["N400"], [Line("55700")], WOMAN_40)
    fields = {f.field for f in hits(found, "sex-conflict")}
    assert fields == {"/diagnoses/0", "/service_lines/0/code"}
    assert not hits(run(codes, ["N400"], [Line("55700")], MAN_76), "sex-conflict")


def test_perinatal_code_on_an_adult_warns(codes: Session) -> None:
    (finding,) = hits(run(codes, ["P0730"], [Line("99213")], MAN_76), "age-conflict")
    assert finding.severity == "warning"


def test_adult_preventive_codes_on_a_10_year_old(codes: Session) -> None:
    found = run(codes, ["Z0000"], [Line("99396")], CHILD_10)
    assert {f.field for f in hits(found, "age-conflict")} == {
        "/diagnoses/0",
        "/service_lines/0/code",
    }
    assert not hits(run(codes, ["Z0000"], [Line("99396")], WOMAN_40), "age-conflict")


# --- sequencing ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["G63", "F0280"])
def test_manifestation_codes_cannot_be_first(codes: Session, code: str) -> None:
    found = run(codes, [code, "E1142"], [Line("99213")])
    assert hits(found, "manifestation-first")[0].field == "/diagnoses/0"
    assert not hits(run(codes, ["E1142", code], [Line("99213")]), "manifestation-first")


def test_external_cause_cannot_be_first(codes: Session) -> None:
    found = run(codes, ["W19XXXA", "S0990XA"], [Line("99213")])
    assert hits(found, "external-cause-first")[0].severity == "error"
    assert not hits(run(codes, ["S0990XA", "W19XXXA"], [Line("99213")]), "external-cause-first")


def test_a_code_first_note_warns_when_its_code_is_first_listed(codes: Session) -> None:
    # L97 (ulcer of the lower limb): "code first any associated underlying condition, such as
    # ... diabetic ulcers (... E11.621 ...)".
    (finding,) = hits(run(codes, ["L97419", "E11621"], [Line("99213")]), "icd10cm-code-first")
    assert (finding.severity, finding.field) == ("warning", "/diagnoses/0")
    assert "L97" in finding.message
    assert "E11.621" in finding.message
    assert not hits(run(codes, ["E11621", "L97419"], [Line("99213")]), "icd10cm-code-first")
    # A manifestation code first is already an error that says so: no second finding.
    assert not hits(run(codes, ["G63", "E1142"], [Line("99213")]), "icd10cm-code-first")


def test_a_use_additional_code_note_names_the_missing_category(codes: Session) -> None:
    # E11.621 (diabetic foot ulcer): "use additional code to identify site of ulcer (L97.4-,
    # L97.5-)".
    found = hits(run(codes, ["E11621"], [Line("99213")]), "icd10cm-use-additional-code")
    (ulcer,) = [f for f in found if "L97.4" in f.message]
    assert (ulcer.severity, ulcer.field) == ("warning", "/diagnoses/0")
    assert "site of ulcer" in ulcer.message
    found = hits(run(codes, ["E11621", "L97419"], [Line("99213")]), "icd10cm-use-additional-code")
    assert not [f for f in found if "L97.4" in f.message]
    # E11 (any type 2 diabetes code): the drugs that control it (Z79.4, Z79.84, Z79.85).
    assert hits(run(codes, ["E119"], [Line("99213")]), "icd10cm-use-additional-code")
    assert not hits(run(codes, ["E119", "Z794"], [Line("99213")]), "icd10cm-use-additional-code")


def test_an_excludes1_finding_says_a_fy2027_code_has_no_notes_of_its_own(codes: Session) -> None:
    # C78.31 is new in FY2027 (the addenda carry no notes); C78's Excludes1 cites C7B.02.
    (finding,) = hits(run(codes, ["C7831", "C7B02"], [Line("99213")]), "icd10cm-excludes1")
    assert "C78.31: new in FY2027" in finding.message
    fy2026 = date(2026, 9, 30)
    found = edits.check_encounter(
        codes,
        Visit(["C7830", "C7B02"], date_of_service=fy2026),
        [Line("99213", service_date=fy2026)],
    )
    (older,) = hits(found, "icd10cm-excludes1")
    assert "new in FY2027" not in older.message


# --- dental ----------------------------------------------------------------------------------


def dental(db: Session, line: Line, patient: Patient | None = None) -> list[Finding]:
    return run(db, [], [line], patient, kind="dental")


def D(code: str, **values: str) -> Line:
    return Line(code, code_system="CDT", pointers=[], **values)  # type: ignore[arg-type]


def test_posterior_resin_on_an_anterior_tooth(codes: Session) -> None:
    assert hits(dental(codes, D("D2391", tooth="8", surfaces="M")), "dental-tooth-class")
    assert not hits(dental(codes, D("D2391", tooth="3", surfaces="O")), "dental-tooth-class")
    assert hits(dental(codes, D("D3320", tooth="3")), "dental-tooth-class")


def test_one_surface_code_with_three_surfaces(codes: Session) -> None:
    (finding,) = hits(dental(codes, D("D2140", tooth="3", surfaces="MOD")), "dental-surface-count")
    assert finding.field == "/service_lines/0/surfaces"
    assert not hits(dental(codes, D("D2160", tooth="3", surfaces="MOD")), "dental-surface-count")


def test_incisal_surface_on_a_molar_and_repeated_surface(codes: Session) -> None:
    assert hits(dental(codes, D("D2391", tooth="3", surfaces="I")), "dental-surface-tooth")
    assert hits(dental(codes, D("D2332", tooth="8", surfaces="MOD")), "dental-surface-tooth")
    assert hits(dental(codes, D("D2150", tooth="3", surfaces="OO")), "dental-surface-repeated")


def test_primary_tooth_on_an_adult_warns(codes: Session) -> None:
    (finding,) = hits(
        dental(codes, D("D2140", tooth="A", surfaces="O"), WOMAN_40), "dental-primary-tooth-age"
    )
    assert finding.severity == "warning"
    assert not hits(
        dental(codes, D("D2140", tooth="A", surfaces="O"), CHILD_10), "dental-primary-tooth-age"
    )


@pytest.mark.parametrize(("code", "finding"), [
    ("D4341", "dental-quadrant-required"),
    ("D7310", "dental-quadrant-required"),
    ("D6010", "dental-tooth-required"),
    ("D6240", "dental-tooth-required"),
    ("D1351", "dental-tooth-required"),
])  # fmt: skip
def test_codes_that_need_a_tooth_or_a_quadrant(codes: Session, code: str, finding: str) -> None:
    assert hits(dental(codes, D(code)), finding)
    assert not hits(dental(codes, D(code, tooth="3", oral_area="UR")), finding)


def test_oral_areas_are_checked_and_mapped_for_the_writer(codes: Session) -> None:
    from service.coding.dental_edits import x12_oral_area

    assert hits(dental(codes, D("D4341", oral_area="L")), "oral_area-unknown-code")
    for area, value in {
        "UR": "10",
        "UL": "20",
        "LL": "30",
        "LR": "40",
        "UA": "01",
        "LA": "02",
    }.items():
        assert x12_oral_area(area) == value
        assert not errors(dental(codes, D("D4341", oral_area=area))) or area in ("UA", "LA")


# --- Excludes1 "with .xx" qualifiers -------------------------------------------------------


@pytest.mark.parametrize("pair", [["H20011", "E119"], ["G63", "E1165"], ["E1165", "G63"]])
def test_a_qualified_excludes1_does_not_refuse_other_diabetes_codes(
    codes: Session, pair: list[str]
) -> None:
    assert not hits(run(codes, pair, [Line("99213")]), "icd10cm-excludes1")


def test_a_qualified_excludes1_still_refuses_the_cited_complication(codes: Session) -> None:
    (finding,) = hits(run(codes, ["E1142", "G63"], [Line("99213")]), "icd10cm-excludes1")
    assert finding.severity == "error"


def test_qualified_citations_cover_their_codes_only() -> None:
    from service.coding.note_edits import covers as _covers

    assert _covers("E08-E13/51-52", "E1151")
    assert _covers("E08-E13/51-52", "E0952")
    assert not _covers("E08-E13/51-52", "E1159")
    assert _covers("E08-E13/62", "E11620")
    assert not _covers("E08-E13/42", "E1165")
    assert not _covers("E08-E13/42", "E1442")
