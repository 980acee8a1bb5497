"""Patient statements: figures from the ledger, PDF and CSV stored and downloaded byte for
byte, and a run that is the same run when asked twice the same day."""

import hashlib
import io
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.ledger.models import StatementRun
from tests.factories import Tenant
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


def _runs(client: TestClient, staff: Staff, query: str = "", role: str = "auditor") -> Any:
    return client.get(f"/api/v1/statement-runs{query}", headers=staff.headers(role))


def _audited(db: Session, resource_type: str) -> list[AuditEvent]:
    db.commit()  # a fresh snapshot
    query = select(AuditEvent).where(
        AuditEvent.resource_type == resource_type, AuditEvent.action == "query"
    )
    return list(db.exec(query.order_by(col(AuditEvent.at), col(AuditEvent.id))))


def test_statement_runs_are_listed_newest_first_paged_filtered_and_audited(
    client: TestClient, staff: Staff, db: Session, tenant: Tenant
) -> None:
    claims = _billed(client, staff, db)
    terms = [("0.00", 30), ("100000.00", 0), ("5.00", 7)]
    made = [
        post(client, staff, "statement-runs", {"threshold": t, "quiet_days": q}) for t, q in terms
    ]
    assert [r.status_code for r in made] == [201] * 3
    ids = [r.json()["id"] for r in made]
    # The first run a week earlier (as if made then): run dates differ.
    db.commit()
    first = db.get(StatementRun, ids[0])
    assert first is not None
    today = first.run_date
    first.run_date = today - timedelta(days=7)
    db.add(first)
    db.commit()

    everything = _runs(client, staff)
    assert everything.status_code == 200, everything.text
    body = everything.json()
    assert [r["id"] for r in body["items"]] == ids[::-1]  # newest first
    assert body["next_cursor"] is None
    item = body["items"][-1]
    assert "statements" not in item
    assert item["statement_count"] == len({c.patient_id for c in claims})
    assert item["created_by"] == staff.user_ids["biller"]
    assert item["run_date"] == (today - timedelta(days=7)).isoformat()
    assert client.get(item["links"]["csv"], headers=staff.headers("auditor")).status_code == 200
    one = client.get(item["links"]["self"], headers=staff.headers("auditor")).json()
    assert {k: one[k] for k in item} == item

    page = _runs(client, staff, "?limit=2").json()
    rest = _runs(client, staff, f"?limit=2&cursor={page['next_cursor']}").json()
    assert [r["id"] for r in page["items"] + rest["items"]] == ids[::-1]
    assert rest["next_cursor"] is None
    by_day = [r["id"] for r in _runs(client, staff, "?sort=run_date").json()["items"]]
    assert by_day[0] == ids[0]
    by_due = _runs(client, staff, "?sort=-total_due&limit=1").json()
    assert by_due["items"][0]["id"] == ids[0]
    following = _runs(client, staff, f"?sort=-total_due&limit=1&cursor={by_due['next_cursor']}")
    assert Decimal(following.json()["items"][0]["total_due"]) <= Decimal(
        by_due["items"][0]["total_due"]
    )

    def listed(query: str) -> list[str]:
        answer = _runs(client, staff, query)
        assert answer.status_code == 200, answer.text
        return [r["id"] for r in answer.json()["items"]]

    assert listed(f"?date_from={today}") == ids[:0:-1]
    assert listed(f"?date_to={today - timedelta(days=1)}") == [ids[0]]
    assert listed(f"?date_from={today - timedelta(days=7)}&date_to={today}") == ids[::-1]
    assert listed(f"?created_by={staff.user_ids['biller']}") == ids[::-1]
    assert listed(f"?created_by={staff.user_ids['auditor']}") == []

    for query in (
        f"?date_from={today}&date_to={today - timedelta(days=1)}",
        "?date_from=yesterday",
        "?sort=threshold",
        "?cursor=not-ours!",
        "?limit=0",
        "?created_by=",
    ):
        refused = _runs(client, staff, query)
        assert refused.status_code == 422, query
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert _runs(client, staff, "?run_id=x").status_code == 400  # an unknown parameter

    # The roles of the statements page; another organization sees none of these runs.
    assert _runs(client, staff, role="biller").status_code == 200
    assert _runs(client, staff, role="admin").status_code == 200
    assert _runs(client, staff, role="front_desk").status_code == 403
    assert _runs(client, staff, role="coder").status_code == 403
    elsewhere = client.get("/api/v1/statement-runs", headers=tenant.headers("admin"))
    assert elsewhere.status_code == 200
    assert elsewhere.json()["items"] == []
    assert (
        client.get(f"/api/v1/statement-runs/{ids[0]}", headers=tenant.headers("admin")).status_code
        == 404
    )

    audited = _audited(db, "statement_run")
    assert {e.resource_id for e in audited} == set(ids)
    assert all(e.user_id for e in audited)


def test_reading_a_run_audits_each_statement_under_its_patient(
    client: TestClient, staff: Staff, db: Session
) -> None:
    _billed(client, staff, db)
    run = post(client, staff, "statement-runs", {"threshold": "0.00", "quiet_days": 30}).json()
    assert _audited(db, "statement") == []  # made: audited as created, not read
    read = client.get(f"/api/v1/statement-runs/{run['id']}", headers=staff.headers("auditor"))
    assert read.status_code == 200
    shown = {(s["id"], s["patient_id"]) for s in read.json()["statements"]}
    assert shown
    audited = _audited(db, "statement")
    assert {(e.resource_id, e.patient_id) for e in audited} == shown
    assert {e.user_id for e in audited} == {staff.user_ids["auditor"]}
    # Asked again the same day, the run made before is shown: read, so audited again.
    post(client, staff, "statement-runs", {"threshold": "0.00", "quiet_days": 30})
    assert len(_audited(db, "statement")) == 2 * len(shown)
