"""Automatic sign-out after the idle time (a setting, 15 minutes by default): the session is
refused and ended for good, and a session in use goes on."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.auth.models import WebSession
from service.db import SessionFactory
from service.main import create_app
from service.records import utcnow
from service.settings import Settings
from tests.factories import Tenant
from tests.web.signin import signed_in


def _last_seen(db: Session, user_id: str, ago: timedelta) -> WebSession:
    db.commit()  # a fresh snapshot (SQLite keeps the read transaction's)
    [row] = db.exec(select(WebSession).where(WebSession.user_id == user_id))
    row.last_seen_at = utcnow() - ago
    db.add(row)
    db.commit()
    return row


def test_the_default_idle_time_is_15_minutes() -> None:
    assert Settings().web_idle_minutes == 15


def test_a_session_idle_past_15_minutes_is_signed_out_and_stays_ended(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    signed_in(client, tenant, "biller")
    _last_seen(db, tenant.user_ids["biller"], timedelta(minutes=14))
    assert client.get("/app/", follow_redirects=False).status_code == 200  # in use: goes on
    row = _last_seen(db, tenant.user_ids["biller"], timedelta(minutes=16))
    [cookie] = [c for c in client.cookies.jar if c.name == "bo_session"]
    home = client.get("/app/billing/claims", follow_redirects=False)
    assert home.status_code == 303
    assert home.headers["location"] == "/app/sign-in"
    assert 'bo_session=""' in home.headers["set-cookie"]  # the cookie is dropped
    db.refresh(row)
    assert row.ended_at is not None
    # Ended, not merely idle: a row touched later (another replica's clock) opens nothing.
    _last_seen(db, tenant.user_ids["biller"], timedelta(0))
    client.cookies.set(cookie.name, cookie.value or "", domain=cookie.domain, path=cookie.path)
    assert client.get("/app/", follow_redirects=False).status_code == 303


@pytest.fixture
def quick_client(
    settings: Settings, engine: Engine, session_factory: SessionFactory
) -> Iterator[TestClient]:
    quick = settings.model_copy(update={"web_idle_minutes": 2})
    app: FastAPI = create_app(quick, engine=engine, session_factory=session_factory)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_the_idle_time_is_a_setting(quick_client: TestClient, tenant: Tenant, db: Session) -> None:
    signed_in(quick_client, tenant, "auditor")
    _last_seen(db, tenant.user_ids["auditor"], timedelta(minutes=3))
    assert quick_client.get("/app/", follow_redirects=False).status_code == 303
