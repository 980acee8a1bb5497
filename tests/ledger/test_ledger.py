"""The patient ledger: charges at billing, 835 entries, payments, credit, refunds, write-offs,
adjustments, transfers and reversals, with roles and refusals that leave nothing behind."""

from decimal import Decimal

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.ledger.models import LedgerEntry
from tests.ledger.conftest import Staff
from tests.ledger.helpers import balance, encounter_of, owed, post
from tests.remittance.helpers import (
    ack_999,
    denied,
    make_batch,
    paid_in_full,
    partially_paid,
    remit_835,
    upload,
)


def _entries(db: Session, **where: str) -> list[LedgerEntry]:
    db.commit()
    query = select(LedgerEntry)
    for name, value in where.items():
        query = query.where(getattr(LedgerEntry, name) == value)
    return list(db.exec(query.order_by(col(LedgerEntry.at), col(LedgerEntry.id))))


def test_batching_charges_each_billed_encounter_its_total_once(
    client: TestClient, staff: Staff, db: Session
) -> None:
    batch = make_batch(client, staff.demo, db)

    charges = _entries(db, kind="charge")
    assert len(charges) == len(batch.claims) > 0
    by_claim = {c.claim_id: Decimal(c.insurance_amount) for c in charges}
    assert by_claim == {c.id: c.charge for c in batch.claims}
    claim = batch.claims[0]
    body = balance(client, staff, claim.patient_id)
    assert owed(body, encounter_of(db, claim.id)) == (claim.charge, Decimal(0))


def test_an_835_pays_adjusts_and_moves_the_patient_share_and_its_reversal_undoes_it(
    client: TestClient, staff: Staff, db: Session
) -> None:
    batch = make_batch(client, staff.demo, db)
    upload(client, staff.demo, ack_999(batch))
    claim, *_, largest = sorted(batch.claims, key=lambda c: c.charge)
    encounter = encounter_of(db, claim.id)
    upload(client, staff.demo, remit_835([partially_paid(claim)]))

    contractual = sum(
        (Decimal(line.charge) * Decimal("0.20")).quantize(Decimal("0.01")) for line in claim.lines
    )
    deductible = Decimal("10.00") * len(claim.lines)
    body = balance(client, staff, claim.patient_id)
    assert owed(body, encounter) == (Decimal(0), deductible)
    kinds = {e.kind: e for e in _entries(db, encounter_id=encounter)}
    assert Decimal(kinds["insurance_adjustment"].insurance_amount) == -contractual
    assert Decimal(kinds["transfer"].patient_amount) == deductible

    # A payment may not be negative: the reversal rides along with another claim's payment.
    reversal = [partially_paid(claim, status="22"), paid_in_full(largest)]
    upload(client, staff.demo, remit_835(reversal, trace="EFT1002", control=7202))

    body = balance(client, staff, claim.patient_id)
    assert owed(body, encounter) == (claim.charge, Decimal(0))
    reversals = _entries(db, kind="reversal")
    assert len(reversals) == 3  # the payment, the contractual adjustment, the transfer
    assert all(e.reverses_entry_id for e in reversals)


def test_a_denied_amount_stays_owed_by_the_payer(
    client: TestClient, staff: Staff, db: Session
) -> None:
    batch = make_batch(client, staff.demo, db)
    upload(client, staff.demo, ack_999(batch))
    claim = batch.claims[0]
    upload(client, staff.demo, remit_835([denied(claim)]))

    body = balance(client, staff, claim.patient_id)
    assert owed(body, encounter_of(db, claim.id)) == (claim.charge, Decimal(0))


def test_a_payment_over_the_balance_becomes_credit_and_only_credit_is_refunded(
    client: TestClient, staff: Staff, db: Session
) -> None:
    batch = make_batch(client, staff.demo, db)
    upload(client, staff.demo, ack_999(batch))
    claim = batch.claims[0]
    encounter = encounter_of(db, claim.id)
    upload(client, staff.demo, remit_835([partially_paid(claim)]))
    deductible = Decimal("10.00") * len(claim.lines)

    paid = post(
        client,
        staff,
        "patient-payments",
        {
            "patient_id": claim.patient_id,
            "encounter_id": encounter,
            "amount": str(deductible + 25),
            "method": "check",
            "reference": "1042",
        },
        role="front_desk",
    )

    assert paid.status_code == 201, paid.text
    body = paid.json()["balance"]
    assert owed(body, encounter) == (Decimal(0), Decimal(0))
    assert Decimal(body["credit"]) == 25
    assert Decimal(body["total"]) == -25
    refused = post(
        client,
        staff,
        "refunds",
        {"patient_id": claim.patient_id, "amount": "25.01", "method": "check"},
    )
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("refund-over-credit")
    refunded = post(
        client,
        staff,
        "refunds",
        {"patient_id": claim.patient_id, "amount": "25.00", "method": "check"},
    )
    assert refunded.status_code == 201, refunded.text
    assert Decimal(refunded.json()["balance"]["total"]) == 0


def test_write_offs_need_a_reason_a_biller_and_no_more_than_is_owed(
    client: TestClient, staff: Staff, db: Session
) -> None:
    batch = make_batch(client, staff.demo, db)
    upload(client, staff.demo, ack_999(batch))
    claim = batch.claims[0]
    encounter = encounter_of(db, claim.id)
    upload(client, staff.demo, remit_835([partially_paid(claim)]))
    body = {
        "patient_id": claim.patient_id,
        "encounter_id": encounter,
        "amount": "5.00",
        "reason": "small_balance",
        "side": "patient",
    }
    before = len(_entries(db))

    assert post(client, staff, "write-offs", body, role="front_desk").status_code == 403
    assert post(client, staff, "write-offs", {**body, "reason": None}).status_code == 422
    assert post(client, staff, "write-offs", {**body, "reason": "whim"}).status_code == 422
    over = post(client, staff, "write-offs", {**body, "amount": "9999.00"})
    assert over.status_code == 422
    assert over.json()["type"].endswith("amount-over-balance")
    assert len(_entries(db)) == before  # nothing half-written

    done = post(client, staff, "write-offs", body)
    assert done.status_code == 201, done.text
    entry = done.json()["entries"][0]
    assert (entry["kind"], entry["reason"], Decimal(entry["patient_amount"])) == (
        "write_off",
        "small_balance",
        Decimal("-5.00"),
    )


def test_a_reversal_undoes_a_payment_once_and_charges_are_not_reversed_by_hand(
    client: TestClient, staff: Staff, db: Session
) -> None:
    batch = make_batch(client, staff.demo, db)
    claim = batch.claims[0]
    paid = post(
        client,
        staff,
        "patient-payments",
        {"patient_id": claim.patient_id, "amount": "40.00", "method": "cash"},
        role="front_desk",
    )
    entry_id = paid.json()["entries"][0]["id"]

    assert post(client, staff, f"ledger-entries/{entry_id}/reversal", {}).status_code == 422
    assert (
        post(client, staff, f"ledger-entries/{entry_id}/reversal", {"note": "x"}, role="front_desk")
    ).status_code == 403
    undone = post(client, staff, f"ledger-entries/{entry_id}/reversal", {"note": "check bounced"})
    assert undone.status_code == 201, undone.text
    assert Decimal(undone.json()["balance"]["credit"]) == 0
    again = post(client, staff, f"ledger-entries/{entry_id}/reversal", {"note": "again"})
    assert again.status_code == 409
    charge = _entries(db, kind="charge")[0]
    refused = post(client, staff, f"ledger-entries/{charge.id}/reversal", {"note": "no"})
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("entry-not-reversible")


def test_a_copay_taken_before_billing_is_credit_applied_once_the_patient_owes(
    client: TestClient, staff: Staff, db: Session
) -> None:
    batch = make_batch(client, staff.demo, db)
    upload(client, staff.demo, ack_999(batch))
    claim = batch.claims[0]
    encounter = encounter_of(db, claim.id)
    copay = post(
        client,
        staff,
        "patient-payments",
        {
            "patient_id": claim.patient_id,
            "encounter_id": encounter,
            "amount": "15.00",
            "method": "card",
        },
        role="front_desk",
    )
    assert Decimal(copay.json()["balance"]["credit"]) == 15  # nothing owed by the patient yet
    upload(client, staff.demo, remit_835([partially_paid(claim)]))

    applied = post(
        client,
        staff,
        "credit-applications",
        {"patient_id": claim.patient_id, "encounter_id": encounter},
        role="front_desk",
    )

    assert applied.status_code == 201, applied.text
    body = applied.json()["balance"]
    assert Decimal(body["credit"]) == 0
    assert owed(body, encounter)[1] == Decimal("10.00") * len(claim.lines) - 15


def test_a_transfer_moves_what_insurance_owes_to_the_patient(
    client: TestClient, staff: Staff, db: Session
) -> None:
    batch = make_batch(client, staff.demo, db)
    claim = batch.claims[0]
    encounter = encounter_of(db, claim.id)

    moved = post(
        client,
        staff,
        "transfers",
        {"encounter_id": encounter, "amount": "30.00", "to": "patient", "note": "not covered"},
    )

    assert moved.status_code == 201, moved.text
    assert owed(moved.json()["balance"], encounter) == (claim.charge - 30, Decimal(30))
    too_much = post(
        client,
        staff,
        "transfers",
        {"encounter_id": encounter, "amount": "31.00", "to": "insurance"},
    )
    assert too_much.status_code == 422


def test_the_paid_in_full_claim_leaves_nothing_owed(
    client: TestClient, staff: Staff, db: Session
) -> None:
    batch = make_batch(client, staff.demo, db)
    upload(client, staff.demo, ack_999(batch))
    claim = batch.claims[0]
    upload(client, staff.demo, remit_835([paid_in_full(claim)]))

    assert owed(balance(client, staff, claim.patient_id), encounter_of(db, claim.id)) == (
        Decimal(0),
        Decimal(0),
    )


def test_the_ledger_lists_entries_and_its_read_is_audited(
    client: TestClient, staff: Staff, db: Session
) -> None:
    batch = make_batch(client, staff.demo, db)
    claim = batch.claims[0]

    response = client.get(
        f"/api/v1/patients/{claim.patient_id}/ledger", headers=staff.headers("front_desk")
    )

    assert response.status_code == 200
    assert [e["kind"] for e in response.json()["entries"]] == ["charge"]
    assert (
        client.get(
            f"/api/v1/patients/{claim.patient_id}/ledger", headers=staff.headers("coder")
        ).status_code
        == 403
    )
