"""A new billing clerk's first day after the demo: a copay at the desk, a check in the mail,
a small balance written off, the statement run (its PDFs add up to the ledger), a denial
worked from open to written off."""

from decimal import Decimal

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.ledger.conftest import Staff
from tests.ledger.helpers import balance, encounter_of, owed, post
from tests.ledger.test_statements import amount_due, pdf_text
from tests.remittance.helpers import ack_999, denied, make_batch, partially_paid, remit_835, upload


def test_a_billing_clerks_day_adds_up(client: TestClient, staff: Staff, db: Session) -> None:
    batch = make_batch(client, staff.demo, db)
    upload(client, staff.demo, ack_999(batch))
    refused, *paid = sorted(batch.claims, key=lambda c: c.charge)
    upload(client, staff.demo, remit_835([denied(refused), *(partially_paid(c) for c in paid)]))
    copay_claim, check_claim, small_claim = paid[0], paid[1], paid[2]

    # The front desk takes a 10.00 copay against the visit.
    copay = post(
        client,
        staff,
        "patient-payments",
        {
            "patient_id": copay_claim.patient_id,
            "encounter_id": encounter_of(db, copay_claim.id),
            "amount": "10.00",
            "method": "card",
            "reference": "slip 88",
        },
        role="front_desk",
    )
    assert copay.status_code == 201, copay.text

    # A check for the whole balance arrives in the mail.
    owing = balance(client, staff, check_claim.patient_id)
    check = post(
        client,
        staff,
        "patient-payments",
        {
            "patient_id": check_claim.patient_id,
            "encounter_id": encounter_of(db, check_claim.id),
            "amount": owing["patient"],
            "method": "check",
            "reference": "1187",
        },
        role="front_desk",
    )
    assert check.status_code == 201, check.text
    assert Decimal(check.json()["balance"]["total"]) == Decimal(owing["insurance"])

    # A small balance not worth a statement: written off by the biller.
    encounter = encounter_of(db, small_claim.id)
    left = owed(balance(client, staff, small_claim.patient_id), encounter)[1]
    assert (
        post(
            client,
            staff,
            "patient-payments",
            {
                "patient_id": small_claim.patient_id,
                "encounter_id": encounter,
                "amount": str(left - Decimal("2.50")),
                "method": "cash",
            },
            role="front_desk",
        ).status_code
        == 201
    )
    written = post(
        client,
        staff,
        "write-offs",
        {
            "patient_id": small_claim.patient_id,
            "encounter_id": encounter,
            "amount": "2.50",
            "reason": "small_balance",
        },
    )
    assert written.status_code == 201, written.text
    assert owed(written.json()["balance"], encounter)[1] == 0

    # The statement run: every statement's PDF says what the ledger says the patient owes.
    run = post(client, staff, "statement-runs", {"threshold": "0.00", "quiet_days": 30})
    assert run.status_code == 201, run.text
    statements = run.json()["statements"]
    assert statements
    for statement in statements:
        ledger = balance(client, staff, statement["patient_id"])
        due = max(Decimal(ledger["patient"]) - Decimal(ledger["credit"]), Decimal(0))
        pdf = client.get(statement["links"]["pdf"], headers=staff.headers("biller"))
        assert amount_due(pdf_text(pdf.content)) == Decimal(statement["amount_due"]) == due

    # The denied claim: assigned, noted, then written off on the ledger.
    items = client.get(
        "/api/v1/denials/items", params={"status": "open"}, headers=staff.headers("biller")
    ).json()["items"]
    assert {i["claim_id"] for i in items} == {refused.id}
    for item in items:
        path = f"/api/v1/denials/items/{item['id']}"
        worked = client.patch(
            path,
            json={
                "status": "in_progress",
                "owner_id": staff.user_ids["biller"],
                "note": "past the appeal window",
            },
            headers=staff.headers("biller"),
        )
        assert worked.status_code == 200, worked.text
        done = client.post(
            f"{path}/write-off", json={"reason": "timely_filing"}, headers=staff.headers("biller")
        )
        assert done.json()["status"] == "written_off"
    assert owed(balance(client, staff, refused.patient_id), encounter_of(db, refused.id)) == (
        Decimal(0),
        Decimal(0),
    )
    month = client.get(
        "/api/v1/ledger-reports/month-end",
        params={"month": run.json()["run_date"][:7]},
        headers=staff.headers(),
    ).json()
    assert Decimal(next(r for r in month["rows"] if r["line"] == "difference")["amount"]) == 0
