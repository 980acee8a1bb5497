"""What the billing desk's claim-to-money pages show and do (issue 26): ready claims by payer,
batches and their acknowledgements, an uploaded remittance's postings, the unmatched lines.
Every read and change goes through the claims and remittance capabilities' own logic."""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from service import display_names, org_clock
from service.audit import logic as audit
from service.auth.logic import Principal
from service.claims import batches as claim_batches
from service.claims import repository as claim_repository
from service.claims.models import Claim, ClaimBatch, ClaimBatchMember
from service.claims.states import ClaimStatus
from service.db import SessionFactory
from service.directory.models import TradingPartner
from service.errors import InvalidInput
from service.paging import Page, by_creation, fetch_page
from service.remittance import repository as remittance_repository
from service.remittance.models import Acknowledgement

# The ready queue shows this many claims a page (oldest first, a "next" link to the rest);
# its payers' counts and totals are of all their ready claims. "Batch all of a payer" takes
# the payer's oldest READY_BATCH_MAX (a batch a request builds in reasonable time).
READY_PAGE = 50
READY_BATCH_MAX = 500
BATCHES_PER_PAGE = 25


def local_time(session: Session, organization_id: str, at: datetime | None) -> str:
    if at is None:
        return ""
    return org_clock.local_time(session, organization_id, at).strftime("%Y-%m-%d %H:%M %Z")


def money(value: Decimal | str) -> str:
    return f"{Decimal(value):,.2f}"


# --- ready claims by payer ------------------------------------------------------------------


@dataclass(frozen=True)
class ReadyClaim:
    claim_id: str
    patient_control_number: str
    patient: str
    claim_type: str
    date_of_service: date
    total_charge: str


@dataclass
class PayerGroup:
    payer_id: str
    payer: str
    count: int  # all the payer's ready claims, not only this page's
    total: Decimal
    claims: list[ReadyClaim] = field(default_factory=list)  # those on this page

    @property
    def total_text(self) -> str:
        return money(self.total)


def _ready_where(actor: Principal) -> Any:
    return sa.and_(
        col(Claim.organization_id) == actor.organization_id,
        col(Claim.status) == ClaimStatus.READY,
    )


def ready_claim_ids(session: Session, actor: Principal, payer_id: str) -> list[str]:
    """The payer's oldest ready claims, READY_BATCH_MAX at most (its "batch all" button)."""
    return list(
        session.exec(
            select(Claim.id)
            .where(_ready_where(actor), Claim.payer_id == payer_id)
            .order_by(col(Claim.id))
            .limit(READY_BATCH_MAX)
        ).all()
    )


def ready_by_payer(
    session: Session, actor: Principal, cursor: str | None
) -> tuple[list[PayerGroup], str | None]:
    """Every payer with ready claims (their count and total, grouped by the database), and one
    page of ready claims (oldest first) under their payers; the next page's cursor. Showing
    claims is a read of their patients: audited like GET /api/v1/claims."""
    summary = session.execute(
        sa.select(col(Claim.payer_id), sa.func.count(), sa.func.sum(Claim.total_charge))
        .where(_ready_where(actor))
        .group_by(col(Claim.payer_id))
    ).all()
    columns = (
        Claim.id,
        Claim.patient_control_number,
        Claim.patient_id,
        Claim.payer_id,
        Claim.claim_type,
        Claim.date_of_service,
        Claim.total_charge,
    )
    query: Any = sa.select(*(col(c) for c in columns)).where(_ready_where(actor))
    page: Page[Any] = fetch_page(session, query, Claim.id, limit=READY_PAGE, cursor=cursor)
    claims = list(page.items)
    audit.record_many(
        session,
        actor,
        action="query",
        resource_type="claim",
        rows=[(c.id, c.patient_id) for c in claims],
        detail="web page: ready claims",
    )
    patients = display_names.patients(session, (c.patient_id for c in claims))
    payers = display_names.payers(session, (p for p, _, _ in summary))
    groups = {
        payer_id: PayerGroup(payer_id, payers.get(payer_id, ""), count, Decimal(total or 0))
        for payer_id, count, total in summary
    }
    for claim in claims:
        patient = patients.get(claim.patient_id)
        groups[claim.payer_id].claims.append(
            ReadyClaim(
                claim.id,
                claim.patient_control_number,
                f"{patient.name} (MRN {patient.mrn})" if patient else "",
                claim.claim_type,
                claim.date_of_service,
                money(claim.total_charge),
            )
        )
    return sorted(groups.values(), key=lambda g: (g.payer, g.payer_id)), page.next_cursor


def trading_partners(session: Session, actor: Principal) -> list[TradingPartner]:
    return list(
        session.exec(
            select(TradingPartner)
            .where(TradingPartner.organization_id == actor.organization_id)
            .order_by(col(TradingPartner.name), col(TradingPartner.id))
        ).all()
    )


def build_batches(
    session: Session,
    actor: Principal,
    trading_partner_id: str,
    claim_ids: Sequence[str],
    *,
    numbers_factory: SessionFactory,
    at: datetime,
    today: date,
) -> list[ClaimBatch]:
    """One batch per claim type among the chosen claims (an 837P and an 837D are separate
    files), built by the batch verb; all of them or none (one transaction)."""
    if not claim_ids:
        raise InvalidInput("Choose at least one claim to batch.")
    kinds = session.exec(
        select(Claim.claim_type)
        .where(Claim.organization_id == actor.organization_id, col(Claim.id).in_(claim_ids))
        .distinct()
    ).all()
    built = []
    for claim_type in sorted(kinds):
        built.append(
            claim_batches.build_claim_batch(
                session,
                actor,
                claim_batches.BatchRequest(trading_partner_id, claim_type, list(claim_ids)),
                numbers_factory=numbers_factory,
                at=at,
                today=today,
            )
        )
    if not built:
        raise claim_batches.NoClaimsReady("None of the chosen claims is ready to batch.")
    return built


# --- batches and their acknowledgements -----------------------------------------------------


@dataclass(frozen=True)
class BatchRow:
    batch_id: str
    kind: str  # 837P | 837D
    status: str
    payers: str
    claim_count: int
    total_charge: str
    created_at: str  # the organization's wall clock
    filename: str
    acknowledged: str  # accepted / rejected counts from 999s and 277CAs


def _kind(batch: ClaimBatch) -> str:
    return "837" + claim_batches.KINDS.get(batch.claim_type, "?")


def acks_of(session: Session, organization_id: str, claim_ids: Sequence[str]) -> list[Any]:
    if not claim_ids:
        return []
    return list(
        session.exec(
            select(Acknowledgement)
            .where(
                Acknowledgement.organization_id == organization_id,
                col(Acknowledgement.claim_id).in_(claim_ids),
            )
            .order_by(col(Acknowledgement.created_at), col(Acknowledgement.id))
        ).all()
    )


def batch_payers(session: Session, batch_ids: Sequence[str]) -> dict[str, set[str]]:
    """Batch id -> the payers of its claims (one row per batch and payer, not per claim)."""
    found: dict[str, set[str]] = defaultdict(set)
    if batch_ids:
        for batch_id, payer_id in session.execute(
            sa.select(col(ClaimBatchMember.batch_id), col(Claim.payer_id))
            .join(Claim, col(Claim.id) == col(ClaimBatchMember.claim_id))
            .where(col(ClaimBatchMember.batch_id).in_(batch_ids))
            .distinct()
        ):
            found[batch_id].add(payer_id)
    return found


def latest_outcomes(
    session: Session, organization_id: str, batch_ids: Sequence[str]
) -> dict[str, Counter[str]]:
    """Batch id -> how many of its claims have each outcome as their latest acknowledgement
    (in (created_at, id) order), counted by the database rather than read claim by claim."""
    found: dict[str, Counter[str]] = defaultdict(Counter)
    if not batch_ids:
        return found
    ack, later = Acknowledgement, aliased(Acknowledgement)
    newer = sa.exists().where(
        col(later.organization_id) == col(ack.organization_id),
        col(later.claim_id) == col(ack.claim_id),
        (col(later.created_at) > col(ack.created_at))
        | ((col(later.created_at) == col(ack.created_at)) & (col(later.id) > col(ack.id))),
    )
    for batch_id, outcome, count in session.execute(
        sa.select(col(ClaimBatchMember.batch_id), col(ack.outcome), sa.func.count())
        .join(ack, col(ack.claim_id) == col(ClaimBatchMember.claim_id))
        .where(
            col(ClaimBatchMember.batch_id).in_(batch_ids),
            col(ack.organization_id) == organization_id,
            ~newer,
        )
        .group_by(col(ClaimBatchMember.batch_id), col(ack.outcome))
    ):
        found[batch_id][outcome] = count
    return found


def list_batches(session: Session, actor: Principal, cursor: str | None) -> Page[BatchRow]:
    """Newest first; names payers and counts acknowledgements, no patient shown. A batch may
    hold thousands of claims: their payers and answers are grouped by the database."""
    page = claim_repository.list_batches(
        session,
        actor.organization_id,
        status=None,
        claim_type=None,
        limit=BATCHES_PER_PAGE,
        cursor=cursor,
        sort=by_creation(None, "-created_at"),
    )
    batch_list: list[ClaimBatch] = list(page.items)
    ids = [b.id for b in batch_list]
    payer_ids = batch_payers(session, ids)
    names = display_names.payers(session, (p for ps in payer_ids.values() for p in ps))
    payers = {b: {names.get(p, "") for p in ps} for b, ps in payer_ids.items()}
    rows = batch_rows(
        session, actor, batch_list, payers, latest_outcomes(session, actor.organization_id, ids)
    )
    return Page(items=rows, next_cursor=page.next_cursor)


@dataclass(frozen=True)
class AckRow:
    kind: str  # 999 | 277CA
    outcome: str
    code: str
    received_at: str
    reasons: list[str]


def set_acks(session: Session, organization_id: str, batch_id: str) -> list[AckRow]:
    """The 999 answers for a batch's transaction sets (no claim named)."""
    return [
        ack_row(session, organization_id, a)
        for a in session.exec(
            select(Acknowledgement)
            .where(
                Acknowledgement.organization_id == organization_id,
                Acknowledgement.batch_id == batch_id,
                col(Acknowledgement.claim_id).is_(None),
            )
            .order_by(col(Acknowledgement.created_at), col(Acknowledgement.id))
        ).all()
    ]


def batch_rows(
    session: Session,
    actor: Principal,
    batch_list: list[ClaimBatch],
    payers: dict[str, set[str]],
    latest: dict[str, Counter[str]],
) -> list[BatchRow]:
    """The batches' rows; a claim counts by its latest acknowledgement (a 277CA after the
    999 that accepted its transaction set): `latest` counts those outcomes per batch."""
    rows = []
    for batch in batch_list:
        counts = latest.get(batch.id, Counter())
        rows.append(
            BatchRow(
                batch.id,
                _kind(batch),
                batch.status,
                ", ".join(sorted(payers.get(batch.id, set()))),
                batch.claim_count,
                money(batch.total_charge),
                local_time(session, actor.organization_id, batch.created_at),
                batch.filename,
                f"{counts['accepted']} accepted, {counts['rejected']} rejected"
                if counts.total()
                else "no acknowledgement yet",
            )
        )
    return rows


def ack_row(session: Session, organization_id: str, ack: Acknowledgement) -> AckRow:
    return AckRow(
        ack.kind,
        ack.outcome,
        ack.code,
        local_time(session, organization_id, ack.created_at),
        [str(d.get("text", "")) for d in ack.details if d.get("text")],
    )


def audit_postings_shown(
    session: Session, actor: Principal, file_id: str, *, dry_run: bool
) -> None:
    """The patients of the claims a 999 or 277CA answered, one row each (as the API audits a
    file's claims); an 835's page audits the claims of the page it shows (record_pages)."""
    ids = remittance_repository.claim_ids_in_file(session, file_id) if not dry_run else set()
    audit.record_many(
        session,
        actor,
        action="query",
        resource_type="claim",
        rows=sorted(claim_repository.patient_ids(session, ids)),
        detail=f"web page: postings of remittance file {file_id}",
    )
