"""Secondary claims read the primary payer's adjudication in bulk: building the 837 input of
50 secondary claims issues as many SQL statements as building one."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session, col, select

from service.claims import verbs, x12_input
from service.claims.logic import new_patient_control_number
from service.claims.models import Claim, ClaimLine
from service.demo.synthetic_claims import seed_ready_claims
from service.ids import new_id
from service.patients.models import Patient

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _secondaries(db: Session, count: int) -> list[str]:
    """`count` encounters whose primary claim the payer paid (less a deductible), each with a
    secondary claim waiting to go out."""
    org, _ = seed_ready_claims(db, count)
    primaries = db.exec(
        select(Claim)
        .join(Patient, col(Patient.id) == col(Claim.patient_id))
        .where(col(Patient.mrn).startswith("SYN-"))
        .order_by(col(Claim.id))
    ).all()
    assert len(primaries) == count
    ids = [p.id for p in primaries]
    db.execute(sa.update(Claim).where(col(Claim.id).in_(ids)).values(status="accepted"))
    lines = {
        p.id: list(db.exec(select(ClaimLine).where(ClaimLine.claim_id == p.id))) for p in primaries
    }
    events = [
        verbs.Adjudicated(
            claim_id=p.id,
            source_id=new_id(),
            status_code="1",
            charge=sum((ln.charge for ln in lines[p.id]), Decimal(0)),
            paid=sum((ln.charge for ln in lines[p.id]), Decimal(0)) - Decimal("20.00"),
            payer_claim_number=f"ICN{i}",
            payment_date=date(2026, 11, 18),
            adjustments=[{"group": "PR", "reason": "1", "amount": "20.00", "quantity": None}],
            lines=[
                {
                    "claim_line_id": ln.id,
                    "procedure_code": ln.code,
                    "modifiers": [],
                    "paid": str(ln.charge),
                    "units": "1",
                    "adjustments": [],
                }
                for ln in lines[p.id]
            ],
        )
        for i, p in enumerate(primaries)
    ]
    moved = verbs.record_adjudications(db, org, events, at=AT)
    assert {m.after for m in moved} == {"partially_paid"}
    secondary_ids: list[str] = []
    rows: list[dict[str, Any]] = []
    line_rows: list[dict[str, Any]] = []
    for p in primaries:
        claim_id, pcn = new_id(), new_patient_control_number()
        secondary_ids.append(claim_id)
        rows.append(
            {
                **p.model_dump(exclude={"id", "findings", "scrubbed_at"}),
                "id": claim_id,
                "patient_control_number": pcn,
                "payer_responsibility": "S",
                "status": "ready",
                "total_charge": Decimal(0),
                "findings": [],
            }
        )
        line_rows += [
            {
                **ln.model_dump(exclude={"id"}),
                "id": new_id(),
                "claim_id": claim_id,
                "line_control_number": f"{pcn}-{ln.position}",
            }
            for ln in lines[p.id]
        ]
    db.execute(sa.insert(Claim), rows)
    db.execute(sa.insert(ClaimLine), line_rows)
    db.flush()
    return secondary_ids


@contextmanager
def _counting(db: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    connection = db.connection()

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(connection, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", count)


def test_building_50_secondary_claims_costs_as_many_statements_as_building_one(
    db: Session,
) -> None:
    secondary = _secondaries(db, 50)

    with _counting(db) as one:
        [single] = list(x12_input.iter_claim_inputs(db, secondary[:1]))
    with _counting(db) as fifty:
        built = list(x12_input.iter_claim_inputs(db, secondary))

    assert len(built) == 50
    for claim in [single, *built]:  # each carries the primary payer's 2320 loop
        [other] = claim.other_payers
        assert other.paid_amount == claim.total_charge - Decimal("20.00")
    assert len(one) == len(fifty), (one, fifty)
