"""Specimen use cases: accession, collect, receive, prepare, split, reject, store, dispose, label.

Every status change goes through `states.check_transition` and leaves a SpecimenEvent (the
chain of custody); every read or write is audited with the patient's id (specimens are PHI).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service import org_clock
from service.audit import logic as audit
from service.auth.logic import Principal
from service.errors import Conflict, ErrorList, InvalidInput, NotFound
from service.filters import Filter, apply_filters
from service.ids import new_id
from service.labtests import logic as labtest_logic
from service.labtests.models import LabTest
from service.orders import logic as order_logic
from service.paging import CREATED, Page, SortKey, by_creation, fetch_page, parse_sort
from service.patients.models import Patient
from service.records import bump_version, utcnow
from service.specimens import labels, repository
from service.specimens.models import Specimen, SpecimenEvent, SpecimenTest
from service.specimens.schemas import (
    Collection,
    SpecimenCreate,
    SpecimenFilters,
)
from service.specimens.states import SpecimenStatus, check_transition

S = SpecimenStatus


class SpecimenNotFound(NotFound):
    code = "specimen-not-found"


class OrderNotActive(Conflict):
    code = "lab-order-not-active"


class StepOutOfOrder(Conflict):
    code = "preparation-step-out-of-order"


class StepOutOfRange(InvalidInput):
    code = "preparation-step-out-of-range"


class VolumeInsufficient(Conflict):
    code = "specimen-volume-insufficient"


# --- helpers -----------------------------------------------------------------------------------


def _memo(session: Session, name: str) -> dict[str, Any]:
    """Values read once per transaction (one request, one job): a FHIR bundle or a job that
    accessions many specimens reads the organization's zone and the catalog rows once. A later
    transaction of the same session starts afresh."""
    transaction = session.get_transaction()
    held = session.info.get(name)
    if held is None or held[0] is not transaction:
        held = session.info[name] = (transaction, {})
    memo: dict[str, Any] = held[1]
    return memo


def _lab_tests(session: Session, organization_id: str, ids: list[str]) -> dict[str, LabTest]:
    """`labtest_logic.get_lab_tests`, memoized per transaction. Rows stay ORM objects, so an
    edit or soft delete in this transaction shows; one that a rolled-back savepoint took out of
    the session is read again."""
    memo = _memo(session, "specimens.lab_tests")
    missing = [i for i in ids if i not in memo or not sa.inspect(memo[i]).persistent]
    if missing:
        memo.update(labtest_logic.get_lab_tests(session, organization_id, missing))
    found = (memo.get(i) for i in ids)
    return {
        t.id: t
        for t in found
        if t is not None and t.organization_id == organization_id and t.deleted_at is None
    }


def _event_row(
    actor: Principal, specimen: Specimen, event: str, at: datetime, details: dict[str, Any]
) -> dict[str, Any]:
    """A custody event as a row for `repository.add_events` (no ORM object per row)."""
    return {
        "id": new_id(),
        "organization_id": specimen.organization_id,
        "specimen_id": specimen.id,
        "event": event,
        "at": at,
        "user_id": actor.user_id,
        "location": specimen.location,
        "step": None,
        "deviation": False,
        "details": details,
    }


def add_event(
    session: Session,
    actor: Principal,
    specimen: Specimen,
    event: str,
    at: datetime,
    *,
    location: str | None = None,
    step: str | None = None,
    deviation: bool = False,
    details: dict[str, Any] | None = None,
) -> SpecimenEvent:
    row = SpecimenEvent(
        organization_id=specimen.organization_id,
        specimen_id=specimen.id,
        event=event,
        at=at,
        user_id=actor.user_id,
        location=location if location is not None else specimen.location,
        step=step,
        deviation=deviation,
        details=details or {},
    )
    session.add(row)
    return row


def audit_specimen(
    session: Session, actor: Principal, specimen: Specimen, action: str, detail: str = ""
) -> None:
    audit.record(
        session,
        actor,
        action=action,
        resource_type="specimen",
        resource_id=specimen.id,
        patient_id=specimen.patient_id,
        detail=detail,
    )


def audit_specimens(
    session: Session,
    actor: Principal,
    action: str,
    rows: Sequence[tuple[str, str | None]],
    detail: str = "",
) -> None:
    """One audit event per (specimen id, patient id), in one INSERT."""
    audit.record_many(
        session, actor, action=action, resource_type="specimen", rows=rows, detail=detail
    )


def change_status(
    session: Session,
    actor: Principal,
    specimen: Specimen,
    target: SpecimenStatus,
    at: datetime,
    *,
    location: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """One status change: checked by the table, version claimed, event appended."""
    check_transition(specimen.accession, specimen.status, target)
    before = specimen.status
    bump_version(session, specimen, None)
    specimen.status = target.value
    if location is not None:
        specimen.location = location
    if target is S.READY:
        specimen.ready_at = at
    if target is S.VERIFIED:
        specimen.verified_at = at
    session.add(specimen)
    add_event(
        session,
        actor,
        specimen,
        target.value,
        at,
        location=location,
        details={"from": before, **(details or {})},
    )


def load(session: Session, actor: Principal, specimen_id: str) -> Specimen:
    specimen = repository.get_specimen(session, actor.organization_id, specimen_id)
    if specimen is None:
        raise SpecimenNotFound(f"No specimen {specimen_id}.")
    return specimen


def _accession_year(session: Session, organization_id: str, at: datetime) -> int:
    return org_clock.local_time(session, organization_id, at).year


def format_accession(year: int, number: int) -> str:
    """YY-NNNNNN: the two-digit year of accessioning (organization's zone) and a counter."""
    return f"{year % 100:02d}-{number:06d}"


def tests_for(session: Session, specimen: Specimen) -> list[tuple[SpecimenTest, LabTest]]:
    rows = [t for t in repository.tests_of(session, [specimen.id]) if t.status != "cancelled"]
    tests = labtest_logic.get_lab_tests(
        session, specimen.organization_id, [t.lab_test_id for t in rows]
    )
    return [(row, tests[row.lab_test_id]) for row in rows if row.lab_test_id in tests]


# --- accessioning ------------------------------------------------------------------------------


def accession_specimen(
    session: Session, actor: Principal, data: SpecimenCreate, *, at: datetime
) -> Specimen:
    order = order_logic.get_order_terms(session, actor, data.order_id)
    if order.status != "active":
        raise OrderNotActive(f"Lab order {order.id} is {order.status}.")
    wanted = data.test_ids if data.test_ids is not None else list(order.test_ids)
    errors = ErrorList()
    for i, test_id in enumerate(wanted):
        if test_id not in order.test_ids:
            errors.add(f"/test_ids/{i}", "this test is not on the order")
    if not wanted:
        errors.add("/test_ids", "a specimen is for at least one test")
    errors.raise_if_any()
    tests = _lab_tests(session, actor.organization_id, wanted)
    if len(tests) != len(set(wanted)):
        raise InvalidInput("A test of this order is no longer in the catalog.")
    types = sorted({t.specimen_type for t in tests.values()})
    if len(types) != 1:
        raise InvalidInput(
            f"These tests need different specimen types ({', '.join(types)}): one specimen each."
        )
    first = tests[wanted[0]]
    volume_unit = data.volume_unit or first.volume_unit if data.volume is not None else None
    specimen = new_specimen(
        session,
        actor,
        order_id=order.id,
        patient_id=order.patient_id,
        priority=order.priority,
        specimen_type=types[0],
        container=data.container or first.container,
        location=data.location,
        test_ids=list(dict.fromkeys(wanted)),
        at=at,
        volume=data.volume,
        volume_unit=volume_unit,
    )
    if data.collected_at is not None:
        collect_specimen(
            session,
            actor,
            specimen.id,
            Collection(at=data.collected_at, location=data.location),
            at=at,
            audited=False,
        )
    return specimen


def new_specimen(
    session: Session,
    actor: Principal,
    *,
    order_id: str,
    patient_id: str,
    priority: str,
    specimen_type: str,
    container: str | None,
    location: str | None,
    test_ids: list[str],
    at: datetime,
    recollection_of_id: str | None = None,
    volume: Decimal | None = None,
    volume_unit: str | None = None,
) -> Specimen:
    """A specimen in `ordered` with its tests, custody event and audit event, each one plain
    INSERT; the specimen is returned as a loaded ORM object that callers go on changing."""
    year = _accession_year(session, actor.organization_id, at)
    number = repository.next_accession_number(session, actor.organization_id, year)
    now = utcnow()
    # Defaults given here: SQLModel inspects each default factory's signature on every
    # construction, which costs more than the INSERT.
    specimen = Specimen(
        id=new_id(),
        organization_id=actor.organization_id,
        created_at=now,
        updated_at=now,
        accession=format_accession(year, number),
        order_id=order_id,
        patient_id=patient_id,
        priority=priority,
        specimen_type=specimen_type,
        container=container,
        location=location,
        volume=volume,
        volume_unit=volume_unit,
        recollection_of_id=recollection_of_id,
        warnings=[],
    )
    repository.add_specimen(session, specimen)
    repository.add_tests(session, actor.organization_id, specimen.id, test_ids)
    repository.add_events(
        session, [_event_row(actor, specimen, "accessioned", at, {"order_id": order_id})]
    )
    audit_specimens(session, actor, "create", [(specimen.id, specimen.patient_id)])
    return specimen


# --- custody -----------------------------------------------------------------------------------


def collect_specimen(
    session: Session,
    actor: Principal,
    specimen_id: str,
    data: Collection,
    *,
    at: datetime,
    audited: bool = True,
) -> Specimen:
    specimen = load(session, actor, specimen_id)
    when = (data.at or at).astimezone(UTC)
    change_status(session, actor, specimen, S.COLLECTED, when, location=data.location)
    specimen.collected_at, specimen.collected_by = when, actor.user_id
    if data.volume is not None:
        specimen.volume, specimen.volume_unit = (
            data.volume,
            data.volume_unit or specimen.volume_unit,
        )
    session.add(specimen)
    if audited:
        audit_specimen(session, actor, specimen, "update", "collected")
    session.flush()
    return specimen


def lineage_ids(session: Session, specimen: Specimen) -> list[str]:
    ids, current = [specimen.id], specimen
    while current.parent_id is not None:
        parent = session.get(Specimen, current.parent_id)
        if parent is None:
            break
        ids.append(parent.id)
        current = parent
    return ids


# --- reading -----------------------------------------------------------------------------------


def get_specimen(session: Session, actor: Principal, specimen_id: str) -> Specimen:
    specimen = load(session, actor, specimen_id)
    audit_specimen(session, actor, specimen, "read")
    return specimen


def load_reference(session: Session, actor: Principal, value: str) -> Specimen:
    """A specimen a request names by id or, when no specimen has that id, by accession (what
    the tube's label shows)."""
    specimen = repository.get_specimen(session, actor.organization_id, value)
    if specimen is None:
        specimen = repository.get_by_accession(session, actor.organization_id, value)
    if specimen is None:
        raise SpecimenNotFound(f"No specimen with id or accession {value}.")
    return specimen


def get_specimen_by_accession(session: Session, actor: Principal, accession: str) -> Specimen:
    """A barcode scan: the accession number printed on the label, in one call."""
    specimen = repository.get_by_accession(session, actor.organization_id, accession)
    if specimen is None:
        raise SpecimenNotFound(f"No specimen with accession {accession}.")
    audit_specimen(session, actor, specimen, "read")
    return specimen


SPECIMEN_SORTS = {"created_at": CREATED, "accession": SortKey(Specimen.accession)}


SPECIMEN_FILTERS = (
    Filter("accession", Specimen.accession),
    Filter("status", Specimen.status),
    Filter("order_id", Specimen.order_id),
    Filter("patient_id", Specimen.patient_id),
)


def list_specimens(
    session: Session,
    actor: Principal,
    f: SpecimenFilters,
    *,
    limit: int,
    cursor: str | None,
    sort: str | None = None,
) -> Page[Specimen]:
    """Newest first unless `sort` says otherwise (created_at, accession)."""
    query = select(Specimen).where(Specimen.organization_id == actor.organization_id)
    query = apply_filters(query, f, SPECIMEN_FILTERS)
    if f.test:  # a test's id or its code
        tests = select(LabTest.id).where(
            LabTest.organization_id == actor.organization_id,
            (col(LabTest.id) == f.test) | (col(LabTest.code) == f.test),
        )
        query = query.where(
            col(Specimen.id).in_(
                select(SpecimenTest.specimen_id).where(col(SpecimenTest.lab_test_id).in_(tests))
            )
        )
    org = actor.organization_id
    if f.collected_from:
        start = org_clock.start_of_day(session, org, f.collected_from)
        query = query.where(col(Specimen.collected_at) >= start)
    if f.collected_to:
        end = org_clock.start_of_day(session, org, f.collected_to + timedelta(days=1))
        query = query.where(col(Specimen.collected_at) < end)
    order = parse_sort(sort, SPECIMEN_SORTS, "-created_at")
    page = fetch_page(session, query, Specimen.id, limit=limit, cursor=cursor, sort=order)
    audit.record_many(
        session,
        actor,
        action="query",
        resource_type="specimen",
        rows=[(s.id, s.patient_id) for s in page.items],
    )
    return page


def list_events(
    session: Session,
    actor: Principal,
    specimen_id: str,
    *,
    limit: int,
    cursor: str | None,
    sort: str | None = None,
) -> Page[SpecimenEvent]:
    specimen = load(session, actor, specimen_id)
    audit_specimen(session, actor, specimen, "read", "events")
    query = select(SpecimenEvent).where(SpecimenEvent.specimen_id == specimen.id)
    return fetch_page(
        session,
        query,
        SpecimenEvent.id,
        limit=limit,
        cursor=cursor,
        sort=by_creation(sort, "created_at"),
    )


@dataclass(frozen=True)
class LineageView:
    ancestors: list[Specimen]
    descendants: list[Specimen]


def lineage(session: Session, actor: Principal, specimen_id: str) -> LineageView:
    specimen = load(session, actor, specimen_id)
    ancestors = [session.get(Specimen, i) for i in lineage_ids(session, specimen)[1:]]
    descendants: list[Specimen] = []
    frontier = [specimen.id]
    while frontier:
        found = list(
            session.exec(select(Specimen).where(col(Specimen.parent_id).in_(frontier))).all()
        )
        descendants += found
        frontier = [s.id for s in found]
    audit_specimen(session, actor, specimen, "read", "lineage")
    return LineageView(
        [a for a in ancestors if a is not None], sorted(descendants, key=lambda s: s.accession)
    )


def print_label(
    session: Session, actor: Principal, specimen_id: str, fmt: str, *, at: datetime
) -> tuple[bytes, str]:
    """The label shows PHI (name, DOB): each print is audited and counted as a custody event."""
    specimen = load(session, actor, specimen_id)
    patient = session.get(Patient, specimen.patient_id)
    assert patient is not None  # a foreign key
    zone = org_clock.zone(session, actor.organization_id)
    tests = session.exec(
        select(LabTest.code)
        .join(SpecimenTest, col(SpecimenTest.lab_test_id) == col(LabTest.id))
        .where(SpecimenTest.specimen_id == specimen.id, SpecimenTest.status != "cancelled")
        .order_by(col(LabTest.code))
    ).all()
    content = labels.LabelContent(
        accession=specimen.accession,
        patient_name=", ".join(n for n in (patient.family_name, patient.given_name) if n),
        mrn=patient.mrn,
        birth_date=patient.birth_date.isoformat(),
        specimen_type=specimen.specimen_type,
        container=specimen.container,
        tests=tuple(tests),
        stat=specimen.priority == "stat",
        collected=specimen.collected_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
        if specimen.collected_at
        else None,
    )
    body, media_type = labels.render(content, fmt)
    event = "label_printed" if specimen.label_prints == 0 else "label_reprinted"
    specimen.label_prints += 1
    session.add(specimen)
    add_event(
        session, actor, specimen, event, at, details={"format": fmt, "count": specimen.label_prints}
    )
    audit_specimen(session, actor, specimen, "print", f"label {fmt}")
    session.flush()
    return body, media_type
