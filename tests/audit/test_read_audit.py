"""The audit rows of reads: committed after the read, in batches, before the read returns."""

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from service.audit.logic import ReadAuditWriter, _values
from service.audit.models import AuditEvent
from service.auth.logic import Principal
from service.db import SessionFactory, make_engine, session_factory_for
from tests.factories import Tenant, make_patient, make_tenant


@pytest.fixture
def committing_engine(migrated_database_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_database_url)
    yield engine
    engine.dispose()


def _rows(principal: Principal, n: int, detail: str) -> list[dict[str, Any]]:
    return [
        _values(principal, "read", "patient", f"p{i}", None, "success", detail, None, None)
        for i in range(n)
    ]


def _stored(factory: SessionFactory, detail: str) -> int:
    with factory() as session:
        query = select(func.count()).select_from(AuditEvent).where(AuditEvent.detail == detail)
        return session.exec(query).one()


def test_concurrent_reads_return_only_once_their_rows_are_committed(
    committing_engine: Engine,
) -> None:
    factory = session_factory_for(committing_engine)
    with factory() as session:
        tenant = make_tenant(session, "Group Commit Clinic")
    principal = Principal(tenant.user_ids["admin"], tenant.organization_id, frozenset(), "k")
    writer = ReadAuditWriter(factory)
    seen_after_return: list[int] = []
    errors: list[BaseException] = []

    def read(n: int) -> None:
        try:
            writer.write(_rows(principal, 3, f"reader {n}"))
            # Committed before write() returned: another connection sees all three rows.
            seen_after_return.append(_stored(factory, f"reader {n}"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert seen_after_return == [3] * 24


def test_a_failed_batch_fails_its_reads_and_the_next_batch_commits(
    committing_engine: Engine,
) -> None:
    factory = session_factory_for(committing_engine)
    with factory() as session:
        tenant = make_tenant(session, "Failing Clinic")
    principal = Principal(tenant.user_ids["admin"], tenant.organization_id, frozenset(), "k")
    writer = ReadAuditWriter(factory)
    bad = _rows(principal, 1, "bad batch")
    bad[0]["action"] = None  # NOT NULL refuses the batch
    with pytest.raises(sa.exc.IntegrityError):
        writer.write(bad)
    assert _stored(factory, "bad batch") == 0
    writer.write(_rows(principal, 2, "good batch"))
    assert _stored(factory, "good batch") == 2


def test_a_read_commits_its_audit_row_and_a_failed_read_writes_no_success_row(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    patient = make_patient(db, tenant)
    assert client.get(f"/api/v1/patients/{patient.id}", headers=tenant.headers()).status_code == 200
    assert client.get(f"/fhir/Patient/{patient.id}", headers=tenant.headers()).status_code == 200
    assert client.get("/api/v1/patients/nope", headers=tenant.headers()).status_code == 404
    db.commit()  # a fresh snapshot
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "read")).all()
    assert [(e.patient_id, e.outcome) for e in events if e.outcome == "success"] == [
        (patient.id, "success"),
        (patient.id, "success"),
    ]
