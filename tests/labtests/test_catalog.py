"""The test catalog: codes unique per organization, protocols and components validated, the demo
catalog, and orders that name catalog tests."""

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from service.auth.roles import Role
from service.demo import lab_catalog as demo
from tests.factories import (
    Tenant,
    biopsy_test_payload,
    encounter_payload,
    glucose_test_payload,
    make_lab_setup,
    make_patient,
    make_practice,
    principal,
    provider_payload,
)

LAB = Role.LAB


def _create(client: TestClient, tenant: Tenant, body: dict[str, Any], role: str = LAB) -> Any:
    return client.post("/api/v1/lab-tests", json=body, headers=tenant.headers(role))


def test_a_test_is_created_read_back_and_its_code_is_unique_per_organization(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    created = _create(client, tenant, biopsy_test_payload())
    assert created.status_code == 201, created.text
    body = created.json()
    assert [s["step"] for s in body["protocol"]][:2] == ["fix", "gross"]
    assert body["protocol"][0]["on_out_of_range"] == "flag"
    assert body["min_volume"] == "1"
    assert _create(client, tenant, biopsy_test_payload()).status_code == 409
    assert _create(client, other_tenant, biopsy_test_payload()).status_code == 201
    assert client.get(f"/api/v1/lab-tests/{body['id']}",
                      headers=other_tenant.headers(LAB)).status_code == 404  # fmt: skip


def test_the_catalog_refuses_inconsistent_definitions(client: TestClient, tenant: Tenant) -> None:
    bad_range = glucose_test_payload(protocol=[{"step": "centrifuge", "parameters": [
        {"name": "minutes", "min": "20", "max": "5"}]}])  # fmt: skip
    twice = glucose_test_payload(protocol=[{"step": "stain"}, {"step": "stain"}])
    bad_type = glucose_test_payload(specimen_type="BLOOD")
    bad_cpt = glucose_test_payload(billing_code="8294")
    orphan_control = glucose_test_payload(controls=[
        {"material": "L1", "component_code": "nope", "low": "1", "high": "2"}])  # fmt: skip
    for body in (bad_range, twice, bad_type, bad_cpt, orphan_control):
        assert _create(client, tenant, body).status_code == 422


def test_front_desk_reads_the_catalog_but_cannot_change_it(
    client: TestClient, tenant: Tenant
) -> None:
    assert _create(client, tenant, glucose_test_payload(), Role.FRONT_DESK).status_code == 403
    assert client.get("/api/v1/lab-tests", headers=tenant.headers(Role.FRONT_DESK)).status_code == (
        200
    )
    assert client.get("/api/v1/lab-tests", headers=tenant.headers(Role.BILLER)).status_code == 403


def test_the_demo_catalog_loads_once(db: Session, tenant: Tenant) -> None:
    actor = principal(tenant)
    added = demo.seed_catalog(db, actor)
    assert {t.code for t in added} == {"BMP", "CBC", "A1C", "UA", "SURGPATH", "ORALBX"}
    assert demo.seed_catalog(db, actor) == []


def test_an_order_names_the_organizations_patient_provider_and_tests(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, db: Session
) -> None:
    setup = make_lab_setup(db, tenant)
    # The encounter must be a real one of the patient (issue 14; it was kept as given).
    encounter = client.post("/api/v1/encounters", headers=tenant.headers(Role.CODER), json={
        **encounter_payload(make_practice(db, tenant)), "patient_id": setup.patient_id,
        "coverage_ids": []}).json()["id"]  # fmt: skip
    body = {"patient_id": setup.patient_id, "ordering_provider_id": setup.provider_id,
            "test_ids": [setup.tests["GLU"], setup.tests["A1C"]], "priority": "stat",
            "encounter_id": encounter}  # fmt: skip
    created = client.post("/api/v1/lab-orders", json=body, headers=tenant.headers(Role.FRONT_DESK))
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "active"
    assert created.json()["encounter_id"] == encounter

    foreign = make_patient(db, other_tenant, mrn="B-1")
    wrong = client.post("/api/v1/lab-orders", headers=tenant.headers(),
                        json={**body, "patient_id": foreign.id, "test_ids": ["nope"]})  # fmt: skip
    assert wrong.status_code == 422
    assert "/patient_id" in [e["pointer"] for e in wrong.json()["errors"]]
    unknown_test = client.post("/api/v1/lab-orders", headers=tenant.headers(),
                               json={**body, "test_ids": ["nope"]})  # fmt: skip
    assert [e["pointer"] for e in unknown_test.json()["errors"]] == ["/test_ids/0"]
    assert provider_payload()["npi"]  # the provider came from the shared factory


def test_reason_codes_without_icd10cm_loaded_are_refused_saying_so(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    setup = make_lab_setup(db, tenant)
    body = {"patient_id": setup.patient_id, "ordering_provider_id": setup.provider_id,
            "test_ids": [setup.tests["A1C"]], "reason_codes": ["E11.9"]}  # fmt: skip
    response = client.post("/api/v1/lab-orders", json=body, headers=tenant.headers())
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/reason_codes/0"
    assert response.json()["errors"][0]["detail"] == (
        "icd10cm is not loaded; run `backoffice migrate`."
    )
    malformed = client.post("/api/v1/lab-orders", json={**body, "reason_codes": ["11.9E"]},
                            headers=tenant.headers())  # fmt: skip
    assert malformed.status_code == 422
