"""Front desk (issue 24): possible duplicate patients warned of on create and listed; a date in
another form answered with the form expected."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.auth.roles import Role
from tests.factories import Tenant, make_patient, patient_payload

DESK = Role.FRONT_DESK


def _register(client: TestClient, tenant: Tenant, **fields: Any) -> Any:
    return client.post("/api/v1/patients", json=patient_payload(**fields),
                       headers=tenant.headers(DESK))  # fmt: skip


def test_a_new_mrn_for_the_same_name_and_birth_date_is_created_with_a_warning(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    first = make_patient(db, tenant, mrn="D-1001")
    response = _register(client, tenant, mrn="D-1002")
    assert response.status_code == 201, response.text
    assert response.json()["warnings"] == [
        {"code": "possible-duplicate", "patient_id": first.id, "mrn": "D-1001",
         "detail": f"Patient {first.id} (MRN D-1001): same name and birth date."}
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"given_name": "Anna"}, "similar name, same birth date"),
        ({"family_name": "RIVERA "}, "same name and birth date"),
        ({"family_name": "Riviera"}, "similar name, same birth date"),
        ({"birth_date": "1980-02-04"}, "same name, birth day and month swapped"),
    ],
)
def test_close_matches_are_warned_of_too(
    client: TestClient, tenant: Tenant, db: Session, fields: dict[str, str], reason: str
) -> None:
    make_patient(db, tenant, mrn="D-1001")  # Rivera, Ana, 1980-04-02
    response = _register(client, tenant, mrn="D-1002", **fields)
    assert response.status_code == 201, response.text
    assert [w["detail"].split(": ", 1)[1] for w in response.json()["warnings"]] == [reason + "."]


def test_a_different_person_gets_no_warning(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    make_patient(db, tenant, mrn="D-1001")
    other = _register(client, tenant, mrn="D-1002", given_name="Carlos", birth_date="1980-04-03")
    assert other.json()["warnings"] == []


def test_possible_duplicates_are_listed_for_review(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, db: Session
) -> None:
    first = make_patient(db, tenant, mrn="D-1001")
    second = make_patient(db, tenant, mrn="D-1002", given_name="Anna")
    make_patient(db, tenant, mrn="D-1003", given_name="Carlos")
    make_patient(db, other_tenant, mrn="D-1001")  # another clinic's patient is no duplicate
    response = client.get("/api/v1/patients/duplicates", headers=tenant.headers(DESK))
    assert response.status_code == 200, response.text
    pairs = response.json()["items"]
    assert [[p["id"] for p in pair["patients"]] for pair in pairs] == [[first.id, second.id]]
    assert pairs[0]["reason"] == "similar name, same birth date"


def test_a_birth_date_in_another_form_names_the_expected_one(
    client: TestClient, tenant: Tenant
) -> None:
    response = _register(client, tenant, birth_date="04/02/1980")
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["pointer"] == "/birth_date"
    assert "YYYY-MM-DD" in error["detail"]
