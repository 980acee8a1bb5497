"""The denial work queue: items from posted 835s with CARC/RARC text, worked from open to
written off (a ledger entry), appealed, or closed by a reversal."""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from service.codesets.importers import import_file
from tests.ledger.conftest import Staff
from tests.ledger.helpers import balance, encounter_of, owed
from tests.remittance.helpers import (
    Batch,
    ack_999,
    denied,
    make_batch,
    paid_in_full,
    remit_835,
    upload,
)


def _codes(db: Session, tmp_path: Path) -> None:
    for system, text in (
        (
            "carc",
            "code,title\n50,These are non-covered services because this is not deemed "
            "a medical necessity by the payer.\n",
        ),
        ("rarc", "code,title\nN115,This decision was based on a Local Coverage Determination.\n"),
    ):
        path = tmp_path / f"{system}.csv"
        path.write_text(text, encoding="utf-8")
        import_file(db, system, path, version="2026", effective_from=date(2026, 1, 1))
    db.commit()


def _items(client: TestClient, staff: Staff, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/denials/items", params=params, headers=staff.headers("biller"))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _denied(client: TestClient, staff: Staff, db: Session) -> tuple[Batch, Any]:
    batch = make_batch(client, staff.demo, db)
    upload(client, staff.demo, ack_999(batch))
    claim = batch.claims[0]
    upload(client, staff.demo, remit_835([denied(claim)]))
    return batch, claim


def test_a_denied_claim_opens_an_item_per_line_with_the_reason_in_words(
    client: TestClient, staff: Staff, db: Session, tmp_path: Path
) -> None:
    _codes(db, tmp_path)
    _, claim = _denied(client, staff, db)

    items = _items(client, staff)

    assert len(items) == len(claim.lines)
    item = items[0]
    assert item["status"] == "open"
    assert item["claim_id"] == claim.id
    assert (item["group_code"], item["reason"]["code"]) == ("CO", "50")
    assert item["reason"]["text"].startswith("These are non-covered services")
    assert item["remark_codes"] == [
        {"code": "N115", "text": "This decision was based on a Local Coverage Determination."}
    ]
    assert item["patient_name"]
    assert item["payer_name"]
    assert item["age_days"] >= 0
    assert sum(Decimal(i["amount"]) for i in items) == claim.charge
    assert item["links"]["replacement"] == f"POST /api/v1/claims/{claim.id}/replacement"


def test_a_denial_is_worked_from_open_to_written_off_on_the_ledger(
    client: TestClient, staff: Staff, db: Session
) -> None:
    _, claim = _denied(client, staff, db)
    encounter = encounter_of(db, claim.id)
    item = _items(client, staff)[0]
    path = f"/api/v1/denials/items/{item['id']}"

    assigned = client.patch(
        path,
        json={
            "owner_id": staff.user_ids["biller"],
            "status": "in_progress",
            "follow_up_date": "2026-12-20",
            "note": "called the payer, no appeal rights",
        },
        headers=staff.headers("biller"),
    )
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["status"] == "in_progress"
    assert (
        client.post(f"{path}/write-off", json={}, headers=staff.headers("front_desk")).status_code
        == 403
    )
    written = client.post(
        f"{path}/write-off", json={"note": "not worth appealing"}, headers=staff.headers("biller")
    )

    assert written.status_code == 200, written.text
    body = written.json()
    assert body["status"] == "written_off"
    assert [e["action"] for e in body["history"]] == [
        "opened",
        "assigned",
        "follow_up",
        "status",
        "note",
        "written_off",
    ]
    insurance, _ = owed(balance(client, staff, claim.patient_id), encounter)
    assert insurance == claim.charge - Decimal(item["amount"])
    entry = client.get(
        f"/api/v1/ledger-entries/{body['write_off_entry_id']}", headers=staff.headers("biller")
    ).json()
    assert (entry["kind"], entry["reason"]) == ("write_off", "denial")
    assert Decimal(entry["insurance_amount"]) == -Decimal(item["amount"])
    again = client.patch(path, json={"status": "open"}, headers=staff.headers("biller"))
    assert again.status_code == 409
    assert _items(client, staff, status="written_off")[0]["id"] == item["id"]


def test_an_appeal_is_marked_and_a_reversal_of_the_835_closes_the_rest(
    client: TestClient, staff: Staff, db: Session
) -> None:
    batch, claim = _denied(client, staff, db)
    first, *others = _items(client, staff)
    appealed = client.post(
        f"/api/v1/denials/items/{first['id']}/appeal",
        json={"note": "records sent"},
        headers=staff.headers(),
    )
    assert appealed.json()["status"] == "appealed"

    largest = max(batch.claims, key=lambda c: c.charge)
    reversal = [replace(denied(claim), status="22"), paid_in_full(largest)]
    upload(client, staff.demo, remit_835(reversal, trace="EFT1002", control=7202))

    statuses = {i["id"]: i["status"] for i in _items(client, staff)}
    assert set(statuses.values()) == {"closed"}
    assert len(statuses) == 1 + len(others)


def test_bad_changes_are_refused(client: TestClient, staff: Staff, db: Session) -> None:
    _denied(client, staff, db)
    path = f"/api/v1/denials/items/{_items(client, staff)[0]['id']}"

    for body in ({"status": "written_off"}, {"owner_id": "nobody"}, {"colour": "red"}):
        response = client.patch(path, json=body, headers=staff.headers("biller"))
        assert response.status_code == 422, body
    assert client.get("/api/v1/denials/items/nope", headers=staff.headers()).status_code == 404
