"""The /app pages through a TestClient: the session, CSRF, role guards, headers, audit."""

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from tests.factories import Tenant
from tests.web.signin import NEW_PASSWORD, csrf_of, one_time_password, signed_in, submit_sign_in


def test_a_signed_out_browser_is_sent_to_the_sign_in_page(client: TestClient) -> None:
    for path in ("/app/", "/app/billing/claims", "/app/password"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/app/sign-in"


def test_the_sign_in_page_labels_its_fields_and_sends_the_security_headers(
    client: TestClient,
) -> None:
    page = client.get("/app/sign-in")
    assert page.status_code == 200
    assert '<label for="username">' in page.text
    assert '<label for="password">' in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "style-src 'self'" in csp
    assert "script-src" not in csp  # no script at all
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/app" in cookie
    css = client.get("/app/static/app.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")


def test_a_one_time_password_leads_to_the_password_page_until_it_is_changed(
    client: TestClient, tenant: Tenant
) -> None:
    otp = one_time_password(client, tenant, "biller", "first-day")
    response = submit_sign_in(client, "first-day", otp)
    assert response.status_code == 303
    assert response.headers["location"] == "/app/password"
    cookie = response.headers["set-cookie"]
    assert "bo_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain HTTP here; HTTPS or the setting make it Secure
    # Every other page waits for the change.
    assert client.get("/app/", follow_redirects=False).headers["location"] == "/app/password"
    token = csrf_of(client.get("/app/password").text)
    short = client.post(
        "/app/password",
        data={
            "csrf_token": token,
            "current_password": otp,
            "new_password": "short",
            "confirm_password": "short",
        },
    )
    assert short.status_code == 422
    assert "at least 12 characters" in short.text
    changed = client.post(
        "/app/password",
        data={
            "csrf_token": token,
            "current_password": otp,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
        follow_redirects=False,
    )
    assert changed.headers["location"] == "/app/"
    home = client.get("/app/")
    assert home.status_code == 200
    assert "Billing desk" in home.text
    assert "Signed in as biller user" in home.text


def test_home_lists_only_the_desks_the_roles_allow(client: TestClient, tenant: Tenant) -> None:
    signed_in(client, tenant, "lab")
    home = client.get("/app/").text
    assert "Lab bench" in home
    assert "Billing desk" not in home


def test_a_role_that_may_not_see_a_page_gets_403_and_an_audit_row(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    signed_in(client, tenant, "lab")
    refused = client.get("/app/billing/claims")
    assert refused.status_code == 403
    assert "Your role may not see this page" in refused.text
    db.commit()
    [event] = db.exec(
        select(AuditEvent).where(AuditEvent.resource_type == "page", AuditEvent.outcome == "denied")
    ).all()
    assert event.user_id == tenant.user_ids["lab"]
    assert event.organization_id == tenant.organization_id
    assert event.resource_id == "/app/billing/claims"


def test_a_form_without_its_sessions_csrf_token_is_refused(
    client: TestClient, tenant: Tenant
) -> None:
    token = signed_in(client, tenant, "biller")
    assert client.post("/app/sign-out", data={}).status_code == 403
    assert client.post("/app/sign-out", data={"csrf_token": "forged"}).status_code == 403
    password = client.post(
        "/app/password",
        data={
            "current_password": NEW_PASSWORD,
            "new_password": "another long password",
            "confirm_password": "another long password",
        },
    )
    assert password.status_code == 403
    assert client.get("/app/", follow_redirects=False).status_code == 200  # still signed in
    out = client.post("/app/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/app/", follow_redirects=False).status_code == 303


def test_the_sign_in_form_needs_its_own_token(client: TestClient, tenant: Tenant) -> None:
    otp = one_time_password(client, tenant, "biller", "no-token")
    client.get("/app/sign-in")
    response = client.post("/app/sign-in", data={"username": "no-token", "password": otp})
    assert response.status_code == 403


def test_a_session_cookie_from_another_browser_is_not_needed_to_sign_out_twice(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    token = signed_in(client, tenant, "auditor")
    client.post("/app/sign-out", data={"csrf_token": token})
    db.commit()
    actions = db.exec(
        select(AuditEvent.action)
        .where(AuditEvent.resource_type == "web_session")
        .order_by(col(AuditEvent.at))
    ).all()
    assert list(actions) == ["login", "logout"]
    # The ended session's cookie, replayed, signs nobody in.
    assert client.post("/app/sign-out", data={"csrf_token": token}).status_code in (200, 303)
    assert client.get("/app/", follow_redirects=False).status_code == 303


def test_pages_stay_out_of_the_openapi_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/app")]
