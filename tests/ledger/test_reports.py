"""A/R, aging, the payments journal and the month-end, all from the ledger, and how they agree
with each other and with the remittance aging."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlmodel import Session

from service import org_clock
from service.auth.logic import Principal
from service.db import SessionFactory
from service.ledger import logic, reports
from service.remittance import export
from tests.ledger.conftest import Staff
from tests.ledger.helpers import encounter_of, post
from tests.remittance.helpers import (
    ack_999,
    denied,
    make_batch,
    paid_in_full,
    partially_paid,
    remit_835,
    upload,
)


def _report(client: TestClient, staff: Staff, path: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/{path}", params=params, headers=staff.headers("biller"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _total(table: dict[str, Any], column: str = "total") -> Decimal:
    return Decimal(table["totals"][column])


def _today(db: Session, staff: Staff) -> date:
    return org_clock.local_date(db, staff.demo.organization_id, datetime.now(UTC))


def _month_end(client: TestClient, staff: Staff, month: str) -> dict[str, Decimal]:
    body = _report(client, staff, "ledger-reports/month-end", month=month)
    return {row["line"]: Decimal(row["amount"]) for row in body["rows"]}


def _worked_month(client: TestClient, staff: Staff, db: Session) -> list[Any]:
    """Charges, an 835 (paid, partly paid, denied) and its reversal, a patient payment, a
    reversed payment, a write-off and a refund."""
    batch = make_batch(client, staff.demo, db)
    upload(client, staff.demo, ack_999(batch))
    first, second, third, *_, largest = sorted(batch.claims, key=lambda c: c.charge)
    upload(
        client, staff.demo, remit_835([partially_paid(first), paid_in_full(second), denied(third)])
    )
    reversal = [paid_in_full(second, status="22"), paid_in_full(largest)]
    upload(client, staff.demo, remit_835(reversal, trace="EFT1002", control=7202))
    encounter = encounter_of(db, first.id)
    paid = post(
        client,
        staff,
        "patient-payments",
        {
            "patient_id": first.patient_id,
            "encounter_id": encounter,
            "amount": "50.00",
            "method": "check",
            "reference": "2001",
        },
        role="front_desk",
    )
    assert paid.status_code == 201, paid.text
    bounced = post(
        client,
        staff,
        "patient-payments",
        {"patient_id": third.patient_id, "amount": "12.00", "method": "check"},
        role="front_desk",
    )
    reversed_ = post(
        client,
        staff,
        f"ledger-entries/{bounced.json()['entries'][0]['id']}/reversal",
        {"note": "check returned"},
    )
    assert reversed_.status_code == 201, reversed_.text
    written = post(
        client,
        staff,
        "write-offs",
        {
            "patient_id": third.patient_id,
            "encounter_id": encounter_of(db, third.id),
            "amount": "3.00",
            "reason": "small_balance",
            "side": "insurance",
        },
    )
    assert written.status_code == 201, written.text
    refund = post(
        client,
        staff,
        "refunds",
        {"patient_id": first.patient_id, "amount": "5.00", "method": "check"},
    )
    assert refund.status_code == 201, refund.text
    return [first, second, third, largest]


def test_the_month_end_adds_up_and_its_end_is_the_ledger_aging_total(
    client: TestClient, staff: Staff, db: Session, session_factory: SessionFactory
) -> None:
    first, _, third, _ = _worked_month(client, staff, db)
    today = _today(db, staff)
    # Next month: a payment and a write-off dated then (logic takes the clock it is given).
    later = datetime.now(UTC) + timedelta(days=35)
    actor = Principal(
        staff.user_ids["biller"], staff.demo.organization_id, frozenset({"biller"}), "test"
    )
    encounter, denied_encounter = encounter_of(db, first.id), encounter_of(db, third.id)
    db.commit()
    with session_factory() as session:
        session.connection(execution_options={"sqlite_immediate": True})  # a writer
        logic.take_payment(
            session,
            actor,
            patient_id=first.patient_id,
            amount=Decimal("7.00"),
            method="card",
            reference=None,
            encounter_id=encounter,
            note=None,
            at=later,
        )
        logic.reduce_balance(
            session,
            actor,
            "write_off",
            patient_id=third.patient_id,
            encounter_id=denied_encounter,
            amount=Decimal("1.00"),
            reason="small_balance",
            side="insurance",
            note=None,
            at=later,
        )
        session.commit()

    this = _month_end(client, staff, f"{today:%Y-%m}")
    following = _month_end(client, staff, f"{later.date():%Y-%m}")

    for month in (this, following):
        assert month["difference"] == 0
        assert (
            month["ar_start"] + month["charges"] - month["payments"] - (month["adjustments_total"])
            == month["ar_end"]
        )
    assert this["charges"] > 0
    assert this["refunds"] == Decimal("5.00")
    assert following["ar_start"] == this["ar_end"]
    assert following["payments"] == Decimal("7.00")
    assert following["write_offs"] == Decimal("1.00")
    last_day = (today.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    aging = [
        _report(client, staff, "ledger-reports/aging", by=by, as_of=last_day.isoformat())
        for by in ("payer", "patient")
    ]
    assert _total(aging[0]) + _total(aging[1]) == this["ar_end"]
    # The totals alone (the billing desk's chart) equal the full report's totals row.
    with session_factory() as session:
        for by, table in zip(("payer", "patient"), aging, strict=True):
            summed = reports.aging_totals(
                session, staff.demo.organization_id, by=by, as_of=last_day
            )
            assert summed is not None
            assert summed == {column: Decimal(table["totals"][column]) for column in summed}
    receivables = _report(
        client, staff, "ledger-reports/receivables", by="patient", as_of=last_day.isoformat()
    )
    assert _total(receivables) == this["ar_end"]
    by_encounter = _report(
        client, staff, "ledger-reports/receivables", by="encounter", as_of=last_day.isoformat()
    )
    assert _total(by_encounter) - _total(receivables, "credit") == this["ar_end"]


def test_the_ledger_aging_equals_the_remittance_aging_for_insurance_work(
    client: TestClient, staff: Staff, db: Session
) -> None:
    """Only billing and 835s (no patient money, which the remittance aging does not see)."""
    batch = make_batch(client, staff.demo, db)
    upload(client, staff.demo, ack_999(batch))
    first, second, third, *_, largest = sorted(batch.claims, key=lambda c: c.charge)
    upload(
        client, staff.demo, remit_835([partially_paid(first), paid_in_full(second), denied(third)])
    )
    reversal = [paid_in_full(second, status="22"), partially_paid(largest)]
    upload(client, staff.demo, remit_835(reversal, trace="EFT1002", control=7202))
    as_of = _today(db, staff).isoformat()

    for by in ("payer", "patient"):
        ledger = _report(client, staff, "ledger-reports/aging", by=by, as_of=as_of)
        remittance = _report(client, staff, "remittance-reports/aging", by=by, as_of=as_of)
        assert _total(ledger) == _total(remittance), by
        assert {r[f"{by}_id"]: r["total"] for r in ledger["rows"]} == {
            r[f"{by}_id"]: r["total"] for r in remittance["rows"]
        }


def test_the_payments_journal_lists_deposits_and_days_in_csv_and_xlsx(
    client: TestClient, staff: Staff, db: Session
) -> None:
    _worked_month(client, staff, db)

    by_deposit = _report(client, staff, "ledger-reports/journal", group="deposit")
    by_day = _report(client, staff, "ledger-reports/journal", group="day")

    deposits = {r["deposit"]: r for r in by_deposit["rows"]}
    assert {"EFT1001", "EFT1002"} <= set(deposits)
    assert _total(by_deposit, "net") == _total(by_day, "net")
    checks = next(r for r in by_deposit["rows"] if r["payer_or_method"] == "check")
    # 50 + 12 received, 12 taken back by the reversal, 5 refunded.
    assert (Decimal(checks["received"]), Decimal(checks["refunded"])) == (Decimal(50), Decimal(5))
    response = client.get(
        "/api/v1/ledger-reports/journal", params={"format": "csv"}, headers=staff.headers("auditor")
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][0] == "deposit"
    assert rows[-1][0] == "TOTAL"
    sheet = client.get(
        "/api/v1/ledger-reports/month-end",
        params={"month": f"{_today(db, staff):%Y-%m}", "format": "xlsx"},
        headers=staff.headers(),
    )
    assert sheet.status_code == 200
    book = load_workbook(io.BytesIO(sheet.content))
    cells = list(book.active.iter_rows(min_row=export.HEADER_ROW, values_only=True))
    assert cells[0] == ("line", "description", "amount")
    assert cells[-1][0] == "difference"
    assert cells[-1][2] == 0
    for month in ("2026-13", "0000-01", "2026-1"):
        refused = client.get(
            "/api/v1/ledger-reports/month-end", params={"month": month}, headers=staff.headers()
        )
        assert refused.status_code == 422, month
    assert (
        client.get(
            "/api/v1/ledger-reports/journal", headers=staff.headers("front_desk")
        ).status_code
        == 403
    )
