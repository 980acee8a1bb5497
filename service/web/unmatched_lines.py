"""The billing desk's unmatched remittance lines (issue 26): the claims and service lines of
the latest 835s that matched nothing of ours, picked out by the database (an 835 answers
thousands of claims, nearly all matched) and audited as the API audits a file's claims."""

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from service.audit import logic as audit
from service.auth.logic import Principal
from service.claims import repository as claim_repository
from service.remittance.models import ClaimPosting, LinePosting, RemittanceFile
from service.web.billing_flow import local_time, money

UNMATCHED_FILES = 20  # the most recent 835s whose unmatched claims and lines are listed
UNMATCHED_SHOWN = 100  # of each kind (claims, lines), newest first: a day's work, bounded


@dataclass(frozen=True)
class UnmatchedRow:
    file_id: str
    received_at: str
    what: str  # "claim" (CLP matched no claim) or "line" (SVC matched no line of its claim)
    patient_control_number: str
    payer_claim_number: str
    claim_id: str  # ours, for an unmatched line
    procedure: str
    service_date: date | None
    charge: str
    paid: str


@dataclass(frozen=True)
class Unmatched:
    rows: list[UnmatchedRow]
    more: bool  # more than UNMATCHED_SHOWN claims or lines: the newest are shown


def unmatched(session: Session, actor: Principal) -> Unmatched:
    """Claims and lines of the organization's most recent 835s that matched nothing of ours:
    what a clerk needs to find the claim (the PCN as the payer echoed it, the payer's claim
    number, procedure, date and amounts). The database picks them out of the files' postings
    (an 835 answers thousands of claims, nearly all matched)."""
    org = actor.organization_id
    files = list(
        session.exec(
            select(RemittanceFile.id, RemittanceFile.created_at)
            .where(RemittanceFile.organization_id == org, RemittanceFile.kind == "835")
            .order_by(col(RemittanceFile.id).desc())
            .limit(UNMATCHED_FILES)
        ).all()
    )
    received = {file_id: local_time(session, org, at) for file_id, at in files}
    postings = list(
        session.exec(
            select(ClaimPosting)
            .where(
                ClaimPosting.organization_id == org,
                col(ClaimPosting.matched).is_(False),
                col(ClaimPosting.file_id).in_(list(received)),
            )
            .order_by(col(ClaimPosting.id).desc())
            .limit(UNMATCHED_SHOWN + 1)
        ).all()
    )
    line_rows = session.exec(
        select(LinePosting, ClaimPosting)
        .join(ClaimPosting, col(ClaimPosting.id) == col(LinePosting.claim_posting_id))
        .where(
            ClaimPosting.organization_id == org,
            col(ClaimPosting.matched).is_(True),  # an unmatched claim is listed with its lines
            col(ClaimPosting.file_id).in_(list(received)),
            col(LinePosting.claim_line_id).is_(None),
        )
        .order_by(col(LinePosting.id).desc())
        .limit(UNMATCHED_SHOWN + 1)
    ).all()
    more = len(postings) > UNMATCHED_SHOWN or len(line_rows) > UNMATCHED_SHOWN
    postings = postings[:UNMATCHED_SHOWN]
    lines = list(reversed(line_rows[:UNMATCHED_SHOWN]))  # oldest first, as before
    rows = [
        UnmatchedRow(
            p.file_id,
            received[p.file_id],
            "claim",
            p.patient_control_number,
            p.payer_claim_number,
            "",
            "",
            p.payment_date,
            money(p.charge),
            money(p.paid),
        )
        for p in postings
    ]
    for line, posting in lines:
        rows.append(
            UnmatchedRow(
                posting.file_id,
                received[posting.file_id],
                "line",
                posting.patient_control_number,
                posting.payer_claim_number,
                posting.claim_id or "",
                " ".join([line.procedure_code, *line.modifiers]),
                line.service_date,
                money(line.charge),
                money(line.paid),
            )
        )
    shown = {r.claim_id for r in rows if r.claim_id}
    audit.record_many(
        session,
        actor,
        action="query",
        resource_type="claim",
        rows=sorted(claim_repository.patient_ids(session, shown)),
        detail="web page: unmatched remittance lines",
    )
    for file_id in received:
        audit.record(
            session,
            actor,
            action="read",
            resource_type="remittance_file",
            resource_id=file_id,
            detail="web page: unmatched queue",
        )
    return Unmatched(rows, more)
