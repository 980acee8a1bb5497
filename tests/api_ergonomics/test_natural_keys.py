"""Natural keys: records read by the key staff hold (MRN, NPI, payer id, accession, PCN), and
reference fields that take that key when no record has the id sent (issue 24)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.auth.roles import Role
from tests.factories import (
    Practice,
    Tenant,
    coverage_payload,
    make_lab_setup,
    make_patient,
    make_practice,
    make_ready_specimen,
    payer_payload,
    valid_npi,
)


@pytest.fixture
def practice(db: Session, tenant: Tenant) -> Practice:
    return make_practice(db, tenant)


def _get(client: TestClient, tenant: Tenant, path: str, role: str = Role.ADMIN) -> Any:
    return client.get(f"/api/v1{path}", headers=tenant.headers(role))


def test_a_patient_is_read_by_mrn(client: TestClient, tenant: Tenant, db: Session) -> None:
    patient = make_patient(db, tenant, mrn="D-1001")
    response = _get(client, tenant, "/patients/by-mrn/D-1001", Role.FRONT_DESK)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == patient.id
    assert response.headers["etag"] == '"1"'
    assert _get(client, tenant, "/patients/D-1001").status_code == 404  # /{id} stays id-only


def test_an_unknown_or_foreign_mrn_is_404(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, db: Session
) -> None:
    make_patient(db, other_tenant, mrn="D-2002")
    missing = _get(client, tenant, "/patients/by-mrn/D-2002")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_providers_and_payers_are_read_by_npi_and_payer_id(
    client: TestClient, tenant: Tenant, practice: Practice
) -> None:
    npi = valid_npi("222222222")
    provider = _get(client, tenant, f"/providers/by-npi/{npi}")
    assert provider.status_code == 200, provider.text
    assert provider.json()["id"] == practice.rendering_provider_id
    payer = _get(client, tenant, "/payers/by-payer-id/ACME01", Role.BILLER)
    assert payer.json()["id"] == practice.payer_id


def test_two_payers_sharing_a_payer_id_answer_409_naming_both(
    client: TestClient, tenant: Tenant, practice: Practice
) -> None:
    other = client.post("/api/v1/payers", json=payer_payload(name="Acme West"),
                        headers=tenant.headers()).json()  # fmt: skip
    response = _get(client, tenant, "/payers/by-payer-id/ACME01")
    assert response.status_code == 409
    assert practice.payer_id in response.json()["detail"]
    assert other["id"] in response.json()["detail"]


def test_a_specimen_is_read_by_its_accession_in_one_call(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    setup = make_lab_setup(db, tenant)
    specimen = make_ready_specimen(db, tenant, setup)
    response = _get(client, tenant, f"/specimens/by-accession/{specimen.accession}", Role.LAB)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == specimen.id
    assert _get(client, tenant, f"/specimens/{specimen.accession}", Role.LAB).status_code == 404
    assert _get(client, tenant, "/specimens/by-accession/99-999999", Role.LAB).status_code == 404


def test_a_coverage_takes_the_patients_mrn_and_the_payer_id_and_answers_the_ids(
    client: TestClient, tenant: Tenant, db: Session, practice: Practice
) -> None:
    patient = make_patient(db, tenant, mrn="D-1001", given_name="Luis")
    response = client.post("/api/v1/coverages", json=coverage_payload("D-1001", "ACME01"),
                           headers=tenant.headers(Role.FRONT_DESK))  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["patient_id"] == patient.id
    assert response.json()["payer_id"] == practice.payer_id


def test_an_encounter_takes_an_mrn_and_npis(
    client: TestClient, tenant: Tenant, practice: Practice
) -> None:
    body = {"patient_id": "MRN-0001", "date_of_service": "2026-10-15", "place_of_service": "11",
            "kind": "medical", "billing_provider_id": valid_npi("111111111"),
            "rendering_provider_id": valid_npi("222222222")}  # fmt: skip
    response = client.post("/api/v1/encounters", json=body, headers=tenant.headers(Role.CODER))
    assert response.status_code == 201, response.text
    assert response.json()["patient_id"] == practice.patient_id
    assert response.json()["billing_provider_id"] == practice.billing_provider_id
    assert response.json()["rendering_provider_id"] == practice.rendering_provider_id


def test_a_reference_that_is_neither_id_nor_key_says_both_were_tried(
    client: TestClient, tenant: Tenant, practice: Practice
) -> None:
    response = client.post("/api/v1/coverages", json=coverage_payload("D-9999", "ACME01"),
                           headers=tenant.headers(Role.FRONT_DESK))  # fmt: skip
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"pointer": "/patient_id", "detail": "no patient with this id or MRN"}
    ]


def test_an_order_names_its_tests_by_code(client: TestClient, tenant: Tenant, db: Session) -> None:
    setup = make_lab_setup(db, tenant)
    body = {"patient_id": "LAB-0001", "ordering_provider_id": valid_npi("123456789"),
            "test_ids": ["A1C", setup.tests["GLU"]]}  # fmt: skip
    response = client.post("/api/v1/lab-orders", json=body,
                           headers=tenant.headers(Role.FRONT_DESK))  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["patient_id"] == setup.patient_id
    assert response.json()["test_ids"] == [setup.tests["A1C"], setup.tests["GLU"]]
    twice = {**body, "test_ids": ["A1C", setup.tests["A1C"]]}
    response = client.post("/api/v1/lab-orders", json=twice,
                           headers=tenant.headers(Role.FRONT_DESK))  # fmt: skip
    assert response.status_code == 422


def test_an_unknown_test_code_on_an_order_is_422_at_its_place(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    setup = make_lab_setup(db, tenant)
    body = {"patient_id": setup.patient_id, "ordering_provider_id": setup.provider_id,
            "test_ids": ["A1C", "NOPE"]}  # fmt: skip
    response = client.post("/api/v1/lab-orders", json=body,
                           headers=tenant.headers(Role.FRONT_DESK))  # fmt: skip
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"pointer": "/test_ids/1", "detail": "no lab test with this id or code"}
    ]


def test_a_result_names_its_specimen_by_accession_and_its_test_by_code(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    setup = make_lab_setup(db, tenant)
    specimen = make_ready_specimen(db, tenant, setup)
    body = {"specimen_id": specimen.accession, "lab_test_id": "A1C",
            "component_code": "4548-4", "value": "5.1"}  # fmt: skip
    response = client.post("/api/v1/results", json=body, headers=tenant.headers(Role.LAB))
    assert response.status_code == 201, response.text
    assert response.json()["specimen_id"] == specimen.id
    assert response.json()["lab_test_id"] == setup.tests["A1C"]
