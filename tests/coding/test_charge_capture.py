"""Charge capture: verified lab results add a service line to the order's encounter."""

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.audit.models import AuditEvent
from service.auth.roles import Role
from service.orders import logic as order_logic
from service.orders.schemas import LabOrderCreate
from service.specimens import logic as specimen_logic
from service.specimens.schemas import Receipt, SpecimenCreate
from tests.factories import (
    Tenant,
    encounter_payload,
    fee_schedule_payload,
    import_fixture_codes,
    make_lab_setup,
    make_practice,
    principal,
)

COLLECTED = datetime(2026, 10, 15, 14, 0, tzinfo=UTC)


def _verified_a1c(
    client: TestClient, tenant: Tenant, db: Session, patient_id: str, encounter_id: str | None
) -> Any:
    """An HbA1c ordered for the encounter's patient, collected, resulted and verified."""
    setup = make_lab_setup(db, tenant, mrn="LAB-CC")
    order = order_logic.place_order(
        db,
        principal(tenant, Role.FRONT_DESK),
        LabOrderCreate(
            patient_id=patient_id,
            ordering_provider_id=setup.provider_id,
            test_ids=[setup.tests["A1C"]],
            reason_codes=["E11.9"],
            encounter_id=encounter_id,
        ),
    )
    lab = principal(tenant, Role.LAB)
    specimen = specimen_logic.accession_specimen(
        db,
        lab,
        SpecimenCreate(order_id=order.id, collected_at=COLLECTED, volume="4", volume_unit="mL"),
        at=COLLECTED,
    )
    specimen_logic.receive_specimen(db, lab, specimen.id, Receipt(location="Chem"), at=COLLECTED)
    db.commit()
    entered = client.post(
        "/api/v1/results",
        headers=tenant.headers(Role.LAB),
        json={
            "specimen_id": specimen.id,
            "lab_test_id": setup.tests["A1C"],
            "component_code": "4548-4",
            "value": "7.2",
        },
    )
    assert entered.status_code == 201, entered.text
    verified = client.post(
        "/api/v1/results/verification",
        headers=tenant.headers(Role.ADMIN),
        json={"result_ids": [entered.json()["id"]]},
    )
    assert verified.status_code == 200, verified.text
    return entered.json()["id"]


def test_a_verified_hba1c_adds_its_billing_code_to_the_encounter(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    import_fixture_codes(db)
    practice = make_practice(db, tenant)
    client.post(
        "/api/v1/fee-schedules",
        headers=tenant.headers(),
        json=fee_schedule_payload(
            items=[{"code_system": "CPT", "code": "83036", "charge": "45.00"}]
        ),
    )
    opened = client.post(
        "/api/v1/encounters", json=encounter_payload(practice), headers=tenant.headers("coder")
    )
    encounter_id = opened.json()["id"]
    client.put(
        f"/api/v1/encounters/{encounter_id}/coding",
        headers=tenant.headers("coder"),
        json={
            "diagnoses": ["E11.9"],
            "service_lines": [
                {"code_system": "CPT", "code": "99213", "charge": "125.00", "pointers": [1]}
            ],
        },
    )

    result_id = _verified_a1c(client, tenant, db, practice.patient_id, encounter_id)

    encounter = client.get(f"/api/v1/encounters/{encounter_id}", headers=tenant.headers()).json()
    captured = [ln for ln in encounter["service_lines"] if ln["source"] == "lab_result"]
    assert [(ln["code"], ln["charge"], ln["pointers"], ln["service_date"]) for ln in captured] == [
        ("83036", "45.00", [1], "2026-10-15")
    ]
    assert encounter["total_charge"] == "170.00"
    # A correction verified again does not charge twice.
    corrected = client.post(
        f"/api/v1/results/{result_id}/correction",
        headers=tenant.headers(Role.LAB),
        json={"value": "7.4", "reason": "instrument recalibrated"},
    )
    assert corrected.status_code == 201, corrected.text
    reverified = client.post(
        "/api/v1/results/verification",
        headers=tenant.headers(Role.ADMIN),
        json={"result_ids": [corrected.json()["id"]]},
    )
    assert reverified.status_code == 200, reverified.text
    again = client.get(f"/api/v1/encounters/{encounter_id}", headers=tenant.headers()).json()
    assert len([ln for ln in again["service_lines"] if ln["source"] == "lab_result"]) == 1


def test_an_unpriced_lab_code_is_not_charged_but_the_skip_is_audited(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    import_fixture_codes(db)
    practice = make_practice(db, tenant)
    opened = client.post(
        "/api/v1/encounters", json=encounter_payload(practice), headers=tenant.headers("coder")
    )
    encounter_id = opened.json()["id"]
    _verified_a1c(client, tenant, db, practice.patient_id, encounter_id)
    encounter = client.get(f"/api/v1/encounters/{encounter_id}", headers=tenant.headers()).json()
    assert encounter["service_lines"] == []
    db.commit()
    skipped = db.exec(select(AuditEvent).where(AuditEvent.action == "charge-capture-skipped")).all()
    assert [e.resource_id for e in skipped] == [encounter_id]
    assert "no-fee-for-code" in skipped[0].detail
