"""Use cases: open an encounter, code it (diagnoses and lines), move it through its statuses.

Status: open -> coded -> ready -> billed. `ready` needs no error findings; a coding change
sends a ready encounter back to coded; billed encounters are locked. Batching the primary
claim moves a ready encounter to billed (mark_billed, called by claims); a coder or biller may
reopen a billed one for correction (reopen_encounter: back to coded, the reason audited), and
claims built before the re-coding are then stale (coding_version) until rebuilt.
"""

from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service import crud, references
from service.audit import logic as audit
from service.auth.logic import Principal
from service.codesets.search import display_code, normalize_code
from service.coding import edits
from service.coding.models import LINE_DETAIL, LINE_VALUES, Encounter, ServiceLine
from service.coding.schemas import CodingIn, EncounterCreate, ServiceLineIn
from service.directory import logic as directory
from service.directory.models import Facility, Provider
from service.errors import Conflict, FieldError, InvalidInput, NotFound
from service.filters import Filter, apply_filters
from service.patients import coverages as coverage_logic
from service.patients.models import Coverage, Patient
from service.records import bump_version
from service.references import require_reference, resolve_reference
from service.sql_lists import one_of


class EncounterNotFound(NotFound):
    code = "encounter-not-found"


class EncounterLocked(Conflict):
    code = "encounter-locked"


class EncounterTransitionRefused(Conflict):
    code = "encounter-transition-refused"


class NoFeeForCode(InvalidInput):
    code = "no-fee-for-code"


TRANSITIONS = {
    "open": {"coded"},
    "coded": {"open", "ready"},
    "ready": {"open", "coded"},
    "billed": set(),
}


def _check(session: Session, actor: Principal, data: EncounterCreate, row: Any) -> None:
    resolve_reference(session, actor, Patient, data, "patient_id")
    for name in ("billing_provider_id", "rendering_provider_id", "referring_provider_id"):
        resolve_reference(session, actor, Provider, data, name)
    require_reference(session, actor, Facility, data.facility_id, "/facility_id")
    if row is None and "coverage_ids" not in data.model_fields_set:
        # Sent without coverages, an encounter bills the patient's in force on its date, primary
        # first, as FHIR ones do (`"coverage_ids": []` says self-pay).
        data.coverage_ids = coverage_logic.coverages_in_force(
            session, actor.organization_id, data.patient_id, data.date_of_service
        )
    for i, coverage_id in enumerate(data.coverage_ids):
        require_reference(
            session, actor, Coverage, coverage_id, f"/coverage_ids/{i}", patient_id=data.patient_id
        )
    if row is not None and row.status == "billed":
        raise EncounterLocked(f"Encounter {row.id} is billed; its claim carries it now.")
    references.refuse_reparenting(
        session, row, data.patient_id, references.ENCOUNTER_DEPENDANTS, kind="encounter"
    )


ENCOUNTERS: crud.Resource[Encounter, EncounterCreate] = crud.Resource(
    name="encounter",
    model=Encounter,
    create_schema=EncounterCreate,
    check=_check,
    patient_id=lambda row: row.patient_id,
    phi=True,
    not_found=EncounterNotFound,
    json_fields=("coverage_ids", "related_causes", "attachments"),
)


def find_encounter(session: Session, organization_id: str, encounter_id: str) -> Encounter | None:
    """The encounter by id, unaudited: for work that follows from it (charge capture)."""
    row = session.get(Encounter, encounter_id)
    return row if row is not None and row.organization_id == organization_id else None


def has_line_from(session: Session, encounter_id: str, source: str, source_id: str) -> bool:
    """Whether a line of the encounter came from this source already (a lab result charged)."""
    found = session.exec(
        select(ServiceLine.id).where(
            ServiceLine.encounter_id == encounter_id,
            ServiceLine.source == source,
            ServiceLine.source_id == source_id,
        )
    ).first()
    return found is not None


def lines_of(session: Session, encounter_id: str) -> list[ServiceLine]:
    return list(
        session.exec(
            select(ServiceLine)
            .where(ServiceLine.encounter_id == encounter_id)
            .order_by(col(ServiceLine.position))
        ).all()
    )


def refresh_findings(session: Session, encounter: Encounter) -> list[edits.Finding]:
    patient = session.get(Patient, encounter.patient_id)
    findings = edits.check_encounter(session, encounter, lines_of(session, encounter.id), patient)
    encounter.findings = [f.as_dict() for f in findings]
    session.add(encounter)
    session.flush()
    return findings


def open_encounter(session: Session, actor: Principal, data: EncounterCreate) -> Encounter:
    encounter = crud.create(session, actor, ENCOUNTERS, data)
    refresh_findings(session, encounter)
    return encounter


def update_encounter(
    session: Session,
    actor: Principal,
    encounter_id: str,
    patch: dict[str, Any],
    *,
    expected_version: int | None,
) -> Encounter:
    current = crud.get(session, actor, ENCOUNTERS, encounter_id, audit_read=False)
    copied = (current.date_of_service, current.place_of_service)  # what claims copy besides codes
    before = crud.document(ENCOUNTERS, current)
    encounter = crud.update(
        session, actor, ENCOUNTERS, encounter_id, patch, expected_version=expected_version
    )
    if encounter.status == "ready" and crud.document(ENCOUNTERS, encounter) != before:
        encounter.status = "coded"  # what was checked has changed: the answer says so
    if (encounter.date_of_service, encounter.place_of_service) != copied:
        encounter.coding_version += 1  # claims built before carry the old date or place
    refresh_findings(session, encounter)
    return encounter


def _primary_payer_id(session: Session, encounter: Encounter) -> str | None:
    for coverage_id in encounter.coverage_ids:
        coverage = session.get(Coverage, coverage_id)
        if coverage is not None and coverage.priority == "primary":
            return coverage.payer_id
    return None


def is_anesthesia_code(code_system: str, code: str) -> bool:
    """CPT anesthesia services, 00100-01999: billed in minutes (SV103 MJ)."""
    return code_system == "CPT" and code.isdigit() and "00100" <= code <= "01999"


def _check_line_detail(
    session: Session, encounter: Encounter, data: ServiceLineIn, pointer: str
) -> None:
    """What the line's claim detail must agree with (each failure a 422 at its field)."""
    errors: list[FieldError] = []
    drug = (data.ndc, data.ndc_unit, data.ndc_quantity)
    if any(v is not None for v in drug) and any(v is None for v in drug):
        for name, value in zip(("ndc", "ndc_unit", "ndc_quantity"), drug, strict=True):
            if value is None:
                errors.append(FieldError(f"{pointer}/{name}", "an NDC needs its unit and quantity"))
    if data.ndc_link_number is not None and data.ndc is None:
        errors.append(
            FieldError(f"{pointer}/ndc_link_number", "a link sequence number (REF*VY) needs an NDC")
        )
    if data.anesthesia_minutes is not None and not is_anesthesia_code(data.code_system, data.code):
        errors.append(
            FieldError(
                f"{pointer}/anesthesia_minutes",
                f"{data.code} is not an anesthesia code (CPT 00100-01999): minutes (MJ) go "
                "with anesthesia only",
            )
        )
    if encounter.kind == "dental" or data.code_system == "CDT":
        for name in ("ndc", "anesthesia_minutes", "ordering_provider_id"):
            if getattr(data, name) is not None:
                errors.append(FieldError(f"{pointer}/{name}", "not sent on a dental claim (837D)"))
    for name in ("rendering_provider_id", "ordering_provider_id"):
        provider_id = getattr(data, name)
        if provider_id is None:
            continue
        provider = session.get(Provider, provider_id)
        if (
            provider is None
            or provider.organization_id != encounter.organization_id
            or provider.deleted_at is not None
        ):
            errors.append(FieldError(f"{pointer}/{name}", "no provider with this id"))
        elif provider.kind != "individual":
            errors.append(
                FieldError(f"{pointer}/{name}", "a line's provider (2420A/2420E) is a person")
            )
    if errors:
        raise InvalidInput("The service line's claim detail does not agree.", errors=errors)


def _line(
    session: Session, encounter: Encounter, data: ServiceLineIn, position: int, pointer: str
) -> ServiceLine:
    _check_line_detail(session, encounter, data, pointer)
    charge = data.charge
    if charge is None:
        charge = directory.fee_for(
            session,
            encounter.organization_id,
            code_system=data.code_system,
            code=data.code,
            modifier=data.modifiers[0] if data.modifiers else None,
            payer_id=_primary_payer_id(session, encounter),
            on=data.service_date or encounter.date_of_service,
        )
        if charge is None:
            raise NoFeeForCode(
                f"No fee schedule in force lists {data.code}; send the charge.",
                errors=[FieldError(f"{pointer}/charge", "no fee for this code: send it")],
            )
    return ServiceLine(
        organization_id=encounter.organization_id,
        encounter_id=encounter.id,
        position=position,
        code_system=data.code_system,
        code=data.code,
        modifiers=list(data.modifiers),
        units=data.units,
        charge=charge,
        service_date=data.service_date or encounter.date_of_service,
        pointers=list(data.pointers),
        tooth=data.tooth,
        surfaces=data.surfaces,
        oral_area=data.oral_area,
        prosthesis=data.prosthesis,
        **{name: getattr(data, name) for name in LINE_DETAIL},
    )


def _coding_snapshot(encounter: Encounter, lines: Sequence[ServiceLine]) -> dict[str, Any]:
    """Codes, not names: what the audit trail keeps of a coding change."""
    return {
        "diagnoses": [display_code(c) for c in encounter.diagnoses],
        "service_lines": [
            {
                "code": f"{ln.code_system} {ln.code}",
                "modifiers": ln.modifiers,
                "units": str(ln.units),
                "charge": str(ln.charge),
                "pointers": ln.pointers,
                "tooth": ln.tooth,
                "surfaces": ln.surfaces,
                # Only when set: the clerk's word that a repeated service is no duplicate.
                **({"duplicate_acknowledged": True} if ln.duplicate_acknowledged else {}),
            }
            for ln in lines
        ],
    }


def _editable(
    session: Session, actor: Principal, encounter_id: str, version: int | None
) -> Encounter:
    encounter = crud.get(session, actor, ENCOUNTERS, encounter_id, audit_read=False)
    if encounter.status == "billed":
        raise EncounterLocked(f"Encounter {encounter.id} is billed; its coding is locked.")
    bump_version(session, encounter, version)
    return encounter


def code_encounter(
    session: Session,
    actor: Principal,
    encounter_id: str,
    data: CodingIn,
    *,
    expected_version: int | None,
) -> Encounter:
    """Sets the diagnoses and service lines; the edits run again; audited before/after.

    Lines that stay keep their rows (and ids, which charge capture and claim lines point at):
    an incoming line takes the existing row with the same values, else one with the same code,
    date and tooth (updated in place); rows left over are deleted and new ones inserted."""
    encounter = _editable(session, actor, encounter_id, expected_version)
    old_lines = lines_of(session, encounter.id)
    before = _coding_snapshot(encounter, old_lines)
    wanted = [
        _line(session, encounter, line, i + 1, f"/service_lines/{i}")
        for i, line in enumerate(data.service_lines)
    ]
    kept = _match_lines(old_lines, wanted)
    # Positions are unique per encounter: park the kept rows out of the way first.
    for i, parked in enumerate(kept.values()):
        parked.position = -1 - i
        session.add(parked)
    for old in old_lines:
        if old not in kept.values():
            session.delete(old)
    session.flush()
    lines: list[ServiceLine] = []
    for i, new in enumerate(wanted):
        row = kept.get(i)
        if row is None:
            session.add(new)
            lines.append(new)
            continue
        for name in LINE_VALUES:
            setattr(row, name, getattr(new, name))
        row.position = new.position
        session.add(row)
        lines.append(row)
    encounter.diagnoses = [normalize_code(code) for code in data.diagnoses]
    _after_coding_change(session, actor, encounter, before, lines)
    return encounter


def _match_lines(old: list[ServiceLine], new: list[ServiceLine]) -> dict[int, ServiceLine]:
    """Index of each new line -> the existing row it updates (same values first, then the same
    code, date and tooth)."""
    free = list(old)
    kept: dict[int, ServiceLine] = {}
    keys: tuple[tuple[str, ...], ...] = (
        LINE_VALUES,
        ("code_system", "code", "service_date", "tooth"),
    )
    for key in keys:
        for i, line in enumerate(new):
            if i in kept:
                continue
            match = next(
                (row for row in free if all(getattr(row, k) == getattr(line, k) for k in key)),
                None,
            )
            if match is not None:
                kept[i] = match
                free.remove(match)
    return kept


class TooManyDiagnoses(InvalidInput):
    code = "too-many-diagnoses"


def add_diagnosis(
    session: Session,
    actor: Principal,
    encounter_id: str,
    code: str,
    *,
    expected_version: int | None = None,
) -> Encounter:
    """Appends one diagnosis; the service lines are not touched. The edits run again and the
    change is audited as a coding change (FHIR Condition create comes through here)."""
    encounter = _editable(session, actor, encounter_id, expected_version)
    lines = lines_of(session, encounter.id)
    before = _coding_snapshot(encounter, lines)
    limit = CodingIn.model_fields["diagnoses"].metadata
    most = next((m.max_length for m in limit if hasattr(m, "max_length")), None)
    if most is not None and len(encounter.diagnoses) >= most:
        raise TooManyDiagnoses(f"Encounter {encounter.id} has {most} diagnoses already.")
    encounter.diagnoses = [*encounter.diagnoses, normalize_code(code)]
    _after_coding_change(session, actor, encounter, before, lines)
    return encounter


def add_service_line(
    session: Session,
    actor: Principal,
    encounter_id: str,
    data: ServiceLineIn,
    *,
    source: str = "manual",
    source_id: str | None = None,
    origin: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> ServiceLine:
    """One more line (charge capture from verified lab results comes through here, with the
    specimen and lab test the line came from as its origin)."""
    encounter = _editable(session, actor, encounter_id, expected_version)
    old_lines = lines_of(session, encounter.id)
    before = _coding_snapshot(encounter, old_lines)
    line = _line(session, encounter, data, len(old_lines) + 1, "")
    line.source, line.source_id, line.origin = source, source_id, origin
    session.add(line)
    _after_coding_change(session, actor, encounter, before, [*old_lines, line])
    return line


def _after_coding_change(
    session: Session,
    actor: Principal,
    encounter: Encounter,
    before: dict[str, Any],
    lines: Sequence[ServiceLine],
) -> None:
    if encounter.status in ("open", "ready"):
        encounter.status = "coded"
    encounter.coding_version += 1  # claims built before this change are stale
    session.flush()
    refresh_findings(session, encounter)
    after = _coding_snapshot(encounter, lines)
    audit.record(
        session,
        actor,
        action="code",
        resource_type="encounter",
        resource_id=encounter.id,
        patient_id=encounter.patient_id,
        changes={"before": before, "after": after},
    )
    acknowledged = _acknowledged(after) - _acknowledged(before)
    if acknowledged:
        # The clerk's word overrides an error edit: an event of its own, easy to find.
        audit.record(
            session,
            actor,
            action="acknowledge-duplicate",
            resource_type="encounter",
            resource_id=encounter.id,
            patient_id=encounter.patient_id,
            detail="not a duplicate claim line: " + ", ".join(sorted(acknowledged.elements())),
        )


def _acknowledged(snapshot: dict[str, Any]) -> Counter[str]:
    return Counter(
        line["code"] for line in snapshot["service_lines"] if line.get("duplicate_acknowledged")
    )


def change_status(
    session: Session,
    actor: Principal,
    encounter_id: str,
    status: str,
    *,
    expected_version: int | None,
) -> Encounter:
    encounter = crud.get(session, actor, ENCOUNTERS, encounter_id, audit_read=False)
    if status not in TRANSITIONS[encounter.status]:
        allowed = ", ".join(sorted(TRANSITIONS[encounter.status])) or "none"
        raise EncounterTransitionRefused(
            f"Encounter {encounter.id} is {encounter.status}; it can move to: {allowed}."
        )
    findings = refresh_findings(session, encounter)
    errors = [f for f in findings if f.severity == "error"]
    if status == "ready" and errors:
        raise EncounterTransitionRefused(
            f"Encounter {encounter.id} has {len(errors)} coding error(s); fix them first.",
            errors=[FieldError(f.field, f"{f.code}: {f.message}") for f in errors],
        )
    bump_version(session, encounter, expected_version)
    previous, encounter.status = encounter.status, status
    session.add(encounter)
    session.flush()
    audit.record(
        session,
        actor,
        action="update",
        resource_type="encounter",
        resource_id=encounter.id,
        patient_id=encounter.patient_id,
        detail=f"status {previous} -> {status}",
    )
    return encounter


def _move_many(session: Session, encounter_ids: Sequence[str], frm: str, to: str) -> None:
    for start in range(0, len(encounter_ids), 500):
        session.execute(
            sa.update(Encounter)
            # One parameter per page on PostgreSQL (500 placeholders: a slow conversion).
            .where(one_of(session, Encounter.id, encounter_ids[start : start + 500]))
            .where(col(Encounter.status) == frm)
            .values(status=to, version=Encounter.version + 1)
        )


def mark_billed(session: Session, encounter_ids: Sequence[str]) -> None:
    """DESIGN.md: batching the primary claim moves its ready encounter to billed (one that is
    billed already, its corrected claim sent again, stays billed)."""
    _move_many(session, encounter_ids, "ready", "billed")


def unbill_encounters(session: Session, encounter_ids: Sequence[str]) -> None:
    """The batch that billed them was cancelled before it was sent: back to ready."""
    _move_many(session, encounter_ids, "billed", "ready")


def reopen_encounter(
    session: Session,
    actor: Principal,
    encounter_id: str,
    *,
    reason: str,
    expected_version: int | None = None,
) -> Encounter:
    """A billed encounter opened again for correction (back to coded, the reason audited); its
    claims are stale once it is re-coded, and are rebuilt or replaced from the new coding."""
    encounter = crud.get(session, actor, ENCOUNTERS, encounter_id, audit_read=False)
    if encounter.status != "billed":
        raise EncounterTransitionRefused(
            f"Encounter {encounter.id} is {encounter.status}; only a billed encounter is "
            "reopened (the others are still open to coding)."
        )
    bump_version(session, encounter, expected_version)
    encounter.status = "coded"
    session.add(encounter)
    session.flush()
    audit.record(
        session,
        actor,
        action="update",
        resource_type="encounter",
        resource_id=encounter.id,
        patient_id=encounter.patient_id,
        detail=f"status billed -> coded (reopened for correction): {reason}",
    )
    return encounter


def total_charge(lines: Sequence[ServiceLine]) -> Decimal:
    return sum((line.charge for line in lines), Decimal("0.00"))


ENCOUNTER_FILTERS = (
    Filter("patient_id", Encounter.patient_id),
    Filter("status", Encounter.status),
    Filter("kind", Encounter.kind),
    Filter("date_from", Encounter.date_of_service, "ge"),
    Filter("date_to", Encounter.date_of_service, "le"),
)


def encounters_query_filter(query: Any, f: Any) -> Any:
    return apply_filters(query, f, ENCOUNTER_FILTERS)
