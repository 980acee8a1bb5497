"""Two-step sign-in for admins (RFC 6238 codes): enrolment on a page, the code after the
password, wrong and replayed codes, throttling, turning it off; the audit of each."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service import secret_box
from service.audit.models import AuditEvent
from service.auth import totp
from service.auth.models import AppUser, WebSession
from service.db import SessionFactory
from service.main import create_app
from service.settings import Settings
from tests.factories import Tenant
from tests.web.signin import NEW_PASSWORD, csrf_of, signed_in, submit_sign_in

_SECRET = re.compile(r'<code id="secret">([A-Z2-7]+)</code>')


def _events(db: Session, action: str) -> list[AuditEvent]:
    db.commit()  # a fresh snapshot (SQLite keeps the read transaction's)
    query = select(AuditEvent).where(AuditEvent.action == action)
    return list(db.exec(query.order_by(col(AuditEvent.at), col(AuditEvent.id))).all())


def _code(secret: str, steps_ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30 * steps_ahead))


def _wrong_code(secret: str) -> str:
    """A well-formed code that is none of the ones accepted now."""
    good = {_code(secret, k) for k in (-1, 0, 1, 2)}
    return next(c for c in ("123456", "654321", "111111", "222222") if c not in good)


def _enrol(client: TestClient, token: str) -> str:
    """Turns two-step sign-in on for the signed-in admin; answers the secret."""
    page = client.get("/app/account/two-step")
    assert page.status_code == 200
    assert "Two-step sign-in is off" in page.text
    started = client.post("/app/account/two-step/start", data={"csrf_token": token})
    assert started.status_code == 200, started.text
    found = _SECRET.search(started.text)
    assert found is not None, started.text
    secret = found.group(1)
    assert "otpauth://totp/" in started.text
    assert "<svg" in started.text  # the QR code, inline
    # Until a code confirms it, the enrolment is shown again on a reload.
    assert secret in client.get("/app/account/two-step").text
    refused = client.post(
        "/app/account/two-step/confirm",
        data={"csrf_token": token, "code": _wrong_code(secret)},
    )
    assert refused.status_code == 422
    assert "The code is not right" in refused.text
    confirmed = client.post(
        "/app/account/two-step/confirm",
        data={"csrf_token": token, "code": _code(secret)},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303, confirmed.text
    on = client.get("/app/account/two-step").text
    assert "Two-step sign-in is on" in on
    assert secret not in on  # never shown again
    return secret


def _sign_out(client: TestClient) -> None:
    token = csrf_of(client.get("/app/").text)
    client.post("/app/sign-out", data={"csrf_token": token})


def _password_step(client: TestClient, username: str) -> str:
    """The right password: the code's page next; answers that form's token."""
    response = submit_sign_in(client, username, NEW_PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/app/sign-in/code"
    assert "bo_second_step=" in response.headers["set-cookie"]
    return csrf_of(client.get("/app/sign-in/code").text)


def test_an_admin_turns_two_step_on_and_sign_in_then_asks_for_a_code(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    token = signed_in(client, tenant, "admin", "two-step-admin")
    secret = _enrol(client, token)
    db.commit()
    admin = db.get(AppUser, tenant.user_ids["admin"])
    assert admin is not None
    assert admin.totp_enabled_at is not None
    assert admin.totp_last_step is not None  # the confirming code is spent
    _sign_out(client)

    form = _password_step(client, "two-step-admin")
    # Half signed in: no page opens yet.
    assert client.get("/app/", follow_redirects=False).headers["location"] == "/app/sign-in"
    wrong = client.post("/app/sign-in/code", data={"csrf_token": form, "code": _wrong_code(secret)})
    assert wrong.status_code == 401
    assert "The code is not right" in wrong.text
    enrolment_check, denied = _events(db, "login-denied")
    assert enrolment_check.detail.endswith("wrong or used two-step code on the two-step page")
    assert denied.user_id == tenant.user_ids["admin"]
    assert denied.detail == "401 sign-in refused: wrong or used two-step code"
    # The confirming code (its step) is spent: a replay is refused too. The step's own code,
    # not the current one: a step boundary may have passed since (a later step is accepted).
    spent = pyotp.TOTP(secret).generate_otp(admin.totp_last_step)
    replay = client.post("/app/sign-in/code", data={"csrf_token": form, "code": spent})
    assert replay.status_code == 401
    code = _code(secret, 1)  # the next step's code (one step of drift is allowed)
    right = client.post(
        "/app/sign-in/code", data={"csrf_token": form, "code": code}, follow_redirects=False
    )
    assert right.status_code == 303, right.text
    assert right.headers["location"] == "/app/"
    assert "bo_session=" in right.headers["set-cookie"]
    assert client.get("/app/").status_code == 200
    logins = _events(db, "login")
    assert logins[-1].detail == "signed in to the web pages (password and two-step code)"
    _sign_out(client)

    # The same code again, in a new sign-in within its window: refused.
    form = _password_step(client, "two-step-admin")
    again = client.post("/app/sign-in/code", data={"csrf_token": form, "code": code})
    assert again.status_code == 401
    assert client.get("/app/", follow_redirects=False).status_code == 303


def test_the_code_step_needs_its_own_token_and_expires(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    token = signed_in(client, tenant, "admin", "expiring-admin")
    secret = _enrol(client, token)
    _sign_out(client)
    form = _password_step(client, "expiring-admin")
    forged = client.post("/app/sign-in/code", data={"csrf_token": "forged", "code": "1"})
    assert forged.status_code == 403
    db.commit()
    [half] = db.exec(
        select(WebSession).where(
            WebSession.user_id == tenant.user_ids["admin"], col(WebSession.awaiting_code)
        )
    )
    half.created_at = datetime.now(UTC) - totp.CODE_STEP_TIME - timedelta(seconds=1)
    db.add(half)
    db.commit()
    late = client.post(
        "/app/sign-in/code",
        data={"csrf_token": form, "code": _code(secret, 1)},
        follow_redirects=False,
    )
    assert late.status_code == 303
    assert late.headers["location"] == "/app/sign-in"  # start again


@pytest.fixture
def strict_client(
    settings: Settings, engine: Engine, session_factory: SessionFactory
) -> Iterator[TestClient]:
    strict = settings.model_copy(update={"login_failures_per_key": 3})
    app: FastAPI = create_app(strict, engine=engine, session_factory=session_factory)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_wrong_codes_are_throttled_like_wrong_passwords(
    strict_client: TestClient, tenant: Tenant, db: Session
) -> None:
    client = strict_client
    token = signed_in(client, tenant, "admin", "guessing-admin")
    secret = _enrol(client, token)  # one wrong code already (the enrolment's check)
    _sign_out(client)
    form = _password_step(client, "guessing-admin")
    for _ in range(2):
        wrong = client.post(
            "/app/sign-in/code", data={"csrf_token": form, "code": _wrong_code(secret)}
        )
        assert wrong.status_code == 401
    blocked = client.post("/app/sign-in/code", data={"csrf_token": form, "code": _code(secret, 1)})
    assert blocked.status_code == 429
    assert "Too many failed sign-ins" in blocked.text
    [throttled] = _events(db, "login-throttled")
    assert throttled.user_id == tenant.user_ids["admin"]
    assert throttled.detail.startswith("user blocked")
    # The password step is blocked for that username too.
    assert submit_sign_in(client, "guessing-admin", NEW_PASSWORD).status_code == 429


def test_turning_two_step_off_needs_a_code(client: TestClient, tenant: Tenant, db: Session) -> None:
    token = signed_in(client, tenant, "admin", "leaving-admin")
    secret = _enrol(client, token)
    refused = client.post(
        "/app/account/two-step/off", data={"csrf_token": token, "code": _wrong_code(secret)}
    )
    assert refused.status_code == 422
    assert "Two-step sign-in is on" in refused.text
    no_token = client.post("/app/account/two-step/off", data={"code": _code(secret, 1)})
    assert no_token.status_code == 403
    off = client.post(
        "/app/account/two-step/off",
        data={"csrf_token": token, "code": _code(secret, 1)},
        follow_redirects=False,
    )
    assert off.status_code == 303
    db.commit()
    admin = db.get(AppUser, tenant.user_ids["admin"])
    assert admin is not None
    db.refresh(admin)
    assert admin.totp_secret is None
    assert admin.totp_enabled_at is None
    details = [e.detail for e in _events(db, "update") if e.resource_type == "user"]
    assert "two-step sign-in turned on" in details
    assert "two-step sign-in turned off" in details
    _sign_out(client)
    # Password alone again.
    assert submit_sign_in(client, "leaving-admin", NEW_PASSWORD).headers["location"] == "/app/"


def test_two_step_is_an_admins_page(client: TestClient, tenant: Tenant) -> None:
    token = signed_in(client, tenant, "biller")
    assert client.get("/app/account/two-step").status_code == 403
    started = client.post("/app/account/two-step/start", data={"csrf_token": token})
    assert started.status_code == 403


def test_no_code_page_without_a_right_password(client: TestClient) -> None:
    page = client.get("/app/sign-in/code", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/app/sign-in"


def _stored_secret(db: Session, user_id: str) -> str:
    db.commit()
    admin = db.get(AppUser, user_id)
    assert admin is not None
    db.refresh(admin)
    assert admin.totp_secret is not None
    return admin.totp_secret


def test_the_secret_is_stored_sealed_under_the_secrets_key(
    app: FastAPI, client: TestClient, tenant: Tenant, db: Session
) -> None:
    token = signed_in(client, tenant, "admin", "sealed-admin")
    secret = _enrol(client, token)
    stored = _stored_secret(db, tenant.user_ids["admin"])
    assert secret not in stored
    assert app.state.secret_box.open(stored) == secret
    assert totp.unopened_secrets(db, app.state.secret_box) == []


def _app_with_key(
    settings: Settings, engine: Engine, session_factory: SessionFactory, key: str
) -> FastAPI:
    # Strict throttling (the enrolment's check was one failure): a counted refusal would show.
    keyed = settings.model_copy(update={"secrets_key": SecretStr(key), "login_failures_per_key": 2})
    return create_app(keyed, engine=engine, session_factory=session_factory)


def test_a_key_that_does_not_open_the_secret_refuses_the_sign_in_and_says_why(
    client: TestClient,
    tenant: Tenant,
    db: Session,
    settings: Settings,
    engine: Engine,
    session_factory: SessionFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = signed_in(client, tenant, "admin", "rekeyed-admin")
    secret = _enrol(client, token)
    _sign_out(client)
    # The key file lost, or another key set: the same database under a new key.
    key = secret_box.new_key()
    other = _app_with_key(settings, engine, session_factory, key)
    assert totp.report_unopened(db, other.state.secret_box) == 1
    assert tenant.user_ids["admin"] in caplog.text
    with TestClient(other, raise_server_exceptions=False) as rekeyed:
        form = _password_step(rekeyed, "rekeyed-admin")
        for steps_ahead in (0, 1, 0):  # the right codes, again and again: never let through
            refused = rekeyed.post(
                "/app/sign-in/code",
                data={"csrf_token": form, "code": _code(secret, steps_ahead)},
                follow_redirects=False,
            )
            assert refused.status_code == 503
            assert "secrets key does not open" in refused.text
            assert "bo_session=" not in refused.headers.get("set-cookie", "")
            assert rekeyed.get("/app/", follow_redirects=False).status_code == 303
    denied = _events(db, "login-denied")[-3:]
    assert [e.user_id for e in denied] == [tenant.user_ids["admin"]] * 3
    assert denied[-1].detail.startswith("503 sign-in refused: the secrets key does not open")
    assert _events(db, "login-throttled") == []  # the key's fault, not the admin's: not counted
    assert key not in caplog.text
    assert "does not open the two-step secret of 1 user(s)" in caplog.text
    # The key restored: the admin signs in again.
    form = _password_step(client, "rekeyed-admin")
    right = client.post(
        "/app/sign-in/code",
        data={"csrf_token": form, "code": _code(secret, 1)},
        follow_redirects=False,
    )
    assert right.status_code == 303, right.text
    assert right.headers["location"] == "/app/"


def test_a_rotated_key_opens_the_old_secret_and_seals_it_again_under_the_new(
    client: TestClient,
    tenant: Tenant,
    db: Session,
    settings: Settings,
    engine: Engine,
    session_factory: SessionFactory,
    app: FastAPI,
) -> None:
    token = signed_in(client, tenant, "admin", "rotating-admin")
    secret = _enrol(client, token)
    _sign_out(client)
    old = (settings.data_dir / "secrets.key").read_text().strip()
    new = secret_box.new_key()
    rotated = _app_with_key(settings, engine, session_factory, f"{new},{old}")
    with TestClient(rotated, raise_server_exceptions=False) as rotating:
        form = _password_step(rotating, "rotating-admin")
        right = rotating.post(
            "/app/sign-in/code",
            data={"csrf_token": form, "code": _code(secret, 1)},
            follow_redirects=False,
        )
        assert right.status_code == 303, right.text
    stored = _stored_secret(db, tenant.user_ids["admin"])
    assert secret_box.box_of(new, "new key").open(stored) == secret
    assert totp.unopened_secrets(db, app.state.secret_box) == [tenant.user_ids["admin"]]
