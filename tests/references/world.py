"""One of every record that a request body can reference, built through the API for a tenant."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from service.auth.roles import Role
from service.remittance.models import DenialItem
from tests.factories import (
    Practice,
    Tenant,
    encounter_payload,
    make_lab_setup,
    make_patient,
    make_practice,
    make_ready_specimen,
)

OFFICE_VISIT = {"code_system": "CPT", "code": "99213", "charge": "125.00", "pointers": [1]}


def trading_partner_payload() -> dict[str, Any]:
    return {
        "name": "clearinghouse",
        "submitter_name": "Clinic",
        "submitter_id": "SUB01",
        "contact_name": "Billing",
        "contact_phone": "5550100100",
        "receiver_name": "Clearinghouse",
        "receiver_id": "RCV01",
        "isa_sender_id": "SENDER",
        "isa_receiver_id": "RECEIVER",
        "gs_sender_code": "SENDER",
        "gs_receiver_code": "RECEIVER",
    }


@dataclass
class World:
    tenant: Tenant
    practice: Practice
    ids: dict[str, str]  # kind ("patient", "lab_test", ...) -> a live record's id
    lab_patient_id: str  # a second patient: the lab order's and specimen's
    other_coverage_id: str  # a coverage of the lab patient (not the encounter's patient)


def _created(response: Any) -> str:
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def build_world(client: TestClient, db: Session, tenant: Tenant, mrn_prefix: str) -> World:
    practice = make_practice(db, tenant)
    lab = make_lab_setup(db, tenant, mrn=f"{mrn_prefix}-LAB")
    specimen = make_ready_specimen(db, tenant, lab)
    admin, lab_user, coder = (tenant.headers(r) for r in (Role.ADMIN, Role.LAB, Role.CODER))
    result_id = _created(
        client.post(
            "/api/v1/results",
            headers=lab_user,
            json={
                "specimen_id": specimen.id,
                "lab_test_id": lab.tests["A1C"],
                "component_code": "4548-4",
                "value": "5.1",
            },
        )
    )
    template_id = _created(
        client.post(
            "/api/v1/worklist-templates",
            headers=lab_user,
            json={
                "name": "a1c",
                "bench": "chemistry",
                "test_ids": [lab.tests["A1C"]],
                "layout": "rack",
                "capacity": 10,
            },
        )
    )
    encounter_id = _created(
        client.post("/api/v1/encounters", headers=coder, json=encounter_payload(practice))
    )
    coded = client.put(
        f"/api/v1/encounters/{encounter_id}/coding",
        headers=coder,
        json={"diagnoses": ["E11.9"], "service_lines": [OFFICE_VISIT]},
    )
    assert coded.status_code == 200, coded.text
    ready = client.post(
        f"/api/v1/encounters/{encounter_id}/status", headers=coder, json={"status": "ready"}
    )
    assert ready.status_code == 200, ready.text
    claim_id = _created(
        client.post("/api/v1/claims", headers=admin, json={"encounter_id": encounter_id})
    )
    partner_id = _created(
        client.post("/api/v1/trading-partners", headers=admin, json=trading_partner_payload())
    )
    lab_coverage = _created(
        client.post(
            "/api/v1/coverages",
            headers=admin,
            json={
                "patient_id": lab.patient_id,
                "payer_id": practice.payer_id,
                "member_id": "LAB-MEMBER-1",
                "priority": "primary",
                "start_date": "2026-01-01",
            },
        )
    )
    glu_template = _created(
        client.post(
            "/api/v1/worklist-templates",
            headers=lab_user,
            json={
                "name": "glucose",
                "bench": "chemistry",
                "test_ids": [lab.tests["GLU"]],
                "layout": "rack",
                "capacity": 10,
            },
        )
    )
    spare = make_ready_specimen(db, tenant, lab)  # nothing entered for it yet
    stray = make_patient(db, tenant, mrn=f"{mrn_prefix}-STRAY")
    # A denial to work: in production an 835 opens it; here only its owner is at stake.
    denial = DenialItem(
        organization_id=tenant.organization_id, claim_id=claim_id, claim_posting_id=claim_id,
        patient_id=practice.patient_id, encounter_id=encounter_id, payer_id=practice.payer_id,
        group_code="CO", reason="50", amount=Decimal("100.00"), denied_date=date(2026, 11, 30),
    )  # fmt: skip
    db.add(denial)
    db.commit()
    ids = {
        "patient": practice.patient_id,
        "payer": practice.payer_id,
        "provider": practice.rendering_provider_id,
        "facility": practice.facility_id,
        "coverage": practice.coverage_id,
        "encounter": encounter_id,
        "claim": claim_id,
        "trading_partner": partner_id,
        "lab_test": lab.tests["A1C"],
        "lab_order": specimen.order_id,
        "specimen": specimen.id,
        "result": result_id,
        "worklist_template": template_id,
        "stray_patient": stray.id,
        "glucose_test": lab.tests["GLU"],
        "glucose_template": glu_template,
        "spare_specimen": spare.id,
        "denial_item": denial.id,
        "user": tenant.user_ids[Role.BILLER],
    }
    return World(tenant, practice, ids, lab.patient_id, lab_coverage)


def ready_encounter(client: TestClient, world: World) -> str:
    """A new encounter of the practice's patient, coded and ready (no claim yet)."""
    coder = world.tenant.headers(Role.CODER)
    encounter_id = _created(
        client.post("/api/v1/encounters", headers=coder, json=encounter_payload(world.practice))
    )
    coded = client.put(
        f"/api/v1/encounters/{encounter_id}/coding",
        headers=coder,
        json={"diagnoses": ["E11.9"], "service_lines": [OFFICE_VISIT]},
    )
    assert coded.status_code == 200, coded.text
    ready = client.post(
        f"/api/v1/encounters/{encounter_id}/status", headers=coder, json={"status": "ready"}
    )
    assert ready.status_code == 200, ready.text
    return encounter_id


def created(response: Any) -> str:
    return _created(response)
