"""Custody after collection: receipt, rejection (and recollection), storage, disposal, moves,
and the aliquots, blocks and slides taken from a specimen."""

from datetime import UTC, datetime

from sqlmodel import Session

from service.auth.logic import Principal
from service.errors import ErrorList, InvalidInput
from service.orders import logic as order_logic
from service.outbox import events as outbox
from service.records import bump_version
from service.specimens import logic, preparation, repository
from service.specimens.logic import S, VolumeInsufficient
from service.specimens.models import Specimen, SpecimenTest
from service.specimens.schemas import ChildCreate, Disposal, Move, Receipt, Rejection
from service.specimens.states import IllegalTransition, SpecimenStatus

_SUFFIX = {"aliquot": "A", "block": "B", "slide": "S"}
# Children can be taken while the parent is in the lab and not yet gone.
_CAN_SPLIT = {
    S.RECEIVED,
    S.IN_PREPARATION,
    S.READY,
    S.IN_ANALYSIS,
    S.RESULTED,
    S.VERIFIED,
    S.STORED,
}


def receive_specimen(
    session: Session, actor: Principal, specimen_id: str, data: Receipt, *, at: datetime
) -> Specimen:
    specimen = logic.load(session, actor, specimen_id)
    when = (data.at or at).astimezone(UTC)
    if specimen.collected_at is not None and when < specimen.collected_at:
        raise InvalidInput(f"Specimen {specimen.accession} cannot be received before collection.")
    logic.change_status(
        session,
        actor,
        specimen,
        S.RECEIVED,
        when,
        location=data.location,
        details={"temperature": data.temperature, "condition": data.condition},
    )
    specimen.received_at, specimen.received_by = when, actor.user_id
    specimen.temperature, specimen.condition = data.temperature, data.condition
    tests = logic.tests_for(session, specimen)
    preparation.flag_stability(session, actor, specimen, [t for _, t in tests], when)
    preparation.ready_if_prepared(session, actor, specimen, [t for _, t in tests], when)
    logic.audit_specimen(session, actor, specimen, "update", "received")
    session.flush()
    return specimen


def reject_specimen(
    session: Session, actor: Principal, specimen_id: str, data: Rejection, *, at: datetime
) -> tuple[Specimen, Specimen | None]:
    """Rejected with a reason; a recollection is a new specimen in `ordered` on the same order."""
    specimen = logic.load(session, actor, specimen_id)
    logic.change_status(
        session, actor, specimen, S.REJECTED, at, details={"reason": data.reason, "note": data.note}
    )
    specimen.rejection_reason = data.reason
    session.add(specimen)
    logic.audit_specimen(session, actor, specimen, "update", f"rejected: {data.reason}")
    outbox.emit(
        session, actor.organization_id, "specimen.rejected", specimen.id, reason=data.reason
    )
    recollection = None
    if data.recollect:
        tests = [row.lab_test_id for row, _ in logic.tests_for(session, specimen)]
        recollection = logic.new_specimen(
            session,
            actor,
            order_id=specimen.order_id,
            patient_id=specimen.patient_id,
            priority=specimen.priority,
            specimen_type=specimen.specimen_type,
            container=specimen.container,
            location=None,
            test_ids=tests,
            at=at,
            recollection_of_id=specimen.id,
        )
        logic.add_event(
            session,
            actor,
            specimen,
            "recollection_ordered",
            at,
            details={"accession": recollection.accession},
        )
    session.flush()
    return specimen, recollection


def store_specimen(
    session: Session, actor: Principal, specimen_id: str, data: Move, *, at: datetime
) -> Specimen:
    specimen = logic.load(session, actor, specimen_id)
    logic.change_status(session, actor, specimen, S.STORED, data.at or at, location=data.location)
    if data.temperature:
        specimen.temperature = data.temperature
    logic.audit_specimen(session, actor, specimen, "update", "stored")
    session.flush()
    return specimen


def dispose_specimen(
    session: Session, actor: Principal, specimen_id: str, data: Disposal, *, at: datetime
) -> Specimen:
    specimen = logic.load(session, actor, specimen_id)
    logic.change_status(
        session, actor, specimen, S.DISPOSED, data.at or at, details={"note": data.note}
    )
    logic.audit_specimen(session, actor, specimen, "update", "disposed")
    session.flush()
    return specimen


def move_specimen(
    session: Session, actor: Principal, specimen_id: str, data: Move, *, at: datetime
) -> Specimen:
    """A change of place (and temperature) without a status change: a custody event."""
    specimen = logic.load(session, actor, specimen_id)
    bump_version(session, specimen, None)
    specimen.location = data.location
    if data.temperature:
        specimen.temperature = data.temperature
    session.add(specimen)
    logic.add_event(
        session,
        actor,
        specimen,
        "moved",
        data.at or at,
        location=data.location,
        details={"temperature": data.temperature},
    )
    logic.audit_specimen(session, actor, specimen, "update", "moved")
    session.flush()
    return specimen


def take_child(
    session: Session, actor: Principal, parent_id: str, data: ChildCreate, *, at: datetime
) -> Specimen:
    """An aliquot, block or slide: suffixed accession, volume taken from the parent."""
    parent = logic.load(session, actor, parent_id)
    if SpecimenStatus(parent.status) not in _CAN_SPLIT:
        raise IllegalTransition(
            f"Specimen {parent.accession} is {parent.status}; children are taken from a "
            "specimen in the lab (received to stored)."
        )
    order = order_logic.get_order(session, actor, parent.order_id, audit_read=False)
    errors = ErrorList()
    for i, test_id in enumerate(data.test_ids):
        if test_id not in order.test_ids:
            errors.add(f"/test_ids/{i}", "this test is not on the specimen's order")
    errors.raise_if_any()
    bump_version(session, parent, None)  # serializes concurrent splits of one parent
    if data.volume is not None:
        if parent.volume is None:
            raise VolumeInsufficient(f"Specimen {parent.accession} has no recorded volume.")
        unit = data.volume_unit or parent.volume_unit
        if unit != parent.volume_unit:
            raise InvalidInput(f"Specimen {parent.accession} is measured in {parent.volume_unit}.")
        if data.volume > parent.volume:
            raise VolumeInsufficient(
                f"Specimen {parent.accession} has {parent.volume} {parent.volume_unit} left; "
                f"{data.volume} was asked for."
            )
        parent.volume -= data.volume
    letter = _SUFFIX[data.kind]
    number = repository.count_children(session, parent.id, data.kind) + 1
    child = Specimen(
        organization_id=parent.organization_id,
        accession=f"{parent.accession}-{letter}{number}",
        order_id=parent.order_id,
        patient_id=parent.patient_id,
        parent_id=parent.id,
        kind=data.kind,
        specimen_type=parent.specimen_type,
        container=data.container or parent.container,
        status=S.RECEIVED.value,
        priority=parent.priority,
        volume=data.volume,
        volume_unit=data.volume_unit or parent.volume_unit if data.volume is not None else None,
        location=parent.location,
        temperature=parent.temperature,
        collected_at=parent.collected_at,
        collected_by=parent.collected_by,
        received_at=data.at or at,
        received_by=actor.user_id,
    )
    session.add_all([parent, child])
    session.flush()
    for test_id in dict.fromkeys(data.test_ids):
        moved = repository.find_specimen_test(session, parent.id, test_id)
        if moved is not None and moved.status == "pending":
            moved.status = "cancelled"  # the test is done on the child now
            session.add(moved)
        session.add(
            SpecimenTest(
                organization_id=child.organization_id, specimen_id=child.id, lab_test_id=test_id
            )
        )
    when = data.at or at
    logic.add_event(
        session,
        actor,
        parent,
        "child_taken",
        when,
        details={
            "child": child.accession,
            "kind": data.kind,
            "volume": None if data.volume is None else str(data.volume),
        },
    )
    logic.add_event(session, actor, child, "received", when, details={"from": parent.accession})
    session.flush()
    tests = [t for _, t in logic.tests_for(session, child)]
    if tests:
        preparation.ready_if_prepared(session, actor, child, tests, when)
    logic.audit_specimen(session, actor, child, "create", f"{data.kind} of {parent.accession}")
    session.flush()
    return child
