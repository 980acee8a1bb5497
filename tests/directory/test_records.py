"""Payers, providers, facilities and fee schedules through the API."""

from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.directory.logic import fee_for
from tests.factories import (
    Tenant,
    facility_payload,
    fee_schedule_payload,
    payer_payload,
    provider_payload,
    valid_npi,
)


def _post(
    client: TestClient, tenant: Tenant, path: str, body: dict[str, object]
) -> dict[str, object]:
    response = client.post(path, json=body, headers=tenant.headers())
    assert response.status_code == 201, response.text
    result: dict[str, object] = response.json()
    return result


@pytest.mark.parametrize(
    ("npi", "ok"),
    [
        (valid_npi("123456789"), True),
        ("1234567890", False),  # wrong check digit (valid is 1234567893)
        ("123456789", False),  # nine digits
        ("12345678931", False),  # eleven digits
        ("12345A7893", False),  # a letter
    ],
)
def test_provider_npis_are_checked_with_the_luhn_rule(
    client: TestClient, tenant: Tenant, npi: str, ok: bool
) -> None:
    response = client.post(
        "/api/v1/providers", json=provider_payload(npi=npi), headers=tenant.headers()
    )
    assert response.status_code == (201 if ok else 422), response.text
    if not ok:
        assert "NPI" in response.text


def test_the_same_npi_twice_in_one_organization_is_a_conflict(
    client: TestClient, tenant: Tenant
) -> None:
    _post(client, tenant, "/api/v1/providers", provider_payload())
    again = client.post("/api/v1/providers", json=provider_payload(), headers=tenant.headers())
    assert again.status_code == 409
    assert again.json()["type"].endswith("/provider-npi-taken")


def test_an_organization_provider_needs_its_name(client: TestClient, tenant: Tenant) -> None:
    body = provider_payload(kind="organization", family_name=None, given_name=None)
    assert client.post("/api/v1/providers", json=body, headers=tenant.headers()).status_code == 422
    body["organization_name"] = "Springfield Family Medicine"
    assert client.post("/api/v1/providers", json=body, headers=tenant.headers()).status_code == 201


def test_a_facility_with_a_bad_clia_number_is_refused(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/api/v1/facilities",
        json=facility_payload(clia_number="14-0123456"),
        headers=tenant.headers(),
    )
    assert response.status_code == 422
    assert _post(client, tenant, "/api/v1/facilities", facility_payload())["clia_number"] == (
        "14D0123456"
    )


def test_a_payer_reads_back_and_updates_with_its_etag(client: TestClient, tenant: Tenant) -> None:
    payer = _post(client, tenant, "/api/v1/payers", payer_payload())
    url = f"/api/v1/payers/{payer['id']}"
    read = client.get(url, headers=tenant.headers("front_desk"))
    assert read.json()["edi_payer_id"] == "ACME01"
    patched = client.patch(
        url,
        json={"timely_filing_days": 90},
        headers={**tenant.headers("biller"), "If-Match": '"1"'},
    )
    assert patched.status_code == 200
    assert patched.json()["timely_filing_days"] == 90
    assert patched.headers["etag"] == '"2"'


def test_a_fee_schedule_cannot_name_another_organizations_payer(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    foreign = _post(client, other_tenant, "/api/v1/payers", payer_payload())
    response = client.post(
        "/api/v1/fee-schedules",
        json=fee_schedule_payload(payer_id=foreign["id"]),
        headers=tenant.headers(),
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"pointer": "/payer_id", "detail": "no payer with this id or payer id"}
    ]


def test_a_fee_schedule_lists_each_code_once_with_a_positive_charge(
    client: TestClient, tenant: Tenant
) -> None:
    items = [{"code_system": "CPT", "code": "99213", "charge": "10.00"}] * 2
    twice = client.post(
        "/api/v1/fee-schedules", json=fee_schedule_payload(items=items), headers=tenant.headers()
    )
    assert twice.status_code == 422
    zero = [{"code_system": "CPT", "code": "99213", "charge": "0"}]
    response = client.post(
        "/api/v1/fee-schedules", json=fee_schedule_payload(items=zero), headers=tenant.headers()
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/items/0/charge"


def test_the_payers_own_fee_wins_over_the_default_schedule(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    payer = _post(client, tenant, "/api/v1/payers", payer_payload())
    _post(client, tenant, "/api/v1/fee-schedules", fee_schedule_payload())
    _post(
        client, tenant, "/api/v1/fee-schedules",
        fee_schedule_payload(
            name="Acme", payer_id=payer["id"],
            items=[{"code_system": "CPT", "code": "99213", "charge": "98.00"}],
        ),
    )  # fmt: skip
    on = date(2026, 6, 1)

    def fee(code: str, payer_id: str | None) -> Decimal | None:
        return fee_for(
            db, tenant.organization_id, code_system="CPT", code=code, modifier=None,
            payer_id=payer_id, on=on,
        )  # fmt: skip

    assert fee("99213", str(payer["id"])) == Decimal("98.00")
    assert fee("99213", None) == Decimal("125.00")
    assert fee("85025", str(payer["id"])) == Decimal("32.50")  # falls back to the default
    assert fee("99999", None) is None


def test_integrations_cannot_touch_fee_schedules(client: TestClient, tenant: Tenant) -> None:
    headers = tenant.headers("integration")
    assert client.get("/api/v1/fee-schedules", headers=headers).status_code == 403
    assert client.get("/api/v1/providers", headers=headers).status_code == 200


@pytest.mark.parametrize("body", [{"8": None}, {"": None}, {"timely_filing_dayz": 30}])
def test_a_patch_naming_a_field_the_record_lacks_is_refused(
    client: TestClient, tenant: Tenant, body: dict[str, object]
) -> None:
    # Found by the 200-example fuzz run: `{"typo": null}` was accepted (null removes a key).
    payer = _post(client, tenant, "/api/v1/payers", payer_payload())
    url = f"/api/v1/payers/{payer['id']}"
    patched = client.patch(url, json=body, headers=tenant.headers("biller"))
    assert patched.status_code == 422, patched.text
    assert [e["pointer"] for e in patched.json()["errors"]] == ["/" + next(iter(body))]
    assert client.get(url, headers=tenant.headers("biller")).json()["version"] == 1
