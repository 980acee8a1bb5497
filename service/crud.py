"""Generic use cases for tenant-owned records: create, read, list, merge-patch update, soft delete.

Each capability describes its record once (a `Resource`); the audit trail, ETags, tenant
scoping and merge-patch rules then work the same way for every one of them.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from service.audit import logic as audit
from service.auth.logic import Principal
from service.errors import Conflict, FieldError, InvalidInput, NotFound
from service.merge_patch import apply_merge_patch
from service.paging import Page, Sort, fetch_page
from service.records import SoftDeletable, bump_version

M = TypeVar("M", bound=SoftDeletable)
C = TypeVar("C", bound=BaseModel)

Check = Callable[[Session, Principal, Any, Any], None]


def _no_check(session: Session, actor: Principal, data: Any, row: Any) -> None:
    return None


def _no_patient(row: Any) -> str | None:
    return None


def _no_delete_check(session: Session, row: Any) -> None:
    return None


@dataclass(frozen=True)
class Resource(Generic[M, C]):
    """How one kind of record is stored, validated and audited."""

    name: str  # audit resource type and error codes: "patient", "payer"
    model: type[M]
    create_schema: type[C]
    # Referential and uniqueness checks; `row` is None on create. Raise DomainErrors.
    check: Check = _no_check
    patient_id: Callable[[M], str | None] = _no_patient
    # Patient data is audited on reads too; other records on writes only.
    phi: bool = False
    not_found: type[NotFound] = NotFound
    json_fields: Sequence[str] = field(default_factory=tuple)
    # Refuses a delete (raise a DomainError), e.g. an order whose results were verified.
    check_delete: Callable[[Session, M], None] = _no_delete_check

    def missing(self, record_id: str) -> NotFound:
        error = self.not_found(f"No {self.name.replace('_', ' ')} {record_id}.")
        if self.not_found is NotFound:
            error.code = f"{self.name.replace('_', '-')}-not-found"
        return error


def document(resource: Resource[M, C], row: M) -> dict[str, Any]:
    """The create-shaped view of a row: what a merge patch applies to (JSON types)."""
    raw = {name: getattr(row, name) for name in resource.create_schema.model_fields}
    return {k: v for k, v in to_jsonable_python(raw).items() if v is not None}


def _apply(resource: Resource[M, C], row: M, data: C) -> None:
    for name in resource.create_schema.model_fields:
        value = getattr(data, name)
        if name in resource.json_fields and value is not None:
            value = _jsonable(value)
        setattr(row, name, value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def validation_error(exc: ValidationError) -> InvalidInput:
    """Pydantic errors of a merged document as field errors with JSON Pointers."""
    errors = [
        FieldError("/" + "/".join(str(p) for p in err["loc"]), err["msg"]) for err in exc.errors()
    ]
    return InvalidInput("The request has invalid fields.", errors=errors)


def _refuse_unknown_fields(schema: type[BaseModel], patch: dict[str, Any]) -> None:
    """A merge patch may only name the schema's fields: `{"typo": null}` would otherwise pass."""
    known = set(schema.model_fields) | {
        f.alias for f in schema.model_fields.values() if f.alias is not None
    }
    unknown = sorted(key for key in patch if key not in known)
    if unknown:
        raise InvalidInput(
            "The request has fields this record does not have.",
            errors=[
                FieldError("/" + key.replace("~", "~0").replace("/", "~1"), "unknown field")
                for key in unknown
            ],
        )


def create(session: Session, actor: Principal, resource: Resource[M, C], data: C) -> M:
    resource.check(session, actor, data, None)
    row = resource.model(organization_id=actor.organization_id)
    _apply(resource, row, data)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        action="create",
        resource_type=resource.name,
        resource_id=row.id,
        patient_id=resource.patient_id(row),
    )
    return row


def get(
    session: Session,
    actor: Principal,
    resource: Resource[M, C],
    record_id: str,
    *,
    audit_read: bool = True,
    lock: bool = False,
) -> M:
    # Locked, the row is read afresh even if this session holds it already: what a caller then
    # writes starts from the committed row (records.bump_version relies on it).
    row = session.get(
        resource.model, record_id, with_for_update=lock or None, populate_existing=lock
    )
    if row is None or row.organization_id != actor.organization_id or row.deleted_at is not None:
        raise resource.missing(record_id)
    if resource.phi and audit_read:
        audit.record(
            session,
            actor,
            action="read",
            resource_type=resource.name,
            resource_id=row.id,
            patient_id=resource.patient_id(row),
        )
    return row


class SeveralRecordsHaveKey(Conflict):
    code = "several-records-have-key"


def get_by_key(
    session: Session, actor: Principal, resource: Resource[M, C], column: str, value: str
) -> M:
    """The live record whose business key `column` is `value` (`/patients/by-mrn/D-1001`): one
    call for a barcode scan or a card in hand. Several (two payers with one clearinghouse payer
    id) are a 409 naming their ids."""
    query = base_query(resource, actor).where(getattr(resource.model, column) == value)
    rows = list(session.exec(query.order_by(col(resource.model.id)).limit(5)).all())
    if not rows:
        raise resource.missing(f"with {column} {value}")
    if len(rows) > 1:
        raise SeveralRecordsHaveKey(
            f"Several {resource.name.replace('_', ' ')}s have {column} {value}: "
            + ", ".join(r.id for r in rows)
            + ". Read them by id."
        )
    return get(session, actor, resource, rows[0].id)


def base_query(resource: Resource[M, C], actor: Principal) -> SelectOfScalar[M]:
    model = resource.model
    return select(model).where(
        col(model.organization_id) == actor.organization_id, col(model.deleted_at).is_(None)
    )


def list_page(
    session: Session,
    actor: Principal,
    resource: Resource[M, C],
    query: SelectOfScalar[M],
    *,
    limit: int,
    cursor: str | None,
    sort: Sort | None = None,
) -> Page[M]:
    page = fetch_page(session, query, resource.model.id, limit=limit, cursor=cursor, sort=sort)
    if resource.phi:  # every patient shown is a patient whose data was read
        audit.record_many(
            session,
            actor,
            action="query",
            resource_type=resource.name,
            rows=[(row.id, resource.patient_id(row)) for row in page.items],
        )
    return page


def update(
    session: Session,
    actor: Principal,
    resource: Resource[M, C],
    record_id: str,
    patch: dict[str, Any],
    *,
    expected_version: int | None,
) -> M:
    # Without If-Match the patch applies to whatever is current: the row is locked while it is
    # read (PostgreSQL), so concurrent patches queue instead of all but one failing with 412.
    lock = expected_version is None
    row = get(session, actor, resource, record_id, audit_read=False, lock=lock)
    before = document(resource, row)
    _refuse_unknown_fields(resource.create_schema, patch)
    try:
        data = resource.create_schema.model_validate(apply_merge_patch(before, patch))
    except ValidationError as exc:
        raise validation_error(exc) from None
    resource.check(session, actor, data, row)
    bump_version(session, row, expected_version, locked=lock)
    _apply(resource, row, data)
    session.add(row)
    session.flush()
    after = document(resource, row)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    audit.record(
        session,
        actor,
        action="update",
        resource_type=resource.name,
        resource_id=row.id,
        patient_id=resource.patient_id(row),
        detail="changed: " + ", ".join(changed),
    )
    return row


def delete(
    session: Session,
    actor: Principal,
    resource: Resource[M, C],
    record_id: str,
    *,
    at: datetime,
    expected_version: int | None,
) -> M:
    row = get(session, actor, resource, record_id, audit_read=False)
    resource.check_delete(session, row)
    bump_version(session, row, expected_version)
    row.deleted_at = at
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        action="delete",
        resource_type=resource.name,
        resource_id=row.id,
        patient_id=resource.patient_id(row),
    )
    return row
