"""Issue 16's leftovers: a code the fee schedule marks as a drug needs its NDC to Medicaid like
a J-code, and a replacement or void can be cancelled so that another one can be made."""

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.audit.models import AuditEvent
from service.claims.models import Claim
from service.coding.models import Encounter
from service.directory.models import Payer
from service.patients.models import Coverage
from tests.claims.conftest import Demo
from tests.claims.test_payer_clean import _claim_of, _code, _demo_paid, _recode
from tests.remittance.helpers import make_batch


def _medicaid_claim(
    client: TestClient, demo_org: Demo, db: Session, lines: list[dict[str, Any]]
) -> dict[str, Any]:
    """Walter's encounter (D-1003) re-coded with `lines` and claimed to his Medicaid plan."""
    walter = _claim_of(db, "D-1003")
    encounter = db.get(Encounter, walter.encounter_id)
    assert encounter is not None
    medicaid = db.exec(select(Payer).where(Payer.claim_filing_indicator == "MC")).one()
    coverage = db.exec(
        select(Coverage).where(
            Coverage.patient_id == walter.patient_id, Coverage.payer_id == medicaid.id
        )
    ).one()
    coded = _code(client, demo_org, encounter.id, {"diagnoses": ["E11.9"], "service_lines": lines})
    assert coded.status_code == 200, coded.text
    client.post(
        f"/api/v1/encounters/{encounter.id}/status",
        json={"status": "ready"},
        headers=demo_org.headers(),
    )
    db.commit()  # a fresh snapshot: see what the requests committed
    built_before = db.exec(
        select(Claim).where(Claim.encounter_id == encounter.id, Claim.coverage_id == coverage.id)
    ).first()
    if built_before is None:
        built = client.post(
            "/api/v1/claims",
            json={"encounter_id": encounter.id, "coverage_id": coverage.id},
            headers=demo_org.headers(),
        )
        assert built.status_code == 201, built.text
    else:  # the encounter was re-coded: the claim takes its current coding
        built = client.post(f"/api/v1/claims/{built_before.id}/rebuild", headers=demo_org.headers())
        assert built.status_code == 200, built.text
    body: dict[str, Any] = built.json()
    return body


def _ndc_missing(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in body["findings"] if f["code"] == "ndc-missing"]


def test_a_code_the_fee_schedule_marks_as_a_drug_needs_its_ndc_to_medicaid(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    # A default schedule (every payer): the fee comes from it, the drug flag too.
    schedule = client.post(
        "/api/v1/fee-schedules",
        json={
            "name": "Injectables",
            "effective_from": "2020-01-01",
            "items": [
                {"code_system": "HCPCS", "code": "Q5101", "charge": "50.00", "drug": True},
                {"code_system": "HCPCS", "code": "Q0091", "charge": "30.00"},
            ],
        },
        headers=demo_org.headers(),
    )
    assert schedule.status_code == 201, schedule.text
    assert schedule.json()["items"][0]["drug"] is True
    drug = {"code_system": "HCPCS", "code": "Q5101", "pointers": [1]}
    (finding,) = _ndc_missing(_medicaid_claim(client, demo_org, db, [drug]))
    assert (finding["severity"], finding["field"]) == ("error", "/lines/0/ndc")
    assert "fee schedule" in finding["message"]
    with_ndc = {**drug, "ndc": "63459-0305-01", "ndc_unit": "UN", "ndc_quantity": "1"}
    assert not _ndc_missing(_medicaid_claim(client, demo_org, db, [with_ndc]))
    # A code the schedule does not mark is not a drug (and not a J-code).
    other = {"code_system": "HCPCS", "code": "Q0091", "pointers": [1]}
    assert not _ndc_missing(_medicaid_claim(client, demo_org, db, [other]))


def test_a_cancelled_replacement_makes_room_for_another(
    client: TestClient, app: FastAPI, demo_org: Demo, db: Session, tmp_path: Path
) -> None:
    _demo_paid(client, app, demo_org, db, tmp_path)
    original = _claim_of(db, "D-1004")
    headers = demo_org.headers()
    _recode(client, demo_org, original.encounter_id)
    first = client.post(f"/api/v1/claims/{original.id}/replacement", headers=headers)
    assert first.status_code == 201, first.text
    first_id = first.json()["id"]
    assert client.post(f"/api/v1/claims/{original.id}/void", headers=headers).status_code == 409

    refused = client.post(f"/api/v1/claims/{original.id}/cancellation", headers=headers)
    assert refused.status_code == 409  # an original claim is not cancelled
    assert refused.json()["type"].endswith("claim-not-a-correction")

    cancelled = client.post(f"/api/v1/claims/{first_id}/cancellation", headers=headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    read = client.get(f"/api/v1/claims/{original.id}", headers=headers).json()
    assert read["replaced_by_claim_id"] is None
    fhir = client.get(f"/fhir/Claim/{first_id}", headers=headers).json()
    assert fhir["status"] == "cancelled"
    assert read["status"] == original.status  # untouched
    db.commit()  # a fresh snapshot: see what the requests committed
    assert db.exec(
        select(AuditEvent).where(
            AuditEvent.resource_id == first_id,
            AuditEvent.detail.contains("cancelled"),  # type: ignore[attr-defined]
        )
    ).first()

    second = client.post(f"/api/v1/claims/{original.id}/replacement", headers=headers)
    assert second.status_code == 201, second.text
    second_id = second.json()["id"]
    assert second.json()["status"] == "ready", second.json()["findings"]
    assert (
        client.get(f"/api/v1/claims/{original.id}", headers=headers).json()["replaced_by_claim_id"]
        == second_id
    )
    # Batched, it is no longer cancelled on its own (cancel the batch first); the cancelled
    # one stays out of every batch.
    batch = make_batch(client, demo_org, db)
    again = client.post(f"/api/v1/claims/{second_id}/cancellation", headers=headers)
    assert again.status_code == 409
    db.commit()
    assert db.get(Claim, first_id).status == "cancelled"  # type: ignore[union-attr]
    text = client.get(f"/api/v1/claim-batches/{batch.id}/file", headers=headers).text
    pcn = first.json()["patient_control_number"]
    assert f"CLM*{pcn}*" not in text
    assert f"CLM*{second.json()['patient_control_number']}*" in text
