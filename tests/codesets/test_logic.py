"""Code sets by date of service: the version in force, lookup and validation (logic, no HTTP)."""

from datetime import date

import pytest
from sqlmodel import Session

from service.codesets import logic
from service.codesets.logic import CodeCheck

# C78.31 (secondary malignant neoplasm of larynx) is added by the FY2027 addenda.
NEW_IN_FY2027 = "C78.31"


def reasons(db: Session, on: date, *codes: tuple[str, str]) -> list[str]:
    return [v.reason for v in logic.validate_codes(db, [CodeCheck(*c) for c in codes], on)]


@pytest.mark.parametrize(
    ("on", "version"),
    [
        (date(2024, 10, 1), "2025"),
        (date(2025, 9, 30), "2025"),
        (date(2025, 10, 1), "2026"),
        (date(2026, 9, 30), "2026"),
        (date(2026, 10, 1), "2027"),
        (date(2027, 9, 30), "2027"),
    ],
)
def test_the_fiscal_year_in_force_follows_the_date_of_service(
    db: Session, on: date, version: str
) -> None:
    in_force = logic.version_in_force(db, "icd10cm", on)

    assert in_force.version.version == version
    assert in_force.warnings == ()


def test_a_date_before_the_first_loaded_year_is_an_error(db: Session) -> None:
    with pytest.raises(logic.DateBeforeCodeSet, match="ICD-10-CM FY2025"):
        logic.version_in_force(db, "icd10cm", date(2024, 9, 30))


def test_after_the_newest_year_ends_it_stays_in_force_with_a_warning(db: Session) -> None:
    in_force = logic.version_in_force(db, "icd10cm", date(2027, 10, 1))

    assert in_force.version.version == "2027"
    assert in_force.warnings == ("ICD-10-CM FY2027 ended 2027-09-30; load the next release.",)


def test_a_set_that_is_not_loaded_says_how_to_load_it(db: Session) -> None:
    with pytest.raises(logic.CodeSetNotLoaded, match="backoffice codesets import hcpcs FILE"):
        logic.version_in_force(db, "hcpcs", date(2026, 10, 1))


def test_an_unknown_system_is_an_error_naming_it(db: Session) -> None:
    with pytest.raises(logic.UnknownCodeSystem, match="'icd9'"):
        logic.version_in_force(db, "icd9", date(2026, 10, 1))


def test_a_header_lookup_lists_its_children_and_is_not_billable(db: Session) -> None:
    found = logic.lookup(db, "icd10cm", "E11", date(2026, 10, 1))

    assert found.found
    assert not found.billable
    assert not found.needs_seventh_character
    assert [c.code for c in found.children][:3] == ["E110", "E111", "E112"]
    assert {n.cited for n in found.excludes1} >= {"E10", "E13"}


def test_seventh_character_rules_are_inherited_from_an_ancestor(db: Session) -> None:
    found = logic.lookup(db, "icd10cm", "S52.521", date(2026, 10, 1))

    assert found.needs_seventh_character
    assert {r.at for r in found.seventh} == {"S5252"}
    assert "A" in {r.character for r in found.seventh}


@pytest.mark.parametrize("on", [date(2026, 9, 30), date(2026, 10, 1)])
def test_e11_621_is_valid_on_both_sides_of_the_fiscal_year_change(db: Session, on: date) -> None:
    assert reasons(db, on, ("icd10cm", "E11.621")) == ["ok"]


def test_a_code_added_in_fy2027_is_refused_before_and_accepted_from_2026_10_01(
    db: Session,
) -> None:
    assert reasons(db, date(2026, 9, 30), ("icd10cm", NEW_IN_FY2027)) == ["unknown-code"]
    assert reasons(db, date(2026, 10, 1), ("icd10cm", NEW_IN_FY2027)) == ["ok"]


def test_validation_gives_each_code_its_own_verdict(db: Session) -> None:
    verdicts = logic.validate_codes(
        db,
        [
            CodeCheck("icd10cm", "e11621"),
            CodeCheck("icd10cm", "E11"),
            CodeCheck("icd10cm", "S52.521"),
            CodeCheck("icd10cm", "E11.999"),
            CodeCheck("hcpcs", "G0008"),
            CodeCheck("pos", "11"),
            CodeCheck("icd9", "250.00"),
        ],
        date(2026, 10, 1),
    )

    assert [(v.code, v.reason) for v in verdicts] == [
        ("E11.621", "ok"),
        ("E11", "not-billable"),
        ("S52.521", "needs-seventh-character"),
        ("E11.999", "unknown-code"),
        ("G0008", "system-not-loaded"),
        ("11", "ok"),
        ("25000", "unknown-system"),
    ]
    assert verdicts[1].suggestions[0].code == "E1100"
    assert all(s.billable for s in verdicts[1].suggestions)
    assert verdicts[2].suggestions[0].code == "S52521A"
    assert "import" in verdicts[4].detail


def test_a_date_before_the_first_year_is_that_items_verdict(db: Session) -> None:
    assert reasons(db, date(2020, 1, 1), ("icd10cm", "E11.621"), ("pos", "11")) == [
        "date-before-code-set",
        "ok",
    ]


def test_the_index_is_built_once_per_version_and_reused(db: Session) -> None:
    version = logic.version_in_force(db, "icd10cm", date(2026, 10, 1)).version

    assert logic.index_for(db, version) is logic.index_for(db, version)
