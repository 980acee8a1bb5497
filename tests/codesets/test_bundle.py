"""The committed code-set bundle: manifest and files agree, and the ICD-10-CM years hold."""

import gzip
import hashlib
import itertools
import json
import shutil
from datetime import timedelta
from functools import cache
from pathlib import Path

import pytest

from service.codesets.bundle import (
    BUNDLE_DIR,
    BundleEntry,
    BundleError,
    CodeRow,
    get_entry,
    iter_rows,
    load_manifest,
    read_rows,
    read_synonyms,
)


@cache
def rows_by_code(set_name: str, version: str) -> dict[str, CodeRow]:
    return {row.code: row for row in read_rows(set_name, version)}


def icd_entries() -> list[BundleEntry]:
    return sorted(
        (entry for entry in load_manifest() if entry.set == "icd10cm"),
        key=lambda entry: entry.effective_from,
    )


def test_every_manifest_entry_matches_its_file_hash_and_counts() -> None:
    for entry in load_manifest():
        rows = list(iter_rows(entry))

        assert len(rows) == entry.rows, entry.file
        assert sum(row.billable for row in rows) == entry.billable, entry.file
        assert len(rows) - entry.billable == entry.headers, entry.file
        assert [row.code for row in rows] == sorted(row.code for row in rows), entry.file
        assert len({row.code for row in rows}) == len(rows), entry.file


def test_every_bundled_file_is_in_the_manifest_once() -> None:
    manifest = json.loads((BUNDLE_DIR / "manifest.json").read_text(encoding="utf-8"))
    # The code sets, and the ICD-10-CM notes table the sequencing edits read.
    listed = [entry.file for entry in load_manifest()] + [manifest["icd10cm_notes"]["file"]]
    on_disk = sorted(str(path.relative_to(BUNDLE_DIR)) for path in BUNDLE_DIR.glob("*/*.tsv.gz"))

    assert sorted(listed) == on_disk
    assert len(set(listed)) == len(listed)


def test_the_icd10cm_notes_table_matches_its_manifest_entry() -> None:
    entry = json.loads((BUNDLE_DIR / "manifest.json").read_text(encoding="utf-8"))["icd10cm_notes"]
    packed = (BUNDLE_DIR / entry["file"]).read_bytes()
    assert hashlib.sha256(packed).hexdigest() == entry["sha256"]
    lines = gzip.decompress(packed).decode("utf-8").splitlines()
    assert lines[0].split("\t") == entry["columns"]
    assert len(lines) - 1 == entry["rows"]
    kinds = {line.split("\t")[2] for line in lines[1:]}
    assert kinds == {"code_first", "use_additional", "no_notes"}


def test_files_are_gzip_without_mtime_or_name_so_rebuilds_are_byte_identical() -> None:
    for entry in load_manifest():
        header = (BUNDLE_DIR / entry.file).read_bytes()[:10]

        assert header[:3] == b"\x1f\x8b\x08", entry.file
        assert header[3] == 0, f"{entry.file}: FNAME or other flags set"
        assert header[4:8] == b"\0\0\0\0", f"{entry.file}: mtime is not 0"


def test_fy2027_has_the_totals_cms_states_in_the_addenda() -> None:
    entry = get_entry("icd10cm", "2027")

    assert (entry.billable, entry.headers) == (74_879, 23_524)


def test_fy2026_and_fy2025_have_the_cms_order_file_totals() -> None:
    assert (get_entry("icd10cm", "2026").billable, get_entry("icd10cm", "2026").headers) == (
        74_719,
        23_467,
    )
    assert (get_entry("icd10cm", "2025").billable, get_entry("icd10cm", "2025").headers) == (
        74_260,
        23_324,
    )


def test_icd_fiscal_years_follow_each_other_without_gap() -> None:
    entries = icd_entries()

    assert [entry.version for entry in entries] == ["2025", "2026", "2027"]
    for before, after in itertools.pairwise(entries):
        assert before.effective_to is not None
        assert before.effective_to + timedelta(days=1) == after.effective_from
    assert str(entries[0].effective_from) == "2024-10-01"
    assert str(entries[-1].effective_to) == "2027-09-30"


@pytest.mark.parametrize("version", ["2025", "2026", "2027"])
def test_e11_621_is_billable_in_every_fiscal_year(version: str) -> None:
    row = rows_by_code("icd10cm", version)["E11621"]

    assert row.billable
    assert row.title == "Type 2 diabetes mellitus with foot ulcer"
    assert row.parent == "E1162"


def test_a_code_added_in_fy2027_is_absent_from_fy2026() -> None:
    assert "D6911" in rows_by_code("icd10cm", "2027")
    assert "D6911" not in rows_by_code("icd10cm", "2026")


def test_a_code_expanded_in_fy2027_turns_from_billable_to_header() -> None:
    assert rows_by_code("icd10cm", "2026")["D691"].billable
    assert not rows_by_code("icd10cm", "2027")["D691"].billable
    assert rows_by_code("icd10cm", "2027")["D6911"].parent == "D691"


def test_a_code_revised_in_fy2027_has_the_new_title() -> None:
    assert rows_by_code("icd10cm", "2026")["Z2914"].title.endswith("immune globin")
    assert rows_by_code("icd10cm", "2027")["Z2914"].title.endswith("immune globulin")


def test_seventh_character_codes_are_expanded_with_placeholder_x() -> None:
    rows = rows_by_code("icd10cm", "2027")

    assert not rows["T07"].billable
    assert ("A", "initial encounter") in rows["T07"].seventh
    assert rows["T07XXXA"].billable
    assert rows["T07XXXA"].parent == "T07"
    assert rows["T07XXXA"].title == "Unspecified multiple injuries, initial encounter"


def test_s06_death_codes_take_only_the_initial_encounter_character() -> None:
    rows = rows_by_code("icd10cm", "2026")

    assert "S061X7A" in rows
    assert "S061X7D" not in rows
    assert "S061X8S" not in rows


def test_excludes1_references_are_kept_without_the_dot() -> None:
    assert {"E10", "E13", "O244"} <= set(rows_by_code("icd10cm", "2027")["E11"].excludes1)


def test_small_sets_have_one_open_ended_version() -> None:
    small = [entry for entry in load_manifest() if entry.set != "icd10cm"]

    assert {entry.set for entry in small} >= {
        "pos",
        "claim_filing_indicator",
        "relationship",
        "claim_frequency",
        "cas_group",
        "modifier",
        "tooth",
        "tooth_iso",
        "tooth_surface",
        "oral_area",
    }
    for entry in small:
        assert entry.effective_to is None
        assert str(entry.effective_from) == "2000-01-01"


def test_tooth_numbers_cover_permanent_primary_and_supernumerary_teeth() -> None:
    universal = set(rows_by_code("tooth", "2026"))
    letters = [chr(c) for c in range(ord("A"), ord("T") + 1)]

    assert universal == (
        {str(n) for n in range(1, 33)}
        | set(letters)
        | {str(n) for n in range(51, 83)}
        | {f"{letter}S" for letter in letters}
    )
    iso = set(rows_by_code("tooth_iso", "2026"))
    assert iso == {f"{q}{t}" for q in range(1, 5) for t in range(1, 9)} | {
        f"{q}{t}" for q in range(5, 9) for t in range(1, 6)
    }


def test_claim_code_lists_hold_the_values_the_claims_send() -> None:
    assert rows_by_code("pos", "2026")["11"].title == "Office"
    assert {"CI", "MA", "MB", "MC", "BL", "ZZ"} <= set(
        rows_by_code("claim_filing_indicator", "2026")
    )
    assert set(rows_by_code("claim_frequency", "2026")) == {"1", "7", "8"}
    assert set(rows_by_code("cas_group", "2026")) == {"CO", "CR", "OA", "PI", "PR"}
    assert "18" in rows_by_code("relationship", "2026")
    assert {"25", "59", "QW", "TC", "XU"} <= set(rows_by_code("modifier", "2026"))


def test_a_damaged_file_is_refused_before_any_row_is_read(tmp_path: Path) -> None:
    entry = get_entry("claim_frequency", "2026")
    shutil.copy(BUNDLE_DIR / "manifest.json", tmp_path / "manifest.json")
    (tmp_path / "claim_frequency").mkdir()
    damaged = gzip.compress(
        gzip.decompress((BUNDLE_DIR / entry.file).read_bytes()) + b"9\t1\tX\t\t\t\n"
    )
    (tmp_path / entry.file).write_bytes(damaged)

    with pytest.raises(BundleError, match="SHA-256"):
        next(iter_rows(get_entry("claim_frequency", "2026", tmp_path), tmp_path))


def test_an_unknown_set_version_is_an_error() -> None:
    with pytest.raises(BundleError, match="not bundled"):
        get_entry("icd10cm", "2019")


def test_the_search_synonym_table_is_in_the_manifest_with_its_source_size_and_hash() -> None:
    raw = json.loads((BUNDLE_DIR / "manifest.json").read_text(encoding="utf-8"))
    listed = raw["synonyms"]
    data = (BUNDLE_DIR / listed["file"]).read_bytes()

    assert listed["source"].startswith("codesets/synonyms.tsv")
    assert hashlib.sha256(data).hexdigest() == listed["sha256"]
    assert listed["rows"] == len(read_synonyms()) >= 200
    assert {"uti", "gerd", "afib", "copd", "ckd", "htn", "annual physical"} <= {
        s.term for s in read_synonyms()
    }


def test_a_hand_edited_synonym_table_does_not_load(tmp_path: Path) -> None:
    shutil.copy(BUNDLE_DIR / "manifest.json", tmp_path / "manifest.json")
    text = (BUNDLE_DIR / "synonyms.tsv").read_text(encoding="utf-8")
    (tmp_path / "synonyms.tsv").write_text(text + "icd10cm\tzz\tcode:R509\n", encoding="utf-8")

    with pytest.raises(BundleError, match="SHA-256"):
        read_synonyms(tmp_path)
