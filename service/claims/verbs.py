"""The guarded verbs that move claims and batches. Batching, acknowledgements (999, 277CA) and
remittance (835) call these and never assign a status themselves: each verb checks the move
against claims.states and returns what moved.

Bulk verbs take `strict`: True refuses the whole call with a 409 when one claim cannot move
(nothing is written); False moves those that can and leaves the others as they are (a late
277CA for a claim the payer already paid, say), returning only what moved.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service import bulk, org_clock
from service.audit import logic as audit
from service.auth.logic import Principal
from service.claims import logic, repository, states
from service.claims.models import Claim, ClaimBatch, ClaimBatchMember, PayerAdjudication
from service.claims.states import BatchStatus, ClaimStatus, ClaimVerb
from service.coding import logic as coding
from service.errors import NotFound
from service.ids import new_id
from service.ledger import hooks as ledger
from service.records import utcnow
from service.sql_lists import one_of

PAGE = 500
# Adjudications go in as table rows (complete dicts): no per-row ORM mapping.
_ADJUDICATION: sa.Table = PayerAdjudication.__table__  # type: ignore[attr-defined]


class BatchNotFound(NotFound):
    code = "claim-batch-not-found"


def _pages(values: Sequence[str]) -> list[Sequence[str]]:
    return [values[i : i + PAGE] for i in range(0, len(values), PAGE)]


def _statuses(session: Session, claim_ids: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for page in _pages(claim_ids):
        found.update(
            session.execute(
                select(Claim.id, Claim.status).where(one_of(session, Claim.id, page))
            ).all()
        )
    return found


def _write_statuses(session: Session, moves: dict[str, str]) -> None:
    """One UPDATE per page and target status; the version counts every change."""
    by_target: dict[str, list[str]] = {}
    for claim_id, target in moves.items():
        by_target.setdefault(target, []).append(claim_id)
    for target, ids in by_target.items():
        for page in _pages(sorted(ids)):
            session.execute(
                sa.update(Claim)
                .where(one_of(session, Claim.id, page))
                .values(status=target, updated_at=utcnow(), version=Claim.version + 1)
            )


def move_claims(
    session: Session, claim_ids: Sequence[str], verb: ClaimVerb, *, strict: bool = True
) -> list[str]:
    """The claims the verb moved (in the order given); see the module for `strict`."""
    target = states.claim_target(verb)
    current = _statuses(session, claim_ids)
    moving: list[str] = []
    for claim_id in claim_ids:
        if claim_id not in current:
            raise repository.ClaimNotFound(f"No claim {claim_id}.")
        if strict:
            states.check_claim(claim_id, current[claim_id], verb)
            moving.append(claim_id)
        elif states.claim_allows(current[claim_id], verb):
            moving.append(claim_id)
    _write_statuses(session, dict.fromkeys(moving, target.value))
    return moving


def release_claims(session: Session, claim_ids: Sequence[str]) -> None:
    """The payer answered for these claims: no batch holds them pending any more, so a
    corrected claim can go out again in a new batch."""
    for page in _pages(claim_ids):
        session.execute(
            sa.update(ClaimBatchMember)
            .where(col(ClaimBatchMember.claim_id).in_(page), col(ClaimBatchMember.pending))
            .values(pending=False)
        )


# --- acknowledgements ---


def accept_claims(session: Session, claim_ids: Sequence[str], *, strict: bool = True) -> list[str]:
    """277CA A1/A2: the payer took the claims in."""
    return move_claims(session, claim_ids, ClaimVerb.ACCEPT, strict=strict)


def reject_claims(session: Session, claim_ids: Sequence[str], *, strict: bool = True) -> list[str]:
    """A 999 refused their transaction set, or a 277CA A3/A6/A7/A8 refused them: they leave
    their batch, to be corrected and sent again."""
    moved = move_claims(session, claim_ids, ClaimVerb.REJECT, strict=strict)
    release_claims(session, moved)
    return moved


# --- batches ---


def get_batch(session: Session, actor: Principal, batch_id: str) -> ClaimBatch:
    batch = session.get(ClaimBatch, batch_id)
    if batch is None or batch.organization_id != actor.organization_id:
        raise BatchNotFound(f"No claim batch {batch_id}.")
    return batch


def _move_batch(batch: ClaimBatch, target: BatchStatus) -> None:
    batch.status = states.check_batch(batch.id, batch.status, target).value


def record_download(session: Session, actor: Principal, batch: ClaimBatch) -> None:
    """The first download moves a generated batch to downloaded; every one is audited."""
    if batch.status == BatchStatus.GENERATED:
        _move_batch(batch, BatchStatus.DOWNLOADED)
    batch.downloaded_at = batch.downloaded_at or utcnow()
    session.add(batch)
    audit.record(
        session,
        actor,
        action="export",
        resource_type="claim_batch",
        resource_id=batch.id,
        detail=f"{batch.claim_count} claims, sha256 {batch.sha256[:12]}",
    )
    # The file discloses every patient in it: one row per claim, under its patient, so that a
    # patient's accounting of disclosures (/audit-events?patient_id=) lists the download.
    members = repository.member_claim_ids(session, batch.id)
    audit.record_many(
        session,
        actor,
        action="disclose",  # the file's own row is the "export"
        resource_type="claim",
        rows=sorted(repository.patient_ids(session, members)),
        detail=f"in claim batch file {batch.id}",
    )


def submit_batch(session: Session, actor: Principal, batch_id: str, *, at: datetime) -> ClaimBatch:
    """The clerk sent the file (or a 999 answered it): the batch and its claims are submitted."""
    batch = get_batch(session, actor, batch_id)
    _move_batch(batch, BatchStatus.SUBMITTED)
    batch.submitted_at = at
    session.add(batch)
    claim_ids = repository.member_claim_ids(session, batch.id)
    submitted = move_claims(session, claim_ids, ClaimVerb.SUBMIT, strict=False)
    supersede_originals(session, actor, submitted)
    for page in _pages(claim_ids):
        session.execute(
            sa.update(Claim)
            .where(col(Claim.id).in_(page), col(Claim.first_submitted_at).is_(None))
            .values(first_submitted_at=at)
        )
    audit.record(
        session,
        actor,
        action="update",
        resource_type="claim_batch",
        resource_id=batch.id,
        detail="submitted",
    )
    return batch


def supersede_originals(session: Session, actor: Principal, claim_ids: Sequence[str]) -> None:
    """Replacements (7) and voids (8) just sent: their originals become replaced / voided.
    An original that is not with the payer any more (replaced already) is left as it is."""
    originals: dict[str, list[str]] = {"7": [], "8": []}
    for page in _pages(claim_ids):
        for frequency, original_id in session.execute(
            select(Claim.frequency, Claim.replaces_claim_id).where(
                col(Claim.id).in_(page), col(Claim.replaces_claim_id).is_not(None)
            )
        ):
            if frequency in originals and original_id:
                originals[frequency].append(original_id)
    for frequency, verb in (("7", ClaimVerb.SUPERSEDE), ("8", ClaimVerb.VOID)):
        moved = move_claims(session, sorted(originals[frequency]), verb, strict=False)
        audit.record_many(
            session,
            actor,
            action="update",
            resource_type="claim",
            rows=repository.patient_ids(session, moved),
            detail=f"{states.claim_target(verb)}: its frequency {frequency} claim was submitted",
        )


def cancel_batch(session: Session, actor: Principal, batch_id: str, *, at: datetime) -> ClaimBatch:
    """Before submission only: the claims go back to ready, their primary encounters to ready;
    the control numbers stay burned."""
    batch = get_batch(session, actor, batch_id)
    _move_batch(batch, BatchStatus.CANCELLED)
    batch.cancelled_at = at
    session.add(batch)
    claim_ids = repository.member_claim_ids(session, batch.id)
    session.execute(
        sa.update(ClaimBatchMember)
        .where(col(ClaimBatchMember.batch_id) == batch.id)
        .values(pending=False)
    )
    moved = move_claims(session, claim_ids, ClaimVerb.UNBATCH, strict=False)
    encounters = _primary_encounters(session, moved)
    coding.unbill_encounters(session, encounters)
    _ledger_charges(session, actor.organization_id, actor.user_id, encounters, at)
    audit.record(
        session,
        actor,
        action="update",
        resource_type="claim_batch",
        resource_id=batch.id,
        detail="cancelled",
    )
    return batch


def _primary_encounters(session: Session, claim_ids: Sequence[str]) -> list[str]:
    found: list[str] = []
    for page in _pages(claim_ids):
        found += session.exec(
            select(Claim.encounter_id).where(
                one_of(session, Claim.id, page), Claim.payer_responsibility == "P"
            )
        ).all()
    return sorted(set(found))


def batch_claims(
    session: Session,
    claim_ids: Sequence[str],
    *,
    actor: Principal | None = None,
    at: datetime | None = None,
    ready: bool = False,
) -> None:
    """Claims written into a batch: batched, and their primary encounters billed. The patient
    ledger is charged for the encounters now billed, and a secondary claim sent takes the
    primary's patient share back to insurance (ledger/hooks.py). `ready`: the caller selected
    them as ready in this transaction (locked on PostgreSQL), so their statuses are not read
    again."""
    if ready:
        _write_statuses(
            session, dict.fromkeys(claim_ids, states.claim_target(ClaimVerb.BATCH).value)
        )
    else:
        move_claims(session, claim_ids, ClaimVerb.BATCH)
    encounters = _primary_encounters(session, claim_ids)
    coding.mark_billed(session, encounters)
    if not claim_ids:
        return
    # The ledger's clock is UTC; a batch built at a local wall-clock time (the envelope's
    # date, as the golden files are) leaves the entries the time they are written.
    at = at if at is not None and at.tzinfo is not None else utcnow()
    organization_id = actor.organization_id if actor else _organization_of(session, claim_ids[0])
    actor_id = actor.user_id if actor else "system"
    _ledger_charges(session, organization_id, actor_id, encounters, at)
    day = org_clock.local_date(session, organization_id, at)
    ledger.transfer_to_secondaries(session, organization_id, actor_id, claim_ids, at=at, day=day)


def _organization_of(session: Session, claim_id: str) -> str:
    return session.exec(select(Claim.organization_id).where(Claim.id == claim_id)).one()


def _ledger_charges(
    session: Session, organization_id: str, actor_id: str, encounters: Sequence[str], at: datetime
) -> None:
    if encounters:
        at = at if at.tzinfo is not None else utcnow()
        day = org_clock.local_date(session, organization_id, at)
        ledger.sync_charges(session, organization_id, actor_id, encounters, at=at, day=day)


def acknowledge_batch(
    session: Session, batch: ClaimBatch, target: BatchStatus, *, at: datetime
) -> ClaimBatch:
    """The 999's AK9 answer for a submitted batch."""
    _move_batch(batch, target)
    batch.acknowledged_at = at
    session.add(batch)
    return batch


# --- remittance (835) ---


@dataclass(frozen=True)
class Adjudicated:
    """One 835 CLP posted to a claim: the payer's decision, as secondary claims carry it."""

    claim_id: str
    source_id: str  # the remittance posting
    status_code: str  # CLP02
    charge: Decimal
    paid: Decimal
    payer_claim_number: str
    payment_date: date | None
    # [{group, reason, amount, quantity}] and [{claim_line_id, procedure_code, modifiers,
    # paid, units, adjustments}] (amounts as strings: JSON keeps them exact).
    adjustments: Sequence[dict[str, Any]] = field(default_factory=list)
    lines: Sequence[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Reversed:
    """A CLP02 22 that undoes the posting `undoes` (a source id)."""

    claim_id: str
    source_id: str
    undoes: str | None


@dataclass(frozen=True)
class Moved:
    previous: str
    after: str  # the claim's status once the event is applied
    moved: bool


# Contractual write-offs: what the payer's contract takes off the charge, owed by no one.
WRITE_OFF = frozenset({("CO", "45"), ("CO", "253")})


def _decision(
    status_code: str,
    charge: Decimal,
    paid: Decimal,
    adjustments: Sequence[dict[str, Any]],
    lines: Sequence[dict[str, Any]],
) -> states.Decision:
    patient = written_off = prior = Decimal(0)
    # One pass over the claim's and its lines' CAS (an 835 page decides thousands of claims).
    for group in (adjustments, *(line.get("adjustments") or () for line in lines)):
        for a in group:
            key = (a["group"], a["reason"])
            if key[0] == "PR":
                patient += Decimal(a["amount"])
            elif key in WRITE_OFF:
                written_off += Decimal(a["amount"])
            elif key == ("OA", "23"):
                prior += Decimal(a["amount"])
    return states.Decision(status_code, Decimal(charge), Decimal(paid), patient, written_off, prior)


def _active_decisions(
    session: Session, claim_ids: Sequence[str]
) -> tuple[dict[str, dict[str, states.Decision]], dict[str, str]]:
    """Per claim, its active (not cleared) decisions in the order they were recorded, and the
    status it had before the first of them (what clearing them all restores)."""
    active: dict[str, dict[str, states.Decision]] = {}
    base: dict[str, str] = {}
    for page in _pages(claim_ids):
        for row in session.exec(
            select(PayerAdjudication)
            .where(
                col(PayerAdjudication.claim_id).in_(page),
                col(PayerAdjudication.cleared_by).is_(None),
            )
            .order_by(col(PayerAdjudication.recorded_at), col(PayerAdjudication.id))
        ):
            active.setdefault(row.claim_id, {})[row.source_id] = _decision(
                row.status_code, row.charge, row.paid, row.adjustments, row.lines
            )
            base.setdefault(row.claim_id, row.previous_status)
    return active, base


def record_adjudications(
    session: Session,
    organization_id: str,
    events: Sequence[Adjudicated | Reversed],
    *,
    at: datetime,
) -> list[Moved]:
    """Applies one file's CLPs in their order: each decision is stored on a claim-owned row,
    and the claim takes the status all its active decisions make together (a payer may split
    a claim into several CLPs; see states.adjudicated_status); a reversal clears the row it
    undoes, and the claim takes the status its remaining decisions make, or, with none left,
    the one it had before the first. A move the state table refuses (a payment for a claim in
    draft, say) stores the decision and leaves the status. Returns, per event, the claim's
    status before and after."""
    claim_ids = sorted({e.claim_id for e in events})
    current = _statuses(session, claim_ids)
    initial = dict(current)
    active, base = _active_decisions(session, claim_ids)
    rows: list[dict[str, Any]] = []
    cleared: dict[str, str] = {}
    results: list[Moved] = []
    for event in events:
        before = current[event.claim_id]
        decisions = active.setdefault(event.claim_id, {})
        target: str | None = None
        if isinstance(event, Adjudicated):
            rows.append(
                {
                    "id": new_id(),
                    "organization_id": organization_id,
                    "claim_id": event.claim_id,
                    "source_id": event.source_id,
                    "status_code": event.status_code,
                    "charge": event.charge,
                    "paid": event.paid,
                    "payer_claim_number": event.payer_claim_number,
                    "payment_date": event.payment_date,
                    "previous_status": before,
                    "adjustments": event.adjustments,
                    "lines": event.lines,
                    "recorded_at": at,
                    "cleared_by": None,
                }
            )
            if not decisions:
                base[event.claim_id] = before
            decisions[event.source_id] = _decision(
                event.status_code, event.charge, event.paid, event.adjustments, event.lines
            )
        elif event.undoes and decisions.pop(event.undoes, None) is not None:
            cleared[event.undoes] = event.source_id
            if not decisions:
                target = base.get(event.claim_id)
        if decisions and (isinstance(event, Adjudicated) or event.undoes in cleared):
            target = states.adjudicated_status(list(decisions.values())).value
        verb = ClaimVerb.ADJUDICATE if isinstance(event, Adjudicated) else ClaimVerb.REVERSE
        moves = target is not None and target != before and states.claim_allows(before, verb)
        if moves and target is not None:
            current[event.claim_id] = target
        results.append(Moved(before, current[event.claim_id], moves))
    bulk.insert_rows(session, _ADJUDICATION, rows)  # complete rows: the driver's executemany
    for source_id, reversal_id in cleared.items():
        session.execute(
            sa.update(PayerAdjudication)
            .where(col(PayerAdjudication.source_id) == source_id)
            .values(cleared_by=reversal_id)
        )
    _write_statuses(session, {c: s for c, s in current.items() if s != initial[c]})
    release_claims(session, claim_ids)
    remember_payer_claim_numbers(session, [e for e in events if isinstance(e, Adjudicated)])
    return results


def remember_payer_claim_numbers(session: Session, events: Sequence[Adjudicated]) -> None:
    """The 835's CLP07 becomes the claim's payer claim number (what a replacement or void
    sends in REF*F8; the last CLP wins). A replacement or void keeps the number it was sent
    with: its own CLP07 is read from its adjudication when it is corrected in turn."""
    latest = {e.claim_id: e.payer_claim_number for e in events if e.payer_claim_number}
    table = Claim.__table__  # type: ignore[attr-defined]
    bulk.set_by_id(session, table.c.payer_claim_number, latest, table.c.frequency == "1")


def _waiting_secondaries(
    session: Session, organization_id: str, claim_ids: Sequence[str], waiting: Sequence[str]
) -> dict[str, str]:
    """Claim id -> patient id of the non-primary claims, in one of the `waiting` statuses, of
    the encounters these (primary) claims bill."""
    found: dict[str, str] = {}
    for page in _pages(claim_ids):
        answered = select(Claim.encounter_id).where(col(Claim.id).in_(page))
        found.update(
            session.exec(
                select(Claim.id, Claim.patient_id).where(
                    Claim.organization_id == organization_id,
                    col(Claim.encounter_id).in_(answered),
                    col(Claim.status).in_(waiting),
                    Claim.payer_responsibility != "P",
                )
            ).all()
        )
    return found


def hold_crossed_over_secondaries(
    session: Session, actor: Principal, claim_ids: Sequence[str]
) -> list[str]:
    """The primary payer forwarded these claims to the next payer itself (a crossover): the
    secondary claims waiting for them are held in forwarded, not sent a second time."""
    waiting = _waiting_secondaries(
        session, actor.organization_id, claim_ids, (ClaimStatus.DRAFT, ClaimStatus.READY)
    )
    held = move_claims(session, sorted(waiting), ClaimVerb.FORWARD, strict=False)
    audit.record_many(
        session,
        actor,
        action="update",
        resource_type="claim",
        rows=[(claim_id, waiting[claim_id]) for claim_id in held],
        detail="crossed over by the primary payer: forwarded, held until released",
    )
    return held


def rescrub_waiting_secondaries(
    session: Session, actor: Principal, claim_ids: Sequence[str], *, today: date
) -> None:
    """A secondary claim waits in draft (`primary-adjudication-missing`) until the primary's
    835 is posted: scrub the drafts of the paid encounters again, so that they turn ready."""
    waiting = _waiting_secondaries(session, actor.organization_id, claim_ids, (ClaimStatus.DRAFT,))
    if not waiting:
        return
    ready = set(logic.rescrub_claims(session, sorted(waiting), today=today))
    audit.record_many(
        session,
        actor,
        action="update",
        resource_type="claim",
        rows=[(claim_id, waiting[claim_id]) for claim_id in sorted(ready)],
        detail="scrubbed again after the primary payer's 835: ready",
    )
