"""A lab order stays with its patient once specimens exist, and an order with verified results
cannot be cancelled or deleted (issue 14: one chart mixed into another)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.auth.roles import Role
from tests.factories import (
    LabSetup,
    Tenant,
    make_lab_setup,
    make_order,
    make_patient,
    make_ready_specimen,
)


@pytest.fixture
def setup(db: Session, tenant: Tenant) -> LabSetup:
    return make_lab_setup(db, tenant)


def _verified(client: TestClient, tenant: Tenant, specimen: Any, setup: LabSetup) -> str:
    entered = client.post(
        "/api/v1/results",
        headers=tenant.headers(Role.LAB),
        json={
            "specimen_id": specimen.id,
            "lab_test_id": setup.tests["A1C"],
            "component_code": "4548-4",
            "value": "5.1",
        },
    )
    assert entered.status_code == 201, entered.text
    verified = client.post(
        "/api/v1/results/verification",
        json={"result_ids": [entered.json()["id"]]},
        headers=tenant.headers(Role.ADMIN),
    )
    assert verified.status_code == 200, verified.text
    return str(entered.json()["id"])


def test_an_order_with_a_specimen_cannot_move_to_another_patient(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimen = make_ready_specimen(db, tenant, setup)
    other = make_patient(db, tenant, mrn="OTHER-1")
    response = client.patch(
        f"/api/v1/lab-orders/{specimen.order_id}",
        json={"patient_id": other.id},
        headers=tenant.headers(Role.FRONT_DESK),
    )
    assert response.status_code == 409, response.text
    assert f"specimen {specimen.id}" in response.json()["detail"]
    shown = client.get(f"/api/v1/lab-orders/{specimen.order_id}", headers=tenant.headers())
    assert shown.json()["patient_id"] == setup.patient_id


def test_an_order_without_specimens_may_still_be_corrected(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    order_id = make_order(db, tenant, setup, ["A1C"])
    other = make_patient(db, tenant, mrn="OTHER-1")
    response = client.patch(
        f"/api/v1/lab-orders/{order_id}",
        json={"patient_id": other.id},
        headers=tenant.headers(Role.FRONT_DESK),
    )
    assert response.status_code == 200, response.text


def test_an_order_with_verified_results_cannot_be_cancelled_or_deleted(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimen = make_ready_specimen(db, tenant, setup)
    result_id = _verified(client, tenant, specimen, setup)
    url = f"/api/v1/lab-orders/{specimen.order_id}"
    cancelled = client.patch(url, json={"status": "cancelled"}, headers=tenant.headers())
    assert cancelled.status_code == 409, cancelled.text
    assert f"result {result_id}" in cancelled.json()["detail"]
    deleted = client.delete(url, headers=tenant.headers())
    assert deleted.status_code == 409, deleted.text
    assert client.get(url, headers=tenant.headers()).json()["status"] == "active"


def test_an_order_with_only_unverified_results_can_be_cancelled(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    order_id = make_order(db, tenant, setup, ["A1C"])
    url = f"/api/v1/lab-orders/{order_id}"
    cancelled = client.patch(url, json={"status": "cancelled"}, headers=tenant.headers())
    assert cancelled.status_code == 200, cancelled.text
    assert client.delete(url, headers=tenant.headers()).status_code == 204


def test_an_order_billed_to_another_patients_encounter_is_refused_on_fhir_too(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    """REST and FHIR share the check (service/references.py): an encounter of another
    patient, or one that does not exist, is refused through both."""
    from tests.factories import encounter_payload, make_practice

    practice = make_practice(db, tenant)
    encounter = client.post(
        "/api/v1/encounters",
        json=encounter_payload(practice),
        headers=tenant.headers(Role.CODER),
    )
    assert encounter.status_code == 201, encounter.text
    encounter_id = encounter.json()["id"]
    rest = client.post(
        "/api/v1/lab-orders",
        headers=tenant.headers(Role.FRONT_DESK),
        json={
            "patient_id": setup.patient_id,
            "ordering_provider_id": setup.provider_id,
            "test_ids": [setup.tests["A1C"]],
            "encounter_id": encounter_id,
        },
    )
    assert rest.status_code == 422, rest.text
    assert rest.json()["errors"][0]["pointer"] == "/encounter_id"
    for target in (encounter_id, "0" * 32):
        fhir = client.post(
            "/fhir/ServiceRequest",
            headers={**tenant.headers(Role.FRONT_DESK), "Content-Type": "application/fhir+json"},
            json={
                "resourceType": "ServiceRequest",
                "status": "active",
                "intent": "order",
                "subject": {"reference": f"Patient/{setup.patient_id}"},
                "requester": {"reference": f"Practitioner/{setup.provider_id}"},
                "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
                "encounter": {"reference": f"Encounter/{target}"},
            },
        )
        assert fhir.status_code == 422, fhir.text
        issue = fhir.json()["issue"][0]
        assert issue["expression"] == ["ServiceRequest.encounter"], issue
