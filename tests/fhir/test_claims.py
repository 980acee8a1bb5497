"""FHIR Claim: the demo's claims read as FHIR R4 Claims that fhir.resources parses."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.auth import logic as auth_logic
from service.auth.roles import Role
from service.auth.schemas import UserCreate
from service.claims.models import Claim
from service.demo import clinic as demo
from service.fhir import resources
from tests.factories import Tenant
from tests.fhir.examples import FHIR_JSON, outcome, valid


@pytest.fixture
def engine(codesets_engine: Engine) -> Engine:
    return codesets_engine


@pytest.fixture
def clinic(db: Session) -> Tenant:
    """The demo organization (professional and dental claims) with a key per role."""
    seeded = demo.seed(db)
    tenant = Tenant(seeded.organization_id, {Role.ADMIN: seeded.admin_key})
    for role in Role:
        if role is not Role.ADMIN:
            user = auth_logic.create_user(
                db, seeded.organization_id, UserCreate(name=f"{role} user", roles=[role])
            )
            tenant.keys[role] = auth_logic.issue_api_key(db, seeded.organization_id, user.id, "t")[
                1
            ]
    db.commit()
    return tenant


def _get(client: TestClient, url: str, tenant: Tenant, role: str = Role.INTEGRATION) -> dict:  # type: ignore[type-arg]
    response = client.get(url, headers={**tenant.headers(role), "Accept": FHIR_JSON})
    assert response.status_code == 200, response.text
    return valid(response.json())


def test_a_professional_claim_reads_as_a_fhir_claim(
    client: TestClient, clinic: Tenant, db: Session
) -> None:
    # A ready one, named: an unordered first() may be Omar Haddad's claim the scrubber holds
    # (PostgreSQL promises no row order), whose diagnoses and lines differ.
    claim = db.exec(
        select(Claim)
        .where(Claim.claim_type == "professional", Claim.status == "ready")
        .order_by(col(Claim.id))
    ).first()
    assert claim is not None

    body = _get(client, f"/fhir/Claim/{claim.id}", clinic)

    model = resources.parse_outgoing(body)  # fhir.resources is the judge of the shape
    assert model.use == "claim"
    assert body["type"]["coding"][0]["code"] == "professional"
    assert body["patient"] == {"reference": f"Patient/{claim.patient_id}"}
    assert body["insurer"] == {"reference": f"Organization/{claim.payer_id}"}
    assert body["provider"]["reference"].split("/")[0] in ("Organization", "Practitioner")
    assert body["priority"]["coding"][0]["code"] == "normal"
    assert body["insurance"] == [
        {"sequence": 1, "focal": True, "coverage": {"reference": f"Coverage/{claim.coverage_id}"}}
    ]
    assert [d["diagnosisCodeableConcept"]["coding"][0]["system"] for d in body["diagnosis"]] == [
        "http://hl7.org/fhir/sid/icd-10-cm"
    ] * len(claim.diagnoses)
    assert body["diagnosis"][0]["sequence"] == 1
    assert "." in body["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0]["code"]
    item = body["item"][0]
    assert item["productOrService"]["coding"][0]["system"] in (
        "http://www.ama-assn.org/go/cpt",
        "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    )
    assert item["servicedDate"] == claim.date_of_service.isoformat()
    assert item["net"]["currency"] == "USD"
    assert item["diagnosisSequence"][0] >= 1
    assert body["total"] == {"value": float(claim.total_charge), "currency": "USD"}
    assert sum(i["net"]["value"] for i in body["item"]) == pytest.approx(float(claim.total_charge))
    assert body["identifier"][0]["value"] == claim.patient_control_number


def test_a_dental_claim_is_oral_with_cdt_codes_and_teeth(
    client: TestClient, clinic: Tenant, db: Session
) -> None:
    claims = db.exec(select(Claim).where(Claim.claim_type == "dental")).all()
    assert claims

    bodies = [_get(client, f"/fhir/Claim/{claim.id}", clinic) for claim in claims]

    assert {body["type"]["coding"][0]["code"] for body in bodies} == {"oral"}
    items = [item for body in bodies for item in body["item"]]
    systems = {i["productOrService"]["coding"][0]["system"] for i in items}
    assert systems == {"http://www.ada.org/cdt"}
    teeth = [i["bodySite"]["coding"][0] for i in items if "bodySite" in i]
    assert teeth
    assert teeth[0]["system"] == (
        "http://terminology.hl7.org/CodeSystem/ADAUniversalToothDesignationSystem"
    )


def test_claims_are_searched_by_patient_with_the_patient_included(
    client: TestClient, clinic: Tenant, db: Session
) -> None:
    claim = db.exec(select(Claim)).first()
    assert claim is not None

    bundle = _get(
        client, f"/fhir/Claim?patient=Patient/{claim.patient_id}&_include=Claim:patient", clinic
    )

    kinds = [(e["resource"]["resourceType"], e["search"]["mode"]) for e in bundle["entry"]]
    assert ("Patient", "include") in kinds
    assert all(k == ("Claim", "match") for k in kinds if k[0] == "Claim")
    assert bundle["total"] >= 1
    everything = _get(client, "/fhir/Claim?_count=2", clinic)
    assert everything["total"] == 8  # the demo's claims, Omar Haddad's held one too
    assert len(everything["entry"]) == 2
    by_number = _get(client, f"/fhir/Claim?identifier={claim.patient_control_number}", clinic)
    assert by_number["total"] == 1


def test_claims_are_read_only_isolated_role_checked_and_audited(
    client: TestClient, clinic: Tenant, tenant: Tenant, db: Session
) -> None:
    claim = db.exec(select(Claim)).first()
    assert claim is not None
    url = f"/fhir/Claim/{claim.id}"
    headers = {**clinic.headers(Role.ADMIN), "Content-Type": FHIR_JSON}

    outcome(client.get(url, headers=tenant.headers(Role.INTEGRATION)), 404)
    outcome(client.get(url, headers=clinic.headers(Role.FRONT_DESK)), 403)
    outcome(client.get(url, headers=clinic.headers(Role.LAB)), 403)
    _get(client, url, clinic, Role.BILLER)
    db.commit()  # end the read transaction: see what the requests committed
    outcome(client.put(url, content="{}", headers=headers), 405)
    outcome(client.post("/fhir/Claim", content="{}", headers=headers), 405)

    reads = db.exec(
        select(AuditEvent).where(AuditEvent.resource_type == "claim", AuditEvent.action == "read")
    ).all()
    assert [e.resource_id for e in reads] == [claim.id]
