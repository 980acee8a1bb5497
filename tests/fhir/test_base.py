"""/fhir basics: CapabilityStatement, content types, OperationOutcome for every failure,
tenant isolation and roles."""

import json

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.audit.models import AuditEvent
from service.auth.roles import Role
from tests.factories import Tenant
from tests.fhir.examples import PATIENT, PAYER, created, outcome, send, valid


def test_metadata_lists_exactly_what_is_supported(client: TestClient) -> None:
    response = client.get("/fhir/metadata")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    capability = valid(response.json())
    rest = capability["rest"][0]
    assert {r["type"] for r in rest["resource"]} == {
        "Patient",
        "Coverage",
        "Practitioner",
        "Organization",
        "Encounter",
        "Condition",
        "ServiceRequest",
        "Specimen",
        "DiagnosticReport",
        "Observation",
        "Claim",
        "ClaimResponse",
        "Subscription",  # rest-hook notifications from the outbox
    }
    interactions = {r["type"]: [i["code"] for i in r["interaction"]] for r in rest["resource"]}
    assert interactions["Condition"] == ["read", "create", "search-type"]
    assert interactions["Specimen"] == ["read", "create", "search-type"]
    for read_only in ("DiagnosticReport", "Observation", "Claim", "ClaimResponse"):
        assert interactions[read_only] == ["read", "search-type"]
    # ele-1: a type without includes leaves searchInclude out (no empty array).
    includes = {r["type"]: r.get("searchInclude", []) for r in rest["resource"]}
    assert includes["Patient"] == []
    assert "searchInclude" not in json.dumps(
        next(r for r in rest["resource"] if r["type"] == "Patient")
    )
    assert "ServiceRequest:specimen" in includes["ServiceRequest"]
    assert "DiagnosticReport:result" in includes["DiagnosticReport"]
    assert "Claim:patient" in includes["Claim"]
    patient = next(r for r in rest["resource"] if r["type"] == "Patient")
    assert {p["name"] for p in patient["searchParam"]} >= {
        "identifier",
        "name",
        "family",
        "birthdate",
    }
    assert [i["code"] for i in patient["interaction"]] == [
        "read",
        "vread",
        "update",
        "history-instance",
        "create",
        "search-type",
    ]
    coverage = next(r for r in rest["resource"] if r["type"] == "Coverage")
    assert "Coverage:payor" in coverage["searchInclude"]
    assert {i["code"] for i in rest["interaction"]} == {"transaction", "batch"}


def test_xml_is_not_acceptable(client: TestClient) -> None:
    outcome(client.get("/fhir/metadata?_format=xml"), 406)
    assert client.get("/fhir/metadata?_format=json").status_code == 200


def test_bodies_must_be_fhir_json(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/fhir/Patient",
        content="<Patient/>",
        headers={**tenant.headers(), "Content-Type": "application/fhir+xml"},
    )
    assert outcome(response, 415)["issue"][0]["code"] == "not-supported"
    broken = client.post(
        "/fhir/Patient",
        content="{",
        headers={**tenant.headers(), "Content-Type": "application/fhir+json"},
    )
    outcome(broken, 400)  # FHIR and the README: a body that does not parse is 400


def test_unknown_types_and_parameters_are_outcomes(client: TestClient, tenant: Tenant) -> None:
    outcome(send(client, "GET", "/fhir/Spaceship", tenant), 404)
    body = outcome(send(client, "GET", "/fhir/Patient?eye-colour=blue", tenant), 400)
    assert body["issue"][0]["code"] == "not-supported"


def test_without_a_key_the_outcome_is_a_security_issue_and_is_audited(
    client: TestClient, db: Session
) -> None:
    body = outcome(client.get("/fhir/Patient"), 401)
    assert body["issue"][0]["code"] == "security"
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "login-denied")).all()
    assert [e.resource_type for e in events] == ["Patient"]


def test_another_organization_gets_404_outcomes_and_empty_searches(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    patient = created(client, tenant, PATIENT)
    payer = created(client, tenant, PAYER)
    for kind, resource in [("Patient", patient), ("Organization", payer)]:
        url = f"/fhir/{kind}/{resource['id']}"
        assert (
            outcome(send(client, "GET", url, other_tenant), 404)["issue"][0]["code"] == "not-found"
        )
        # PUT answers as for an id that does not exist: 405, update-as-create is off.
        foreign = outcome(send(client, "PUT", url, other_tenant, resource), 405)
        missing_url = f"/fhir/{kind}/0000000000000000000000000000dead"
        missing = outcome(
            send(client, "PUT", missing_url, other_tenant, {**resource, "id": missing_url[-32:]}),
            405,
        )
        assert foreign["issue"][0]["code"] == missing["issue"][0]["code"] == "not-supported"
        assert (
            send(client, "GET", f"/fhir/{kind}?_id={resource['id']}", other_tenant).json()["total"]
            == 0
        )
        assert send(client, "GET", url, tenant).status_code == 200


@pytest.mark.parametrize("role", [Role.LAB, Role.CODER, Role.BILLER, Role.AUDITOR])
def test_roles_that_only_read_patients_cannot_write_them(
    client: TestClient, tenant: Tenant, role: str
) -> None:
    patient = created(client, tenant, PATIENT)
    assert (
        send(client, "GET", f"/fhir/Patient/{patient['id']}", tenant, role=role).status_code == 200
    )
    assert (
        outcome(send(client, "POST", "/fhir/Patient", tenant, PATIENT, role=role), 403)["issue"][0][
            "code"
        ]
        == "forbidden"
    )


def test_a_denied_write_is_audited(client: TestClient, tenant: Tenant, db: Session) -> None:
    send(client, "POST", "/fhir/Patient", tenant, PATIENT, role="auditor")
    events = db.exec(select(AuditEvent).where(AuditEvent.outcome == "denied")).all()
    assert [(e.action, e.resource_type, e.detail) for e in events] == [
        ("create", "Patient", "403 forbidden")
    ]
