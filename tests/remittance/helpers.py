"""Round-trip helpers: batch the demo's claims, then answer them with generated 999/277CA/835."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.claims.models import Claim, ClaimBatch, ClaimBatchMember, ClaimLine
from service.demo.x12_835 import (
    AdjustmentInput,
    ClaimPaymentInput,
    LinePaymentInput,
    PayeeInput,
    PayerInput,
    make_835,
)
from service.demo.x12_files import (
    ClaimStatusInput,
    Organization,
    SetResult,
    StatusInput,
    make_277ca,
    make_999,
)
from service.directory.models import TradingPartner
from service.x12.envelope import Interchange
from tests.claims.conftest import Demo
from tests.remittance.x12 import helpers as x12_helpers

PAYER = PayerInput(
    "ACME HEALTH PLAN", "ACME01", "1 MAIN ST", "CHICAGO", "IL", "606010001", "8005551212"
)
PAYEE = PayeeInput("SPRINGFIELD FAMILY MEDICINE", "1999999992")
X12 = {"Content-Type": "application/edi-x12"}


def interchange(control: int = 7001) -> Interchange:
    """The demo clearinghouse's envelope (its trading partner ids)."""
    return x12_helpers.interchange(control, None, sender="DEMOCH", receiver="SFMDEMO")


@dataclass
class BatchedClaim:
    id: str
    pcn: str
    patient_id: str
    payer_id: str
    charge: Decimal
    lines: list[ClaimLine]
    st: int


@dataclass
class Batch:
    id: str
    icn: int
    claims: list[BatchedClaim]

    def by_pcn(self, pcn: str) -> BatchedClaim:
        return next(c for c in self.claims if c.pcn == pcn)


def make_batch(
    client: TestClient, demo: Demo, db: Session, claim_type: str = "professional"
) -> Batch:
    partner = db.exec(
        select(TradingPartner.id).where(TradingPartner.organization_id == demo.organization_id)
    ).one()
    response = client.post(
        "/api/v1/claim-batches",
        json={"trading_partner_id": partner, "claim_type": claim_type},
        headers=demo.headers(),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    db.commit()  # a fresh snapshot
    return load_batch(db, body["id"])


def load_batch(db: Session, batch_id: str) -> Batch:
    batch = db.get(ClaimBatch, batch_id)
    assert batch is not None
    members = db.exec(select(ClaimBatchMember).where(ClaimBatchMember.batch_id == batch_id)).all()
    claims = []
    for member in members:
        claim = db.get(Claim, member.claim_id)
        assert claim is not None
        lines = list(
            db.exec(
                select(ClaimLine)
                .where(ClaimLine.claim_id == claim.id)
                .order_by(col(ClaimLine.position))
            )
        )
        claims.append(
            BatchedClaim(
                claim.id,
                claim.patient_control_number,
                claim.patient_id,
                claim.payer_id,
                Decimal(claim.total_charge),
                lines,
                member.st_control_number,
            )
        )
    claims.sort(key=lambda c: c.pcn)
    return Batch(batch.id, batch.interchange_control_number, claims)


def ack_999(
    batch: Batch, *, refused: frozenset[int] = frozenset(), control: int = 7001, **kw: Any
) -> str:
    sts = sorted({c.st for c in batch.claims})
    return make_999(
        interchange(control),
        group_control_number=batch.icn,
        results=[SetResult(f"{st:04d}", accepted=st not in refused, **kw) for st in sts],
    )


def ack_277ca(batch: Batch, statuses: dict[str, StatusInput], *, control: int = 7101) -> str:
    return make_277ca(
        interchange(control),
        payer=Organization("ACME HEALTH PLAN", "ACME01"),
        receiver=Organization("SPRINGFIELD FAMILY MEDICINE", "SFM0001"),
        billing_provider=Organization("SPRINGFIELD FAMILY MEDICINE", "1999999992"),
        claims=[
            ClaimStatusInput(
                patient_control_number=c.pcn,
                patient_last_name="DOE",
                patient_first_name="JANE",
                member_id="M1",
                charge=c.charge,
                service_date=c.lines[0].service_date,
                status=statuses.get(c.pcn, StatusInput("A2", "20")),
                payer_claim_control_number=f"PCC{c.pcn}",
            )
            for c in batch.claims
        ],
    )


def paid_in_full(claim: BatchedClaim, **kw: Any) -> ClaimPaymentInput:
    return _payment(claim, lambda line: (), **kw)


def partially_paid(claim: BatchedClaim, **kw: Any) -> ClaimPaymentInput:
    """Each line: 20% contractual (CO 45), then 10.00 deductible (PR 1)."""

    def adjustments(line: ClaimLine) -> tuple[AdjustmentInput, ...]:
        contractual = (Decimal(line.charge) * Decimal("0.20")).quantize(Decimal("0.01"))
        return (
            AdjustmentInput("CO", "45", contractual),
            AdjustmentInput("PR", "1", Decimal("10.00")),
        )

    return _payment(claim, adjustments, **kw)


def denied(claim: BatchedClaim, reason: str = "50", **kw: Any) -> ClaimPaymentInput:
    return _payment(
        claim,
        lambda line: (AdjustmentInput("CO", reason, Decimal(line.charge)),),
        status="4",
        remarks=("N115",),
        **kw,
    )


def _payment(
    claim: BatchedClaim,
    adjustments: Any,
    *,
    status: str = "1",
    remarks: tuple[str, ...] = (),
    payer_claim_number: str | None = None,
    with_line_control: bool = True,
) -> ClaimPaymentInput:
    return ClaimPaymentInput(
        patient_control_number=claim.pcn,
        payer_claim_control_number=payer_claim_number or f"PCC{claim.pcn}",
        patient_last_name="DOE",
        patient_first_name="JANE",
        member_id="M1",
        status=status,
        lines=tuple(
            LinePaymentInput(
                procedure_code=line.code,
                charge=Decimal(line.charge),
                adjustments=adjustments(line),
                service_date=line.service_date,
                line_item_control_number=line.line_control_number if with_line_control else "",
                remark_codes=remarks,
            )
            for line in claim.lines
        ),
    )


def remit_835(
    claims: list[ClaimPaymentInput],
    *,
    trace: str = "EFT1001",
    control: int = 7201,
    payment_date: date = date(2026, 12, 1),
) -> str:
    return make_835(
        interchange(control),
        payer=PAYER,
        payee=PAYEE,
        payment_date=payment_date,
        trace_number=trace,
        claims=claims,
    )


def upload(client: TestClient, demo: Demo, text: str, *, status: int = 201) -> dict[str, Any]:
    response = client.post(
        "/api/v1/remittance-files", content=text.encode(), headers={**demo.headers(), **X12}
    )
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def claim_status(db: Session, claim_id: str) -> str:
    db.commit()  # a fresh snapshot
    claim = db.get(Claim, claim_id)
    assert claim is not None
    db.refresh(claim)
    return claim.status
