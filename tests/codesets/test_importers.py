"""Importing official code files (small synthetic files in the official layouts)."""

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session
from typer.testing import CliRunner

from service.cli import app
from service.codesets import importers, logic
from service.codesets.importers import ImportFileInvalid, import_file
from service.codesets.logic import CodeCheck
from service.errors import InvalidInput
from service.settings import get_settings
from tests.factories import Tenant


def anweb(code: str, seq: int, record_id: str, long: str, short: str = "") -> str:
    """One 320-character HCPCS record: code 1-5, sequence 6-10, id 11, long 12-91, short 92-119."""
    return f"{code:<5}{seq:05d}{record_id}{long:<80}{short:<28}".ljust(320)


HCPCS = "\r\n".join(
    [
        anweb(
            "G0008",
            100,
            "3",
            "Administration of influenza virus vaccine",
            "Admin influenza virus vac",
        ),
        anweb(
            "G0442",
            100,
            "3",
            "Annual alcohol misuse screening, 5 to 15 minutes",
            "Annual alcohol screen 15 min",
        ),
        anweb(
            "J1100",
            100,
            "3",
            "Injection, dexamethasone sodium phosphate,",
            "Dexamethasone sodium phos",
        ),
        anweb("J1100", 200, "4", "1 mg"),
        anweb("   QW", 100, "7", "Clia waived test", "Clia waived test"),
    ]
).encode("ascii")


def order_line(number: int, code: str, billable: bool, title: str) -> str:
    """icd10cm_order_YYYY.txt: order 1-5, code 7-13, flag 15, short 17-76, long 78-."""
    return f"{number:05d} {code:<7} {int(billable)} {title[:60]:<60} {title}"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def test_the_hcpcs_record_file_joins_continuation_lines_and_skips_modifiers() -> None:
    rows = importers.parse_hcpcs(HCPCS)

    assert [(r.code, r.title) for r in rows] == [
        ("G0008", "Administration of influenza virus vaccine"),
        ("G0442", "Annual alcohol misuse screening, 5 to 15 minutes"),
        ("J1100", "Injection, dexamethasone sodium phosphate, 1 mg"),
    ]


def test_a_hcpcs_file_in_another_layout_is_refused_with_its_line_number() -> None:
    with pytest.raises(ImportFileInvalid, match=r"hcpcs:2: unexpected record id"):
        importers.parse_hcpcs(b"G0008000013Admin flu\nG0009 something else entirely")


def test_imported_hcpcs_codes_are_found_from_their_first_date(
    client: TestClient, tenant: Tenant, db: Session, tmp_path: Path
) -> None:
    import_file(
        db,
        "hcpcs",
        write(tmp_path, "HCPC2026_JUL_ANWEB.txt", HCPCS),
        version="2026Q3",
        effective_from=date(2026, 7, 1),
    )
    db.commit()

    response = client.get(
        "/api/v1/codes/hcpcs",
        params={"q": "influenza", "date": "2026-10-01"},
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == "2026Q3"
    assert response.json()["items"][0]["code"] == "G0008"
    verdicts = logic.validate_codes(
        db, [CodeCheck("hcpcs", "j1100"), CodeCheck("hcpcs", "G9999")], date(2026, 7, 1)
    )
    assert [v.reason for v in verdicts] == ["ok", "unknown-code"]
    with pytest.raises(logic.DateBeforeCodeSet):
        logic.version_in_force(db, "hcpcs", date(2026, 6, 30))


def test_a_newer_import_ends_the_previous_open_version(db: Session, tmp_path: Path) -> None:
    path = write(tmp_path, "HCPC.txt", HCPCS)
    import_file(db, "hcpcs", path, version="2026Q3", effective_from=date(2026, 7, 1))
    import_file(db, "hcpcs", path, version="2026Q4", effective_from=date(2026, 10, 1))

    versions = logic.list_versions(db, "hcpcs")
    assert [(v.version, v.effective_to) for v in versions] == [
        ("2026Q3", date(2026, 9, 30)),
        ("2026Q4", None),
    ]
    with pytest.raises(InvalidInput, match="must start after"):
        import_file(db, "hcpcs", path, version="2026Q2", effective_from=date(2026, 4, 1))


def test_an_icd10cm_order_file_adds_a_fiscal_year_and_keeps_tabular_notes(
    db: Session, tmp_path: Path
) -> None:
    lines = [
        order_line(1, "E11", False, "Type 2 diabetes mellitus"),
        order_line(2, "E116", False, "Type 2 diabetes mellitus with other specified complications"),
        order_line(3, "E1162", False, "Type 2 diabetes mellitus with skin complications"),
        order_line(4, "E11621", True, "Type 2 diabetes mellitus with foot ulcer"),
        order_line(5, "E11628", True, "Type 2 diabetes mellitus with other skin complications"),
        order_line(6, "U999", True, "A code new in the synthetic FY2028"),
    ]
    path = write(tmp_path, "icd10cm_order_2028.txt", "\n".join(lines) + "\n")

    import_file(db, "icd10cm", path, version="2028", effective_from=date(2027, 10, 1))

    in_force = logic.version_in_force(db, "icd10cm", date(2027, 10, 1))
    assert (in_force.version.version, in_force.warnings) == ("2028", ())
    found = logic.lookup(db, "icd10cm", "E11.621", date(2027, 10, 1))
    assert found.parent is not None
    assert found.parent.code == "E1162"
    assert {n.cited for n in found.excludes1} >= {"E10"}  # carried from FY2027
    assert logic.lookup(db, "icd10cm", "U99.9", date(2027, 10, 1)).billable
    assert not logic.lookup(db, "icd10cm", "U99.9", date(2027, 9, 30)).found


def test_ncci_ptp_pairs_apply_between_their_effective_and_deletion_dates(
    db: Session, tmp_path: Path
) -> None:
    text = (
        "CPT codes and descriptions only are copyright 2025 American Medical Association.\n"
        "Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\tDeletion Date\t"
        "Modifier\tPTP Edit Rationale\n"
        "80053\t82040\t\t20100101\t*\t0\tMisuse of column two code with column one code\n"
        "80053\t82247\t\t20100101\t20260101\t0\tMisuse of column two code with column one code\n"
        "99213\t36415\t\t20200101\t*\t1\tStandards of medical / surgical practice\n"
    )
    import_file(
        db,
        "ncci_ptp",
        write(tmp_path, "ccipra.txt", text),
        version="2026Q3",
        effective_from=date(2026, 7, 1),
    )

    _, edits = logic.ptp_edits(db, ["80053", "82040", "82247", "99213"], date(2026, 7, 1))
    assert [(e.column1, e.column2, e.modifier_indicator) for e in edits] == [
        ("80053", "82040", "0")
    ]
    assert logic.list_versions(db, "ncci_ptp")[0].row_count == 3


def test_mue_values_are_read_with_their_adjudication_indicator(db: Session, tmp_path: Path) -> None:
    text = (
        '"HCPCS/CPT Code","Practitioner Services MUE Values","MUE Adjudication Indicator",'
        '"MUE Rationale"\n'
        '"36415","2","3 Date of Service Edit: Clinical","Clinical: Data"\n'
        '"80053","1","2 Date of Service Edit: Policy","CMS Policy"\n'
    )
    import_file(
        db,
        "mue",
        write(tmp_path, "mue.csv", text),
        version="2026Q3",
        effective_from=date(2026, 7, 1),
    )

    _, limit = logic.mue_limit(db, "36415", date(2026, 8, 1))
    assert limit is not None
    assert (limit.max_units, limit.adjudication_indicator) == (2, "3")
    assert logic.mue_limit(db, "99999", date(2026, 8, 1))[1] is None


def test_loinc_deprecated_terms_load_as_not_for_new_use(db: Session, tmp_path: Path) -> None:
    text = (
        '"LOINC_NUM","COMPONENT","PROPERTY","STATUS","LONG_COMMON_NAME"\n'
        '"2345-7","Glucose","MCnc","ACTIVE","Glucose [Mass/volume] in Serum or Plasma"\n'
        '"4548-4","Hemoglobin A1c/Hemoglobin.total","MFr","ACTIVE",'
        '"Hemoglobin A1c/Hemoglobin.total in Blood"\n'
        '"1234-5","Old test","MCnc","DEPRECATED","Old test in Serum"\n'
    )
    import_file(
        db,
        "loinc",
        write(tmp_path, "Loinc.csv", text),
        version="2.80",
        effective_from=date(2025, 8, 1),
    )

    on = date(2026, 1, 1)
    assert [r.code for r in logic.search_codes(db, "loinc", "2345-7", on, 5).rows] == ["2345-7"]
    assert [r.code for r in logic.search_codes(db, "loinc", "glucose serum", on, 5).rows] == [
        "2345-7"
    ]
    assert [v.reason for v in logic.validate_codes(db, [CodeCheck("loinc", "1234-5")], on)] == [
        "not-billable"
    ]


@pytest.mark.parametrize("system", ["cpt", "cdt", "carc", "rarc"])
def test_code_title_csv_sets_take_their_start_from_the_file(
    db: Session, tmp_path: Path, system: str
) -> None:
    text = (
        'code,title,effective_from\nA1,First code,2026-01-01\nB2,"Second, with comma",2026-04-01\n'
    )
    created = import_file(
        db, system, write(tmp_path, f"{system}.csv", text), version="2026", effective_from=None
    )

    assert created.effective_from == date(2026, 1, 1)
    rows = logic.search_codes(db, system, "comma", date(2026, 5, 1), 5).rows
    assert [(r.code, r.title) for r in rows] == [("B2", "Second, with comma")]


def test_a_csv_row_without_a_title_is_refused_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(ImportFileInvalid, match=r"carc.csv:3: expected code,title"):
        importers.parse_code_title_csv(
            b"code,title\n45,Charge exceeds fee schedule\n97\n", "carc.csv"
        )


def test_the_cli_imports_a_file_and_lists_it(
    migrated_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKOFFICE_DATABASE_URL", migrated_database_url)
    get_settings.cache_clear()
    path = write(tmp_path, "HCPC2026_JUL_ANWEB.txt", HCPCS)
    runner = CliRunner()
    try:
        imported = runner.invoke(
            app,
            [
                "codesets",
                "import",
                "hcpcs",
                str(path),
                "--version",
                "2026Q3",
                "--effective-from",
                "2026-07-01",
            ],
        )
        again = runner.invoke(
            app,
            [
                "codesets",
                "import",
                "hcpcs",
                str(path),
                "--version",
                "2026Q3",
                "--effective-from",
                "2026-07-02",
            ],
        )
        unknown = runner.invoke(
            app,
            [
                "codesets",
                "import",
                "icd9",
                str(path),
                "--version",
                "1",
                "--effective-from",
                "2026-01-01",
            ],
        )
        listed = runner.invoke(app, ["codesets", "list"])
    finally:
        get_settings.cache_clear()

    assert imported.exit_code == 0, imported.output
    assert "imported hcpcs 2026Q3: 3 rows, from 2026-07-01" in imported.output
    assert again.exit_code == 1
    assert "loaded already" in again.output
    assert unknown.exit_code == 1
    assert "icd9 cannot be imported" in unknown.output
    assert "hcpcs" in listed.output
    assert "imported" in listed.output
