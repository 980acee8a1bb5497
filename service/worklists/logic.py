"""Worklist use cases: build by rules, add and remove by hand, start, complete, export CSV,
record and accept control results.

A specimen-test is on at most one active worklist: the unique index on
`worklist_item.active_specimen_test_id` decides, so two technicians building at the same moment
never get the same item (the loser's insert skips it and the builder takes the next one).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service import crud, org_clock, references
from service.audit import logic as audit
from service.auth.logic import Principal
from service.errors import Conflict, ErrorList, InvalidInput, NotFound
from service.filters import Filter, apply_filters
from service.ids import new_id
from service.labtests import logic as labtest_logic
from service.labtests.models import LabTest
from service.paging import Page, by_creation, fetch_page
from service.records import bump_version
from service.specimens import analysis as specimen_analysis
from service.specimens import logic as specimen_logic
from service.specimens import repository as specimen_repository
from service.specimens.models import Specimen, SpecimenEvent
from service.worklists import layout as rules
from service.worklists import repository
from service.worklists.models import ControlResult, Worklist, WorklistItem, WorklistTemplate
from service.worklists.schemas import (
    ControlCreate,
    ItemAdd,
    WorklistBuild,
    WorklistFilters,
    WorklistTemplateCreate,
    WorklistTemplateFilters,
)

_ADVISORY_NAMESPACE = 72_053


class WorklistNotFound(NotFound):
    code = "worklist-not-found"


class WorklistTemplateNotFound(NotFound):
    code = "worklist-template-not-found"


class WorklistNotActive(Conflict):
    code = "worklist-not-active"


class IllegalWorklistTransition(Conflict):
    code = "illegal-worklist-transition"


class AlreadyOnWorklist(Conflict):
    code = "specimen-test-on-active-worklist"


class NotWorkable(Conflict):
    code = "specimen-test-not-workable"


class ItemHasResults(Conflict):
    code = "worklist-item-has-results"


class ControlNotFound(NotFound):
    code = "control-result-not-found"


def _check_template(
    session: Session, actor: Principal, data: WorklistTemplateCreate, row: Any
) -> None:
    found = labtest_logic.get_lab_tests(session, actor.organization_id, data.test_ids)
    errors = ErrorList()
    for i, test_id in enumerate(data.test_ids):
        if test_id not in found:
            errors.add(f"/test_ids/{i}", "no lab test with this id")
    errors.raise_if_any()


TEMPLATES: crud.Resource[WorklistTemplate, WorklistTemplateCreate] = crud.Resource(
    name="worklist_template",
    model=WorklistTemplate,
    create_schema=WorklistTemplateCreate,
    check=_check_template,
    not_found=WorklistTemplateNotFound,
    json_fields=("test_ids", "reserved"),
)


def filter_templates(query: Any, f: WorklistTemplateFilters) -> Any:
    return apply_filters(query, f, (Filter("bench", WorklistTemplate.bench),))


def get_worklist(session: Session, actor: Principal, worklist_id: str) -> Worklist:
    row = session.get(Worklist, worklist_id)
    if row is None or row.organization_id != actor.organization_id:
        raise WorklistNotFound(f"No worklist {worklist_id}.")
    return row


def _active(worklist: Worklist) -> None:
    if worklist.status not in rules.ACTIVE:
        raise WorklistNotActive(f"Worklist {worklist.id} is {worklist.status}.")


def _serialize_builders(session: Session, organization_id: str, bench: str) -> None:
    """PostgreSQL: builders of one bench take turns (fewer skipped rows, no lock-order
    deadlocks between their inserts). The unique index stays the guarantee either way; SQLite
    serializes write transactions already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            sa.text("SELECT pg_advisory_xact_lock(:ns, hashtext(:key))"),
            {"ns": _ADVISORY_NAMESPACE, "key": f"{organization_id}:{bench}"},
        )


def _audit_items(
    session: Session, actor: Principal, action: str, specimen_ids: Sequence[str], worklist_id: str
) -> None:
    """One audit event per specimen (patient data) placed, removed or shown."""
    patients: dict[str, str] = {}
    for start in range(0, len(specimen_ids), 1000):
        chunk = list(specimen_ids[start : start + 1000])
        query = select(Specimen.id, Specimen.patient_id).where(col(Specimen.id).in_(chunk))
        patients.update(dict(session.exec(query).all()))
    specimen_logic.audit_specimens(
        session,
        actor,
        action,
        [(sid, patients.get(sid)) for sid in specimen_ids],
        detail=f"worklist {worklist_id}",
    )


def build_worklist(
    session: Session, actor: Principal, data: WorklistBuild, *, at: datetime
) -> Worklist:
    """A new worklist filled from the specimen-tests waiting, up to capacity."""
    template = crud.get(session, actor, TEMPLATES, data.template_id)
    _serialize_builders(session, actor.organization_id, template.bench)
    local = org_clock.local_time(session, actor.organization_id, at)  # names read as staff's clock
    worklist = Worklist(
        organization_id=actor.organization_id,
        template_id=template.id,
        name=data.name or f"{template.name} {local:%Y-%m-%d %H:%M}",
        bench=template.bench,
        instrument=template.instrument,
        test_ids=list(template.test_ids),
        layout=template.layout,
        capacity=template.capacity,
        reserved=list(template.reserved),
        built_by=actor.user_id,
    )
    session.add(worklist)
    session.flush()
    reserved = {r["position"] for r in template.reserved}
    free = rules.free_positions(template.layout, template.capacity, reserved)
    if data.limit is not None:
        free = free[: data.limit]
    placed_specimens = _fill(session, actor, worklist, free, at)
    detail = f"{len(placed_specimens)} specimen-tests"
    audit.record(
        session,
        actor,
        action="create",
        resource_type="worklist",
        resource_id=worklist.id,
        detail=detail,
    )
    return worklist


def _fill(
    session: Session, actor: Principal, worklist: Worklist, free: list[str], at: datetime
) -> list[str]:
    placed: list[repository.Waiting] = []
    for _ in range(20):  # each round only repeats for items another builder took meanwhile
        if not free:
            break
        candidates = repository.waiting(
            session, actor.organization_id, worklist.test_ids, len(free)
        )
        if not candidates:
            break
        rows: list[dict[str, object]] = [
            {
                "id": new_id(),
                "organization_id": actor.organization_id,
                "worklist_id": worklist.id,
                "position": position,
                "specimen_test_id": c.specimen_test_id,
                "specimen_id": c.specimen_id,
                "lab_test_id": c.lab_test_id,
                "active_specimen_test_id": c.specimen_test_id,
                "added_at": at,
            }
            for position, c in zip(free, candidates, strict=False)
        ]
        taken = repository.place(session, rows)
        used = {r["position"] for r in rows if r["specimen_test_id"] in taken}
        free = [p for p in free if p not in used]
        placed += [c for c in candidates if c.specimen_test_id in taken]
    patients = {c.specimen_id: c.patient_id for c in placed}  # one entry per specimen, in order
    specimen_ids = list(patients)
    specimen_analysis.start_analysis(session, actor, specimen_ids, at)
    specimen_repository.add_events(
        session,
        [
            {
                "id": new_id(),
                "organization_id": actor.organization_id,
                "specimen_id": sid,
                "event": "worklist_added",
                "at": at,
                "user_id": actor.user_id,
                "location": None,
                "step": None,
                "deviation": False,
                "details": {"worklist_id": worklist.id},
            }
            for sid in specimen_ids
        ],
    )
    specimen_logic.audit_specimens(
        session, actor, "update", list(patients.items()), detail=f"worklist {worklist.id}"
    )
    session.flush()
    return specimen_ids


def add_item(
    session: Session, actor: Principal, worklist_id: str, data: ItemAdd, *, at: datetime
) -> WorklistItem:
    worklist = get_worklist(session, actor, worklist_id)
    _active(worklist)
    specimen = specimen_logic.load_reference(session, actor, data.specimen_id)
    if data.lab_test_id not in worklist.test_ids:
        # A test named by its code ("A1C") as the bench knows it.
        test = references.find_by_natural_key(
            session, actor, LabTest, data.lab_test_id, "/lab_test_id"
        )
        data.lab_test_id = test.id if test is not None else data.lab_test_id
    if data.lab_test_id not in worklist.test_ids:
        raise InvalidInput("This worklist does not run that test.")
    specimen_test = specimen_repository.find_specimen_test(session, specimen.id, data.lab_test_id)
    if specimen_test is None or specimen_test.status != "pending":
        raise NotWorkable(f"Specimen {specimen.accession} has no pending test {data.lab_test_id}.")
    if specimen.status not in repository.WORKABLE:
        raise NotWorkable(
            f"Specimen {specimen.accession} is {specimen.status}; it must be ready first."
        )
    reserved = {r["position"] for r in worklist.reserved}
    taken = repository.taken_positions(session, worklist.id) | reserved
    if data.position is not None:
        if not rules.is_position(worklist.layout, worklist.capacity, data.position):
            raise InvalidInput(f"{data.position} is not a position of this worklist.")
        if data.position in taken:
            raise Conflict(f"Position {data.position} is taken.")
        position = data.position
    else:
        free = rules.free_positions(worklist.layout, worklist.capacity, taken)
        if not free:
            raise Conflict(f"Worklist {worklist.id} is full.")
        position = free[0]
    bump_version(session, worklist, None)
    placed = repository.place(
        session,
        [
            {
                "id": new_id(),
                "organization_id": actor.organization_id,
                "worklist_id": worklist.id,
                "position": position,
                "specimen_test_id": specimen_test.id,
                "specimen_id": specimen.id,
                "lab_test_id": data.lab_test_id,
                "active_specimen_test_id": specimen_test.id,
                "added_at": at,
            }
        ],
    )
    if not placed:
        raise AlreadyOnWorklist(
            f"Test {data.lab_test_id} of specimen {specimen.accession} is on an active worklist."
        )
    specimen_analysis.start_analysis(session, actor, [specimen.id], at)
    session.add(
        SpecimenEvent(
            organization_id=actor.organization_id,
            specimen_id=specimen.id,
            event="worklist_added",
            at=at,
            user_id=actor.user_id,
            details={"worklist_id": worklist.id, "position": position},
        )
    )
    _audit_items(session, actor, "update", [specimen.id], worklist.id)
    session.flush()
    item = session.exec(
        select(WorklistItem).where(
            WorklistItem.worklist_id == worklist.id, WorklistItem.position == position
        )
    ).one()
    return item


def remove_item(
    session: Session, actor: Principal, worklist_id: str, item_id: str, *, at: datetime
) -> None:
    """Takes a specimen-test off an active worklist (it waits again); not once it has results."""
    worklist = get_worklist(session, actor, worklist_id)
    _active(worklist)
    item = session.get(WorklistItem, item_id)
    if item is None or item.worklist_id != worklist.id:
        raise NotFound(f"No item {item_id} on worklist {worklist.id}.")
    # Entering a first result moves the specimen-test out of `pending` (results own that
    # rule); reading its status keeps worklists from importing results, which import them.
    specimen_test = specimen_repository.get_specimen_test(
        session, actor.organization_id, item.specimen_test_id
    )
    if specimen_test is not None and specimen_test.status in ("resulted", "verified"):
        raise ItemHasResults(f"Item {item_id} has results; correct them instead.")
    bump_version(session, worklist, None)
    session.delete(item)
    session.add(
        SpecimenEvent(
            organization_id=actor.organization_id,
            specimen_id=item.specimen_id,
            event="worklist_removed",
            at=at,
            user_id=actor.user_id,
            details={"worklist_id": worklist.id, "position": item.position},
        )
    )
    _audit_items(session, actor, "update", [item.specimen_id], worklist.id)
    session.flush()


def change_status(
    session: Session, actor: Principal, worklist_id: str, target: str, *, at: datetime
) -> Worklist:
    worklist = get_worklist(session, actor, worklist_id)
    allowed = rules.WORKLIST_TRANSITIONS[worklist.status]
    if target not in allowed:
        options = ", ".join(sorted(allowed)) or "none (final)"
        raise IllegalWorklistTransition(
            f"Worklist {worklist.id} is {worklist.status}; allowed next: {options}."
        )
    bump_version(session, worklist, None)
    worklist.status = target
    if target == "completed":
        worklist.completed_at = at
        repository.release(session, worklist.id)
    session.add(worklist)
    audit.record(
        session,
        actor,
        action="update",
        resource_type="worklist",
        resource_id=worklist.id,
        detail=target,
    )
    session.flush()
    return worklist


def mark_in_progress(session: Session, worklist: Worklist) -> None:
    """Results arriving for an open worklist start it."""
    if worklist.status == "open":
        bump_version(session, worklist, None)
        worklist.status = "in_progress"
        session.add(worklist)


def list_worklists(
    session: Session,
    actor: Principal,
    f: WorklistFilters,
    *,
    limit: int,
    cursor: str | None,
    sort: str | None = None,
) -> Page[Worklist]:
    query = select(Worklist).where(Worklist.organization_id == actor.organization_id)
    query = apply_filters(
        query, f, (Filter("status", Worklist.status), Filter("bench", Worklist.bench))
    )
    return fetch_page(
        session,
        query,
        Worklist.id,
        limit=limit,
        cursor=cursor,
        sort=by_creation(sort, "-created_at"),
    )


def read_worklist(
    session: Session, actor: Principal, worklist_id: str
) -> tuple[Worklist, list[repository.ItemView]]:
    worklist = get_worklist(session, actor, worklist_id)
    items = sorted(
        repository.items_of(session, worklist.id),
        key=lambda v: (
            rules.positions(worklist.layout, worklist.capacity).index(v.item.position)
            if worklist.layout == "plate96"
            else int(v.item.position)
        ),
    )
    _audit_items(session, actor, "read", [v.item.specimen_id for v in items], worklist.id)
    return worklist, items


# --- controls ----------------------------------------------------------------------------------


def record_control(
    session: Session, actor: Principal, worklist_id: str, data: ControlCreate, *, at: datetime
) -> ControlResult:
    worklist = get_worklist(session, actor, worklist_id)
    _active(worklist)
    if data.lab_test_id not in worklist.test_ids:
        raise InvalidInput("This worklist does not run that test.")
    test = labtest_logic.get_lab_tests(session, actor.organization_id, [data.lab_test_id])[
        data.lab_test_id
    ]
    material = next(
        (
            c
            for c in labtest_logic.controls_of(test)
            if c.material == data.material and c.component_code == data.component_code
        ),
        None,
    )
    if material is None:
        raise InvalidInput(
            f"Test {test.code} has no control {data.material} for {data.component_code}."
        )
    row = ControlResult(
        organization_id=actor.organization_id,
        worklist_id=worklist.id,
        lab_test_id=test.id,
        material=material.material,
        component_code=material.component_code,
        value=data.value,
        low=material.low,
        high=material.high,
        in_range=material.low <= data.value <= material.high,
        entered_by=actor.user_id,
        entered_at=at,
    )
    session.add(row)
    mark_in_progress(session, worklist)
    audit.record(
        session,
        actor,
        action="create",
        resource_type="control_result",
        resource_id=row.id,
        detail=f"worklist {worklist.id}",
    )
    session.flush()
    return row


def accept_control(
    session: Session,
    actor: Principal,
    worklist_id: str,
    control_id: str,
    note: str,
    *,
    at: datetime,
) -> ControlResult:
    """A lab user accepts an out-of-range control (documented why), releasing the run."""
    worklist = get_worklist(session, actor, worklist_id)
    row = session.get(ControlResult, control_id)
    if row is None or row.worklist_id != worklist.id:
        raise ControlNotFound(f"No control result {control_id} on worklist {worklist.id}.")
    if row.in_range:
        raise Conflict(f"Control result {control_id} is in range; nothing to accept.")
    if row.accepted_at is None:
        row.accepted_by, row.accepted_at, row.accept_note = actor.user_id, at, note
        session.add(row)
        audit.record(
            session,
            actor,
            action="update",
            resource_type="control_result",
            resource_id=row.id,
            detail="accepted",
        )
        session.flush()
    return row


@dataclass(frozen=True)
class ControlBlock:
    material: str
    component_code: str
    value: str


def blocking_controls(session: Session, worklist_id: str, lab_test_id: str) -> list[ControlBlock]:
    """Controls of a run that block verification: the latest result of each material and
    component is out of range and nobody accepted it (a rerun in range clears it)."""
    latest: dict[tuple[str, str], ControlResult] = {}
    for row in repository.controls_of(session, worklist_id):
        if row.lab_test_id == lab_test_id:
            latest[(row.material, row.component_code)] = row
    return [
        ControlBlock(r.material, r.component_code, str(r.value))
        for r in latest.values()
        if not r.in_range and r.accepted_at is None
    ]


def list_controls(session: Session, actor: Principal, worklist_id: str) -> list[ControlResult]:
    return repository.controls_of(session, get_worklist(session, actor, worklist_id).id)


def worklist_for_import(session: Session, actor: Principal, worklist_id: str) -> Worklist:
    worklist = get_worklist(session, actor, worklist_id)
    _active(worklist)
    return worklist
