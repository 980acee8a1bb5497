"""An organization keeps an active admin with a key: the API cannot lock it out of itself."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.auth.models import ApiKey
from tests.factories import Tenant


def test_the_only_admin_cannot_deactivate_or_demote_themselves(
    client: TestClient, tenant: Tenant
) -> None:
    admin = tenant.user_ids["admin"]
    for patch in ({"active": False}, {"roles": ["auditor"]}):
        response = client.patch(f"/api/v1/users/{admin}", json=patch, headers=tenant.headers())
        assert response.status_code == 409, response.text
        assert response.json()["type"].endswith("/last-admin")
    assert client.get("/api/v1/users", headers=tenant.headers()).status_code == 200


def test_the_only_admin_cannot_revoke_their_last_key(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    [key] = db.exec(select(ApiKey).where(ApiKey.user_id == tenant.user_ids["admin"])).all()
    response = client.delete(f"/api/v1/api-keys/{key.id}", headers=tenant.headers())
    assert response.status_code == 409
    assert client.get("/api/v1/users", headers=tenant.headers()).status_code == 200


def test_with_a_second_admin_the_first_may_step_down(client: TestClient, tenant: Tenant) -> None:
    second = client.post(
        "/api/v1/users", json={"name": "Second", "roles": ["admin"]}, headers=tenant.headers()
    ).json()["id"]
    # An admin without a key cannot administer anything: not enough.
    admin = tenant.user_ids["admin"]
    demote = {"roles": ["auditor"]}
    refused = client.patch(f"/api/v1/users/{admin}", json=demote, headers=tenant.headers())
    assert refused.status_code == 409
    client.post(f"/api/v1/users/{second}/api-keys", json={}, headers=tenant.headers())
    allowed = client.patch(f"/api/v1/users/{admin}", json=demote, headers=tenant.headers())
    assert allowed.status_code == 200, allowed.text


def test_an_admin_with_two_keys_may_revoke_one(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    admin = tenant.user_ids["admin"]
    extra = client.post(f"/api/v1/users/{admin}/api-keys", json={}, headers=tenant.headers())
    response = client.delete(f"/api/v1/api-keys/{extra.json()['id']}", headers=tenant.headers())
    assert response.status_code == 204
