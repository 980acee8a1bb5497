"""Patients end to end: register, read, list, merge-patch update, soft delete."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from service.patients.models import Patient
from tests.factories import Tenant, make_patient, patient_payload


def _count(db: Session) -> int:
    db.commit()  # a fresh snapshot: see what the requests committed
    return db.exec(select(func.count()).select_from(Patient)).one()


def test_a_registered_patient_reads_back_as_sent(client: TestClient, tenant: Tenant) -> None:
    created = client.post("/api/v1/patients", json=patient_payload(), headers=tenant.headers())
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"1"'
    location = created.headers["location"]

    read = client.get(location, headers=tenant.headers("front_desk"))
    assert read.status_code == 200
    body = read.json()
    assert body["mrn"] == "MRN-0001"
    assert body["birth_date"] == "1980-04-02"
    assert body["address"] == {
        "line1": "12 Main St",
        "line2": None,
        "city": "Springfield",
        "state": "IL",
        "postal_code": "627011234",
    }


def test_x12_delimiters_and_sql_metacharacters_are_stored_faithfully(
    client: TestClient, tenant: Tenant
) -> None:
    name = "O'Brien~*:^; DROP TABLE patient;--"
    created = client.post(
        "/api/v1/patients",
        json=patient_payload(family_name=name, given_name="Zoë"),
        headers=tenant.headers(),
    )
    assert created.status_code == 201
    read = client.get(created.headers["location"], headers=tenant.headers())
    assert read.json()["family_name"] == name
    assert read.json()["given_name"] == "Zoë"


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"birth_date": "1980-02-30"}, "/birth_date"),
        ({"birth_date": "2999-01-01"}, "/birth_date"),
        ({"sex": "X"}, "/sex"),
        ({"family_name": "x" * 101}, "/family_name"),
        ({"mrn": ""}, "/mrn"),
        (
            {"address": {"line1": "1 A St", "city": "B", "state": "Illinois", "postal_code": "1"}},
            "/address/state",
        ),
        ({"organization_id": "someone-else"}, "/organization_id"),
        ({"id": "chosen-id"}, "/id"),
    ],
)
def test_bad_fields_are_422_with_a_pointer_and_nothing_is_stored(
    client: TestClient, tenant: Tenant, db: Session, change: dict[str, Any], pointer: str
) -> None:
    response = client.post(
        "/api/v1/patients", json=patient_payload(**change), headers=tenant.headers()
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert pointer in [e["pointer"] for e in response.json()["errors"]]
    assert _count(db) == 0


def test_missing_fields_are_each_reported(client: TestClient, tenant: Tenant, db: Session) -> None:
    response = client.post("/api/v1/patients", json={"mrn": "1"}, headers=tenant.headers())
    assert response.status_code == 422
    pointers = {e["pointer"] for e in response.json()["errors"]}
    assert {"/family_name", "/birth_date", "/sex"} <= pointers
    assert _count(db) == 0


def test_a_patient_with_one_name_is_registered(client: TestClient, tenant: Tenant) -> None:
    # A person with a single legal name (US Core allows it; X12 leaves NM104 out).
    payload = {k: v for k, v in patient_payload().items() if k != "given_name"}
    created = client.post("/api/v1/patients", json=payload, headers=tenant.headers())
    assert created.status_code == 201, created.text
    read = client.get(created.headers["location"], headers=tenant.headers("front_desk"))
    assert read.json()["given_name"] is None
    assert read.json()["family_name"] == payload["family_name"]


def test_a_second_patient_with_the_same_mrn_is_a_conflict(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    make_patient(db, tenant)
    response = client.post("/api/v1/patients", json=patient_payload(), headers=tenant.headers())
    assert response.status_code == 409
    assert response.json()["type"].endswith("/patient-mrn-taken")
    assert _count(db) == 1


def test_merge_patch_changes_only_what_it_names_and_null_removes(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    patient = make_patient(db, tenant, middle_name="Lucia")
    response = client.patch(
        f"/api/v1/patients/{patient.id}",
        json={"middle_name": None, "address": {"city": "Chicago"}},
        headers={**tenant.headers(), "Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["middle_name"] is None
    assert body["address"]["city"] == "Chicago"
    assert body["address"]["line1"] == "12 Main St"
    assert body["given_name"] == "Ana"
    assert response.headers["etag"] == '"2"'


def test_an_update_with_a_stale_etag_is_412_and_changes_nothing(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    patient = make_patient(db, tenant)
    url = f"/api/v1/patients/{patient.id}"
    first = client.patch(
        url, json={"phone": "555-0101"}, headers={**tenant.headers(), "If-Match": '"1"'}
    )
    assert first.status_code == 200
    stale = client.patch(
        url, json={"phone": "555-0199"}, headers={**tenant.headers(), "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert client.get(url, headers=tenant.headers()).json()["phone"] == "555-0101"


def test_a_patch_that_breaks_a_rule_is_422_and_changes_nothing(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    patient = make_patient(db, tenant)
    url = f"/api/v1/patients/{patient.id}"
    response = client.patch(url, json={"family_name": None, "sex": "Q"}, headers=tenant.headers())
    assert response.status_code == 422
    assert {e["pointer"] for e in response.json()["errors"]} == {"/family_name", "/sex"}
    read = client.get(url, headers=tenant.headers())
    assert read.json()["family_name"] == "Rivera"
    assert read.headers["etag"] == '"1"'


def test_a_deleted_patient_is_gone_from_reads_and_lists(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    patient = make_patient(db, tenant)
    assert (
        client.delete(f"/api/v1/patients/{patient.id}", headers=tenant.headers()).status_code == 204
    )
    assert client.get(f"/api/v1/patients/{patient.id}", headers=tenant.headers()).status_code == 404
    assert client.get("/api/v1/patients", headers=tenant.headers()).json()["items"] == []


def test_lists_page_with_a_cursor_and_filter(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    for i in range(5):
        make_patient(db, tenant, mrn=f"M{i}", family_name="Smith" if i % 2 else "Jones")
    # Oldest first (the default is newest first, issue 24).
    first = client.get("/api/v1/patients?limit=2&sort=created_at", headers=tenant.headers()).json()
    assert len(first["items"]) == 2
    second = client.get(
        f"/api/v1/patients?limit=2&sort=created_at&cursor={first['next_cursor']}",
        headers=tenant.headers(),
    ).json()
    third = client.get(
        f"/api/v1/patients?limit=2&sort=created_at&cursor={second['next_cursor']}",
        headers=tenant.headers(),
    ).json()
    mrns = [p["mrn"] for page in (first, second, third) for p in page["items"]]
    assert mrns == ["M0", "M1", "M2", "M3", "M4"]
    assert third["next_cursor"] is None

    smiths = client.get("/api/v1/patients?family_name=smi", headers=tenant.headers()).json()
    assert [p["mrn"] for p in smiths["items"]] == ["M3", "M1"]  # newest first


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "cursor=%%%", "birth_date=yesterday"])
def test_bad_list_parameters_are_4xx(client: TestClient, tenant: Tenant, query: str) -> None:
    response = client.get(f"/api/v1/patients?{query}", headers=tenant.headers())
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/problem+json"


def test_another_organization_gets_404_and_never_sees_the_rows(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, db: Session
) -> None:
    patient = make_patient(db, tenant)
    url = f"/api/v1/patients/{patient.id}"
    foreign = other_tenant.headers()
    assert client.get(url, headers=foreign).status_code == 404
    assert client.patch(url, json={"phone": "1"}, headers=foreign).status_code == 404
    assert client.delete(url, headers=foreign).status_code == 404
    assert client.get("/api/v1/patients", headers=foreign).json()["items"] == []
    assert client.get("/api/v1/patients?mrn=MRN-0001", headers=foreign).json()["items"] == []
    assert client.get(url, headers=tenant.headers()).json()["phone"] == "555-0100"
