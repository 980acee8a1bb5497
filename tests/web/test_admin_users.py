"""Staff accounts on the Administration desk: create, reset a password (the one-time password
shown once), re-role and deactivate under the API's last-admin rules; admins only, CSRF, audit."""

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.auth.models import AppUser
from tests.factories import Tenant
from tests.web.signin import NEW_PASSWORD, csrf_of, signed_in, submit_sign_in

_ONE_TIME = re.compile(r'<code id="one-time-password">([^<]+)</code>')


def _one_time_password(page: str) -> str:
    found = _ONE_TIME.search(page)
    assert found is not None, page
    return found.group(1)


def _user_events(db: Session) -> list[AuditEvent]:
    db.commit()
    query = select(AuditEvent).where(AuditEvent.resource_type == "user")
    return list(db.exec(query.order_by(col(AuditEvent.at), col(AuditEvent.id))).all())


def test_an_admin_creates_a_staff_account_who_then_signs_in(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    token = signed_in(client, tenant, "admin")
    home = client.get("/app/").text
    assert "Administration" in home
    page = client.get("/app/admin/users")
    assert page.status_code == 200
    assert '<label for="new-username">' in page.text
    created = client.post(
        "/app/admin/users",
        data={
            "csrf_token": token,
            "name": "Robin Clerk",
            "username": "Robin.Clerk",
            "roles": ["biller", "auditor"],
        },
    )
    assert created.status_code == 201, created.text
    password = _one_time_password(created.text)
    assert "robin.clerk" in created.text
    # Shown once: the list does not show it again.
    assert password not in client.get("/app/admin/users").text
    db.commit()
    robin = db.exec(select(AppUser).where(AppUser.username == "robin.clerk")).one()
    assert robin.organization_id == tenant.organization_id
    assert robin.role_set == {"biller", "auditor"}
    assert robin.password_must_change
    details = [(e.action, e.resource_id, e.detail) for e in _user_events(db)]
    assert ("create", robin.id, "roles: auditor,biller (web page)") in details
    assert ("update", robin.id, "password reset (one-time password) (web page)") in details

    other = TestClient(client.app)
    first = submit_sign_in(other, "robin.clerk", password)
    assert first.headers["location"] == "/app/password"


def test_a_taken_username_or_bad_input_creates_nothing(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    token = signed_in(client, tenant, "admin", "taken-name")
    before = len(db.exec(select(AppUser.id)).all())
    taken = client.post(
        "/app/admin/users",
        data={"csrf_token": token, "name": "Copy", "username": "taken-name", "roles": ["lab"]},
    )
    assert taken.status_code == 409
    assert "is taken" in taken.text
    no_roles = client.post(
        "/app/admin/users", data={"csrf_token": token, "name": "No roles", "username": "noroles"}
    )
    assert no_roles.status_code == 422
    bad_name = client.post(
        "/app/admin/users",
        data={"csrf_token": token, "name": "Odd", "username": "no spaces", "roles": ["lab"]},
    )
    assert bad_name.status_code == 422
    db.commit()
    assert len(db.exec(select(AppUser.id)).all()) == before


def test_a_password_reset_shows_a_new_one_time_password_and_ends_sessions(
    client: TestClient, tenant: Tenant
) -> None:
    biller = TestClient(client.app)
    signed_in(biller, tenant, "biller", "reset-me")
    assert biller.get("/app/", follow_redirects=False).status_code == 200
    token = signed_in(client, tenant, "admin")
    reset = client.post(
        f"/app/admin/users/{tenant.user_ids['biller']}/password-reset",
        data={"csrf_token": token},
    )
    assert reset.status_code == 200, reset.text
    password = _one_time_password(reset.text)
    assert biller.get("/app/", follow_redirects=False).status_code == 303  # signed out
    assert submit_sign_in(biller, "reset-me", NEW_PASSWORD).status_code == 401
    assert submit_sign_in(biller, "reset-me", password).headers["location"] == "/app/password"


def test_a_person_without_a_username_gets_one_with_the_reset(
    client: TestClient, tenant: Tenant
) -> None:
    token = signed_in(client, tenant, "admin")
    without = client.post(
        f"/app/admin/users/{tenant.user_ids['coder']}/password-reset", data={"csrf_token": token}
    )
    assert without.status_code == 422
    assert "no username" in without.text
    given = client.post(
        f"/app/admin/users/{tenant.user_ids['coder']}/password-reset",
        data={"csrf_token": token, "username": "coder-one"},
    )
    assert given.status_code == 200
    assert _one_time_password(given.text)


def test_the_last_admin_cannot_be_deactivated_or_demoted_here_either(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    token = signed_in(client, tenant, "admin")
    me = tenant.user_ids["admin"]
    demoted = client.post(
        f"/app/admin/users/{me}",
        data={"csrf_token": token, "name": "Admin", "roles": ["biller"], "active": "yes"},
    )
    assert demoted.status_code == 409
    off = client.post(
        f"/app/admin/users/{me}", data={"csrf_token": token, "name": "Admin", "roles": ["admin"]}
    )
    assert off.status_code == 409
    db.commit()
    admin = db.get(AppUser, me)
    assert admin is not None
    db.refresh(admin)
    assert admin.active
    assert "admin" in admin.role_set
    # Another user is re-roled and deactivated.
    lab = tenant.user_ids["lab"]
    saved = client.post(
        f"/app/admin/users/{lab}",
        data={"csrf_token": token, "name": "Lab Two", "roles": ["lab", "coder"]},
    )
    assert saved.status_code == 200, saved.text
    assert "deactivated" in saved.text
    db.commit()
    user = db.get(AppUser, lab)
    assert user is not None
    db.refresh(user)
    assert (user.name, user.active, user.role_set) == (
        "Lab Two",
        False,
        frozenset({"lab", "coder"}),
    )


def test_staff_accounts_are_for_admins_and_need_the_csrf_token(
    client: TestClient, tenant: Tenant
) -> None:
    token = signed_in(client, tenant, "auditor")
    assert client.get("/app/admin/users").status_code == 403
    assert "Administration" not in client.get("/app/").text
    refused = client.post(
        "/app/admin/users",
        data={"csrf_token": token, "name": "Sneaky", "username": "sneaky", "roles": ["admin"]},
    )
    assert refused.status_code == 403
    admin = TestClient(client.app)
    signed_in(admin, tenant, "admin")
    forged = admin.post(
        "/app/admin/users",
        data={"csrf_token": "forged", "name": "Forged", "username": "forged", "roles": ["lab"]},
    )
    assert forged.status_code == 403
    assert csrf_of(admin.get("/app/admin/users").text)
