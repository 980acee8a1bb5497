"""Ledger test helpers: balances read through the API, money as Decimal."""

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.claims.models import Claim
from tests.ledger.conftest import Staff


def balance(client: TestClient, staff: Staff, patient_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/patients/{patient_id}/balance", headers=staff.headers())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def owed(body: dict[str, Any], encounter_id: str) -> tuple[Decimal, Decimal]:
    """(insurance, patient) on one encounter of a balance answer."""
    row = next(e for e in body["encounters"] if e["encounter_id"] == encounter_id)
    return Decimal(row["insurance"]), Decimal(row["patient"])


def encounter_of(db: Session, claim_id: str) -> str:
    return db.exec(select(Claim.encounter_id).where(Claim.id == claim_id)).one()


def post(
    client: TestClient, staff: Staff, path: str, body: dict[str, Any], role: str = "biller"
) -> Any:
    return client.post(f"/api/v1/{path}", json=body, headers=staff.headers(role))
