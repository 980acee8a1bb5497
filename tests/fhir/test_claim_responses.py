"""FHIR ClaimResponse: the payer's decisions posted from 835s, read by an EHR as FHIR R4."""

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.audit.models import AuditEvent
from service.auth import logic as auth_logic
from service.auth.roles import Role
from service.auth.schemas import UserCreate
from service.fhir import resources
from service.remittance.models import ClaimPosting
from tests.claims.conftest import Demo, demo_org
from tests.factories import Tenant
from tests.fhir.examples import FHIR_JSON, outcome, valid
from tests.remittance.helpers import (
    Batch,
    ack_999,
    denied,
    make_batch,
    paid_in_full,
    partially_paid,
    remit_835,
    upload,
)

__all__ = ["demo_org"]


@pytest.fixture
def engine(codesets_engine: Engine) -> Engine:
    return codesets_engine


@pytest.fixture
def posted(client: TestClient, demo_org: Demo, db: Session) -> Batch:
    """The demo's professional claims batched, acknowledged, one partially paid, one denied."""
    batch = make_batch(client, demo_org, db)
    upload(client, demo_org, ack_999(batch))
    first, second, *_ = batch.claims
    upload(client, demo_org, remit_835([partially_paid(first), denied(second)]))
    db.commit()
    return batch


def _key(db: Session, demo: Demo, role: Role) -> dict[str, str]:
    user = auth_logic.create_user(db, demo.organization_id, UserCreate(name=role, roles=[role]))
    key = auth_logic.issue_api_key(db, demo.organization_id, user.id, "t")[1]
    db.commit()
    return {"Authorization": f"Bearer {key}"}


def _search(client: TestClient, demo: Demo, query: str) -> dict[str, Any]:
    response = client.get(
        f"/fhir/ClaimResponse?{query}", headers={**demo.headers(), "Accept": FHIR_JSON}
    )
    assert response.status_code == 200, response.text
    return valid(response.json())


def _only(bundle: dict[str, Any]) -> dict[str, Any]:
    assert bundle["total"] == 1, bundle
    resource: dict[str, Any] = bundle["entry"][0]["resource"]
    return resource


def _amount(entries: list[dict[str, Any]], code: str) -> Decimal:
    [entry] = [e for e in entries if e["category"]["coding"][0]["code"] == code]
    return Decimal(str(entry["amount"]["value"]))


def test_a_partial_payment_reads_as_a_claim_response_with_its_adjustments(
    client: TestClient, demo_org: Demo, posted: Batch
) -> None:
    claim = posted.claims[0]

    body = _only(_search(client, demo_org, f"request=Claim/{claim.id}"))

    resources.parse_outgoing(body)  # fhir.resources is the judge of the shape
    assert body["request"] == {"reference": f"Claim/{claim.id}"}
    assert body["patient"] == {"reference": f"Patient/{claim.patient_id}"}
    assert body["insurer"]["reference"] == f"Organization/{claim.payer_id}"
    assert body["status"] == "active"
    assert body["outcome"] == "complete"
    assert body["identifier"][0]["value"] == f"PCC{claim.pcn}"
    deductible = Decimal("10.00") * len(claim.lines)
    contractual = sum(
        (Decimal(line.charge) * Decimal("0.20")).quantize(Decimal("0.01")) for line in claim.lines
    )
    assert _amount(body["total"], "submitted") == claim.charge
    assert _amount(body["total"], "benefit") == claim.charge - deductible - contractual
    assert _amount(body["total"], "patient-responsibility") == deductible
    assert (
        Decimal(str(body["payment"]["amount"]["value"])) == claim.charge - deductible - contractual
    )
    assert body["payment"]["date"] == "2026-12-01"
    assert [item["itemSequence"] for item in body["item"]] == [
        line.position for line in claim.lines
    ]
    first = body["item"][0]["adjudication"]
    reasons = {
        (a["category"]["coding"][0]["code"], a["reason"]["coding"][0]["code"])
        for a in first
        if "reason" in a
    }
    assert reasons == {("CO", "45"), ("PR", "1")}


def test_a_denial_carries_its_reason_and_remark_codes(
    client: TestClient, demo_org: Demo, posted: Batch
) -> None:
    claim = posted.claims[1]

    body = _only(_search(client, demo_org, f"request=Claim/{claim.id}"))

    assert body["disposition"].lower().startswith("denied")
    assert _amount(body["total"], "benefit") == 0
    codes = {a["category"]["coding"][0]["code"] for a in body["item"][0]["adjudication"]}
    assert "N115" in codes
    assert "CO" in codes


def test_a_reversed_payment_reads_as_cancelled(
    client: TestClient, demo_org: Demo, posted: Batch, db: Session
) -> None:
    claim = posted.claims[0]
    other = max(posted.claims[2:], key=lambda c: c.charge)  # the payment may not be negative
    reversal = partially_paid(claim, status="22")
    upload(client, demo_org, remit_835([reversal, paid_in_full(other)], trace="EFT2", control=7202))

    body = _only(_search(client, demo_org, f"request=Claim/{claim.id}"))

    assert body["status"] == "cancelled"
    assert _search(client, demo_org, "identifier=PCC" + claim.pcn)["total"] == 1  # not the reversal


def test_searches_by_patient_are_audited_and_role_checked(
    client: TestClient, demo_org: Demo, posted: Batch, db: Session, tenant: Tenant
) -> None:
    claim = posted.claims[0]
    bundle = _search(client, demo_org, f"patient=Patient/{claim.patient_id}")
    posting = db.exec(select(ClaimPosting).where(ClaimPosting.claim_id == claim.id)).one()

    assert posting.id in {e["resource"]["id"] for e in bundle["entry"]}
    db.commit()
    audited = db.exec(
        select(AuditEvent).where(
            AuditEvent.resource_type == "claim_posting", AuditEvent.resource_id == posting.id
        )
    ).all()
    assert [e.patient_id for e in audited] == [claim.patient_id]
    url = f"/fhir/ClaimResponse/{posting.id}"
    outcome(client.get(url, headers=_key(db, demo_org, Role.LAB)), 403)
    outcome(client.get(url, headers=tenant.headers(Role.BILLER)), 404)
    assert client.get(url, headers=_key(db, demo_org, Role.INTEGRATION)).status_code == 200
    outcome(
        client.post(
            "/fhir/ClaimResponse",
            content="{}",
            headers={**demo_org.headers(), "Content-Type": FHIR_JSON},
        ),
        405,
    )
