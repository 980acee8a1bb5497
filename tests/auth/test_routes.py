"""Users and API keys through the admin routes."""

from fastapi.testclient import TestClient

from tests.factories import Tenant


def test_an_admin_creates_a_user_and_a_key_that_works_at_once(
    client: TestClient, tenant: Tenant
) -> None:
    user = client.post(
        "/api/v1/users", json={"name": "Lab tech", "roles": ["lab"]}, headers=tenant.headers()
    )
    assert user.status_code == 201, user.text
    issued = client.post(
        f"/api/v1/users/{user.json()['id']}/api-keys",
        json={"label": "bench 1"},
        headers=tenant.headers(),
    )
    assert issued.status_code == 201
    key = issued.json()["key"]

    response = client.get("/api/v1/patients", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200

    listed = client.get(f"/api/v1/users/{user.json()['id']}/api-keys", headers=tenant.headers())
    assert [k["label"] for k in listed.json()["items"]] == ["bench 1"]
    assert "key" not in listed.json()["items"][0]  # shown once, never again


def test_a_revoked_key_stops_working_at_once(client: TestClient, tenant: Tenant) -> None:
    user_id = tenant.user_ids["lab"]
    issued = client.post(f"/api/v1/users/{user_id}/api-keys", json={}, headers=tenant.headers())
    key = issued.json()["key"]
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/patients", headers=headers).status_code == 200

    revoked = client.delete(f"/api/v1/api-keys/{issued.json()['id']}", headers=tenant.headers())
    assert revoked.status_code == 204

    response = client.get("/api/v1/patients", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_a_deactivated_user_is_locked_out(client: TestClient, tenant: Tenant) -> None:
    user_id = tenant.user_ids["coder"]
    patched = client.patch(
        f"/api/v1/users/{user_id}", json={"active": False}, headers=tenant.headers()
    )
    assert patched.status_code == 200
    assert client.get("/api/v1/patients", headers=tenant.headers("coder")).status_code == 401


def test_unknown_and_malformed_keys_are_401(client: TestClient, tenant: Tenant) -> None:
    real = tenant.keys["admin"]
    tampered = real[:-1] + ("A" if real[-1] != "A" else "B")
    for header in [f"Bearer {tampered}", "Bearer nonsense", "Basic abc", real, "Bearer "]:
        response = client.get("/api/v1/patients", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json()["type"].endswith("/unauthenticated")


def test_a_user_needs_at_least_one_known_role(client: TestClient, tenant: Tenant) -> None:
    for roles in [[], ["superuser"]]:
        response = client.post(
            "/api/v1/users", json={"name": "x", "roles": roles}, headers=tenant.headers()
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["pointer"].startswith("/roles")


def test_an_admin_cannot_see_or_change_another_organizations_users(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    foreign_user = other_tenant.user_ids["lab"]
    assert client.get(f"/api/v1/users/{foreign_user}", headers=tenant.headers()).status_code == 404
    response = client.post(
        f"/api/v1/users/{foreign_user}/api-keys", json={}, headers=tenant.headers()
    )
    assert response.status_code == 404
    listed = client.get("/api/v1/users?limit=200", headers=tenant.headers()).json()["items"]
    assert foreign_user not in {u["id"] for u in listed}
