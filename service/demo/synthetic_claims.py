"""Synthetic ready claims in bulk, for concurrency tests, `make stress` and the benchmarks.

Built on the demo organization's providers and payers, written with bulk inserts (a claim per
patient, each with its own coverage), so 100,000 claims take seconds, not the hours that
coding each encounter through the API would."""

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.claims.logic import new_patient_control_number
from service.claims.models import Claim, ClaimLine
from service.coding.models import Encounter
from service.demo import clinic as demo
from service.directory.models import Facility, Payer, Provider
from service.ids import new_id
from service.patients.models import Coverage, Patient
from service.records import utcnow

LINES = [
    ("99214", Decimal("185.00"), [1, 2]),
    ("83036", Decimal("45.00"), [1]),
    ("36415", Decimal("12.00"), [1]),
]


def seed_ready_claims(
    session: Session, count: int, *, lines_per_claim: int = 3, day: date = date(2026, 11, 2)
) -> tuple[str, str]:
    """Adds `count` ready professional claims to the demo organization (seeding it first).
    Returns (organization id, admin API key)."""
    result = demo.seed(session)
    org = result.organization_id
    billing = session.exec(
        select(Provider).where(Provider.organization_id == org, Provider.kind == "organization")
    ).first()
    payer = session.exec(
        select(Payer).where(Payer.organization_id == org, Payer.edi_payer_id == "ACME01")
    ).one()
    # The lines include lab services (83036): the lab's CLIA number goes out with them (REF*X4).
    lab = session.exec(
        select(Facility).where(
            Facility.organization_id == org, col(Facility.clia_number).is_not(None)
        )
    ).first()
    assert billing is not None
    assert lab is not None
    now = utcnow()
    common = {"organization_id": org, "created_at": now, "updated_at": now, "version": 1}
    for start in range(0, count, 1000):
        patients, coverages, encounters, claims, claim_lines = [], [], [], [], []
        for i in range(start, min(count, start + 1000)):
            pid, cid, eid, claim_id = new_id(), new_id(), new_id(), new_id()
            pcn = new_patient_control_number()
            patients.append(
                {
                    **common,
                    "id": pid,
                    "mrn": f"SYN-{pid[-12:]}",
                    "family_name": f"Synthetic{i % 997}",
                    "given_name": f"Pat{i}",
                    "birth_date": date(1950 + i % 60, 1 + i % 12, 1 + i % 28),
                    "sex": "FM"[i % 2],
                    "address": {
                        "line1": f"{i} Test St",
                        "city": "Springfield",
                        "state": "IL",
                        "postal_code": "62701",
                    },
                }
            )
            coverages.append(
                {
                    **common,
                    "id": cid,
                    "patient_id": pid,
                    "payer_id": payer.id,
                    "member_id": f"SYN{i:09d}",
                    "priority": "primary",
                    "relationship": "18",
                    "start_date": date(2026, 1, 1),
                }
            )
            encounters.append(
                {
                    **common,
                    "id": eid,
                    "patient_id": pid,
                    "date_of_service": day,
                    "place_of_service": "11",
                    "kind": "medical",
                    "billing_provider_id": billing.id,
                    "facility_id": lab.id,
                    "coverage_ids": [cid],
                    "status": "ready",
                    "diagnoses": ["E119", "I10"],
                    "findings": [],
                }
            )
            claims.append(
                {
                    **common,
                    "id": claim_id,
                    "encounter_id": eid,
                    "coverage_id": cid,
                    "patient_id": pid,
                    "payer_id": payer.id,
                    "claim_type": "professional",
                    "payer_responsibility": "P",
                    "patient_control_number": pcn,
                    "frequency": "1",
                    "status": "ready",
                    "date_of_service": day,
                    "place_of_service": "11",
                    "diagnoses": ["E119", "I10"],
                    "total_charge": Decimal(0),
                    "findings": [],
                }
            )
            for n in range(lines_per_claim):
                code, charge, pointers = LINES[n % len(LINES)]
                claim_lines.append(
                    {
                        "id": new_id(),
                        "organization_id": org,
                        "claim_id": claim_id,
                        "position": n + 1,
                        "line_control_number": f"{pcn}-{n + 1}",
                        "code_system": "CPT",
                        "code": code,
                        "modifiers": [],
                        "units": Decimal(1),
                        "charge": charge,
                        "service_date": day,
                        "pointers": pointers,
                    }
                )
        for model, rows in (
            (Patient, patients),
            (Coverage, coverages),
            (Encounter, encounters),
            (Claim, claims),
            (ClaimLine, claim_lines),
        ):
            session.execute(sa.insert(model), rows)
    return org, result.admin_key
