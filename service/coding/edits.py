"""The coding edits: each finding has a stable code, a severity, the field and a message.

Errors keep an encounter from `ready` (and a claim from a batch); warnings do not. A check
that needs a code set that is not loaded says so in a finding; it never passes silently.
"""

from collections.abc import Sequence
from datetime import date

from sqlmodel import Session

from service.codesets import logic as codes
from service.codesets.search import display_code
from service.coding import code_classes, dental_edits
from service.coding.findings import CodedLine, CodedPatient, CodedVisit, Finding
from service.coding.modifier_edits import modifier_findings
from service.coding.note_edits import VersionNotes, note_findings, notes_for
from service.coding.note_edits import covers as _covers
from service.coding.patient_edits import Age, patient_findings
from service.coding.place_edits import pos_findings
from service.coding.sequencing_edits import sequencing_findings
from service.errors import DomainError

__all__ = ["CodedLine", "CodedPatient", "CodedVisit", "Finding", "check_encounter"]

MAX_DIAGNOSES = {"medical": 12, "dental": 4}  # 837P HI allows 12, 837D HI 4
MAX_LINES = 50  # 2400 loop repeat in both guides
# NCCI PTP modifier indicator 1: the modifiers CMS accepts as saying the services were distinct
# (NCCI policy manual, chapter I, E.1; "Modifiers and Modifier Indicators"): 59 and X{EPSU},
# the E/M and global surgery modifiers, 91, and the anatomic modifiers.
PTP_BYPASS = frozenset(
    {"59", "XE", "XP", "XS", "XU", "24", "25", "27", "57", "58", "78", "79", "91"}
    | {"E1", "E2", "E3", "E4", "FA", "TA", "LT", "RT", "LC", "LD", "LM", "RC", "RI"}
    | {f"F{n}" for n in range(1, 10)}
    | {f"T{n}" for n in range(1, 10)}
)
# CMS: 59 and X{EPSU} never bypass a pair with an E/M code (25 or 57 does, on the E/M line).
DISTINCT_MODIFIERS = frozenset({"59", "XE", "XP", "XS", "XU"})
# Repeat-procedure modifiers: the same code twice on one day is then not a duplicate.
REPEAT_MODIFIERS = frozenset({"76", "77", "91"})
LINE_SYSTEMS = {"medical": {"CPT", "HCPCS"}, "dental": {"CDT"}}


def _dental_requirements(code: str) -> tuple[bool, bool]:
    """(needs a tooth, needs surfaces) for a CDT code, by the CDT category ranges."""
    number = int(code[1:]) if code[1:].isdigit() else -1
    restorative = 2000 <= number <= 2999 and not 2900 <= number <= 2999
    needs_tooth = restorative or 3000 <= number <= 3999 or 7100 <= number <= 7299
    needs_tooth = needs_tooth or dental_edits.needs_tooth(code)
    needs_surfaces = 2140 <= number <= 2394 or 2410 <= number <= 2430
    return needs_tooth or needs_surfaces, needs_surfaces


def check_encounter(
    session: Session,
    encounter: CodedVisit,
    lines: Sequence[CodedLine],
    patient: CodedPatient | None = None,
) -> list[Finding]:
    """Every edit on one encounter; `patient` (its demographics) adds the age and sex edits."""
    findings: list[Finding] = []
    on = encounter.date_of_service
    findings += _diagnosis_findings(session, encounter, on)
    findings += _line_findings(session, encounter, lines)
    findings += modifier_findings(lines)
    age = None
    if patient is not None:
        findings += patient_findings(patient, on, encounter.diagnoses, lines)
        age = Age.on(patient.birth_date, on).years
    if encounter.kind == "dental":
        findings += dental_edits.dental_findings(lines, age)
    return _dedupe(findings)


def _diagnosis_findings(session: Session, encounter: CodedVisit, on: date) -> list[Finding]:
    found: list[Finding] = []
    dx = encounter.diagnoses
    limit = MAX_DIAGNOSES[encounter.kind]
    if not dx and encounter.kind == "medical":
        found.append(
            Finding(
                "diagnosis-required",
                "error",
                "/diagnoses",
                "A medical claim needs at least one ICD-10-CM diagnosis.",
            )
        )
    if len(dx) > limit:
        found.append(
            Finding(
                "too-many-diagnoses",
                "error",
                "/diagnoses",
                f"A {encounter.kind} claim carries at most {limit} diagnoses; "
                f"this encounter has {len(dx)}.",
            )
        )
    seen: dict[str, int] = {}
    for i, code in enumerate(dx):
        if code in seen:
            found.append(
                Finding(
                    "duplicate-diagnosis",
                    "error",
                    f"/diagnoses/{i}",
                    f"{display_code(code)} is listed twice.",
                )
            )
        seen.setdefault(code, i)
    if not dx:
        return found
    checks = [codes.CodeCheck(codes.ICD10CM, code) for code in dx]
    verdicts = codes.validate_codes(session, checks, on)
    lookups: dict[int, codes.CodeLookup] = {}
    for i, verdict in enumerate(verdicts):
        pointer = f"/diagnoses/{i}"
        found += [Finding("code-set-outdated", "warning", pointer, w) for w in verdict.warnings]
        if verdict.valid:
            lookups[i] = codes.lookup_valid(session, verdict)
            continue
        if verdict.reason == "system-not-loaded":
            found.append(_not_loaded(verdict, pointer))
            continue
        message = verdict.detail
        if verdict.suggestions:
            shown = ", ".join(display_code(r.code) for r in verdict.suggestions[:10])
            message += f" Billable codes below it include {shown}."
        found.append(Finding(f"icd10cm-{verdict.reason}", "error", pointer, message))
    some = next(iter(lookups.values()), None)
    notes = notes_for(some.version.version) if some is not None else None
    found += _excludes1(dx, lookups, notes)
    first = lookups.get(0)
    titles = codes.ancestor_titles(session, first) if first is not None else []
    sequencing = sequencing_findings(dx[0], first, titles)
    found += sequencing
    if notes is not None:
        found += note_findings(dx, sorted(lookups), notes, first_checked=bool(sequencing))
    return _dedupe(found)


def _excludes1(
    dx: list[str], lookups: dict[int, codes.CodeLookup], notes: VersionNotes | None
) -> list[Finding]:
    found: list[Finding] = []
    without = notes.without_notes if notes is not None else frozenset()
    for i, lookup in lookups.items():
        for j, other in enumerate(dx):
            if i == j or j not in lookups:
                continue
            note = next((n for n in lookup.excludes1 if _covers(n.cited, other)), None)
            if note is not None and (i < j or not _mutual(lookups[j], dx[i])):
                found.append(
                    Finding(
                        "icd10cm-excludes1",
                        "error",
                        f"/diagnoses/{j}",
                        f"{display_code(dx[i])} excludes {display_code(other)} (Excludes1 at "
                        f"{display_code(note.at)}): they may not be coded together."
                        + _no_notes(without, dx[i], other),
                    )
                )
    return found


def _no_notes(without: frozenset[str], *pair: str) -> str:
    """FY2027 codes the addenda added have no Excludes1 notes of their own in the bundle."""
    new = [display_code(code) for code in pair if code in without]
    if not new:
        return ""
    return (
        f" ({' and '.join(new)}: new in FY2027; the CMS addenda carry no notes, so only the "
        "Excludes1 notes of the codes above it are checked.)"
    )


def _mutual(lookup: codes.CodeLookup, other: str) -> bool:
    return any(_covers(n.cited, other) for n in lookup.excludes1)


def _line_findings(
    session: Session, encounter: CodedVisit, lines: Sequence[CodedLine]
) -> list[Finding]:
    found: list[Finding] = []
    if len(lines) > MAX_LINES:
        found.append(
            Finding(
                "too-many-lines",
                "error",
                "/service_lines",
                f"A claim carries at most {MAX_LINES} lines; this one has {len(lines)}.",
            )
        )
    if not lines:
        found.append(
            Finding(
                "service-line-required",
                "error",
                "/service_lines",
                "Code at least one service line.",
            )
        )
    allowed = LINE_SYSTEMS[encounter.kind]
    dx_count = len(encounter.diagnoses)
    keys: dict[tuple[object, ...], int] = {}
    for i, line in enumerate(lines):
        at = f"/service_lines/{i}"
        if line.code_system not in allowed:
            found.append(
                Finding(
                    "line-code-system",
                    "error",
                    f"{at}/code_system",
                    f"A {encounter.kind} claim takes {' or '.join(sorted(allowed))} "
                    f"codes, not {line.code_system}.",
                )
            )
        bad = [p for p in line.pointers if not 1 <= p <= dx_count]
        if bad:
            found.append(
                Finding(
                    "pointer-out-of-range",
                    "error",
                    f"{at}/pointers",
                    f"Pointer {bad[0]} points at no diagnosis (there are {dx_count}).",
                )
            )
        if not line.pointers and encounter.kind == "medical":
            found.append(
                Finding(
                    "pointer-required",
                    "error",
                    f"{at}/pointers",
                    "A medical line points at one to four diagnoses.",
                )
            )
        if len(set(line.pointers)) != len(line.pointers):
            found.append(
                Finding(
                    "pointer-repeated",
                    "error",
                    f"{at}/pointers",
                    "A diagnosis pointer is repeated on this line.",
                )
            )
        key = (line.code, tuple(line.modifiers), line.service_date, line.tooth, line.surfaces)
        if key in keys and not REPEAT_MODIFIERS & set(line.modifiers):
            found.append(
                Finding(
                    "duplicate-line",
                    "error",
                    at,
                    f"Line {i + 1} repeats line {keys[key] + 1}; add a repeat "
                    "modifier (76, 77, 91) or combine the units.",
                )
            )
        keys.setdefault(key, i)
        if line.code_system == "CDT":
            needs_tooth, needs_surfaces = _dental_requirements(line.code)
            if needs_tooth and not line.tooth:
                found.append(
                    Finding(
                        "dental-tooth-required",
                        "error",
                        f"{at}/tooth",
                        f"{line.code} needs a tooth number.",
                    )
                )
            if needs_surfaces and not line.surfaces:
                found.append(
                    Finding(
                        "dental-surfaces-required",
                        "error",
                        f"{at}/surfaces",
                        f"{line.code} needs the tooth surfaces.",
                    )
                )
    found += _line_code_validity(session, encounter, lines)
    if encounter.kind == "medical" and lines:
        found += _ncci(session, encounter.date_of_service, lines)
    return _dedupe(found)


def _not_loaded(verdict: codes.CodeVerdict, pointer: str) -> Finding:
    """A set that is not loaded is a warning naming it, never a silent pass."""
    info = codes.SYSTEMS.get(verdict.system)
    label = info.label if info else verdict.system
    how = f" ({info.how_to_load})" if info else ""
    return Finding(
        f"{verdict.system}-not-loaded",
        "warning",
        pointer,
        f"{label} is not loaded, so {verdict.code or 'the code'} was not checked{how}.",
    )


def _line_code_validity(
    session: Session, encounter: CodedVisit, lines: Sequence[CodedLine]
) -> list[Finding]:
    """Line codes, modifiers, oral areas and the place of service in one validation batch."""
    found: list[Finding] = []
    checks = [codes.CodeCheck(line.code_system.lower(), line.code) for line in lines]
    pointers = [f"/service_lines/{i}/code" for i in range(len(lines))]
    for i, line in enumerate(lines):
        checks += [codes.CodeCheck("modifier", m) for m in line.modifiers]
        pointers += [f"/service_lines/{i}/modifiers/{k}" for k in range(len(line.modifiers))]
        if line.oral_area:
            checks.append(codes.CodeCheck("oral_area", line.oral_area))
            pointers.append(f"/service_lines/{i}/oral_area")
    checks.append(codes.CodeCheck("pos", encounter.place_of_service))
    verdicts = codes.validate_codes(session, checks, encounter.date_of_service)
    place = verdicts.pop()
    found += pos_findings(encounter.place_of_service, encounter.date_of_service, place, lines)
    for verdict, pointer in zip(verdicts, pointers, strict=True):
        if verdict.valid:
            continue
        if verdict.reason == "system-not-loaded":
            found.append(_not_loaded(verdict, pointer))
        else:
            found.append(
                Finding(f"{verdict.system}-{verdict.reason}", "error", pointer, verdict.detail)
            )
    return found


def _ncci(session: Session, on: date, lines: Sequence[CodedLine]) -> list[Finding]:
    """NCCI PTP pairs (with modifier bypass) and MUE units, when those tables are imported."""
    found: list[Finding] = []
    try:
        _, edits = codes.ptp_edits(session, [line.code for line in lines], on)
    except DomainError as error:
        found.append(
            Finding(
                "ncci-ptp-not-loaded",
                "warning",
                "/service_lines",
                f"{error.detail} NCCI PTP pairs were not checked.",
            )
        )
        edits = []
    for edit in edits:
        em_pair = code_classes.is_em(edit.column1) or code_classes.is_em(edit.column2)
        bypassing = PTP_BYPASS - DISTINCT_MODIFIERS if em_pair else PTP_BYPASS
        # The E/M line carries 25/57 whichever column the E/M code is in.
        pair_mods = {
            m for line in lines if em_pair and code_classes.is_em(line.code) for m in line.modifiers
        }
        for i, line in enumerate(lines):
            if line.code != edit.column2:
                continue
            if not any(other.code == edit.column1 for other in lines):
                continue
            used = bypassing & (set(line.modifiers) | pair_mods)
            if edit.modifier_indicator == "1" and used:
                continue
            if edit.modifier_indicator != "1":
                allowed = "no modifier allows the pair"
            elif em_pair:
                allowed = "59 and X{EPSU} never separate an E/M pair; 25 or 57 on the E/M may"
            else:
                allowed = "a modifier such as 59 or XU may be appropriate"
            found.append(
                Finding(
                    "ncci-ptp",
                    "error",
                    f"/service_lines/{i}/code",
                    f"NCCI bundles {edit.column2} into {edit.column1} ({allowed}).",
                )
            )
    found += _mue(session, on, lines)
    return found


def _mue(session: Session, on: date, lines: Sequence[CodedLine]) -> list[Finding]:
    """MUE by its adjudication indicator: 1 per line (claim line edit), 2 and 3 per date of
    service (the units of all lines with the code on one date)."""
    found: list[Finding] = []
    for code in dict.fromkeys(line.code for line in lines):
        try:
            _, limit = codes.mue_limit(session, code, on)
        except DomainError as error:
            return [
                Finding(
                    "mue-not-loaded",
                    "warning",
                    "/service_lines",
                    f"{error.detail} MUE units were not checked.",
                )
            ]
        if limit is None:
            continue
        totals: dict[object, float] = {}
        first: dict[object, int] = {}
        for i, line in enumerate(lines):
            if line.code != code:
                continue
            key: object = i if limit.adjudication_indicator == "1" else line.service_date
            totals[key] = totals.get(key, 0.0) + float(line.units)
            first.setdefault(key, i)
        per = "on one line" if limit.adjudication_indicator == "1" else "on one date of service"
        for key, total in totals.items():
            if total > limit.max_units:
                found.append(
                    Finding(
                        "mue-exceeded",
                        "error",
                        f"/service_lines/{first[key]}/units",
                        f"{code}: {total:g} units {per} exceed the MUE of {limit.max_units} "
                        f"(adjudication indicator {limit.adjudication_indicator}).",
                    )
                )
    return found


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[Finding] = set()
    return [f for f in findings if not (f in seen or seen.add(f))]  # type: ignore[func-returns-value]
