"""The billing desk's claims needing attention, on the demo organization."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.claims.models import Claim
from service.demo import clinic as demo
from service.demo.clinic import DemoResult
from service.demo.westside import HELD_MRN
from service.patients.models import Patient
from tests.web.signin import NEW_PASSWORD, csrf_of, submit_sign_in


@pytest.fixture
def engine(codesets_engine: Engine) -> Engine:
    return codesets_engine


@pytest.fixture
def demo_org(db: Session) -> DemoResult:
    result = demo.seed(db)
    db.commit()
    return result


def _sign_in(client: TestClient, result: DemoResult, who: str) -> None:
    found = next(s for s in result.sign_ins if s.who == who)
    assert found.one_time_password is not None
    assert submit_sign_in(client, found.username, found.one_time_password).status_code == 303
    token = csrf_of(client.get("/app/password").text)
    client.post(
        "/app/password",
        data={
            "csrf_token": token,
            "current_password": found.one_time_password,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )


def _held_claim(db: Session, result: DemoResult) -> Claim:
    """The demo's claim the scrubber holds: Omar Haddad's, billed by Westside whose ZIP has
    5 digits (billing-provider-address)."""
    claim = db.exec(
        select(Claim)
        .join(Patient, col(Patient.id) == Claim.patient_id)
        .where(Claim.organization_id == result.organization_id, Patient.mrn == HELD_MRN)
    ).one()
    assert claim.status == "draft"
    return claim


def test_a_claim_held_by_the_scrubber_shows_its_finding_in_words(
    client: TestClient, db: Session, demo_org: DemoResult
) -> None:
    claim = _held_claim(db, demo_org)
    _sign_in(client, demo_org, "billing clerk")

    page = client.get("/app/billing/claims")

    assert page.status_code == 200
    text = page.text
    assert f"Claim {claim.patient_control_number}" in text
    assert "The billing provider needs a street address with a 9-digit ZIP code." in text
    assert "billing provider, address" in text  # the field to fix, in words
    assert claim.encounter_id in text
    # Times are the organization's (the demo clinic is in America/Chicago).
    assert " CST" in text or " CDT" in text
    assert "Held by the scrubber (1)" in text
    assert "Rejected by the clearinghouse or payer (0)" in text


def test_showing_claims_audits_each_patient_shown(
    client: TestClient, db: Session, demo_org: DemoResult
) -> None:
    claim = _held_claim(db, demo_org)
    _sign_in(client, demo_org, "billing clerk")
    client.get("/app/billing/claims")
    db.commit()
    [event] = db.exec(
        select(AuditEvent).where(
            AuditEvent.resource_type == "claim",
            AuditEvent.action == "query",
            AuditEvent.resource_id == claim.id,
        )
    ).all()
    assert event.patient_id == claim.patient_id
    assert event.role == "biller"


def test_the_lab_technologist_may_not_see_the_billing_desk(
    client: TestClient, demo_org: DemoResult
) -> None:
    _sign_in(client, demo_org, "lab technologist")
    assert client.get("/app/billing/claims").status_code == 403
