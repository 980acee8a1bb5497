"""Read the code sets bundled in codesets/ (manifest + gzip TSV files) as typed rows.

Pure: no database, no HTTP. The loader that puts these rows into the database calls
`iter_rows`; every file is checked against the SHA-256 in codesets/manifest.json before a row
is yielded, so a damaged or hand-edited file never loads half-way.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

BUNDLE_DIR = Path(__file__).resolve().parents[2] / "codesets"
COLUMNS = ("code", "billable", "title", "parent", "excludes1", "seventh")


class BundleError(Exception):
    """The bundle is missing a set, or a file does not match the manifest."""


@dataclass(frozen=True, slots=True)
class CodeRow:
    """One code of one set version. `code` is stored without the ICD-10-CM dot.

    `excludes1` lists codes ("E10": E10 and every code below it) and ranges ("B380-B382")
    cited by the Excludes1 notes at this code; they apply to the codes below it too. A
    qualified range ("E08-E13/42", the tabular's "E08-E13 with .42") covers only the codes of
    those categories whose characters after the category start with the qualifier.
    `seventh` maps 7th characters to their meaning at the code that defines them.
    """

    code: str
    billable: bool
    title: str
    parent: str | None = None
    excludes1: tuple[str, ...] = ()
    seventh: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class BundleEntry:
    """One set version as listed in the manifest."""

    set: str
    version: str
    effective_from: date
    effective_to: date | None
    source: str
    source_sha256: str
    file: str
    sha256: str
    content_sha256: str
    rows: int
    billable: int
    headers: int
    licence: str
    limits: tuple[str, ...]


def _entry(raw: dict[str, Any]) -> BundleEntry:
    end = raw["effective_to"]
    return BundleEntry(
        set=str(raw["set"]),
        version=str(raw["version"]),
        effective_from=date.fromisoformat(raw["effective_from"]),
        effective_to=date.fromisoformat(end) if end else None,
        source=str(raw["source"]),
        source_sha256=str(raw["source_sha256"]),
        file=str(raw["file"]),
        sha256=str(raw["sha256"]),
        content_sha256=str(raw["content_sha256"]),
        rows=int(raw["rows"]),
        billable=int(raw["billable"]),
        headers=int(raw["headers"]),
        licence=str(raw["licence"]),
        limits=tuple(str(limit) for limit in raw["limits"]),
    )


def load_manifest(root: Path = BUNDLE_DIR) -> list[BundleEntry]:
    """Every bundled set version, in manifest order."""
    raw = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    if tuple(raw["columns"]) != COLUMNS:
        raise BundleError(f"unexpected manifest columns {raw['columns']}")
    return [_entry(item) for item in raw["entries"]]


def get_entry(set_name: str, version: str, root: Path = BUNDLE_DIR) -> BundleEntry:
    for entry in load_manifest(root):
        if entry.set == set_name and entry.version == version:
            return entry
    raise BundleError(f"code set {set_name} version {version} is not bundled")


def read_verified(entry: BundleEntry, root: Path = BUNDLE_DIR) -> bytes:
    """The uncompressed TSV of a set version, after checking both recorded hashes."""
    packed = (root / entry.file).read_bytes()
    if hashlib.sha256(packed).hexdigest() != entry.sha256:
        raise BundleError(f"{entry.file} does not match its SHA-256 in the manifest")
    content = gzip.decompress(packed)
    if hashlib.sha256(content).hexdigest() != entry.content_sha256:
        raise BundleError(f"{entry.file} content does not match its SHA-256 in the manifest")
    return content


def _row(cells: list[str]) -> CodeRow:
    code, billable, title, parent, excludes1, seventh = cells
    return CodeRow(
        code=code,
        billable=billable == "1",
        title=title,
        parent=parent or None,
        excludes1=tuple(excludes1.split("|")) if excludes1 else (),
        seventh=tuple(_pair(item) for item in seventh.split("|")) if seventh else (),
    )


def _pair(item: str) -> tuple[str, str]:
    char, _, meaning = item.partition("=")
    return char, meaning


def iter_rows(entry: BundleEntry, root: Path = BUNDLE_DIR) -> Iterator[CodeRow]:
    """The rows of one set version in code order (the file is verified first)."""
    lines = read_verified(entry, root).decode("utf-8").splitlines()
    if tuple(lines[0].split("\t")) != COLUMNS:
        raise BundleError(f"{entry.file}: unexpected header {lines[0]!r}")
    for number, line in enumerate(lines[1:], 2):
        cells = line.split("\t")
        if len(cells) != len(COLUMNS):
            raise BundleError(f"{entry.file}:{number}: expected {len(COLUMNS)} columns")
        yield _row(cells)


def read_rows(set_name: str, version: str, root: Path = BUNDLE_DIR) -> list[CodeRow]:
    return list(iter_rows(get_entry(set_name, version, root), root))


# --- search synonyms ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Synonym:
    """A term coders type and what it stands for in one set's titles (codesets/synonyms.tsv).

    `expansion` is a title phrase, or `code:CODE` for a term no title spells out.
    """

    system: str  # "*": every system
    term: str
    expansion: str


def read_synonyms(root: Path = BUNDLE_DIR) -> list[Synonym]:
    """The curated synonym table, checked against the SHA-256 in the manifest."""
    raw = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    listed = raw.get("synonyms")
    if not listed:
        return []
    data = (root / listed["file"]).read_bytes()
    if hashlib.sha256(data).hexdigest() != listed["sha256"]:
        raise BundleError(f"{listed['file']} does not match its SHA-256 in the manifest")
    synonyms = []
    for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
        if not line.strip() or line.startswith(("#", "system\t")):
            continue
        cells = line.split("\t")
        if len(cells) != 3 or not all(cell.strip() for cell in cells):
            raise BundleError(f"{listed['file']}:{number}: expected system, term, expansion")
        synonyms.append(Synonym(cells[0], cells[1].lower(), cells[2]))
    if len(synonyms) != listed["rows"]:
        raise BundleError(f"{listed['file']}: {len(synonyms)} rows, manifest says {listed['rows']}")
    return synonyms


@cache
def synonyms_for(system: str) -> tuple[Synonym, ...]:
    """The table's lines for one system (its own and the `*` lines)."""
    return tuple(s for s in read_synonyms() if s.system in (system, "*"))
