"""Patient statements: figures from the ledger, PDF and CSV stored and downloaded byte for
byte, and a run that is the same run when asked twice the same day."""

import hashlib
import io
import re
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlmodel import Session

from tests.ledger.conftest import Staff
from tests.ledger.helpers import balance, post
from tests.remittance.helpers import ack_999, make_batch, partially_paid, remit_835, upload


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def amount_due(text: str) -> Decimal:
    found = re.search(r"Amount due: ([\d,]+\.\d\d)", text)
    assert found is not None, text
    return Decimal(found[1].replace(",", ""))


def _billed(client: TestClient, staff: Staff, db: Session) -> list[Any]:
    """The demo's claims batched and answered: each patient owes 10.00 a line (deductible)."""
    batch = make_batch(client, staff.demo, db)
    upload(client, staff.demo, ack_999(batch))
    upload(client, staff.demo, remit_835([partially_paid(c) for c in batch.claims]))
    return batch.claims


def test_a_statement_shows_what_the_ledger_says_and_downloads_byte_for_byte(
    client: TestClient, staff: Staff, db: Session
) -> None:
    claim = _billed(client, staff, db)[0]
    post(
        client,
        staff,
        "patient-payments",
        {"patient_id": claim.patient_id, "amount": "4.00", "method": "cash"},
        role="front_desk",
    )
    owed = balance(client, staff, claim.patient_id)

    issued = client.post(
        f"/api/v1/patients/{claim.patient_id}/statements", headers=staff.headers("front_desk")
    )

    assert issued.status_code == 201, issued.text
    statement = issued.json()
    due = Decimal(owed["patient"]) - Decimal(owed["credit"])
    assert Decimal(statement["amount_due"]) == due == Decimal("10.00") * len(claim.lines) - 4
    first = client.get(statement["links"]["pdf"], headers=staff.headers("biller"))
    second = client.get(statement["links"]["pdf"], headers=staff.headers("auditor"))
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/pdf"
    assert first.content == second.content
    assert hashlib.sha256(first.content).hexdigest() == statement["pdf_sha256"]
    text = pdf_text(first.content)
    assert amount_due(text) == due
    assert "Credit on your account: 4.00" in text
    assert text.splitlines()[0] == "demo"  # the clinic (the organization)
    csv = client.get(statement["links"]["csv"], headers=staff.headers()).text
    assert f"amount_due,,{due:.2f}" in csv


def test_a_run_takes_patients_over_the_threshold_not_sent_one_lately_once_a_day(
    client: TestClient, staff: Staff, db: Session
) -> None:
    claims = _billed(client, staff, db)
    patients = {c.patient_id for c in claims}
    recent = claims[0].patient_id
    client.post(f"/api/v1/patients/{recent}/statements", headers=staff.headers())

    run = post(client, staff, "statement-runs", {"threshold": "0.00", "quiet_days": 30})

    assert run.status_code == 201, run.text
    body = run.json()
    sent = {s["patient_id"] for s in body["statements"]}
    assert sent == patients - {recent}
    assert body["statement_count"] == len(sent)
    assert Decimal(body["total_due"]) == sum(Decimal(s["amount_due"]) for s in body["statements"])
    again = post(client, staff, "statement-runs", {"threshold": "0.00", "quiet_days": 30})
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    assert again.json()["duplicate"] is True
    listing = client.get(f"/api/v1/statement-runs/{body['id']}/csv", headers=staff.headers())
    assert listing.status_code == 200
    assert len(listing.text.strip().splitlines()) == 1 + len(sent)
    high = post(client, staff, "statement-runs", {"threshold": "100000.00", "quiet_days": 0})
    assert high.json()["statement_count"] == 0
    assert post(client, staff, "statement-runs", {"threshold": "-1"}).status_code == 422
    assert post(client, staff, "statement-runs", {}, role="front_desk").status_code == 403
