"""Idempotency-Key on creates: a retry replays the first answer; another body is refused."""

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from service.patients.models import Patient
from tests.factories import Tenant, patient_payload


def _count(db: Session) -> int:
    db.commit()  # a fresh snapshot: see what the requests committed
    return db.exec(select(func.count()).select_from(Patient)).one()


def test_a_retry_with_the_same_key_and_body_gets_the_same_answer_and_no_second_row(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    headers = {**tenant.headers("integration"), "Idempotency-Key": "abc-1"}
    first = client.post("/api/v1/patients", json=patient_payload(), headers=headers)
    again = client.post("/api/v1/patients", json=patient_payload(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert _count(db) == 1


def test_the_same_key_with_another_body_is_422_and_stores_nothing(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    headers = {**tenant.headers(), "Idempotency-Key": "abc-2"}
    assert (
        client.post("/api/v1/patients", json=patient_payload(), headers=headers).status_code == 201
    )
    other = client.post("/api/v1/patients", json=patient_payload(mrn="OTHER"), headers=headers)
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")
    assert _count(db) == 1


def test_keys_belong_to_one_organization(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, db: Session
) -> None:
    body = patient_payload()
    a = client.post(
        "/api/v1/patients", json=body, headers={**tenant.headers(), "Idempotency-Key": "k"}
    )
    b = client.post(
        "/api/v1/patients", json=body, headers={**other_tenant.headers(), "Idempotency-Key": "k"}
    )
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]
    assert _count(db) == 2


def test_a_failed_create_does_not_burn_the_key(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    headers = {**tenant.headers(), "Idempotency-Key": "k-fail"}
    bad = client.post("/api/v1/patients", json=patient_payload(sex="Q"), headers=headers)
    assert bad.status_code == 422
    good = client.post("/api/v1/patients", json=patient_payload(), headers=headers)
    assert good.status_code == 201
