"""A secondary claim waits for the primary payer's 835: without it the 837 would lack the
primary adjudication loops (2320/2330/2430)."""

from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.claims.models import Claim
from service.patients.models import Coverage, Patient
from tests.claims.conftest import Demo
from tests.remittance.helpers import ack_999, make_batch, partially_paid, remit_835, upload

MISSING = "primary-adjudication-missing"


def _walter_primary(db: Session) -> Claim:
    walter = db.exec(select(Patient).where(Patient.mrn == "D-1003")).one()
    return db.exec(
        select(Claim).where(Claim.patient_id == walter.id, Claim.payer_responsibility == "P")
    ).one()


def _build_secondary(client: TestClient, demo_org: Demo, db: Session) -> dict[str, Any]:
    primary = _walter_primary(db)
    coverage = db.exec(
        select(Coverage).where(
            Coverage.patient_id == primary.patient_id, Coverage.priority == "secondary"
        )
    ).one()
    response = client.post(
        "/api/v1/claims",
        json={"encounter_id": primary.encounter_id, "coverage_id": coverage.id},
        headers=demo_org.headers(),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _errors(claim: dict[str, Any]) -> list[str]:
    return [f["code"] for f in claim["findings"] if f["severity"] == "error"]


def test_a_secondary_claim_without_the_primary_835_is_not_ready(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    claim = _build_secondary(client, demo_org, db)

    assert claim["payer_responsibility"] == "S"
    assert claim["status"] == "draft"
    assert _errors(claim) == [MISSING]


def test_a_secondary_claim_is_ready_once_the_primary_835_is_posted(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    claim = _build_secondary(client, demo_org, db)
    batch = make_batch(client, demo_org, db)
    upload(client, demo_org, ack_999(batch))
    primary = next(c for c in batch.claims if c.id == _walter_primary(db).id)
    upload(client, demo_org, remit_835([partially_paid(primary)]))

    scrubbed = client.post(f"/api/v1/claims/{claim['id']}/scrub", headers=demo_org.headers())

    assert scrubbed.status_code == 200, scrubbed.text
    assert scrubbed.json()["status"] == "ready"
    assert _errors(scrubbed.json()) == []


def test_a_batch_leaves_out_a_ready_secondary_claim_whose_primary_has_no_835(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    claim = _build_secondary(client, demo_org, db)
    db.commit()  # a fresh snapshot: see what the request committed
    # As if it had been scrubbed before the rule existed (or its primary posting was reversed).
    db.execute(sa.update(Claim).where(col(Claim.id) == claim["id"]).values(status="ready"))
    db.commit()

    batch = make_batch(client, demo_org, db)

    assert claim["id"] not in {c.id for c in batch.claims}
    assert len(batch.claims) == 5  # the demo's primary professional claims
    text = client.get(f"/api/v1/claim-batches/{batch.id}/file", headers=demo_org.headers()).text
    assert claim["patient_control_number"] not in text
    again = client.get(f"/api/v1/claims/{claim['id']}", headers=demo_org.headers()).json()
    assert again["status"] == "draft"
    assert _errors(again) == [MISSING]
