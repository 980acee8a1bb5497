"""The ICD-10-CM tabular's "code first" and "use additional code" notes as sequencing
warnings. The notes are data built from the tabular list (codesets/icd10cm/notes.tsv.gz,
described in codesets/manifest.json, `icd10cm_notes`); a note at a code applies to every code
below it, so a code's notes are those at its own code and at each prefix above it."""

import gzip
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from service.codesets.bundle import BUNDLE_DIR, BundleError
from service.codesets.search import display_code
from service.coding.findings import Finding

NO_NOTES = "no_notes"
_SHOWN = 8  # cited codes named in a message, at most


@dataclass(frozen=True, slots=True)
class Note:
    kind: str  # code_first | use_additional
    at: str  # the code that carries it
    refs: tuple[str, ...]  # cited codes and ranges, as Excludes1 citations
    text: str


@dataclass(frozen=True)
class VersionNotes:
    by_code: dict[str, tuple[Note, ...]]
    without_notes: frozenset[str]  # codes the bundle has no notes of their own for (FY2027)

    def of(self, code: str) -> list[Note]:
        """The notes at the code and at every code above it (nearest first)."""
        found: list[Note] = []
        for end in range(len(code), 2, -1):
            found += self.by_code.get(code[:end], ())
        return found


_EMPTY = VersionNotes({}, frozenset())


@cache
def _all_notes() -> dict[str, VersionNotes]:
    """Read once per process, checked against the manifest like the code sets."""
    manifest = json.loads((BUNDLE_DIR / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest.get("icd10cm_notes")
    if entry is None:
        raise BundleError("codesets/manifest.json has no icd10cm_notes entry")
    packed = (BUNDLE_DIR / entry["file"]).read_bytes()
    if hashlib.sha256(packed).hexdigest() != entry["sha256"]:
        raise BundleError(f"codesets/{entry['file']} does not match its entry in the manifest")
    notes: dict[str, dict[str, list[Note]]] = {}
    without: dict[str, set[str]] = {}
    lines = gzip.decompress(packed).decode("utf-8").splitlines()
    for line in lines[1:]:  # after the header
        version, code, kind, refs, text = line.split("\t")
        if kind == NO_NOTES:
            without.setdefault(version, set()).add(code)
            continue
        cited = tuple(refs.split("|")) if refs else ()
        notes.setdefault(version, {}).setdefault(code, []).append(Note(kind, code, cited, text))
    return {
        version: VersionNotes(
            {code: tuple(items) for code, items in notes.get(version, {}).items()},
            frozenset(without.get(version, ())),
        )
        for version in set(notes) | set(without)
    }


def notes_for(version: str) -> VersionNotes:
    """A bundled ICD-10-CM version's notes; an imported version has none here."""
    return _all_notes().get(version, _EMPTY)


def covers(cited: str, code: str) -> bool:
    """Whether a citation (a code and everything below it, or a range, optionally qualified:
    "E08-E13/42" is "E08-E13 with .42") covers code."""
    cited, _, qualifier = cited.partition("/")
    if "-" in cited:
        low, high = cited.split("-", 1)
        inside = low <= code[: len(low)] <= high or code.startswith(high)
    else:
        inside = code.startswith(cited)
    if not inside or not qualifier:
        return inside
    rest = code[3:]  # the characters after the category
    first, _, last = qualifier.partition("-")
    if not last:
        return rest.startswith(first)
    return first <= rest[: len(first)] and rest[: len(last)] <= last


def _cited(note: Note) -> str:
    shown = [display_code(ref.partition("/")[0]) for ref in note.refs[:_SHOWN]]
    more = ", ..." if len(note.refs) > _SHOWN else ""
    return ", ".join(shown) + more


def note_findings(
    dx: Sequence[str], valid: Sequence[int], notes: VersionNotes, *, first_checked: bool
) -> list[Finding]:
    """`dx`: the diagnoses (no dots); `valid`: the indexes of those found in the set;
    `first_checked`: whether the first-listed code already has a sequencing error (a
    manifestation), which says what its code-first note would."""
    found: list[Finding] = []
    if 0 in valid and not first_checked:
        first = next((n for n in notes.of(dx[0]) if n.kind == "code_first"), None)
        if first is not None:
            named = f" ({_cited(first)})" if first.refs else ""
            found.append(
                Finding(
                    "icd10cm-code-first",
                    "warning",
                    "/diagnoses/0",
                    f"{display_code(dx[0])} is first-listed, but the tabular says at "
                    f"{display_code(first.at)}: code first {first.text}{named}. List the "
                    "underlying condition before it.",
                )
            )
    for i in valid:
        for note in notes.of(dx[i]):
            if note.kind != "use_additional" or not note.refs:
                continue
            if any(covers(ref, other) for j, other in enumerate(dx) if j != i for ref in note.refs):
                continue
            found.append(
                Finding(
                    "icd10cm-use-additional-code",
                    "warning",
                    f"/diagnoses/{i}",
                    f"{display_code(dx[i])}: the tabular at {display_code(note.at)} says use "
                    f"additional code {note.text}; none of {_cited(note)} is coded.",
                )
            )
    return found
