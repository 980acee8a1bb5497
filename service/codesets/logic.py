"""Code sets by date of service: the version in force, lookup, typeahead and code validation.

The coding and claims capabilities call `lookup`, `validate_codes`, `ptp_edits` and
`mue_limit`. A set that is not loaded is an error that names the set, never a silent pass
(DESIGN.md, CodeSet); the newest version stays in force after its end date, with a warning.
"""

import gc
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.codesets.bundle import CodeRow
from service.codesets.models import CodeEntry, CodeSetVersion, MueLimit, NcciPtpEdit
from service.codesets.search import CodeIndex, display_code, normalize_code
from service.errors import InvalidInput, NotFound

ICD10CM = "icd10cm"
_IMPORT = "import the {what} with `backoffice codesets import {system} FILE`"


@dataclass(frozen=True)
class SystemInfo:
    name: str
    label: str
    # What loads it, for the "not loaded" message.
    how_to_load: str
    searchable: bool = True


def _system(name: str, label: str, what: str = "", *, searchable: bool = True) -> SystemInfo:
    how = _IMPORT.format(what=what, system=name) if what else "run `backoffice migrate`"
    return SystemInfo(name, label, how, searchable)


SYSTEMS: dict[str, SystemInfo] = {
    s.name: s
    for s in (
        _system(ICD10CM, "ICD-10-CM"),
        _system("pos", "Place of Service"),
        _system("modifier", "Modifiers"),
        _system("tooth", "Tooth numbers"),
        _system("tooth_iso", "ISO tooth numbers"),
        _system("tooth_surface", "Tooth surfaces"),
        _system("oral_area", "Oral cavity areas"),
        _system("claim_filing_indicator", "Claim filing indicators"),
        _system("relationship", "Relationship codes"),
        _system("claim_frequency", "Claim frequency codes"),
        _system("cas_group", "CAS group codes"),
        _system("hcpcs", "HCPCS Level II", "CMS HCPCS file"),
        _system("cpt", "CPT", "AMA CPT code list (CSV)"),
        _system("cdt", "CDT", "ADA CDT code list (CSV)"),
        _system("loinc", "LOINC", "Regenstrief Loinc.csv"),
        _system("carc", "CARC", "X12 CARC descriptions (CSV)"),
        _system("rarc", "RARC", "X12 RARC descriptions (CSV)"),
        _system("ncci_ptp", "NCCI PTP edits", "CMS NCCI PTP file", searchable=False),
        _system("mue", "MUE", "CMS MUE file", searchable=False),
    )
}


class UnknownCodeSystem(NotFound):
    code = "unknown-code-system"


class CodeSetNotLoaded(NotFound):
    code = "code-set-not-loaded"


class DateBeforeCodeSet(InvalidInput):
    code = "date-before-code-set"


class CodeNotFound(NotFound):
    code = "code-not-found"


@dataclass(frozen=True)
class VersionInfo:
    """A loaded version, detached from the session (safe to cache and to hand around)."""

    id: str
    system: str
    version: str
    effective_from: date
    effective_to: date | None
    sha256: str
    row_count: int
    origin: str
    source: str
    loaded_at: datetime

    @property
    def label(self) -> str:
        if self.system == ICD10CM:
            return f"ICD-10-CM FY{self.version}"
        info = SYSTEMS.get(self.system)
        return f"{info.label if info else self.system} {self.version}"


@dataclass(frozen=True)
class InForce:
    version: VersionInfo
    warnings: tuple[str, ...] = ()


def get_system(system: str, *, searchable: bool = False) -> SystemInfo:
    info = SYSTEMS.get(system)
    if info is None or (searchable and not info.searchable):
        known = ", ".join(name for name, s in SYSTEMS.items() if s.searchable or not searchable)
        raise UnknownCodeSystem(f"There is no code system {system!r}. Known: {known}.")
    return info


_VERSION_TABLE = CodeSetVersion.__table__  # type: ignore[attr-defined]
# Built once, and Core rather than ORM: every search and lookup reads the versions of its set
# (no cache: another process may import a version or set `effective_to` at any time).
_VERSIONS = sa.select(*(_VERSION_TABLE.c[f.name] for f in fields(VersionInfo))).order_by(
    _VERSION_TABLE.c.system, _VERSION_TABLE.c.effective_from
)
_VERSIONS_OF = _VERSIONS.where(_VERSION_TABLE.c.system == sa.bindparam("system"))


def list_versions(session: Session, system: str | None = None) -> list[VersionInfo]:
    if system is None:
        result = session.execute(_VERSIONS)
    else:
        result = session.execute(_VERSIONS_OF, {"system": system})
    return [VersionInfo(**row) for row in result.mappings()]


def version_in_force(
    session: Session, system: str, on: date, versions: Sequence[VersionInfo] | None = None
) -> InForce:
    """The version whose effective range holds `on`; after the newest one's end, still the newest.

    A date in a gap between two versions gets the earlier one, with a warning. `versions`:
    the set's versions as already read (the typeahead's cache), else read now.
    """
    if versions is None:
        versions = list_versions(session, system)
    return in_force_of(system, on, versions)


def in_force_of(system: str, on: date, versions: Sequence[VersionInfo]) -> InForce:
    """version_in_force among versions already read."""
    info = get_system(system)
    if not versions:
        raise CodeSetNotLoaded(f"{system} is not loaded; {info.how_to_load}.")
    first = versions[0]
    if on < first.effective_from:
        raise DateBeforeCodeSet(
            f"{on} is before the first loaded {info.label} version ({first.label}, in force "
            f"from {first.effective_from})."
        )
    current = [v for v in versions if v.effective_from <= on][-1]
    if current.effective_to is None or on <= current.effective_to:
        return InForce(current)
    if current is versions[-1]:
        warning = f"{current.label} ended {current.effective_to}; load the next release."
    else:
        warning = f"{on} falls between {current.label} (ended {current.effective_to}) and the next."
    return InForce(current, (warning,))


# --- in-process indexes ------------------------------------------------------------------------
# Read-only code-set indexes are the only state a process may keep (DESIGN.md). They are built
# from the database, never from files, so that every replica answers from the same rows; a
# version's rows never change, so (id, sha256) identifies an index for good.
_CACHE_SIZE = 24
_cache: OrderedDict[tuple[str, str], CodeIndex] = OrderedDict()
_cache_lock = threading.Lock()
_build_lock = threading.Lock()


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(value.split("|")) if value else ()


def _rows(session: Session, version_id: str) -> list[CodeRow]:
    table = CodeEntry.__table__  # type: ignore[attr-defined]
    result = session.connection().execute(
        sa.select(
            table.c.code,
            table.c.billable,
            table.c.title,
            table.c.parent,
            table.c.excludes1,
            table.c.seventh,
        ).where(table.c.version_id == version_id)
    )
    return [
        CodeRow(
            code=code,
            billable=bool(billable),
            title=title,
            parent=parent or None,
            excludes1=_split(excludes1),
            seventh=tuple(
                (char, meaning)
                for char, _, meaning in (item.partition("=") for item in _split(seventh))
            ),
        )
        for code, billable, title, parent, excludes1, seventh in result
    ]


def index_for(session: Session, version: VersionInfo) -> CodeIndex:
    key = (version.id, version.sha256)
    with _cache_lock:
        index = _cache.get(key)
        if index is not None:
            _cache.move_to_end(key)
            return index
    # One build at a time: concurrent first requests wait for it rather than each building.
    with _build_lock:
        with _cache_lock:
            index = _cache.get(key)
        if index is None:
            index = CodeIndex(_rows(session, version.id), system=version.system)
            # An ICD-10-CM index is millions of long-lived objects; moving them out of the
            # collector's generations keeps full collections (tail latency) from walking them.
            gc.freeze()
        with _cache_lock:
            _cache[key] = index
            _cache.move_to_end(key)
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
        return index


def index_is_built(version: VersionInfo) -> bool:
    with _cache_lock:
        return (version.id, version.sha256) in _cache


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


# --- search and lookup -------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResult:
    system: str
    version: VersionInfo
    warnings: tuple[str, ...]
    rows: list[CodeRow]


def search_codes(
    session: Session,
    system: str,
    query: str,
    on: date,
    limit: int,
    versions: Sequence[VersionInfo] | None = None,
) -> SearchResult:
    get_system(system, searchable=True)
    in_force = version_in_force(session, system, on, versions)
    index = index_for(session, in_force.version)
    rows = index.search(query, limit) if query.strip() else index.first(limit)
    return SearchResult(system, in_force.version, in_force.warnings, rows)


def search_built(
    system: str, query: str, on: date, limit: int, versions: Sequence[VersionInfo]
) -> SearchResult | None:
    """search_codes without the database, for the typeahead: None when the index of the version
    in force is not built yet (the caller searches with a session, which builds it)."""
    get_system(system, searchable=True)
    in_force = in_force_of(system, on, versions)
    with _cache_lock:
        index = _cache.get((in_force.version.id, in_force.version.sha256))
    if index is None:
        return None
    rows = index.search(query, limit) if query.strip() else index.first(limit)
    return SearchResult(system, in_force.version, in_force.warnings, rows)


@dataclass(frozen=True)
class Excludes1Note:
    cited: str  # a code ("E10": it and every code below it) or a range ("B380-B382")
    at: str  # the code whose note cites it (this code or an ancestor)


@dataclass(frozen=True)
class SeventhRule:
    character: str
    meaning: str
    at: str  # the ancestor (or the code itself) that defines the rule


@dataclass(frozen=True)
class CodeLookup:
    system: str
    code: str  # normalized (no dot)
    found: bool
    version: VersionInfo
    warnings: tuple[str, ...]
    row: CodeRow | None = None
    parent: CodeRow | None = None
    children: tuple[CodeRow, ...] = ()
    excludes1: tuple[Excludes1Note, ...] = ()
    seventh: tuple[SeventhRule, ...] = ()

    @property
    def billable(self) -> bool:
        return self.row is not None and self.row.billable

    @property
    def title(self) -> str | None:
        return self.row.title if self.row else None

    @property
    def display(self) -> str:
        return display_code(self.code, self.system)

    @property
    def needs_seventh_character(self) -> bool:
        """A header under a 7th-character rule: the code is incomplete, not merely a header."""
        return self.found and not self.billable and bool(self.seventh) and len(self.code) < 7


def _ancestors(index: CodeIndex, row: CodeRow) -> Iterable[CodeRow]:
    current: CodeRow | None = row
    while current is not None:
        yield current
        current = index.lookup(current.parent) if current.parent else None


def _lookup_in(index: CodeIndex, in_force: InForce, system: str, code: str) -> CodeLookup:
    normalized = normalize_code(code)
    row = index.lookup(normalized)
    if row is None:
        return CodeLookup(system, normalized, False, in_force.version, in_force.warnings)
    excludes1: list[Excludes1Note] = []
    seventh: tuple[SeventhRule, ...] = ()
    for ancestor in _ancestors(index, row):
        excludes1.extend(Excludes1Note(cited, ancestor.code) for cited in ancestor.excludes1)
        if not seventh and ancestor.seventh:
            # The nearest rule wins; ICD-10-CM defines at most one on any path.
            seventh = tuple(SeventhRule(c, m, ancestor.code) for c, m in ancestor.seventh)
    return CodeLookup(
        system=system,
        code=normalized,
        found=True,
        version=in_force.version,
        warnings=in_force.warnings,
        row=row,
        parent=index.parent(normalized),
        children=tuple(index.children(normalized)),
        excludes1=tuple(excludes1),
        seventh=seventh,
    )


def lookup(
    session: Session,
    system: str,
    code: str,
    on: date,
    versions: Sequence[VersionInfo] | None = None,
) -> CodeLookup:
    """The code as it stood on `on`; `found` is False when that version does not have it."""
    get_system(system, searchable=True)
    in_force = version_in_force(session, system, on, versions)
    return _lookup_in(index_for(session, in_force.version), in_force, system, code)


def lookup_valid(session: Session, verdict: "CodeVerdict") -> CodeLookup:
    """The lookup of a code `validate_codes` found valid, from the version it used (no second
    read of the versions: the edits call this for every diagnosis)."""
    if verdict.version is None:
        raise ValueError("a verdict without a version (set not loaded) has no lookup")
    in_force = InForce(verdict.version, verdict.warnings)
    return _lookup_in(index_for(session, verdict.version), in_force, verdict.system, verdict.code)


def ancestor_titles(session: Session, lookup: CodeLookup) -> list[str]:
    """The code's title and those of the codes above it, nearest first."""
    if lookup.row is None:
        return []
    index = index_for(session, lookup.version)
    return [row.title for row in _ancestors(index, lookup.row)]


def get_code(
    session: Session,
    system: str,
    code: str,
    on: date,
    versions: Sequence[VersionInfo] | None = None,
) -> CodeLookup:
    """Like `lookup`, but a code missing on that date is a CodeNotFound error."""
    found = lookup(session, system, code, on, versions)
    if not found.found:
        raise CodeNotFound(
            f"{display_code(found.code, system)} is not a code in {found.version.label} "
            f"(in force on {on})."
        )
    return found


def billable_descendants(
    session: Session, version: VersionInfo, code: str, limit: int = 25
) -> list[CodeRow]:
    """The first billable codes below `code`, in code order (what a coder should pick)."""
    index = index_for(session, version)
    found: list[CodeRow] = []
    stack = list(reversed(index.children(code)))
    while stack and len(found) < limit:
        row = stack.pop()
        if row.billable:
            found.append(row)
        stack.extend(reversed(index.children(row.code)))
    return found


# --- validation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeCheck:
    system: str
    code: str


@dataclass(frozen=True)
class CodeVerdict:
    system: str
    code: str  # displayed form when the code is known, else as normalized
    valid: bool
    reason: str  # ok, unknown-code, not-billable, needs-seventh-character, system-not-loaded, ...
    detail: str
    title: str | None = None
    version: VersionInfo | None = None
    suggestions: tuple[CodeRow, ...] = ()  # billable codes below a header
    warnings: tuple[str, ...] = field(default=())


def validate_codes(session: Session, items: Sequence[CodeCheck], on: date) -> list[CodeVerdict]:
    """One verdict per item, in order. Problems with a set (unknown, not loaded, date before
    its first version) become that item's verdict rather than failing the whole batch."""
    in_force: dict[str, InForce | CodeVerdict] = {}
    verdicts: list[CodeVerdict] = []
    for item in items:
        system = item.system.strip().lower()
        code = normalize_code(item.code)
        if system not in in_force:
            in_force[system] = _in_force_or_verdict(session, system, on)
        state = in_force[system]
        if isinstance(state, CodeVerdict):
            verdicts.append(
                CodeVerdict(system, display_code(code, system), False, state.reason, state.detail)
            )
            continue
        index = index_for(session, state.version)
        verdicts.append(_verdict(session, index, state, system, code))
    return verdicts


def _in_force_or_verdict(session: Session, system: str, on: date) -> InForce | CodeVerdict:
    try:
        return version_in_force(session, system, on)
    except UnknownCodeSystem as error:
        return CodeVerdict(system, "", False, "unknown-system", error.detail)
    except CodeSetNotLoaded as error:
        return CodeVerdict(system, "", False, "system-not-loaded", error.detail)
    except DateBeforeCodeSet as error:
        return CodeVerdict(system, "", False, "date-before-code-set", error.detail)


def _verdict(
    session: Session, index: CodeIndex, in_force: InForce, system: str, code: str
) -> CodeVerdict:
    version, warnings = in_force.version, in_force.warnings
    shown = display_code(code, system)
    if not code:
        return CodeVerdict(
            system, shown, False, "unknown-code", "The code is empty.", None, version
        )
    found = _lookup_in(index, in_force, system, code)
    if found.row is None:
        detail = f"{shown} is not a code in {version.label}."
        return CodeVerdict(
            system, shown, False, "unknown-code", detail, None, version, (), warnings
        )
    row = found.row
    if row.billable:
        return CodeVerdict(system, shown, True, "ok", "", row.title, version, (), warnings)
    suggestions = tuple(billable_descendants(session, version, code))
    if found.needs_seventh_character:
        chars = ", ".join(f"{r.character} ({r.meaning})" for r in found.seventh)
        detail = f"{shown} needs a 7th character: {chars}."
        reason = "needs-seventh-character"
    else:
        detail = f"{shown} is a header, not billable; pick a code below it."
        reason = "not-billable"
    return CodeVerdict(
        system, shown, False, reason, detail, row.title, version, suggestions, warnings
    )


# --- NCCI and MUE ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PtpEdit:
    column1: str
    column2: str
    effective_date: date
    deletion_date: date | None
    modifier_indicator: str


def ptp_edits(session: Session, codes: Sequence[str], on: date) -> tuple[InForce, list[PtpEdit]]:
    """The NCCI PTP pairs among `codes` that are in effect on `on`."""
    in_force = version_in_force(session, "ncci_ptp", on)
    wanted = sorted({normalize_code(c) for c in codes})
    rows = session.exec(
        select(NcciPtpEdit).where(
            NcciPtpEdit.version_id == in_force.version.id,
            col(NcciPtpEdit.column1).in_(wanted),
            col(NcciPtpEdit.column2).in_(wanted),
            col(NcciPtpEdit.effective_date) <= on,
        )
    )
    edits = [
        PtpEdit(r.column1, r.column2, r.effective_date, r.deletion_date, r.modifier_indicator)
        for r in rows
        if r.deletion_date is None or on < r.deletion_date
    ]
    return in_force, edits


def mue_limit(session: Session, code: str, on: date) -> tuple[InForce, MueLimit | None]:
    """The MUE for `code` on `on` (None: the code has no MUE)."""
    in_force = version_in_force(session, "mue", on)
    row = session.exec(
        select(MueLimit).where(
            MueLimit.version_id == in_force.version.id, MueLimit.code == normalize_code(code)
        )
    ).first()
    return in_force, row
