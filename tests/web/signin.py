"""Signing a person in through the pages with a TestClient (forms, cookies), for the tests."""

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Tenant

NEW_PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: str) -> str:
    found = _CSRF.search(page)
    assert found is not None, page
    return found.group(1)


def one_time_password(client: TestClient, tenant: Tenant, role: str, username: str) -> str:
    response = client.post(
        f"/api/v1/users/{tenant.user_ids[role]}/password-reset",
        json={"username": username},
        headers=tenant.headers("admin"),
    )
    assert response.status_code == 200, response.text
    password: str = response.json()["one_time_password"]
    return password


def submit_sign_in(client: TestClient, username: str, password: str) -> Any:
    token = csrf_of(client.get("/app/sign-in").text)
    return client.post(
        "/app/sign-in",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def signed_in(client: TestClient, tenant: Tenant, role: str, username: str = "") -> str:
    """Signs the client in as the tenant's `role` user with a password of their own; returns
    the session's CSRF token (from the home page's sign-out form)."""
    username = username or f"{role}-{tenant.organization_id[:6]}"
    otp = one_time_password(client, tenant, role, username)
    assert submit_sign_in(client, username, otp).headers["location"] == "/app/password"
    token = csrf_of(client.get("/app/password").text)
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
    assert changed.status_code == 303, changed.text
    return token
