"""Encounter coding through the API: edits, statuses, charges, audit."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.audit.models import AuditEvent
from service.coding import logic
from service.coding.models import Encounter
from tests.factories import (
    Practice,
    Tenant,
    encounter_payload,
    fee_schedule_payload,
    import_fixture_codes,
    make_practice,
)


@pytest.fixture
def practice(db: Session, tenant: Tenant) -> Practice:
    import_fixture_codes(db)
    return make_practice(db, tenant)


def _open(client: TestClient, tenant: Tenant, practice: Practice, **overrides: Any) -> str:
    response = client.post(
        "/api/v1/encounters",
        json=encounter_payload(practice, **overrides),
        headers=tenant.headers("coder"),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _code(
    client: TestClient,
    tenant: Tenant,
    encounter_id: str,
    diagnoses: list[str],
    lines: list[dict[str, Any]],
) -> dict[str, Any]:
    response = client.put(
        f"/api/v1/encounters/{encounter_id}/coding",
        json={"diagnoses": diagnoses, "service_lines": lines},
        headers=tenant.headers("coder"),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _ready(client: TestClient, tenant: Tenant, encounter_id: str) -> Any:
    return client.post(
        f"/api/v1/encounters/{encounter_id}/status",
        json={"status": "ready"},
        headers=tenant.headers("coder"),
    )


OFFICE_VISIT = {"code_system": "CPT", "code": "99213", "charge": "125.00", "pointers": [1]}


def _errors(body: dict[str, Any]) -> dict[str, str]:
    return {f["code"]: f["field"] for f in body["findings"] if f["severity"] == "error"}


def test_e11_9_with_an_office_visit_moves_to_ready(
    client: TestClient, tenant: Tenant, practice: Practice
) -> None:
    encounter_id = _open(client, tenant, practice)
    body = _code(client, tenant, encounter_id, ["e11.9"], [OFFICE_VISIT])
    assert body["status"] == "coded"
    assert body["diagnoses"] == ["E11.9"]
    assert _errors(body) == {}
    assert body["total_charge"] == "125.00"
    ready = _ready(client, tenant, encounter_id)
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"


def test_a_header_code_is_an_error_listing_its_billable_children(
    client: TestClient, tenant: Tenant, practice: Practice
) -> None:
    encounter_id = _open(client, tenant, practice)
    body = _code(client, tenant, encounter_id, ["E11"], [OFFICE_VISIT])
    [finding] = [f for f in body["findings"] if f["code"] == "icd10cm-not-billable"]
    assert finding["field"] == "/diagnoses/0"
    assert "Billable codes below it include E11.00" in finding["message"]
    refused = _ready(client, tenant, encounter_id)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["pointer"] == "/diagnoses/0"


def test_a_pointer_to_nothing_keeps_the_encounter_from_ready(
    client: TestClient, tenant: Tenant, practice: Practice
) -> None:
    encounter_id = _open(client, tenant, practice)
    body = _code(client, tenant, encounter_id, ["E11.9"], [{**OFFICE_VISIT, "pointers": [2]}])
    assert _errors(body) == {"pointer-out-of-range": "/service_lines/0/pointers"}
    assert _ready(client, tenant, encounter_id).status_code == 409


def test_a_code_new_in_fy2027_is_refused_before_october_2026(
    client: TestClient, tenant: Tenant, practice: Practice
) -> None:
    before = _open(client, tenant, practice, date_of_service="2026-09-30")
    after = _open(client, tenant, practice, date_of_service="2026-10-01")
    new_code = "C78.31"  # added by the FY2027 addenda
    assert "icd10cm-unknown-code" in _errors(
        _code(client, tenant, before, [new_code], [OFFICE_VISIT])
    )
    assert _errors(_code(client, tenant, after, [new_code], [OFFICE_VISIT])) == {}


def test_excludes1_pairs_and_too_many_diagnoses_are_errors(
    client: TestClient, tenant: Tenant, practice: Practice
) -> None:
    encounter_id = _open(client, tenant, practice)
    body = _code(client, tenant, encounter_id, ["E11.9", "E10.9"], [OFFICE_VISIT])
    assert "icd10cm-excludes1" in _errors(body)
    many = [
        "I10",
        "E78.5",
        "J45.909",
        "K21.9",
        "M54.50",
        "R51.9",
        "F41.1",
        "N39.0",
        "E66.9",
        "G47.33",
        "R05.9",
        "Z79.4",
        "L97.419",
    ]
    assert "too-many-diagnoses" in _errors(
        _code(client, tenant, encounter_id, many, [OFFICE_VISIT])
    )


def test_dental_lines_need_teeth_and_surfaces_and_cdt_codes(
    client: TestClient, tenant: Tenant, practice: Practice
) -> None:
    encounter_id = _open(client, tenant, practice, kind="dental")
    resin = {"code_system": "CDT", "code": "D2391", "charge": "150.00"}
    body = _code(client, tenant, encounter_id, [], [resin, OFFICE_VISIT])
    errors = _errors(body)
    assert errors["dental-tooth-required"] == "/service_lines/0/tooth"
    assert errors["dental-surfaces-required"] == "/service_lines/0/surfaces"
    assert errors["line-code-system"] == "/service_lines/1/code_system"
    fixed = _code(
        client, tenant, encounter_id, ["K02.52"], [{**resin, "tooth": "30", "surfaces": "O"}]
    )
    assert _errors(fixed) == {}
    assert _ready(client, tenant, encounter_id).status_code == 200


def test_the_charge_comes_from_the_fee_schedule_unless_given(
    client: TestClient, tenant: Tenant, practice: Practice
) -> None:
    client.post("/api/v1/fee-schedules", json=fee_schedule_payload(), headers=tenant.headers())
    encounter_id = _open(client, tenant, practice)
    line = {"code_system": "CPT", "code": "85025", "pointers": [1]}
    body = _code(client, tenant, encounter_id, ["E11.9"], [line])
    assert body["service_lines"][0]["charge"] == "32.50"
    unpriced = client.put(
        f"/api/v1/encounters/{encounter_id}/coding",
        json={"diagnoses": ["E11.9"], "service_lines": [{**line, "code": "93000"}]},
        headers=tenant.headers("coder"),
    )
    assert unpriced.status_code == 422
    assert unpriced.json()["errors"][0]["pointer"] == "/service_lines/0/charge"


def test_unloaded_edit_tables_are_named_in_warnings_not_passed_silently(
    client: TestClient, tenant: Tenant, practice: Practice
) -> None:
    encounter_id = _open(client, tenant, practice)
    body = _code(client, tenant, encounter_id, ["E11.9"], [OFFICE_VISIT])
    warnings = {f["code"] for f in body["findings"] if f["severity"] == "warning"}
    assert {"ncci-ptp-not-loaded", "mue-not-loaded"} <= warnings


def test_coding_changes_are_audited_with_before_and_after(
    client: TestClient, tenant: Tenant, practice: Practice, db: Session
) -> None:
    encounter_id = _open(client, tenant, practice)
    _code(client, tenant, encounter_id, ["E11.9"], [OFFICE_VISIT])
    _code(
        client, tenant, encounter_id, ["E11.621", "L97.419"], [{**OFFICE_VISIT, "pointers": [1, 2]}]
    )
    db.commit()  # a fresh snapshot: see what the requests committed
    events = db.exec(
        select(AuditEvent).where(
            AuditEvent.resource_id == encounter_id, AuditEvent.action == "code"
        )
    ).all()
    assert len(events) == 2
    assert '"before": {"diagnoses": ["E11.9"]' in (events[1].changes or "")
    assert '"after": {"diagnoses": ["E11.621", "L97.419"]' in (events[1].changes or "")


def test_a_billed_encounter_is_locked(
    client: TestClient, tenant: Tenant, practice: Practice, db: Session
) -> None:
    encounter_id = _open(client, tenant, practice)
    _code(client, tenant, encounter_id, ["E11.9"], [OFFICE_VISIT])
    ready = client.post(
        f"/api/v1/encounters/{encounter_id}/status",
        json={"status": "ready"},
        headers=tenant.headers("coder"),
    )
    assert ready.status_code == 200, ready.text
    logic.mark_billed(db, [encounter_id])  # what batching its primary claim does
    db.commit()
    billed = db.get(Encounter, encounter_id)
    assert billed is not None
    assert billed.status == "billed"
    response = client.put(
        f"/api/v1/encounters/{encounter_id}/coding",
        json={"diagnoses": ["I10"], "service_lines": [OFFICE_VISIT]},
        headers=tenant.headers("coder"),
    )
    assert response.status_code == 409


def test_references_must_belong_to_the_organization(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, practice: Practice
) -> None:
    response = client.post(
        "/api/v1/encounters", json=encounter_payload(practice), headers=other_tenant.headers()
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/patient_id"


def test_an_ehr_retrying_an_encounter_with_its_idempotency_key_opens_one(
    client: TestClient, tenant: Tenant, practice: Practice, db: Session
) -> None:
    headers = {**tenant.headers("integration"), "Idempotency-Key": "visit-2026-11-28-001"}
    body = encounter_payload(practice)

    first = client.post("/api/v1/encounters", json=body, headers=headers)
    again = client.post("/api/v1/encounters", json=body, headers=headers)

    assert first.status_code == again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["etag"] == first.headers["etag"]
    db.commit()  # a fresh snapshot: see what the requests committed
    assert (
        len(
            db.exec(
                select(Encounter).where(Encounter.organization_id == tenant.organization_id)
            ).all()
        )
        == 1
    )
