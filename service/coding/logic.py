"""Use cases: open an encounter, code it (diagnoses and lines), move it through its statuses.

Status: open -> coded -> ready -> billed. `ready` needs no error findings; a coding change
sends a ready encounter back to coded; billed encounters are locked (the claims capability
sets billed when the primary claim is batched).
"""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from service import crud, references
from service.audit import logic as audit
from service.auth.logic import Principal
from service.codesets.search import display_code, normalize_code
from service.coding import edits
from service.coding.models import Encounter, ServiceLine
from service.coding.schemas import CodingIn, EncounterCreate, ServiceLineIn
from service.directory import logic as directory
from service.directory.models import Facility, Provider
from service.errors import Conflict, FieldError, InvalidInput, NotFound
from service.patients.models import Coverage, Patient
from service.records import bump_version
from service.references import require_reference


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
    require_reference(session, actor, Patient, data.patient_id, "/patient_id")
    for name in ("billing_provider_id", "rendering_provider_id", "referring_provider_id"):
        require_reference(session, actor, Provider, getattr(data, name), f"/{name}")
    require_reference(session, actor, Facility, data.facility_id, "/facility_id")
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
    json_fields=("coverage_ids",),
)


def lines_of(session: Session, encounter_id: str) -> list[ServiceLine]:
    return list(
        session.exec(
            select(ServiceLine)
            .where(ServiceLine.encounter_id == encounter_id)
            .order_by(col(ServiceLine.position))
        ).all()
    )


def refresh_findings(session: Session, encounter: Encounter) -> list[edits.Finding]:
    findings = edits.check_encounter(session, encounter, lines_of(session, encounter.id))
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
    encounter = crud.update(
        session, actor, ENCOUNTERS, encounter_id, patch, expected_version=expected_version
    )
    if encounter.status == "ready":
        encounter.status = "coded"  # what was checked has changed
    refresh_findings(session, encounter)
    return encounter


def _primary_payer_id(session: Session, encounter: Encounter) -> str | None:
    for coverage_id in encounter.coverage_ids:
        coverage = session.get(Coverage, coverage_id)
        if coverage is not None and coverage.priority == "primary":
            return coverage.payer_id
    return None


def _line(
    session: Session, encounter: Encounter, data: ServiceLineIn, position: int, pointer: str
) -> ServiceLine:
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
    """Replaces the diagnoses and service lines; the edits run again; audited before/after."""
    encounter = _editable(session, actor, encounter_id, expected_version)
    old_lines = lines_of(session, encounter.id)
    before = _coding_snapshot(encounter, old_lines)
    new_lines = [
        _line(session, encounter, line, i + 1, f"/service_lines/{i}")
        for i, line in enumerate(data.service_lines)
    ]
    for line in old_lines:
        session.delete(line)
    session.flush()
    encounter.diagnoses = [normalize_code(code) for code in data.diagnoses]
    session.add_all(new_lines)
    _after_coding_change(session, actor, encounter, before, new_lines)
    return encounter


def add_service_line(
    session: Session,
    actor: Principal,
    encounter_id: str,
    data: ServiceLineIn,
    *,
    source: str = "manual",
    source_id: str | None = None,
    expected_version: int | None = None,
) -> ServiceLine:
    """One more line (charge capture from verified lab results comes through here)."""
    encounter = _editable(session, actor, encounter_id, expected_version)
    old_lines = lines_of(session, encounter.id)
    before = _coding_snapshot(encounter, old_lines)
    line = _line(session, encounter, data, len(old_lines) + 1, "")
    line.source, line.source_id = source, source_id
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
    session.flush()
    refresh_findings(session, encounter)
    audit.record(
        session,
        actor,
        action="code",
        resource_type="encounter",
        resource_id=encounter.id,
        patient_id=encounter.patient_id,
        changes={"before": before, "after": _coding_snapshot(encounter, lines)},
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


def mark_billed(session: Session, encounter: Encounter) -> None:
    """Called by the claims capability when the primary claim goes into a batch."""
    encounter.status = "billed"
    session.add(encounter)


def total_charge(lines: Sequence[ServiceLine]) -> Decimal:
    return sum((line.charge for line in lines), Decimal("0.00"))


def encounters_query_filter(query: Any, f: Any) -> Any:
    if f.patient_id:
        query = query.where(Encounter.patient_id == f.patient_id)
    if f.status:
        query = query.where(Encounter.status == f.status)
    if f.kind:
        query = query.where(Encounter.kind == f.kind)
    if f.date_from:
        query = query.where(col(Encounter.date_of_service) >= f.date_from)
    if f.date_to:
        query = query.where(col(Encounter.date_of_service) <= f.date_to)
    return query
