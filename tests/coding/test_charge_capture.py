"""Charge capture: verified lab results add a service line to the order's encounter."""

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.audit.models import AuditEvent
from service.auth.roles import Role
from service.orders import logic as order_logic
from service.orders.schemas import LabOrderCreate
from service.specimens import custody as specimen_custody
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
    specimen_custody.receive_specimen(db, lab, specimen.id, Receipt(location="Chem"), at=COLLECTED)
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


def test_a_charge_captured_line_names_its_specimen_on_the_encounter_the_claim_and_fhir(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    import_fixture_codes(db)
    practice = make_practice(db, tenant)
    client.post(
        "/api/v1/fee-schedules",
        headers=tenant.headers(),
        json=fee_schedule_payload(
            items=[
                {"code_system": "CPT", "code": "83036", "charge": "45.00"},
                {"code_system": "CPT", "code": "99213", "charge": "125.00"},
            ]
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
            "service_lines": [{"code_system": "CPT", "code": "99213", "pointers": [1]}],
        },
    )
    result_id = _verified_a1c(client, tenant, db, practice.patient_id, encounter_id)
    result = client.get(f"/api/v1/results/{result_id}", headers=tenant.headers()).json()
    specimen = client.get(
        f"/api/v1/specimens/{result['specimen_id']}", headers=tenant.headers()
    ).json()

    encounter = client.get(f"/api/v1/encounters/{encounter_id}", headers=tenant.headers()).json()
    captured = next(ln for ln in encounter["service_lines"] if ln["source"] == "lab_result")
    assert captured["origin"]["specimen_id"] == specimen["id"]
    assert captured["origin"]["accession_number"] == specimen["accession"]
    manual = next(ln for ln in encounter["service_lines"] if ln["source"] == "manual")
    assert manual["origin"] is None

    ready = client.post(
        f"/api/v1/encounters/{encounter_id}/status",
        json={"status": "ready"},
        headers=tenant.headers("coder"),
    )
    assert ready.status_code == 200, ready.text
    built = client.post(
        "/api/v1/claims", json={"encounter_id": encounter_id}, headers=tenant.headers()
    )
    assert built.status_code == 201, built.text
    claim = client.get(f"/api/v1/claims/{built.json()['id']}", headers=tenant.headers()).json()
    line = next(ln for ln in claim["lines"] if ln["code"] == "83036")
    assert line["origin"] == {
        "service_line_id": captured["id"],
        "source": "lab_result",
        "specimen_id": specimen["id"],
        "accession_number": specimen["accession"],
        "lab_test_id": captured["origin"]["lab_test_id"],
        "lab_test_code": captured["origin"]["lab_test_code"],
    }
    fhir = client.get(f"/fhir/Claim/{claim['id']}", headers=tenant.headers()).json()
    item = next(i for i in fhir["item"] if i["productOrService"]["coding"][0]["code"] == "83036")
    parts = {p["url"]: p for p in item["extension"][0]["extension"]}
    assert parts["specimen"]["valueReference"]["identifier"]["value"] == specimen["accession"]
    assert parts["serviceLine"]["valueString"] == captured["id"]
