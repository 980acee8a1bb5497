"""Coverages: self or a subscriber, references checked within the organization."""

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import Tenant, coverage_payload, make_patient, payer_payload

PARENT = {
    "family_name": "Rivera",
    "given_name": "Luis",
    "birth_date": "1975-09-12",
    "sex": "M",
    "address": {
        "line1": "12 Main St",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
    },
}


def _payer(client: TestClient, tenant: Tenant) -> str:
    response = client.post("/api/v1/payers", json=payer_payload(), headers=tenant.headers())
    return str(response.json()["id"])


def test_a_child_is_covered_through_a_parent_subscriber(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    child = make_patient(db, tenant, mrn="C1", given_name="Sofia", birth_date="2016-03-03")
    body = coverage_payload(child.id, _payer(client, tenant), relationship="19", subscriber=PARENT)
    created = client.post("/api/v1/coverages", json=body, headers=tenant.headers("front_desk"))
    assert created.status_code == 201, created.text
    listed = client.get(f"/api/v1/coverages?patient_id={child.id}", headers=tenant.headers())
    [coverage] = listed.json()["items"]
    assert coverage["relationship"] == "19"
    assert coverage["subscriber"]["given_name"] == "Luis"
    assert coverage["subscriber"]["address"]["postal_code"] == "62701"


def test_self_coverage_takes_no_subscriber_and_others_need_one(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    patient = make_patient(db, tenant)
    payer = _payer(client, tenant)
    both = coverage_payload(patient.id, payer, subscriber=PARENT)
    assert client.post("/api/v1/coverages", json=both, headers=tenant.headers()).status_code == 422
    neither = coverage_payload(patient.id, payer, relationship="01")
    assert (
        client.post("/api/v1/coverages", json=neither, headers=tenant.headers()).status_code == 422
    )


def test_a_coverage_cannot_point_at_another_organizations_patient(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, db: Session
) -> None:
    foreign_patient = make_patient(db, other_tenant)
    body = coverage_payload(foreign_patient.id, _payer(client, tenant))
    response = client.post("/api/v1/coverages", json=body, headers=tenant.headers())
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/patient_id"


def test_active_on_lists_only_coverages_in_force(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    patient = make_patient(db, tenant)
    payer = _payer(client, tenant)
    old = coverage_payload(patient.id, payer, start_date="2024-01-01", end_date="2025-12-31")
    new = coverage_payload(patient.id, payer, member_id="NEW1", start_date="2026-01-01")
    for body in (old, new):
        assert (
            client.post("/api/v1/coverages", json=body, headers=tenant.headers()).status_code == 201
        )
    found = client.get("/api/v1/coverages?active_on=2026-03-01", headers=tenant.headers()).json()
    assert [c["member_id"] for c in found["items"]] == ["NEW1"]
