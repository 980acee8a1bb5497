"""One page at a time of the billing desk's long records (issue 26: each billing page in at most
200 ms p95 with 10,000 claims): a batch's claims, a posted 835's claims, a statement run's
statements. Only the rows shown are read (keyset on their ids, cursors as service/paging.py
encodes them), with their joins in a query each; the whole record's count and totals come from
the record's own row or a SQL aggregate, never from loading its rows."""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service import display_names
from service.audit import logic as audit
from service.auth.logic import Principal
from service.claims import verbs as claim_verbs
from service.claims.models import Claim, ClaimBatchMember
from service.errors import InvalidInput
from service.ledger import statements
from service.ledger.models import Statement, StatementRun
from service.paging import decode_cursor, encode_cursor
from service.remittance.models import ClaimPosting, LinePosting, PostedAdjustment
from service.remittance.x12 import codes
from service.web import billing_flow
from service.web.billing_flow import AckRow, BatchRow, money

BATCH_CLAIMS = 100
POSTED_CLAIMS = 50
RUN_STATEMENTS = 100

T = TypeVar("T")


@dataclass(frozen=True)
class Slice(Generic[T]):
    """One page of a record's rows: `?after=` the next page's cursor, `?before=` the previous
    one's (None at either end); `first` is the position of the first row shown (1-based)."""

    rows: list[T]
    next_cursor: str | None
    previous_cursor: str | None
    first: int
    size: int

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1


def keyset(
    session: Session,
    query: Any,
    id_column: Any,
    key: Callable[[T], str],
    *,
    size: int,
    after: str | None,
    before: str | None,
) -> Slice[T]:
    """The `size` rows of `query` after the cursor `after` (or before `before`), in id order;
    one extra row tells whether more remain that way. A cursor not issued here is InvalidInput."""
    if after and before:
        raise InvalidInput("Ask for the page after one row or before one, not both.")
    if before:
        rows = list(
            session.exec(
                query.where(id_column < decode_cursor(before))
                .order_by(id_column.desc())
                .limit(size + 1)
            ).all()
        )
        earlier, later = len(rows) > size, True
        rows = rows[:size][::-1]
    else:
        start = query.where(id_column > decode_cursor(after)) if after else query
        rows = list(session.exec(start.order_by(id_column).limit(size + 1)).all())
        earlier, later = after is not None, len(rows) > size
        rows = rows[:size]
    first = 1
    if rows and earlier:
        preceding = query.where(id_column < key(rows[0])).with_only_columns(
            sa.func.count(), maintain_column_froms=True
        )
        first += session.execute(preceding).scalar_one()
    return Slice(
        rows,
        encode_cursor(key(rows[-1])) if rows and later else None,
        encode_cursor(key(rows[0])) if rows and earlier else None,
        first,
        size,
    )


def _patient_label(name: display_names.PatientName | None) -> str:
    return f"{name.name} (MRN {name.mrn})" if name else ""


# --- a batch's claims -----------------------------------------------------------------------


@dataclass(frozen=True)
class BatchClaim:
    claim_id: str
    patient_control_number: str
    patient: str
    payer: str
    status: str
    total_charge: str
    acknowledgements: list[AckRow]


@dataclass(frozen=True)
class BatchDetail:
    batch: BatchRow  # the whole batch: its claim count, total charge, payers and answers
    claims: Slice[BatchClaim]  # the claims of this page
    set_acks: list[AckRow]  # 999 answers for the whole transaction set


def batch_detail(
    session: Session,
    actor: Principal,
    batch_id: str,
    *,
    after: str | None = None,
    before: str | None = None,
) -> BatchDetail:
    """A batch's figures (its row, payers and latest answers grouped by the database) and one
    page of its claims in id order with their 999 and 277CA answers in words; each claim shown
    is an audited read of its patient."""
    batch = claim_verbs.get_batch(session, actor, batch_id)
    org = actor.organization_id
    query = (
        select(Claim)
        .join(ClaimBatchMember, col(ClaimBatchMember.claim_id) == col(Claim.id))
        .where(ClaimBatchMember.batch_id == batch.id)
    )
    page: Slice[Claim] = keyset(
        session,
        query,
        col(ClaimBatchMember.claim_id),
        lambda c: c.id,
        size=BATCH_CLAIMS,
        after=after,
        before=before,
    )
    claims = page.rows
    audit.record_many(
        session,
        actor,
        action="query",
        resource_type="claim",
        rows=[(c.id, c.patient_id) for c in claims],
        detail=f"web page: claims of batch {batch.id}",
    )
    patients = display_names.patients(session, (c.patient_id for c in claims))
    payer_ids = billing_flow.batch_payers(session, [batch.id]).get(batch.id, set())
    payers = display_names.payers(session, payer_ids | {c.payer_id for c in claims})
    by_claim: dict[str, list[AckRow]] = defaultdict(list)
    for ack in billing_flow.acks_of(session, org, [c.id for c in claims]):
        by_claim[ack.claim_id].append(billing_flow.ack_row(session, org, ack))
    rows = [
        BatchClaim(
            c.id,
            c.patient_control_number,
            _patient_label(patients.get(c.patient_id)),
            payers.get(c.payer_id, ""),
            c.status,
            money(c.total_charge),
            by_claim[c.id],
        )
        for c in claims
    ]
    [row] = billing_flow.batch_rows(
        session,
        actor,
        [batch],
        {batch.id: {payers.get(p, "") for p in payer_ids}},
        billing_flow.latest_outcomes(session, org, [batch.id]),
    )
    shown = Slice(rows, page.next_cursor, page.previous_cursor, page.first, page.size)
    return BatchDetail(row, shown, billing_flow.set_acks(session, org, batch.id))


# --- an 835's postings, per claim -----------------------------------------------------------


@dataclass(frozen=True)
class PostedClaim:
    patient_control_number: str
    matched: bool
    patient: str
    status: str  # CLP02 in words
    claim_status: str  # our claim's status after posting ("" when unmatched)
    charge: str
    paid: str
    patient_responsibility: str
    adjustments: list[str]  # "CO 45 (Contractual obligations): 25.00"
    lines_unmatched: int


def _adjustment_text(a: PostedAdjustment) -> str:
    words = codes.words(codes.ADJUSTMENT_GROUPS, a.group_code)
    return f"{a.group_code} {a.reason} ({words}): {money(a.amount)}"


def posted_claims(
    session: Session, organization_id: str, postings: Sequence[ClaimPosting]
) -> list[PostedClaim]:
    """The postings' rows with their claim- and line-level adjustments: a query each for the
    claims, patients, lines and adjustments of these postings only."""
    ids = [p.id for p in postings]
    if not ids:
        return []
    claims = {
        c.id: c
        for c in session.exec(
            select(Claim).where(
                Claim.organization_id == organization_id,
                col(Claim.id).in_([p.claim_id for p in postings if p.claim_id]),
            )
        ).all()
    }
    patients = display_names.patients(session, (c.patient_id for c in claims.values()))
    lines_of: dict[str, list[LinePosting]] = defaultdict(list)
    for line in session.exec(
        select(LinePosting)
        .where(col(LinePosting.claim_posting_id).in_(ids))
        .order_by(col(LinePosting.id))
    ):
        lines_of[line.claim_posting_id].append(line)
    adjustments_of: dict[str, list[PostedAdjustment]] = defaultdict(list)
    for a in session.exec(
        select(PostedAdjustment)
        .where(col(PostedAdjustment.claim_posting_id).in_(ids))
        .order_by(col(PostedAdjustment.id))
    ):
        adjustments_of[a.claim_posting_id].append(a)
    rows = []
    for posting in postings:
        claim = claims.get(posting.claim_id or "")
        # The claim's own adjustments first, then its lines' in line order.
        line_order = {ln.id: n for n, ln in enumerate(lines_of[posting.id])}
        found = sorted(
            adjustments_of[posting.id], key=lambda a: line_order.get(a.line_posting_id or "", -1)
        )
        rows.append(
            PostedClaim(
                posting.patient_control_number,
                posting.matched,
                _patient_label(patients.get(claim.patient_id)) if claim else "",
                codes.words(codes.CLAIM_PAYMENT_STATUS, posting.status_code),
                claim.status if claim else "",
                money(posting.charge),
                money(posting.paid),
                money(posting.patient_responsibility),
                [_adjustment_text(a) for a in found],
                sum(1 for ln in lines_of[posting.id] if ln.claim_line_id is None),
            )
        )
    return rows


def postings_of(session: Session, organization_id: str, file_id: str) -> list[PostedClaim]:
    """Every claim an 835 would post, inside a dry run's savepoint (the dry run page)."""
    postings = session.exec(
        select(ClaimPosting).where(ClaimPosting.file_id == file_id).order_by(col(ClaimPosting.id))
    ).all()
    return posted_claims(session, organization_id, postings)


@dataclass(frozen=True)
class PostedTotals:
    """The whole 835's claims, summed by the database."""

    claims: int
    charge: str
    paid: str
    patient_responsibility: str


@dataclass(frozen=True)
class PostedPage:
    totals: PostedTotals
    claims: Slice[PostedClaim]


def posted_page(
    session: Session,
    actor: Principal,
    file_id: str,
    *,
    after: str | None = None,
    before: str | None = None,
) -> PostedPage:
    """One page of the claims a posted 835 answered (its id order: the file's), with the whole
    file's totals; each claim of ours shown is an audited read of its patient. `file_id` is a
    file of the actor's organization (files.get_file)."""
    org = actor.organization_id
    of_file = select(ClaimPosting).where(
        ClaimPosting.organization_id == org, ClaimPosting.file_id == file_id
    )
    page: Slice[ClaimPosting] = keyset(
        session,
        of_file,
        col(ClaimPosting.id),
        lambda p: p.id,
        size=POSTED_CLAIMS,
        after=after,
        before=before,
    )
    shown = sorted({p.claim_id for p in page.rows if p.claim_id})
    patients = session.exec(
        select(Claim.id, Claim.patient_id).where(
            Claim.organization_id == org, col(Claim.id).in_(shown)
        )
    ).all()
    audit.record_many(
        session,
        actor,
        action="query",
        resource_type="claim",
        rows=[(c, p) for c, p in patients],
        detail=f"web page: postings of remittance file {file_id}",
    )
    count, charge, paid, owed = session.execute(
        of_file.with_only_columns(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(ClaimPosting.charge), 0),
            sa.func.coalesce(sa.func.sum(ClaimPosting.paid), 0),
            sa.func.coalesce(sa.func.sum(ClaimPosting.patient_responsibility), 0),
            maintain_column_froms=True,
        )
    ).one()
    rows = posted_claims(session, org, page.rows)
    return PostedPage(
        PostedTotals(count, money(Decimal(charge)), money(Decimal(paid)), money(Decimal(owed))),
        Slice(rows, page.next_cursor, page.previous_cursor, page.first, page.size),
    )


# --- a statement run's statements -----------------------------------------------------------


@dataclass(frozen=True)
class IssuedStatement:
    statement: Statement
    name: str
    mrn: str


def statement_run(
    session: Session,
    actor: Principal,
    run_id: str,
    *,
    after: str | None = None,
    before: str | None = None,
) -> tuple[StatementRun, Slice[IssuedStatement]]:
    """A run (its count and total due are the run's own figures) and one page of its statements
    in id order (the order they were made); each shown is an audited read of its patient."""
    run = statements.get_run(session, actor, run_id)
    page: Slice[Statement] = keyset(
        session,
        select(Statement).where(
            Statement.organization_id == actor.organization_id, Statement.run_id == run.id
        ),
        col(Statement.id),
        lambda s: s.id,
        size=RUN_STATEMENTS,
        after=after,
        before=before,
    )
    issued = page.rows
    audit.record(session, actor, action="read", resource_type="statement_run", resource_id=run.id)
    audit.record_many(
        session,
        actor,
        action="query",
        resource_type="statement",
        rows=[(s.id, s.patient_id) for s in issued],
        detail=f"web page: statement run {run.id}",
    )
    names = display_names.patients(session, (s.patient_id for s in issued))
    rows = [
        IssuedStatement(
            s,
            names[s.patient_id].name if s.patient_id in names else "",
            names[s.patient_id].mrn if s.patient_id in names else "",
        )
        for s in issued
    ]
    return run, Slice(rows, page.next_cursor, page.previous_cursor, page.first, page.size)
