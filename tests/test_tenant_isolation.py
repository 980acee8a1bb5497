"""Another organization's key gets 404 on every record's id and never sees its rows."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import (
    Tenant,
    coverage_payload,
    facility_payload,
    fee_schedule_payload,
    patient_payload,
    payer_payload,
    provider_payload,
)


def _create(client: TestClient, tenant: Tenant, path: str, body: dict[str, Any]) -> str:
    response = client.post(path, json=body, headers=tenant.headers())
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _coverage(client: TestClient, tenant: Tenant) -> dict[str, Any]:
    patient = _create(client, tenant, "/api/v1/patients", patient_payload())
    payer = _create(client, tenant, "/api/v1/payers", payer_payload())
    return coverage_payload(patient, payer)


RESOURCES: dict[str, Callable[[TestClient, Tenant], dict[str, Any]]] = {
    "/api/v1/patients": lambda c, t: patient_payload(),
    "/api/v1/coverages": _coverage,
    "/api/v1/payers": lambda c, t: payer_payload(),
    "/api/v1/providers": lambda c, t: provider_payload(),
    "/api/v1/facilities": lambda c, t: facility_payload(),
    "/api/v1/fee-schedules": lambda c, t: fee_schedule_payload(),
}


@pytest.mark.parametrize("path", RESOURCES)
def test_another_organization_gets_404_and_an_empty_list(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, path: str
) -> None:
    record_id = _create(client, tenant, path, RESOURCES[path](client, tenant))
    url = f"{path}/{record_id}"
    foreign = other_tenant.headers()

    assert client.get(url, headers=foreign).status_code == 404
    assert client.patch(url, json={"name": "x"}, headers=foreign).status_code == 404
    assert client.delete(url, headers=foreign).status_code == 404
    assert client.get(path, headers=foreign).json()["items"] == []
    assert client.get(url, headers=tenant.headers()).status_code == 200  # untouched


@pytest.mark.parametrize("path", RESOURCES)
def test_posting_ids_and_ownership_fields_is_refused(
    client: TestClient, tenant: Tenant, path: str
) -> None:
    body = RESOURCES[path](client, tenant)
    for field, value in [
        ("organization_id", "other"), ("id", "mine"), ("created_at", "2020-01-01T00:00:00Z"),
        ("version", 99), ("deleted_at", "2020-01-01T00:00:00Z"),
    ]:  # fmt: skip
        response = client.post(path, json={**body, field: value}, headers=tenant.headers())
        assert response.status_code == 422, field
        assert f"/{field}" in [e["pointer"] for e in response.json()["errors"]]
