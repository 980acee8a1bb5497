"""FHIR DiagnosticReport and Observation: a specimen's verified results, read-only; and an EHR's
round trip with fhirpy (order + specimen in one transaction, then the report)."""

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fhirpy import SyncFHIRClient
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.auth.roles import Role
from service.labtests import logic as labtest_logic
from service.labtests.schemas import LabTestCreate
from service.results import logic as results_logic
from service.results.schemas import ResultCreate
from service.specimens import custody as specimen_custody
from service.specimens.schemas import Receipt
from tests.factories import (
    LabSetup,
    Tenant,
    hba1c_test_payload,
    make_lab_setup,
    make_ready_specimen,
    principal,
)
from tests.fhir.clinical_examples import service_request, specimen
from tests.fhir.examples import PATIENT, PRACTITIONER, example, outcome, send, valid
from tests.fhir.test_fhirpy_client import fhir_base

__all__ = ["fhir_base"]


def enter_and_verify(
    session: Session, tenant: Tenant, specimen_id: str, test_id: str, value: str = "6.1"
) -> str:
    """A lab tech enters the HbA1c, a second user verifies it (CLIA: a different user)."""
    now = datetime.now(UTC)
    row = results_logic.enter_result(
        session,
        principal(tenant, Role.LAB),
        ResultCreate(
            specimen_id=specimen_id, lab_test_id=test_id, component_code="4548-4", value=value
        ),
        at=now,
    )
    results_logic.verify_results(session, principal(tenant, Role.ADMIN), [row.id], at=now)
    session.commit()
    return row.id


@pytest.fixture
def setup(db: Session, tenant: Tenant) -> LabSetup:
    return make_lab_setup(db, tenant)


def test_a_specimens_verified_results_read_as_a_final_report_with_its_observations(
    client: TestClient, tenant: Tenant, setup: LabSetup, db: Session
) -> None:
    sample = make_ready_specimen(db, tenant, setup)
    result_id = enter_and_verify(db, tenant, sample.id, setup.tests["A1C"])

    report = valid(send(client, "GET", f"/fhir/DiagnosticReport/{sample.id}", tenant).json())

    assert report["status"] == "final"
    assert report["code"]["coding"][1] == {
        "system": "http://loinc.org", "code": "4548-4", "display": "Hemoglobin A1c",
    }  # fmt: skip
    assert report["subject"] == {"reference": f"Patient/{setup.patient_id}"}
    assert report["basedOn"] == [{"reference": f"ServiceRequest/{sample.order_id}"}]
    assert report["specimen"] == [{"reference": f"Specimen/{sample.id}"}]
    assert report["result"] == [{"reference": f"Observation/{result_id}"}]
    assert report["identifier"][0]["value"] == sample.accession
    bundle = valid(
        send(
            client, "GET",
            f"/fhir/DiagnosticReport?patient={setup.patient_id}&_include=DiagnosticReport:result",
            tenant,
        ).json()
    )  # fmt: skip
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == [
        "DiagnosticReport",
        "Observation",
    ]
    observation = bundle["entry"][1]["resource"]
    assert observation["status"] == "final"
    assert observation["code"]["coding"][0]["code"] == "4548-4"
    assert observation["valueQuantity"] == {"value": 6.1, "unit": "%"}
    assert observation["interpretation"][0]["coding"][0]["code"] == "H"
    assert observation["referenceRange"] == [
        {"low": {"value": 4, "unit": "%"}, "high": {"value": 5.6, "unit": "%"}}
    ]
    assert observation["specimen"] == {"reference": f"Specimen/{sample.id}"}
    found = valid(send(client, "GET", "/fhir/Observation?code=4548-4", tenant).json())
    assert found["total"] == 1


def test_results_not_yet_verified_are_not_shown(
    client: TestClient, tenant: Tenant, setup: LabSetup, db: Session
) -> None:
    sample = make_ready_specimen(db, tenant, setup)
    row = results_logic.enter_result(
        db, principal(tenant, Role.LAB),
        ResultCreate(specimen_id=sample.id, lab_test_id=setup.tests["A1C"],
                     component_code="4548-4", value="5.2"),
        at=datetime.now(UTC),
    )  # fmt: skip
    db.commit()

    outcome(send(client, "GET", f"/fhir/DiagnosticReport/{sample.id}", tenant), 404)
    outcome(send(client, "GET", f"/fhir/Observation/{row.id}", tenant), 404)
    assert send(client, "GET", "/fhir/Observation", tenant).json()["total"] == 0
    assert send(client, "GET", "/fhir/DiagnosticReport", tenant).json()["total"] == 0


def test_reports_are_read_only_isolated_role_checked_and_audited(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, setup: LabSetup, db: Session
) -> None:
    sample = make_ready_specimen(db, tenant, setup)
    result_id = enter_and_verify(db, tenant, sample.id, setup.tests["A1C"])
    report_url = f"/fhir/DiagnosticReport/{sample.id}"

    for url in (report_url, f"/fhir/Observation/{result_id}"):
        outcome(send(client, "GET", url, other_tenant), 404)
        outcome(send(client, "GET", url, tenant, role=Role.FRONT_DESK), 403)
        outcome(send(client, "GET", url, tenant, role=Role.BILLER), 403)
        assert send(client, "GET", url, tenant, role=Role.CODER).status_code == 200
    outcome(send(client, "PUT", report_url, tenant, {"resourceType": "DiagnosticReport"}), 405)
    assert send(client, "GET", "/fhir/DiagnosticReport", other_tenant).json()["total"] == 0
    send(client, "GET", f"/fhir/DiagnosticReport?_id={sample.id}&_include=DiagnosticReport:result",
         tenant)  # fmt: skip

    db.commit()  # end the read transaction: see what the requests committed
    events = db.exec(
        select(AuditEvent)
        .where(
            AuditEvent.patient_id == setup.patient_id,
            AuditEvent.resource_type.in_(["diagnostic_report", "result"]),  # type: ignore[attr-defined]
            AuditEvent.action.in_(["read", "query"]),  # type: ignore[attr-defined]
        )
        .order_by(col(AuditEvent.id))  # creation order
    ).all()
    assert [(e.resource_type, e.action, e.role) for e in events] == [
        ("diagnostic_report", "read", "coder"),
        ("result", "read", "coder"),
        ("diagnostic_report", "query", "integration"),
        ("result", "query", "integration"),
    ]


def _client(base: str, tenant: Tenant) -> SyncFHIRClient:
    return SyncFHIRClient(
        base,
        authorization=tenant.headers(Role.INTEGRATION)["Authorization"],
        requests_config={"timeout": 10},
    )


def test_fhirpy_posts_an_order_with_its_specimen_and_reads_back_the_report(
    fhir_base: str, committing_tenant: Tenant, committing_app: FastAPI
) -> None:
    with committing_app.state.session_factory() as session:
        test = labtest_logic.add_lab_test(
            session,
            principal(committing_tenant),
            LabTestCreate.model_validate(hba1c_test_payload()),
        )
        session.commit()
        test_id = test.id
    client = _client(fhir_base, committing_tenant)
    patient = client.resource("Patient", **example(PATIENT, id=None))
    patient.save()
    doctor = client.resource("Practitioner", **example(PRACTITIONER, id=None))
    doctor.save()
    order_url, specimen_url = (
        "urn:uuid:6f1a0c1e-0000-4000-8000-000000000001",
        ("urn:uuid:6f1a0c1e-0000-4000-8000-000000000002"),
    )
    order = service_request(f"Patient/{patient.id}", f"Practitioner/{doctor.id}")
    del order["reasonCode"]  # no code sets in this database
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": order_url, "resource": order,
             "request": {"method": "POST", "url": "ServiceRequest"}},
            {"fullUrl": specimen_url, "resource": specimen(f"Patient/{patient.id}", order_url),
             "request": {"method": "POST", "url": "Specimen"}},
        ],
    }  # fmt: skip

    answer = client.execute("", method="post", data=bundle)

    assert [e["response"]["status"] for e in answer["entry"]] == ["201 Created"] * 2
    accession = answer["entry"][1]["resource"]["accessionIdentifier"]["value"]
    found = (
        client.resources("ServiceRequest")
        .search(patient=patient.id)
        .include("ServiceRequest", "specimen")
        .fetch_raw()
    )
    assert {e.resource.resourceType for e in found.entry} == {"ServiceRequest", "Specimen"}
    sample = client.resources("Specimen").search(accession=accession).get()
    assert (
        sample["request"][0]["reference"]
        == f"ServiceRequest/{answer['entry'][0]['resource']['id']}"
    )

    with committing_app.state.session_factory() as session:
        lab = principal(committing_tenant, Role.LAB)
        specimen_custody.receive_specimen(
            session, lab, sample.id, Receipt(location="Chem bench"), at=datetime.now(UTC)
        )  # no preparation step: ready at once
        session.commit()
        enter_and_verify(session, committing_tenant, sample.id, test_id, value="5.4")

    report = client.reference("DiagnosticReport", sample.id).to_resource()
    assert report["status"] == "final"
    raw = (
        client.resources("DiagnosticReport")
        .search(specimen=sample.id)
        .include("DiagnosticReport", "result")
        .fetch_raw()
    )
    observation = next(e.resource for e in raw.entry if e.resource.resourceType == "Observation")
    assert valid(observation.serialize())["valueQuantity"]["value"] == 5.4
    assert observation["interpretation"][0]["coding"][0]["code"] == "N"
