"""FHIR ServiceRequest and Specimen onto lab orders and accessioned specimens, alone and in
transaction Bundles linked by urn:uuid references."""

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.auth.roles import Role
from service.labtests import logic as labtest_logic
from service.labtests.schemas import LabTestCreate
from service.orders.models import LabOrder
from service.specimens.models import Specimen
from tests.factories import Tenant, glucose_test_payload, hba1c_test_payload, principal
from tests.fhir.clinical_examples import (
    ICD10CM,
    LOINC,
    Chart,
    encounter,
    push_chart,
    service_request,
    specimen,
)
from tests.fhir.examples import created, expressions, outcome, send, valid


@pytest.fixture
def engine(codesets_engine: Engine) -> Engine:
    """Reason codes are checked against ICD-10-CM."""
    return codesets_engine


@pytest.fixture
def chart(client: TestClient, tenant: Tenant, db: Session) -> Chart:
    for payload in (glucose_test_payload(), hba1c_test_payload()):
        labtest_logic.add_lab_test(db, principal(tenant), LabTestCreate.model_validate(payload))
    db.commit()
    return push_chart(client, tenant)


def _urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def order_bundle(chart: Chart, **request_changes: Any) -> dict[str, Any]:
    """An EHR's order with its collected specimen: the Specimen comes first and names the
    ServiceRequest by its urn:uuid fullUrl."""
    request_url = _urn()
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": _urn(),
                "resource": specimen(f"Patient/{chart.patient}", request_url),
                "request": {"method": "POST", "url": "Specimen"},
            },
            {
                "fullUrl": request_url,
                "resource": service_request(
                    f"Patient/{chart.patient}",
                    f"Practitioner/{chart.practitioner}",
                    **request_changes,
                ),
                "request": {"method": "POST", "url": "ServiceRequest"},
            },
        ],
    }


def test_the_example_service_request_round_trips_onto_a_lab_order(
    client: TestClient, tenant: Tenant, chart: Chart, db: Session
) -> None:
    visit = created(client, tenant, encounter(chart))["id"]
    body = service_request(
        f"Patient/{chart.patient}", f"Practitioner/{chart.practitioner}",
        priority="asap", encounter={"reference": f"Encounter/{visit}"},
        extension=[{"url": "urn:backoffice:fhir:additional-test",
                    "valueCodeableConcept": {"coding": [{"system": LOINC, "code": "2345-7"}]}}],
    )  # fmt: skip

    read = created(client, tenant, body)

    order = db.get(LabOrder, read["id"])
    assert order is not None
    assert order.priority == "stat"
    assert order.reason_codes == ["E11.9"]
    assert order.encounter_id == visit
    assert len(order.test_ids) == 2
    assert read["code"]["coding"][0] == {
        "system": "urn:backoffice:lab-test", "code": "A1C", "display": "Hemoglobin A1c",
    }  # fmt: skip
    assert read["code"]["coding"][1]["code"] == "4548-4"
    assert read["extension"][0]["valueCodeableConcept"]["coding"][1]["code"] == "2345-7"
    assert read["requester"] == {"reference": f"Practitioner/{chart.practitioner}"}
    assert read["reasonCode"] == [{"coding": [{"system": ICD10CM, "code": "E11.9"}]}]
    assert (read["status"], read["intent"], read["priority"]) == ("active", "order", "stat")
    rest = client.get(f"/api/v1/lab-orders/{read['id']}", headers=tenant.headers()).json()
    assert rest["patient_id"] == chart.patient


def test_invalid_service_requests_name_the_element_and_store_nothing(
    client: TestClient, tenant: Tenant, chart: Chart, db: Session
) -> None:
    patient, doctor = f"Patient/{chart.patient}", f"Practitioner/{chart.practitioner}"
    unknown_reason = service_request(patient, doctor)
    unknown_reason["reasonCode"] = [
        {"coding": [{"system": "http://snomed.info/sct", "code": "1"}]},
        {"coding": [{"system": ICD10CM, "code": "Q99.999"}]},
    ]
    cases = [
        (service_request(patient, doctor, loinc="9999-9"), 422, "ServiceRequest.code.coding[0]"),
        (service_request(patient, doctor, code={"text": "A1c"}), 422, "ServiceRequest.code"),
        ({**service_request(patient, doctor), "requester": None}, 422, "ServiceRequest.requester"),
        (service_request(patient, patient), 422, "ServiceRequest.requester.reference"),
        (service_request(patient, doctor, status="draft"), 422, "ServiceRequest.status"),
        (service_request(patient, doctor, intent="proposal"), 422, "ServiceRequest.intent"),
        (unknown_reason, 422, "ServiceRequest.reasonCode[1].coding[0].code"),
        (service_request(patient, doctor, priority="soon"), 422, "ServiceRequest.priority"),
    ]  # fmt: skip
    for body, status, expression in cases:
        body = {k: v for k, v in body.items() if v is not None}
        response = send(client, "POST", "/fhir/ServiceRequest", tenant, body)
        assert response.status_code == status, (expression, response.text)
        assert expression in expressions(outcome(response, status)), (expression, response.text)
    assert db.exec(select(LabOrder)).all() == []


def test_a_transaction_places_the_order_and_accessions_its_specimen(
    client: TestClient, tenant: Tenant, chart: Chart, db: Session
) -> None:
    response = send(client, "POST", "/fhir", tenant, order_bundle(chart))

    assert response.status_code == 200, response.text
    bundle = valid(response.json())
    assert [e["response"]["status"] for e in bundle["entry"]] == ["201 Created"] * 2
    sample, order = bundle["entry"][0]["resource"], bundle["entry"][1]["resource"]
    assert sample["request"] == [{"reference": f"ServiceRequest/{order['id']}"}]
    assert sample["accessionIdentifier"]["system"] == "urn:backoffice:accession"
    assert sample["type"]["coding"][0]["code"] == "BLD"
    assert sample["status"] == "available"
    assert sample["collection"]["quantity"] == {"value": 4, "unit": "mL"}
    assert sample["collection"]["collectedDateTime"] == "2026-10-15T13:20:00.000Z"
    stored = db.exec(select(Specimen)).one()
    assert (stored.status, stored.order_id, stored.container) == (
        "collected",
        order["id"],
        "EDTA lavender top",
    )
    read = valid(send(client, "GET", f"/fhir/ServiceRequest/{order['id']}", tenant).json())
    assert read["specimen"] == [{"reference": f"Specimen/{sample['id']}"}]


def test_search_includes_the_specimens_of_the_orders_in_one_round_trip(
    client: TestClient, tenant: Tenant, chart: Chart
) -> None:
    entries = send(client, "POST", "/fhir", tenant, order_bundle(chart)).json()["entry"]
    sample = entries[0]["resource"]
    accession = sample["accessionIdentifier"]["value"]

    bundle = valid(
        send(
            client, "GET",
            f"/fhir/ServiceRequest?patient={chart.patient}&_include=ServiceRequest:specimen",
            tenant,
        ).json()
    )  # fmt: skip

    assert bundle["total"] == 1
    assert [(e["resource"]["resourceType"], e["search"]["mode"]) for e in bundle["entry"]] == [
        ("ServiceRequest", "match"),
        ("Specimen", "include"),
    ]
    for query, expected in [
        (f"accession=urn:backoffice:accession|{accession}", 1),
        (f"identifier={accession}", 1),
        (f"patient=Patient/{chart.patient}&status=available", 1),
        ("status=collected", 1),
        ("status=unsatisfactory", 0),
        ("accession=26-999999", 0),
    ]:
        found = valid(send(client, "GET", f"/fhir/Specimen?{query}", tenant).json())
        assert found["total"] == expected, query
    for query, expected in [("status=active", 1), ("status=revoked", 0)]:
        found = valid(send(client, "GET", f"/fhir/ServiceRequest?{query}", tenant).json())
        assert found["total"] == expected, query


def test_one_bad_entry_fails_the_order_transaction_and_nothing_is_stored(
    client: TestClient, tenant: Tenant, chart: Chart, db: Session
) -> None:
    bundle = order_bundle(chart)
    bundle["entry"][0]["resource"]["type"]["coding"][0]["code"] = "UR"  # the A1c needs blood

    body = outcome(send(client, "POST", "/fhir", tenant, bundle), 422)

    assert expressions(body) == ["Bundle.entry[0].resource.type.coding[0].code"]
    assert db.exec(select(LabOrder)).all() == []
    assert db.exec(select(Specimen)).all() == []


def test_a_specimen_must_name_an_order_of_its_patient(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, chart: Chart, db: Session
) -> None:
    order = created(
        client, tenant,
        service_request(f"Patient/{chart.patient}", f"Practitioner/{chart.practitioner}"),
    )["id"]  # fmt: skip
    other = push_chart(client, other_tenant)
    cases = [
        (specimen(f"Patient/{other.patient}", f"ServiceRequest/{order}"), "Specimen.subject"),
        (specimen(f"Patient/{chart.patient}", f"ServiceRequest/{'0' * 32}"), "Specimen.request[0]"),
        (specimen(f"Patient/{chart.patient}", "Patient/1"), "Specimen.request[0].reference"),
        ({**specimen(f"Patient/{chart.patient}", "x"), "request": []}, "Specimen.request"),
    ]  # fmt: skip
    for body, expression in cases:
        response = send(client, "POST", "/fhir/Specimen", tenant, body)
        assert expression in expressions(outcome(response, 422)), response.text
    wrong_unit = specimen(f"Patient/{chart.patient}", f"ServiceRequest/{order}")
    wrong_unit["collection"]["quantity"]["unit"] = "gallons"
    response = send(client, "POST", "/fhir/Specimen", tenant, wrong_unit)
    assert expressions(outcome(response, 422)) == ["Specimen.collection.quantity.unit"]
    assert db.exec(select(Specimen)).all() == []


def test_specimens_are_read_only_after_accessioning(
    client: TestClient, tenant: Tenant, chart: Chart
) -> None:
    sample = send(client, "POST", "/fhir", tenant, order_bundle(chart)).json()["entry"][0]
    url = f"/fhir/Specimen/{sample['resource']['id']}"
    response = send(client, "PUT", url, tenant, sample["resource"])
    assert outcome(response, 405)["issue"][0]["code"] == "not-supported"
    update = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": sample["resource"], "request": {"method": "PUT", "url": url[6:]}}],
    }
    assert outcome(send(client, "POST", "/fhir", tenant, update), 405)


def test_orders_and_specimens_are_isolated_role_checked_and_audited(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, chart: Chart, db: Session
) -> None:
    entries = send(client, "POST", "/fhir", tenant, order_bundle(chart)).json()["entry"]
    sample, order = entries[0]["resource"]["id"], entries[1]["resource"]["id"]
    for url in (f"/fhir/Specimen/{sample}", f"/fhir/ServiceRequest/{order}"):
        outcome(send(client, "GET", url, other_tenant), 404)
        outcome(send(client, "GET", url, tenant, role=Role.BILLER), 403)
        assert send(client, "GET", url, tenant, role=Role.FRONT_DESK).status_code == 200
    assert send(client, "GET", "/fhir/Specimen", other_tenant).json()["total"] == 0
    bundle = order_bundle(chart)
    outcome(send(client, "POST", "/fhir", tenant, bundle, role=Role.CODER), 403)
    events = db.exec(
        select(AuditEvent)
        .where(AuditEvent.resource_type == "specimen")
        .order_by(col(AuditEvent.id))  # creation order
    ).all()
    assert [(e.action, e.outcome) for e in events if e.resource_id == sample] == [
        ("create", "success"),
        ("read", "success"),
    ]
