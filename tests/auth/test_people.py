"""Person sign-in through the API side: one-time passwords, throttling, deactivation, audit."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.auth import people
from service.auth.models import AppUser, WebSession
from service.db import SessionFactory
from service.main import create_app
from service.records import utcnow
from service.settings import Settings
from tests.factories import Tenant
from tests.web.signin import NEW_PASSWORD, one_time_password, signed_in, submit_sign_in


def _events(db: Session, action: str) -> list[AuditEvent]:
    db.commit()  # a fresh snapshot (SQLite keeps the read transaction's)
    query = select(AuditEvent).where(AuditEvent.action == action)
    return list(db.exec(query.order_by(col(AuditEvent.at), col(AuditEvent.id))).all())


def test_an_admin_issues_a_one_time_password_that_must_be_changed(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    user_id = tenant.user_ids["biller"]
    response = client.post(
        f"/api/v1/users/{user_id}/password-reset",
        json={"username": "Pat.Biller"},
        headers=tenant.headers("admin"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["username"] == "pat.biller"  # compared without regard to case
    assert len(body["one_time_password"]) >= 16
    assert body["password_must_change"] is True
    read = client.get(f"/api/v1/users/{user_id}", headers=tenant.headers("admin")).json()
    assert read["username"] == "pat.biller"
    assert read["password_must_change"] is True
    db.commit()  # a fresh snapshot (SQLite keeps the read transaction's)
    stored = db.get(AppUser, user_id)
    assert stored is not None
    assert stored.password_hash is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert body["one_time_password"] not in stored.password_hash
    [event] = [e for e in _events(db, "update") if e.resource_id == user_id]
    assert event.user_id == tenant.user_ids["admin"]
    assert "password reset" in event.detail
    assert body["one_time_password"] not in event.detail


@pytest.mark.parametrize("role", ["biller", "auditor", "lab"])
def test_only_an_admin_may_reset_a_password(client: TestClient, tenant: Tenant, role: str) -> None:
    response = client.post(
        f"/api/v1/users/{tenant.user_ids['front_desk']}/password-reset",
        json={"username": "someone"},
        headers=tenant.headers(role),
    )
    assert response.status_code == 403


def test_a_reset_needs_a_username_an_unused_one_and_a_person(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    admin = tenant.headers("admin")
    url = f"/api/v1/users/{tenant.user_ids['coder']}/password-reset"
    no_name = client.post(url, json={}, headers=admin)
    assert no_name.status_code == 422
    assert no_name.json()["errors"][0]["pointer"] == "/username"
    # Usernames are unique across organizations: the sign-in form names none.
    one_time_password(client, other_tenant, "coder", "shared-name")
    taken = client.post(url, json={"username": "SHARED-NAME"}, headers=admin)
    assert taken.status_code == 409
    assert taken.json()["type"].endswith("/username-taken")
    integration = client.post(
        "/api/v1/users",
        json={"name": "EHR feed", "kind": "integration", "roles": ["integration"]},
        headers=admin,
    ).json()
    robot = client.post(
        f"/api/v1/users/{integration['id']}/password-reset",
        json={"username": "robot"},
        headers=admin,
    )
    assert robot.status_code == 409
    foreign = client.post(
        f"/api/v1/users/{other_tenant.user_ids['coder']}/password-reset",
        json={"username": "stranger"},
        headers=admin,
    )
    assert foreign.status_code == 404
    bad = client.post(url, json={"username": "has space"}, headers=admin)
    assert bad.status_code == 422


def test_deactivating_a_user_ends_their_web_sessions(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    signed_in(client, tenant, "biller")
    assert client.get("/app/", follow_redirects=False).status_code == 200
    user_id = tenant.user_ids["biller"]
    assert people.live_sessions(db, user_id) == 1

    response = client.patch(
        f"/api/v1/users/{user_id}", json={"active": False}, headers=tenant.headers("admin")
    )
    assert response.status_code == 200
    db.commit()  # a fresh snapshot (SQLite keeps the read transaction's)
    assert people.live_sessions(db, user_id) == 0
    home = client.get("/app/", follow_redirects=False)
    assert home.status_code == 303
    assert home.headers["location"] == "/app/sign-in"
    # Reactivated, the old cookie stays dead: the session was ended, not just refused.
    client.patch(f"/api/v1/users/{user_id}", json={"active": True}, headers=tenant.headers())
    assert client.get("/app/", follow_redirects=False).status_code == 303


def test_a_deactivated_user_cannot_sign_in_and_the_refusal_is_audited(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    otp = one_time_password(client, tenant, "lab", "lab-person")
    client.patch(
        f"/api/v1/users/{tenant.user_ids['lab']}",
        json={"active": False},
        headers=tenant.headers("admin"),
    )
    refused = submit_sign_in(client, "lab-person", otp)
    assert refused.status_code == 401
    [event] = _events(db, "login-denied")
    assert event.organization_id == tenant.organization_id
    assert event.user_id == tenant.user_ids["lab"]
    assert "inactive user" in event.detail


def test_a_password_reset_ends_the_users_sessions(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    signed_in(client, tenant, "coder", "coder-person")
    assert client.get("/app/", follow_redirects=False).status_code == 200
    one_time_password(client, tenant, "coder", "coder-person")
    assert client.get("/app/", follow_redirects=False).status_code == 303
    # The own password no longer works either: only the new one-time password does.
    assert submit_sign_in(client, "coder-person", NEW_PASSWORD).status_code == 401


def test_a_wrong_password_is_audited_in_the_users_organization_and_an_unknown_name_in_none(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    one_time_password(client, tenant, "biller", "bill")
    wrong = submit_sign_in(client, "bill", "not the password")
    assert wrong.status_code == 401
    assert people.SIGN_IN_REFUSED in wrong.text
    unknown = submit_sign_in(client, "nobody-here", "not the password")
    assert unknown.status_code == 401
    # The same words either way: the page does not say which part was wrong.
    assert people.SIGN_IN_REFUSED in unknown.text
    first, second = _events(db, "login-denied")
    assert (first.organization_id, first.user_id) == (
        tenant.organization_id,
        tenant.user_ids["biller"],
    )
    assert first.resource_type == "web_session"
    assert "wrong password" in first.detail
    assert second.organization_id is None
    assert "unknown username" in second.detail
    seen = client.get(
        "/api/v1/audit-events?action=login-denied", headers=tenant.headers("auditor")
    ).json()["items"]
    assert [e["id"] for e in seen] == [first.id]


def test_a_user_without_a_password_cannot_sign_in(client: TestClient, tenant: Tenant) -> None:
    assert submit_sign_in(client, "admin", "").status_code == 401


@pytest.fixture
def strict_client(
    settings: Settings, engine: Engine, session_factory: SessionFactory
) -> Iterator[TestClient]:
    strict = settings.model_copy(update={"login_failures_per_key": 3})
    app: FastAPI = create_app(strict, engine=engine, session_factory=session_factory)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_repeated_failed_sign_ins_block_the_username_even_with_the_right_password(
    strict_client: TestClient, tenant: Tenant, db: Session
) -> None:
    otp = one_time_password(strict_client, tenant, "biller", "guessed")
    for _ in range(3):
        assert submit_sign_in(strict_client, "guessed", "a wrong guess").status_code == 401
    blocked = submit_sign_in(strict_client, "guessed", otp)
    assert blocked.status_code == 429
    assert "Too many failed sign-ins" in blocked.text
    [throttled] = _events(db, "login-throttled")
    assert throttled.organization_id == tenant.organization_id
    assert throttled.detail.startswith("user blocked")
    # Another username from the same address is not blocked by this one's failures.
    other = one_time_password(strict_client, tenant, "coder", "not-guessed")
    assert submit_sign_in(strict_client, "not-guessed", other).status_code == 303


def test_an_idle_session_is_ended(client: TestClient, tenant: Tenant, db: Session) -> None:
    signed_in(client, tenant, "biller")
    assert client.get("/app/", follow_redirects=False).status_code == 200
    db.commit()  # a fresh snapshot (SQLite keeps the read transaction's)
    [row] = db.exec(select(WebSession).where(WebSession.user_id == tenant.user_ids["biller"]))
    row.last_seen_at = utcnow() - timedelta(minutes=16)  # the default idle time is 15 minutes
    db.add(row)
    db.commit()
    home = client.get("/app/", follow_redirects=False)
    assert home.status_code == 303
    assert home.headers["location"] == "/app/sign-in"
