"""Refused credentials: whose audit trail they land in, and the throttle that stops guessing."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.db import SessionFactory
from service.main import create_app
from service.settings import Settings
from tests.factories import Tenant


def _key_id(key: str) -> str:
    return key.removeprefix("bo_").split("_")[0]


def _denials(db: Session) -> list[AuditEvent]:
    db.expire_all()
    query = select(AuditEvent).where(AuditEvent.action == "login-denied")
    return list(db.exec(query.order_by(col(AuditEvent.id))).all())


def test_a_wrong_secret_for_a_real_key_id_is_the_keys_organizations_event(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    wrong = f"bo_{_key_id(tenant.keys['lab'])}_not-the-secret"
    response = client.get("/api/v1/patients", headers={"Authorization": f"Bearer {wrong}"})
    assert response.status_code == 401

    seen = client.get(
        "/api/v1/audit-events?action=login-denied", headers=tenant.headers("auditor")
    ).json()["items"]
    assert len(seen) == 1
    assert seen[0]["user_id"] == tenant.user_ids["lab"]
    assert seen[0]["outcome"] == "denied"
    assert "wrong secret" in seen[0]["detail"]


def test_an_unknown_key_is_no_organizations_event_but_the_system_logs(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    response = client.get(
        "/api/v1/patients", headers={"Authorization": "Bearer bo_0123456789abcdef_guess"}
    )
    assert response.status_code == 401
    seen = client.get(
        "/api/v1/audit-events?action=login-denied", headers=tenant.headers("auditor")
    ).json()["items"]
    assert seen == []
    [event] = _denials(db)
    assert event.organization_id is None
    assert "unknown key id" in event.detail


@pytest.fixture
def strict_app(engine: Engine, session_factory: SessionFactory, settings: Settings) -> FastAPI:
    strict = settings.model_copy(
        update={"login_failures_per_key": 3, "login_failures_per_address": 5}
    )
    return create_app(strict, engine=engine, session_factory=session_factory)


@pytest.fixture
def strict_client(strict_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(strict_app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_repeated_wrong_secrets_block_the_key_id_with_429_and_retry_after(
    strict_client: TestClient, tenant: Tenant, db: Session
) -> None:
    key = tenant.keys["lab"]
    wrong = {"Authorization": f"Bearer bo_{_key_id(key)}_wrong"}
    statuses = [strict_client.get("/api/v1/patients", headers=wrong).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]

    # Blocked even with the right secret, until the block ends: guessing gains nothing.
    right = strict_client.get("/api/v1/patients", headers={"Authorization": f"Bearer {key}"})
    assert right.status_code == 429
    assert right.headers["content-type"] == "application/problem+json"
    assert 0 < int(right.headers["Retry-After"]) <= 300
    # Another key from the same address still works (the address limit is higher).
    assert strict_client.get("/api/v1/patients", headers=tenant.headers()).status_code == 200
    # Three denials and one block are audited; the throttled requests write nothing each.
    db.expire_all()
    actions = db.exec(select(AuditEvent.action).where(col(AuditEvent.action).like("login-%"))).all()
    assert sorted(actions) == ["login-denied"] * 3 + ["login-throttled"]


def test_repeated_failures_from_one_address_block_the_address(
    strict_client: TestClient, tenant: Tenant
) -> None:
    for n in range(5):
        guess = {"Authorization": f"Bearer bo_{n:016d}_guess"}
        assert strict_client.get("/api/v1/patients", headers=guess).status_code == 401
    blocked = strict_client.get("/api/v1/patients", headers=tenant.headers())
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0


def test_the_throttle_is_shared_by_every_app_on_the_database(
    engine: Engine, session_factory: SessionFactory, settings: Settings, tenant: Tenant
) -> None:
    """Two replicas: failures counted by one block the key at the other."""
    strict = settings.model_copy(update={"login_failures_per_key": 2})
    wrong = {"Authorization": f"Bearer bo_{_key_id(tenant.keys['coder'])}_wrong"}
    first = create_app(strict, engine=engine, session_factory=session_factory)
    second = create_app(strict, engine=engine, session_factory=session_factory)
    with (
        TestClient(first, raise_server_exceptions=False) as a,
        TestClient(second, raise_server_exceptions=False) as b,
    ):
        assert a.get("/api/v1/patients", headers=wrong).status_code == 401
        assert b.get("/api/v1/patients", headers=wrong).status_code == 401
        assert a.get("/api/v1/patients", headers=tenant.headers("coder")).status_code == 429
