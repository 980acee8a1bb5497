"""Lab orders as a record: references checked, reason codes validated against ICD-10-CM."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

from service import crud, org_clock, references
from service.auth.logic import Principal
from service.codesets import logic as codesets
from service.coding.models import Encounter
from service.directory.models import Provider
from service.errors import Conflict, ErrorList, NotFound
from service.filters import Filter, apply_filters
from service.labtests import logic as labtest_logic
from service.labtests.models import LabTest
from service.orders.models import LabOrder
from service.orders.schemas import LabOrderCreate, LabOrderFilters
from service.outbox import events as outbox
from service.patients.models import Patient
from service.references import require_reference, resolve_reference


class LabOrderNotFound(NotFound):
    code = "lab-order-not-found"


# ServiceRequest.status of each order status (FHIR Subscription criteria match on it).
FHIR_ORDER_STATUS = {"active": "active", "completed": "completed", "cancelled": "revoked"}


class OrderHasVerifiedResults(Conflict):
    code = "order-has-verified-results"


def _check(session: Session, actor: Principal, data: LabOrderCreate, row: Any) -> None:
    resolve_reference(session, actor, Patient, data, "patient_id")
    resolve_reference(session, actor, Provider, data, "ordering_provider_id")
    # Charge capture bills the order's encounter: it must be this patient's, of this clinic.
    require_reference(
        session, actor, Encounter, data.encounter_id, "/encounter_id", patient_id=data.patient_id
    )
    references.refuse_reparenting(
        session, row, data.patient_id, references.LAB_ORDER_DEPENDANTS, kind="lab order"
    )
    if row is not None and data.status == "cancelled" and row.status != "cancelled":
        _refuse_if_verified(session, row)
    errors = ErrorList()
    found = labtest_logic.get_lab_tests(session, actor.organization_id, data.test_ids)
    for i, test_id in enumerate(data.test_ids):
        if test_id in found:
            continue
        # A test may be named by its code ("A1C"), as the lab's requisition shows it.
        by_code = references.find_by_natural_key(session, actor, LabTest, test_id, f"/test_ids/{i}")
        if by_code is None:
            errors.add(f"/test_ids/{i}", "no lab test with this id or code")
        else:
            data.test_ids[i] = by_code.id
    if len(set(data.test_ids)) != len(data.test_ids):
        errors.add("/test_ids", "a test is listed twice")
    if data.reason_codes:
        # A code must exist and be billable in the ICD-10-CM version in force today (the
        # organization's date); a set that is not loaded fails the check, never passes it.
        on = org_clock.local_date(session, actor.organization_id, datetime.now(UTC))
        checks = [codesets.CodeCheck(codesets.ICD10CM, c) for c in data.reason_codes]
        for i, verdict in enumerate(codesets.validate_codes(session, checks, on)):
            if not verdict.valid:
                errors.add(f"/reason_codes/{i}", verdict.detail or verdict.reason)
    errors.raise_if_any()
    if row is not None and data.status != row.status:  # subscribers hear of it (issue 23)
        outbox.emit(
            session,
            actor.organization_id,
            "order.status-changed",
            row.id,
            status=FHIR_ORDER_STATUS[data.status],
        )


def _refuse_if_verified(session: Session, row: LabOrder) -> None:
    verified = references.verified_results_of_order(session, row.id)
    if verified:
        raise OrderHasVerifiedResults(
            f"Lab order {row.id} has verified results ({', '.join(verified)}): it cannot be "
            "cancelled or deleted; correct the results instead."
        )


LAB_ORDERS: crud.Resource[LabOrder, LabOrderCreate] = crud.Resource(
    name="lab_order",
    model=LabOrder,
    create_schema=LabOrderCreate,
    check=_check,
    patient_id=lambda row: row.patient_id,
    phi=True,
    not_found=LabOrderNotFound,
    json_fields=("test_ids", "reason_codes"),
    check_delete=_refuse_if_verified,
)


ORDER_FILTERS = (
    Filter("patient_id", LabOrder.patient_id),
    Filter("status", LabOrder.status),
    Filter("priority", LabOrder.priority),
)


def filter_orders(query: SelectOfScalar[Any], f: LabOrderFilters) -> SelectOfScalar[Any]:
    return apply_filters(query, f, ORDER_FILTERS)


def find_order(session: Session, organization_id: str, order_id: str) -> LabOrder | None:
    """The order by id, unaudited: for work that follows from it (charge capture)."""
    row = session.get(LabOrder, order_id)
    return row if row is not None and row.organization_id == organization_id else None


def place_order(session: Session, actor: Principal, data: LabOrderCreate) -> LabOrder:
    return crud.create(session, actor, LAB_ORDERS, data)


def get_order(session: Session, actor: Principal, order_id: str, *, audit_read: bool) -> LabOrder:
    return crud.get(session, actor, LAB_ORDERS, order_id, audit_read=audit_read)


@dataclass(frozen=True)
class OrderTerms:
    """What accessioning checks an order against and copies from it."""

    id: str
    patient_id: str
    priority: str
    status: str
    test_ids: list[str]


_ORDER: sa.Table = LabOrder.__table__  # type: ignore[attr-defined]
# Built once and read as plain columns: accessioning runs it for every specimen, and loading the
# whole record through the ORM cost more than the specimen's INSERT.
_TERMS = sa.select(
    _ORDER.c.id, _ORDER.c.patient_id, _ORDER.c.priority, _ORDER.c.status, _ORDER.c.test_ids
).where(
    _ORDER.c.id == sa.bindparam("order_id"),
    _ORDER.c.organization_id == sa.bindparam("organization_id"),
    _ORDER.c.deleted_at.is_(None),
)


def get_order_terms(session: Session, actor: Principal, order_id: str) -> OrderTerms:
    """The order as `get_order` finds it (the caller's organization, not deleted), unaudited."""
    params = {"order_id": order_id, "organization_id": actor.organization_id}
    row = session.execute(_TERMS, params).one_or_none()
    if row is None:
        raise LAB_ORDERS.missing(order_id)
    return OrderTerms(*row)
