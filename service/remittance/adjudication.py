"""A claim's adjudication as the payer reported it: every active (not reversed) 835 posting
of the claim combined, since a payer may split one claim into several CLPs (a reversal undoes
only the CLP it names). Shown by /claims/{id}/adjudication; FHIR ClaimResponse shows each
posting on its own.
"""

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from service.remittance.models import ClaimPosting, LinePosting, PostedAdjustment, RemittancePayment
from service.remittance.x12 import codes


@dataclass(frozen=True)
class AdjustmentValue:
    group: str  # CAS01: CO, OA, PI, PR
    reason: str  # CARC
    amount: Decimal
    quantity: Decimal | None

    @property
    def group_words(self) -> str:
        return codes.words(codes.ADJUSTMENT_GROUPS, self.group)


@dataclass(frozen=True)
class LineAdjudicationValue:
    claim_line_id: str | None
    match_method: str
    line_control_number: str | None
    procedure_code: str
    modifiers: tuple[str, ...]
    service_date: date | None
    charge: Decimal
    paid: Decimal
    units: Decimal | None
    remark_codes: tuple[str, ...]
    adjustments: tuple[AdjustmentValue, ...]


@dataclass(frozen=True)
class ClaimAdjudication:
    """What the payer decided (CLP): status, amounts, payer claim number, CAS, lines."""

    posting_id: str
    claim_id: str
    status_code: str  # CLP02
    status_words: str
    claim_status: str | None  # paid | partially_paid | denied
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    payer_claim_number: str  # CLP07
    payment_date: date | None
    trace_number: str  # TRN02
    payer_name: str
    payer_identifier: str
    adjustments: tuple[AdjustmentValue, ...]  # claim level
    lines: tuple[LineAdjudicationValue, ...]
    remark_codes: tuple[str, ...] = ()  # claim level: MOA/MIA
    # Each active CLP on its own (one unless the payer split the claim), oldest first.
    postings: tuple["ClaimAdjudication", ...] = ()


def adjudication_of(
    session: Session, organization_id: str, claim_id: str
) -> ClaimAdjudication | None:
    """The active postings of the claim (none reversed) combined: amounts summed, adjustments,
    lines and remarks of all of them; status, payment and claim status of the latest. None
    before any 835."""
    rows = session.exec(
        select(ClaimPosting, RemittancePayment)
        .join(RemittancePayment, col(RemittancePayment.id) == col(ClaimPosting.payment_id))
        .where(
            ClaimPosting.organization_id == organization_id,
            ClaimPosting.claim_id == claim_id,
            col(ClaimPosting.reversed_by).is_(None),
            col(ClaimPosting.reverses).is_(None),
            ClaimPosting.status_code != "22",
        )
        .order_by(col(ClaimPosting.posted_at), col(ClaimPosting.id))
    ).all()
    if not rows:
        return None
    parts = tuple(posting_adjudication(session, *row) for row in rows)
    latest = parts[-1]
    if len(parts) == 1:
        return replace(latest, postings=parts)
    remarks = dict.fromkeys(code for p in parts for code in p.remark_codes)
    return replace(
        latest,
        charge=sum((p.charge for p in parts), Decimal(0)),
        paid=sum((p.paid for p in parts), Decimal(0)),
        patient_responsibility=sum((p.patient_responsibility for p in parts), Decimal(0)),
        adjustments=tuple(a for p in parts for a in p.adjustments),
        lines=tuple(line for p in parts for line in p.lines),
        remark_codes=tuple(remarks),
        postings=parts,
    )


def posting_adjudication(
    session: Session, posting: ClaimPosting, payment: RemittancePayment
) -> ClaimAdjudication:
    """One posting with its payment, its claim and line adjustments and its lines."""
    adjustments: dict[str | None, list[AdjustmentValue]] = defaultdict(list)
    for adjustment in session.exec(
        select(PostedAdjustment)
        .where(PostedAdjustment.claim_posting_id == posting.id)
        .order_by(col(PostedAdjustment.id))
    ):
        adjustments[adjustment.line_posting_id].append(
            AdjustmentValue(
                adjustment.group_code,
                adjustment.reason,
                Decimal(adjustment.amount),
                adjustment.quantity,
            )
        )
    lines = tuple(
        LineAdjudicationValue(
            claim_line_id=line.claim_line_id,
            match_method=line.match_method,
            line_control_number=line.line_control_number,
            procedure_code=line.procedure_code,
            modifiers=tuple(line.modifiers),
            service_date=line.service_date,
            charge=Decimal(line.charge),
            paid=Decimal(line.paid),
            units=line.units,
            remark_codes=tuple(line.remark_codes),
            adjustments=tuple(adjustments.get(line.id, ())),
        )
        for line in session.exec(
            select(LinePosting)
            .where(LinePosting.claim_posting_id == posting.id)
            .order_by(col(LinePosting.id))
        )
    )
    return ClaimAdjudication(
        posting_id=posting.id,
        claim_id=posting.claim_id or "",
        status_code=posting.status_code,
        status_words=codes.words(codes.CLAIM_PAYMENT_STATUS, posting.status_code),
        claim_status=posting.status_after,
        charge=Decimal(posting.charge),
        paid=Decimal(posting.paid),
        patient_responsibility=Decimal(posting.patient_responsibility),
        payer_claim_number=posting.payer_claim_number,
        payment_date=posting.payment_date,
        trace_number=payment.trace_number,
        payer_name=payment.payer_name,
        payer_identifier=payment.payer_identifier,
        adjustments=tuple(adjustments.get(None, ())),
        lines=lines,
        remark_codes=tuple(posting.remark_codes),
    )


__all__ = [
    "AdjustmentValue",
    "ClaimAdjudication",
    "LineAdjudicationValue",
    "adjudication_of",
    "posting_adjudication",
]
