"""Recording audit events: in the caller's transaction for work that succeeded, or through an
AuditWriter in a transaction of its own for denials and failures (after the rollback)."""

import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service import bulk
from service.audit.models import AuditEvent
from service.auth.logic import Principal
from service.db import DEFERRED_AUDIT, SessionFactory
from service.filters import Filter, apply_filters
from service.ids import new_id
from service.paging import Page, by_creation, fetch_page
from service.raw_sql import Statements
from service.records import utcnow


def record(
    session: Session,
    actor: Principal,
    *,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    patient_id: str | None = None,
    detail: str = "",
    changes: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """One successful access, in the same transaction as the work it records."""
    values = _values(
        actor, action, resource_type, resource_id, patient_id, "success", detail, changes, at
    )
    if not _deferred(session, [values]):
        session.add(AuditEvent(**values))


def _deferred(session: Session, values: list[dict[str, Any]]) -> bool:
    """An audited read session (service.db.get_audited_read_session) keeps its audit rows for
    the read audit writer, which commits them once the read is over; inside `batched`, the rows
    wait for its one INSERT."""
    rows: list[dict[str, Any]] | None = session.info.get(DEFERRED_AUDIT)
    if rows is None:
        rows = session.info.get(_BATCHED)
    if rows is None:
        return False
    rows.extend(values)
    return True


# session.info key: the audit rows of the work inside `batched`, not yet inserted.
_BATCHED = "batched_audit"


@contextmanager
def batched(session: Session) -> Iterator[None]:
    """The audit rows recorded inside go in one INSERT at the end, in the same transaction (a
    FHIR transaction Bundle: one row per entry). Nothing queries them before; on an error none
    are written (the transaction is rolled back anyway)."""
    if _BATCHED in session.info or DEFERRED_AUDIT in session.info:
        yield  # nested, or a read session: the rows go where they already go
        return
    rows: list[dict[str, Any]] = []
    session.info[_BATCHED] = rows
    try:
        yield
    finally:
        session.info.pop(_BATCHED, None)
    if rows:
        bulk.insert_rows(session, AuditEvent.__table__, rows)  # type: ignore[attr-defined]


def record_system(
    session: Session,
    *,
    organization_id: str | None,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    detail: str = "",
) -> None:
    """An event done by the deployment itself (a CLI command), not by a user of the API."""
    session.add(
        AuditEvent(
            organization_id=organization_id,
            role="system",
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            outcome="success",
            detail=detail[:500],
        )
    )


def record_many(
    session: Session,
    actor: Principal,
    *,
    action: str,
    resource_type: str,
    rows: Iterable[tuple[str, str | None]],
    detail: str = "",
) -> None:
    """One event per (resource id, patient id): a list of patients audits every patient shown.
    One INSERT without an ORM object per row: a worklist build audits thousands of specimens."""
    at = utcnow()
    values = [
        _values(actor, action, resource_type, rid, pid, "success", detail, None, at)
        for rid, pid in rows
    ]
    if values and not _deferred(session, values):
        bulk.insert_rows(session, AuditEvent.__table__, values)  # type: ignore[attr-defined]


def event_values(
    actor: Principal,
    action: str,
    resource_type: str,
    resource_id: str | None,
    patient_id: str | None,
) -> dict[str, Any]:
    """The columns of one successful access, for ReadAuditWriter (service/api/fast_reads.py)."""
    return _values(actor, action, resource_type, resource_id, patient_id, "success", "", None, None)


def _values(
    actor: Principal,
    action: str,
    resource_type: str,
    resource_id: str | None,
    patient_id: str | None,
    outcome: str,
    detail: str,
    changes: dict[str, Any] | None,
    at: datetime | None,
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "organization_id": actor.organization_id,
        "user_id": actor.user_id,
        "role": actor.role,
        "action": action,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "patient_id": patient_id,
        "outcome": outcome,
        "at": at or utcnow(),
        "client_address": actor.client_address,
        "request_id": actor.request_id,
        "detail": detail[:500],
        "changes": json.dumps(changes, default=str, sort_keys=True) if changes else None,
    }


@dataclass(frozen=True)
class FailedAccess:
    """A denial or failure, as the HTTP edge saw it; the principal is None before authentication."""

    principal: Principal | None
    action: str
    resource_type: str
    resource_id: str | None
    outcome: str  # denied | failed
    detail: str
    client_address: str
    request_id: str
    # A refused key whose id resolved: its organization and user see the attempt (issue 14).
    organization_id: str | None = None
    user_id: str | None = None


class AuditWriter(Protocol):
    def write(self, failure: FailedAccess) -> None: ...


class SessionAuditWriter:
    """Writes each failure in a transaction of its own (the request's was rolled back).

    Tests hand it a session factory bound to their connection, so nothing escapes the test.
    """

    def __init__(self, factory: SessionFactory) -> None:
        self.factory = factory

    def write(self, failure: FailedAccess) -> None:
        p = failure.principal
        event = AuditEvent(
            organization_id=p.organization_id if p else failure.organization_id,
            user_id=p.user_id if p else failure.user_id,
            role=p.role if p else "",
            action=failure.action,
            resource_type=failure.resource_type,
            resource_id=failure.resource_id,
            outcome=failure.outcome,
            client_address=failure.client_address,
            request_id=failure.request_id,
            detail=failure.detail[:500],
        )
        with self.factory() as session:
            session.add(event)
            session.commit()


_INSERT = sa.insert(AuditEvent.__table__)  # type: ignore[attr-defined]


class ReadAuditWriter:
    """Commits the audit rows of reads, each call returning once its rows are durable.

    Group commit: while one thread commits, the rows of the reads finishing meanwhile gather,
    and the next thread to need a commit writes all of them in one short transaction. Under load
    a process takes the write lock (SQLite) or commits (PostgreSQL) once per batch instead of
    once per read, and no read holds the write lock while it reads and serializes.
    """

    def __init__(self, factory: SessionFactory) -> None:
        self.factory = factory
        self._changed = threading.Condition()
        self._pending: list[dict[str, Any]] = []
        self._open = 0  # the batch rows join now; batches below `_done` are over
        self._done = 0
        self._writing = False
        self._failures: dict[int, BaseException] = {}
        self._statements: Statements | None = None
        self._inserts: dict[int, sa.Insert] = {}  # by the number of rows (PostgreSQL)

    def write(self, rows: list[dict[str, Any]]) -> None:
        with self._changed:
            self._pending.extend(rows)
            mine = self._open
            while self._done <= mine and self._writing:
                self._changed.wait()
            if self._done > mine:  # another thread committed our batch
                self._raise_if_failed(mine)
                return
            batch, self._pending = self._pending, []
            self._open += 1
            self._writing = True
        failure: BaseException | None = None
        try:
            self._insert(batch)
        except BaseException as exc:
            failure = exc
        with self._changed:
            self._writing = False
            self._done = mine + 1
            if failure is not None:
                self._failures[mine] = failure
            self._changed.notify_all()
        if failure is not None:
            raise failure

    def _raise_if_failed(self, batch: int) -> None:
        failure = self._failures.get(batch)
        # Failures are rare: kept for the waiters of the batch, dropped once a later one ends.
        for old in [b for b in self._failures if b < self._done - 1]:
            del self._failures[old]
        if failure is not None:
            raise failure

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        # On the driver's cursor (service/raw_sql.py): the ORM session and Core's execution
        # cost more than the INSERT itself, once per batch of reads.
        if self._statements is None:
            with self.factory() as session:
                self._statements = Statements(session.get_bind())
        statements = self._statements
        if statements.engine.dialect.name == "sqlite":
            with statements.cursor(write=True) as cursor:  # BEGIN IMMEDIATE: the write lock
                statements[_INSERT].many(cursor, rows)
            return
        # PostgreSQL: one INSERT of all the rows, which commits on its own (autocommit): one
        # round trip where BEGIN, INSERT and COMMIT took three.
        insert = self._inserts.get(len(rows))
        if insert is None:
            insert = self._inserts[len(rows)] = _rows_insert(len(rows))
        values = {f"{k}_{n}": v for n, row in enumerate(rows) for k, v in row.items()}
        with statements.cursor() as cursor:
            statements[insert].run(cursor, values)


def _rows_insert(count: int) -> sa.Insert:
    table: sa.Table = AuditEvent.__table__  # type: ignore[attr-defined]
    rows = [
        {c.key: sa.bindparam(f"{c.key}_{n}", type_=c.type) for c in table.c} for n in range(count)
    ]
    return sa.insert(table).values(rows)


def list_system_events(session: Session, *, limit: int) -> list[AuditEvent]:
    """Events of no organization (refused keys that named none), newest first: the deployment's
    own log, read with `backoffice audit system-log`."""
    query = (
        select(AuditEvent)
        .where(col(AuditEvent.organization_id).is_(None))
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .limit(limit)
    )
    return list(session.exec(query).all())


EVENT_FILTERS = (
    Filter("patient_id", AuditEvent.patient_id),
    Filter("user_id", AuditEvent.user_id),
    Filter("action", AuditEvent.action),
    Filter("outcome", AuditEvent.outcome),
    Filter("resource_type", AuditEvent.resource_type),
    Filter("at_from", AuditEvent.at, "ge"),
    Filter("at_to", AuditEvent.at, "lt"),  # exclusive: the routes pass the next day's start
)


def list_events(
    session: Session,
    organization_id: str,
    *,
    limit: int,
    cursor: str | None,
    sort: str | None = None,
    patient_id: str | None = None,
    user_id: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    resource_type: str | None = None,
    at_from: datetime | None = None,
    at_to: datetime | None = None,
) -> Page[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.organization_id == organization_id)
    given = {
        "patient_id": patient_id,
        "user_id": user_id,
        "action": action,
        "outcome": outcome,
        "resource_type": resource_type,
        "at_from": at_from,
        "at_to": at_to,
    }
    query = apply_filters(query, given, EVENT_FILTERS, blank_is_a_value=True)
    return fetch_page(
        session,
        query,
        AuditEvent.id,
        limit=limit,
        cursor=cursor,
        sort=by_creation(sort, "-created_at"),
    )
