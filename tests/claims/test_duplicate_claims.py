"""Duplicate claims across encounters (issue 17): the same patient, date, code, modifiers and
rendering provider on a second encounter's claim is an error unless the line carries a repeat
modifier or the clerk acknowledges it (audited); one encounter's claims, a replacement and the
claim it replaces, are never duplicates of each other."""

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.claims.models import Claim
from service.coding.logic import lines_of
from service.coding.models import Encounter
from tests.claims.conftest import Demo
from tests.claims.test_payer_clean import _claim_of, _demo_paid, _patient


def _second_visit(
    client: TestClient, demo_org: Demo, db: Session, lines: list[dict[str, Any]]
) -> dict[str, Any]:
    """Another encounter for Siobhan (D-1004) on the date of her demo visit, coded with
    `lines`, made ready and claimed: the claim's JSON."""
    first = _demo_visit(db)
    headers = demo_org.headers()
    created = client.post(
        "/api/v1/encounters",
        json={
            "patient_id": first.patient_id,
            "date_of_service": first.date_of_service.isoformat(),
            "place_of_service": first.place_of_service,
            "kind": "medical",
            "billing_provider_id": first.billing_provider_id,
            "rendering_provider_id": first.rendering_provider_id,
            "facility_id": first.facility_id,
            "coverage_ids": first.coverage_ids,
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    encounter_id = created.json()["id"]
    coded = client.put(
        f"/api/v1/encounters/{encounter_id}/coding",
        json={"diagnoses": list(first.diagnoses), "service_lines": lines},
        headers=headers,
    )
    assert coded.status_code == 200, coded.text
    ready = client.post(
        f"/api/v1/encounters/{encounter_id}/status", json={"status": "ready"}, headers=headers
    )
    assert ready.status_code == 200, ready.text
    claim = client.post("/api/v1/claims", json={"encounter_id": encounter_id}, headers=headers)
    assert claim.status_code == 201, claim.text
    body: dict[str, Any] = claim.json()
    return body


def _demo_visit(db: Session) -> Encounter:
    """Siobhan's demo encounter (the first of her medical encounters)."""
    return db.exec(
        select(Encounter)
        .where(Encounter.patient_id == _patient(db, "D-1004").id, Encounter.kind == "medical")
        .order_by(col(Encounter.created_at), col(Encounter.id))
    ).first()  # type: ignore[return-value]


def _first_line(db: Session) -> dict[str, Any]:
    """The demo claim's first line, as a coding line (code, modifiers, pointers)."""
    line = lines_of(db, _demo_visit(db).id)[0]
    return {
        "code_system": line.code_system,
        "code": line.code,
        "modifiers": list(line.modifiers),
        "pointers": [1],
    }


def _duplicates(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in body["findings"] if f["code"] == "duplicate-claim"]


def test_the_same_service_on_a_second_encounter_is_a_duplicate_claim(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    original = _claim_of(db, "D-1004")
    body = _second_visit(client, demo_org, db, [_first_line(db)])
    (finding,) = _duplicates(body)
    assert finding["severity"] == "error"
    assert finding["field"] == "/lines/0/code"
    assert original.patient_control_number in finding["message"]
    assert body["status"] == "draft"
    # The first claim is not the duplicate: scrubbed again, it stays clean.
    again = client.post(f"/api/v1/claims/{original.id}/scrub", headers=demo_org.headers()).json()
    assert not _duplicates(again)
    assert again["status"] == "ready"


def test_another_code_is_no_duplicate(client: TestClient, demo_org: Demo, db: Session) -> None:
    line = _first_line(db)
    other_code = {**line, "code": "99214" if line["code"] != "99214" else "99213"}
    assert not _duplicates(_second_visit(client, demo_org, db, [other_code]))


def test_a_repeat_modifier_is_not_a_duplicate(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    # Two more visits with the same code, both marked as a repeat by the same physician (76):
    # same code and modifiers, yet a second service on purpose.
    repeat = {**_first_line(db), "modifiers": ["76"]}
    first = _second_visit(client, demo_org, db, [repeat])
    second = _second_visit(client, demo_org, db, [repeat])
    assert not _duplicates(first)
    assert not _duplicates(second), second["findings"]


def test_an_acknowledged_line_is_no_duplicate_and_the_acknowledgement_is_audited(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    original = _claim_of(db, "D-1004")
    line = {**_first_line(db), "duplicate_acknowledged": True}
    body = _second_visit(client, demo_org, db, [line])
    assert not _duplicates(body), body["findings"]
    assert body["lines"][0]["duplicate_acknowledged"] is True
    db.commit()  # a fresh snapshot: see what the requests committed
    events = db.exec(
        select(AuditEvent).where(
            AuditEvent.action == "acknowledge-duplicate",
            AuditEvent.resource_id == body["encounter_id"],
        )
    ).all()
    assert len(events) == 1
    assert line["code"] in events[0].detail
    # And the first claim is not refused for the acknowledged one either.
    again = client.post(f"/api/v1/claims/{original.id}/scrub", headers=demo_org.headers()).json()
    assert not _duplicates(again)


def test_a_replacement_with_the_same_lines_is_not_a_duplicate_of_its_original(
    client: TestClient, app: FastAPI, demo_org: Demo, db: Session, tmp_path: Path
) -> None:
    _demo_paid(client, app, demo_org, db, tmp_path)
    original = _claim_of(db, "D-1004")
    headers = demo_org.headers()
    line = _first_line(db)
    encounter_id = original.encounter_id
    assert (
        client.post(
            f"/api/v1/encounters/{encounter_id}/reopen",
            json={"reason": "add the line note the payer asked for"},
            headers=headers,
        ).status_code
        == 200
    )
    recoded = client.put(
        f"/api/v1/encounters/{encounter_id}/coding",
        json={
            "diagnoses": list(original.diagnoses),
            "service_lines": [{**line, "note": "seen twice the same day"}],
        },
        headers=headers,
    )
    assert recoded.status_code == 200, recoded.text
    assert (
        client.post(
            f"/api/v1/encounters/{encounter_id}/status", json={"status": "ready"}, headers=headers
        ).status_code
        == 200
    )
    replacement = client.post(f"/api/v1/claims/{original.id}/replacement", headers=headers)
    assert replacement.status_code == 201, replacement.text
    body = replacement.json()
    assert [ln["code"] for ln in body["lines"]] == [line["code"]]
    assert not _duplicates(body)
    assert body["status"] == "ready", body["findings"]
    # A secondary claim of one encounter bills the same lines as its primary: never flagged.
    secondaries = db.exec(
        select(Claim).where(col(Claim.payer_responsibility) != "P", Claim.status == "ready")
    ).all()
    for claim in secondaries:
        scrubbed = client.post(f"/api/v1/claims/{claim.id}/scrub", headers=headers).json()
        assert not _duplicates(scrubbed)
