"""Re-coding after a claim was built: untouched service lines keep their ids, a stale claim
never goes out (the scrubber refuses it at batching) and is rebuilt from the current coding,
and a billed encounter is reopened for correction only through its own audited verb."""

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.claims.models import Claim
from service.coding.models import Encounter
from service.directory.models import TradingPartner
from tests.claims.conftest import Demo


def _medical_claim(db: Session) -> Claim:
    """A professional claim whose encounter has at least two service lines."""
    for claim in db.exec(
        select(Claim).where(Claim.claim_type == "professional").order_by(col(Claim.id))
    ):
        encounter = db.get(Encounter, claim.encounter_id)
        assert encounter is not None
        if len(encounter.diagnoses) >= 1:
            return claim
    raise AssertionError("the demo has professional claims")


def _encounter(client: TestClient, demo: Demo, encounter_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/encounters/{encounter_id}", headers=demo.headers())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _line_in(line: dict[str, Any]) -> dict[str, Any]:
    keys = ("code_system", "code", "modifiers", "units", "charge", "service_date", "pointers")
    return {k: line[k] for k in keys}


def _recode(
    client: TestClient, demo: Demo, encounter_id: str, diagnoses: list[str], lines: list[Any]
) -> dict[str, Any]:
    response = client.put(
        f"/api/v1/encounters/{encounter_id}/coding",
        json={"diagnoses": diagnoses, "service_lines": lines},
        headers=demo.headers(),
    )
    assert response.status_code == 200, response.text
    ready = client.post(
        f"/api/v1/encounters/{encounter_id}/status",
        json={"status": "ready"},
        headers=demo.headers(),
    )
    assert ready.status_code == 200, ready.text
    body: dict[str, Any] = ready.json()
    return body


def _batch(client: TestClient, demo: Demo, db: Session, claim_ids: list[str]) -> Any:
    partner = db.exec(select(TradingPartner.id)).first()
    return client.post(
        "/api/v1/claim-batches",
        json={"trading_partner_id": partner, "claim_type": "professional", "claim_ids": claim_ids},
        headers=demo.headers(),
    )


def _extra_diagnosis(diagnoses: list[str]) -> str:
    return "I10" if "I10" not in diagnoses else "E78.5"


def test_recoding_one_diagnosis_keeps_every_service_line_id(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    claim = _medical_claim(db)
    before = _encounter(client, demo_org, claim.encounter_id)
    lines = before["service_lines"]
    assert len(lines) >= 2

    # A diagnosis added, and one line's charge corrected: the same rows, updated in place.
    changed = [_line_in(line) for line in lines]
    changed[-1]["charge"] = "99.00"
    after = _recode(
        client,
        demo_org,
        claim.encounter_id,
        [*before["diagnoses"], _extra_diagnosis(before["diagnoses"])],
        changed,
    )

    assert [line["id"] for line in after["service_lines"]] == [line["id"] for line in lines]
    assert after["service_lines"][-1]["charge"] == "99.00"
    assert len(after["diagnoses"]) == len(before["diagnoses"]) + 1


def test_a_removed_line_goes_and_a_new_line_comes_while_the_others_keep_their_ids(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    claim = _medical_claim(db)
    before = _encounter(client, demo_org, claim.encounter_id)
    lines = before["service_lines"]
    kept = [_line_in(line) for line in lines[:-1]]
    new = {"code_system": "CPT", "code": "36415", "charge": "12.00", "pointers": [1]}

    after = _recode(client, demo_org, claim.encounter_id, before["diagnoses"], [*kept, new])

    ids = [line["id"] for line in after["service_lines"]]
    assert ids[:-1] == [line["id"] for line in lines[:-1]]
    assert ids[-1] not in {line["id"] for line in lines}


def test_a_claim_built_before_its_encounter_was_recoded_is_refused_and_rebuilt(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    claim = _medical_claim(db)
    before = _encounter(client, demo_org, claim.encounter_id)
    new_diagnoses = [*before["diagnoses"], _extra_diagnosis(before["diagnoses"])]
    _recode(
        client,
        demo_org,
        claim.encounter_id,
        new_diagnoses,
        [_line_in(line) for line in before["service_lines"]],
    )

    other = db.exec(  # a ready one: the demo also holds Omar Haddad's claim as a draft
        select(Claim.id)
        .where(Claim.claim_type == "professional", Claim.id != claim.id, Claim.status == "ready")
        .order_by(col(Claim.id))
    ).first()
    assert other is not None

    batched = _batch(client, demo_org, db, [claim.id, other])
    assert batched.status_code == 201, batched.text
    assert batched.json()["claim_count"] == 1  # the stale claim stayed out
    stale = client.get(f"/api/v1/claims/{claim.id}", headers=demo_org.headers()).json()
    assert stale["status"] == "draft"
    assert "coding-stale" in {f["code"] for f in stale["findings"] if f["severity"] == "error"}

    rebuilt = client.post(f"/api/v1/claims/{claim.id}/rebuild", headers=demo_org.headers())
    assert rebuilt.status_code == 200, rebuilt.text
    body = rebuilt.json()
    assert body["status"] == "ready"
    assert len(body["diagnoses"]) == len(new_diagnoses)
    assert "coding-stale" not in {f["code"] for f in body["findings"]}

    sent = _batch(client, demo_org, db, [claim.id])
    assert sent.status_code == 201, sent.text
    assert sent.json()["claim_count"] == 1


def test_a_batched_claim_is_not_rebuilt(client: TestClient, demo_org: Demo, db: Session) -> None:
    claim = _medical_claim(db)
    assert _batch(client, demo_org, db, [claim.id]).status_code == 201

    response = client.post(f"/api/v1/claims/{claim.id}/rebuild", headers=demo_org.headers())

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


def test_a_billed_encounter_is_reopened_with_a_reason_that_lands_in_the_audit_trail(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    claim = _medical_claim(db)
    assert _batch(client, demo_org, db, [claim.id]).status_code == 201
    db.commit()  # a fresh snapshot
    billed = db.get(Encounter, claim.encounter_id)
    assert billed is not None
    assert billed.status == "billed"

    reopened = client.post(
        f"/api/v1/encounters/{claim.encounter_id}/reopen",
        json={"reason": "payer asked for the 5th digit on the diabetes code"},
        headers=demo_org.headers(),
    )

    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["status"] == "coded"
    db.commit()
    event = db.exec(
        select(AuditEvent)
        .where(
            AuditEvent.resource_id == claim.encounter_id, AuditEvent.resource_type == "encounter"
        )
        .order_by(col(AuditEvent.id).desc())
    ).first()
    assert event is not None
    assert "billed -> coded (reopened for correction): payer asked for the 5th" in event.detail
    again = client.post(
        f"/api/v1/encounters/{claim.encounter_id}/reopen",
        json={"reason": "twice"},
        headers=demo_org.headers(),
    )
    assert again.status_code == 409  # coded now: open to coding already


def test_a_reopen_needs_a_reason(client: TestClient, demo_org: Demo, db: Session) -> None:
    claim = _medical_claim(db)

    response = client.post(
        f"/api/v1/encounters/{claim.encounter_id}/reopen",
        json={"reason": ""},
        headers=demo_org.headers(),
    )

    assert response.status_code == 422


def test_moving_the_date_of_service_makes_the_claim_stale_too(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    claim = _medical_claim(db)
    day = date.fromisoformat(_encounter(client, demo_org, claim.encounter_id)["date_of_service"])
    patched = client.patch(
        f"/api/v1/encounters/{claim.encounter_id}",
        json={"date_of_service": (day - timedelta(days=1)).isoformat()},
        headers={**demo_org.headers(), "Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200, patched.text

    scrubbed = client.post(f"/api/v1/claims/{claim.id}/scrub", headers=demo_org.headers())

    assert scrubbed.status_code == 200
    assert "coding-stale" in {f["code"] for f in scrubbed.json()["findings"]}
