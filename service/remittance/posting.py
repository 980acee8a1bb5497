"""Posting an 835 (005010X221A1): payments, claims, lines, CAS adjustments and PLB.

Each CLP is matched to our claim by CLP01 = CLM01; each SVC to our line by REF*6R, else by
code + service date + charge (the method is recorded). What matches nothing is still posted,
with no claim or line, and shows in the file's unmatched queue: nothing is dropped.
Each matched CLP is handed to claims.verbs.record_adjudications, which keeps the payer's
decision on a claim-owned row and moves the claim (CLP02 4 denied; paid >= charge paid; else
partially paid); a reversal (CLP02 22) names the posting it undoes (same CLP07 when it can be
found) and claims restore the status the claim had before it. A crossover (CLP02 19-21, or
MOA/MIA MA18 or N89) holds the encounter's waiting secondary claim in forwarded. A PLB whose
reference (PLB03-2) names one of our claims (its CLM01, or a payer claim number CLP07 we
posted) is tied to that claim; one naming none is listed as unmatched, on the payment all the
same. The caller's transaction makes the whole file one unit.
"""

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service import bulk, org_clock
from service.audit import logic as audit
from service.auth.logic import Principal
from service.claims import repository as claim_repository
from service.claims import verbs as claim_verbs
from service.claims.repository import ClaimRef, LineRef
from service.ids import new_id
from service.ledger import hooks as ledger
from service.outbox import events as outbox
from service.remittance import denials
from service.remittance.errors import PaymentAlreadyPosted
from service.remittance.models import (
    ClaimPosting,
    LinePosting,
    PostedAdjustment,
    ProviderAdjustment,
    RemittancePayment,
)
from service.remittance.x12.advice835 import (
    Adjustment,
    ClaimPayment,
    Payment,
    ServicePayment,
)
from service.schemas_common import money_text

PAGE = 500
CLAIM_PAGE = 2000  # claims posted at a time by default: memory holds one page of them
_CLAIM_POSTING: sa.Table = ClaimPosting.__table__  # type: ignore[attr-defined]
_LINE_POSTING: sa.Table = LinePosting.__table__  # type: ignore[attr-defined]
_ADJUSTMENT: sa.Table = PostedAdjustment.__table__  # type: ignore[attr-defined]


@dataclass
class _Active:
    """A posting that a reversal could still undo."""

    id: str
    payer_claim_number: str
    paid: Decimal
    stored: bool  # True: in the database already (needs an UPDATE when reversed)


@dataclass
class _Rows:
    claims: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    reversed_stored: dict[str, str] = field(default_factory=dict)  # posting id -> reversal id
    # What claims are told, in file order, and the posting row each one belongs to.
    events: list[claim_verbs.Adjudicated | claim_verbs.Reversed] = field(default_factory=list)
    event_rows: list[dict[str, Any]] = field(default_factory=list)
    crossovers: set[str] = field(default_factory=set)  # claims the payer forwarded itself


def _pages(values: list[str]) -> list[list[str]]:
    return [values[i : i + PAGE] for i in range(0, len(values), PAGE)]


def _load_active(session: Session, claim_ids: list[str]) -> dict[str, list[_Active]]:
    found: dict[str, list[_Active]] = defaultdict(list)
    for page in _pages(claim_ids):
        for row in session.execute(
            sa.select(
                col(ClaimPosting.claim_id),
                col(ClaimPosting.id),
                col(ClaimPosting.payer_claim_number),
                col(ClaimPosting.paid),
            )
            .where(
                col(ClaimPosting.claim_id).in_(page),
                col(ClaimPosting.reversed_by).is_(None),
                col(ClaimPosting.reverses).is_(None),
                col(ClaimPosting.status_code) != "22",
            )
            .order_by(col(ClaimPosting.posted_at), col(ClaimPosting.id))
        ):
            found[row[0]].append(_Active(row[1], row[2], Decimal(row[3]), stored=True))
    return found


def _match_line(
    service: ServicePayment, lines: list[LineRef], used: set[str]
) -> tuple[LineRef | None, str]:
    control = service.line_item_control_number
    if control:
        for line in lines:
            if line.control == control and line.id not in used:
                return line, "line_control_number"
    codes = {service.procedure.code}
    if service.original_procedure is not None:
        codes.add(service.original_procedure.code)
    for line in lines:
        if (
            line.id not in used
            and line.code in codes
            and line.charge == abs(service.charge)
            and service.service_date_from in (None, line.service_date)
        ):
            return line, "code_date_charge"
    return None, "unmatched"


def _adjustment_rows(
    organization_id: str,
    posting_id: str,
    line_posting_id: str | None,
    adjustments: list[Adjustment],
) -> list[dict[str, Any]]:
    return [
        {
            "id": new_id(),
            "organization_id": organization_id,
            "claim_posting_id": posting_id,
            "line_posting_id": line_posting_id,
            "group_code": a.group,
            "reason": a.reason[:5],
            "amount": a.amount,
            "quantity": a.quantity,
        }
        for a in adjustments
    ]


def post_835(
    session: Session,
    actor: Principal,
    file_id: str,
    payments: Sequence[Payment],
    claims: Iterable[tuple[int, ClaimPayment]],
    *,
    at: datetime,
    page: int = CLAIM_PAGE,
) -> dict[str, Any]:
    """Posts the payments (their headers, PLB) and then their claims, given as (index of the
    payment, claim) in file order: a page of `page` claims is matched, posted and applied at
    a time, so a file of any size is never in memory (read_835 streams the claims)."""
    if page < 1:
        raise ValueError("page must be at least 1 claim")
    organization_id = actor.organization_id
    for payment in payments:
        _refuse_posted_twice(session, organization_id, payment)
    summary: dict[str, Any] = {
        "kind": "835",
        "payments": [],
        "claims": 0,
        "claims_matched": 0,
        "claims_unmatched": 0,
        "lines_unmatched": 0,
        "reversals": 0,
        "reversals_without_posting": [],
        "statuses": defaultdict(int),
        "paid": Decimal(0),
        "provider_adjustments_unmatched": [],
    }
    plb_claims = _plb_claims(session, organization_id, payments)
    today = org_clock.local_date(session, organization_id, at)
    payment_ids = [
        _insert_payment(session, actor, file_id, p, plb_claims, summary, at=at, day=today)
        for p in payments
    ]
    for payment, payment_id in zip(payments, payment_ids, strict=True):
        plb_total = sum((p.amount for p in payment.provider_adjustments), Decimal(0))
        summary["payments"].append(
            {
                "payment_id": payment_id,
                "trace_number": payment.trace_number,
                "payer": payment.payer.name if payment.payer else "",
                "paid_amount": money_text(payment.paid_amount),
                "payment_date": payment.payment_date.isoformat() if payment.payment_date else None,
                "claims": payment.claim_count,
                "provider_adjustments": money_text(plb_total),
            }
        )
    touched: set[str] = set()  # claim ids, for the secondaries waiting on them
    stream = iter(claims)
    while claim_page := list(itertools.islice(stream, page)):
        _post_page(
            session, actor, summary, touched, claim_page, payments, payment_ids, file_id, at, today
        )
    claim_verbs.rescrub_waiting_secondaries(session, actor, sorted(touched), today=today)
    outbox.emit(session, organization_id, "remittance.posted", file_id, claims=len(touched))
    summary["statuses"] = dict(summary["statuses"])
    summary["paid"] = money_text(summary["paid"])
    return summary


def _insert_payment(
    session: Session,
    actor: Principal,
    file_id: str,
    payment: Payment,
    plb_claims: dict[str, str],
    summary: dict[str, Any],
    *,
    at: datetime,
    day: date,
) -> str:
    """The payment row and its PLB rows (tied to the claim their reference names; listed as
    unmatched in the summary when it names none of ours; a recoupment of ours on the patient
    ledger); the payment's id."""
    organization_id = actor.organization_id
    payment_id = new_id()
    plb_total = sum((p.amount for p in payment.provider_adjustments), Decimal(0))
    try:
        with session.begin_nested():
            session.execute(
                sa.insert(RemittancePayment).values(
                    id=payment_id,
                    organization_id=organization_id,
                    file_id=file_id,
                    st_control_number=payment.control_number[:9],
                    trace_number=payment.trace_number[:50],
                    trace_originator=payment.trace_originator[:10],
                    payer_name=(payment.payer.name if payment.payer else "")[:60],
                    payer_identifier=payment.payer_id[:80],
                    payee_npi=payment.payee.npi if payment.payee else None,
                    handling_code=payment.handling_code,
                    credit_debit=payment.credit_debit,
                    payment_method=payment.payment_method,
                    paid_amount=payment.paid_amount,
                    payment_date=payment.payment_date,
                    claim_count=payment.claim_count,
                    provider_adjustment_total=plb_total,
                )
            )
    except IntegrityError:  # the same payment, posted by an upload that committed meanwhile
        raise PaymentAlreadyPosted(
            f"Payment {payment.trace_number} was posted already (or twice in this file); "
            "nothing was posted."
        ) from None
    plb = [
        {
            "id": new_id(),
            "organization_id": organization_id,
            "payment_id": payment_id,
            "provider_identifier": p.provider_id[:50],
            "fiscal_period_end": p.fiscal_period_end,
            "reason": p.reason[:2],
            "reference": p.reference[:50],
            "amount": p.amount,
            "claim_id": plb_claims.get(p.reference),
        }
        for p in payment.provider_adjustments
    ]
    summary["provider_adjustments_unmatched"] += [
        {
            "reason": p["reason"],
            "reference": p["reference"],
            "amount": money_text(Decimal(str(p["amount"]))),
        }
        for p in plb
        if p["reference"] and p["claim_id"] is None
    ]
    if plb:
        session.execute(sa.insert(ProviderAdjustment), plb)
        ledger.post_recoupments(
            session, organization_id, actor.user_id, payment_id, plb, at=at, day=day
        )
    return payment_id


def _post_page(
    session: Session,
    actor: Principal,
    summary: dict[str, Any],
    touched: set[str],
    page: Sequence[tuple[int, ClaimPayment]],
    payments: Sequence[Payment],
    payment_ids: Sequence[str],
    file_id: str,
    at: datetime,
    day: date,
) -> None:
    """Matches, posts and applies one page of claims. What earlier pages wrote is in the
    database already: their postings load as stored ones, which a reversal here can undo."""
    organization_id = actor.organization_id
    pcns = sorted({clp.patient_control_number for _, clp in page})
    claims, lines = claim_repository.claims_and_lines_by_control_number(
        session, organization_id, pcns
    )
    claim_ids = sorted(lines)
    active = _load_active(session, claim_ids)
    rows = _Rows()
    audited: dict[str, str | None] = {}
    for index, clp in page:
        ours = claims.get(clp.patient_control_number)
        _post_claim(
            rows,
            summary,
            active,
            lines,
            ours,
            clp,
            payments[index],
            payment_ids[index],
            file_id,
            organization_id,
            at,
        )
        if ours is not None and ours.id not in touched:
            touched.add(ours.id)
            audited[ours.id] = ours.patient_id
    moved = claim_verbs.record_adjudications(session, organization_id, rows.events, at=at)
    for row, move in zip(rows.event_rows, moved, strict=True):
        row["previous_status"], row["status_after"] = move.previous, move.after
        summary["statuses"][move.after] += 1
    _write(session, rows)
    # The patient ledger and the denial work queue, in the same transaction as the postings.
    ledger.post_remittance(
        session, organization_id, actor.user_id, rows.claims, rows.adjustments, at=at, day=day
    )
    denials.open_items(
        session, organization_id, rows.claims, rows.lines, rows.adjustments, at=at, day=day
    )
    if rows.crossovers:
        claim_verbs.hold_crossed_over_secondaries(session, actor, sorted(rows.crossovers))
    audit.record_many(
        session,
        actor,
        action="update",
        resource_type="claim",
        rows=list(audited.items()),
        detail="835 posted",
    )


def _plb_claims(
    session: Session, organization_id: str, payments: Sequence[Payment]
) -> dict[str, str]:
    """PLB03-2 reference -> our claim id: a patient control number (CLM01, as CLP01 echoes
    it), else a payer claim number (CLP07) one of our claims was posted under."""
    references = sorted({p.reference for pay in payments for p in pay.provider_adjustments} - {""})
    if not references:
        return {}
    found = {
        pcn: ref.id
        for pcn, ref in claim_repository.claims_by_control_number(
            session, organization_id, references
        ).items()
    }
    missing = [r for r in references if r not in found]
    for page in _pages(missing):
        for number, claim_id in session.execute(
            sa.select(col(ClaimPosting.payer_claim_number), col(ClaimPosting.claim_id))
            .where(
                col(ClaimPosting.organization_id) == organization_id,
                col(ClaimPosting.payer_claim_number).in_(page),
                col(ClaimPosting.claim_id).is_not(None),
            )
            .order_by(col(ClaimPosting.posted_at))
        ):
            found[number] = claim_id
    return found


def _refuse_posted_twice(session: Session, organization_id: str, payment: Payment) -> None:
    """The same payment (TRN02 + TRN03) from a different file (re-sent, re-enveloped)."""
    earlier = session.exec(
        select(RemittancePayment.file_id).where(
            RemittancePayment.organization_id == organization_id,
            RemittancePayment.trace_number == payment.trace_number[:50],
            RemittancePayment.trace_originator == payment.trace_originator[:10],
        )
    ).first()
    if earlier is not None:
        raise PaymentAlreadyPosted(
            f"Payment {payment.trace_number} was posted already from remittance file "
            f"{earlier}; nothing was posted."
        )


def _money(value: Decimal) -> str:
    return str(value)


def _adjustment_values(adjustments: list[Adjustment]) -> tuple[dict[str, Any], ...]:
    # A tuple: none is the one empty tuple, whose JSON bulk.py writes once for every row.
    return tuple(
        {
            "group": a.group,
            "reason": a.reason[:5],
            "amount": _money(a.amount),
            "quantity": None if a.quantity is None else str(a.quantity),
        }
        for a in adjustments
    )


def _post_claim(
    rows: _Rows,
    summary: dict[str, Any],
    active: dict[str, list[_Active]],
    lines: dict[str, list[LineRef]],
    ours: ClaimRef | None,
    clp: ClaimPayment,
    payment: Payment,
    payment_id: str,
    file_id: str,
    organization_id: str,
    at: datetime,
) -> None:
    posting_id = new_id()
    summary["claims"] += 1
    summary["paid"] += clp.paid
    reverses: str | None = None
    event: claim_verbs.Adjudicated | claim_verbs.Reversed | None = None
    if clp.is_reversal:
        summary["reversals"] += 1
        if ours is not None:
            undone = _undo(rows, active[ours.id], clp, posting_id)
            if undone is None:
                summary["reversals_without_posting"].append(clp.patient_control_number)
            else:
                reverses = undone.id
                event = claim_verbs.Reversed(ours.id, posting_id, undoes=undone.id)
    elif ours is not None:
        active[ours.id].append(
            _Active(posting_id, clp.payer_claim_control_number, clp.paid, stored=False)
        )
    if ours is None:
        summary["claims_unmatched"] += 1
    else:
        summary["claims_matched"] += 1
    posting = {
        "id": posting_id,
        "organization_id": organization_id,
        "file_id": file_id,
        "payment_id": payment_id,
        "claim_id": ours.id if ours else None,
        "matched": ours is not None,
        "patient_control_number": clp.patient_control_number[:50],
        "status_code": clp.status_code,
        "charge": clp.charge,
        "paid": clp.paid,
        "patient_responsibility": clp.patient_responsibility or Decimal(0),
        "payer_claim_number": clp.payer_claim_control_number[:50],
        "filing_indicator": clp.filing_indicator[:2],
        "payment_date": payment.payment_date,
        "previous_status": ours.status if ours else None,
        "status_after": None,
        "reversed_by": None,
        "reverses": reverses,
        "posted_at": at,
        "remark_codes": tuple(clp.remark_codes),
    }
    rows.claims.append(posting)
    rows.adjustments += _adjustment_rows(organization_id, posting_id, None, clp.adjustments)
    candidates = lines.get(ours.id, []) if ours else []
    used: set[str] = set()
    decided_lines: list[dict[str, Any]] = []
    for service in clp.lines:
        line, method = _match_line(service, candidates, used)
        if line is not None:
            used.add(line.id)
            decided_lines.append(
                {
                    "claim_line_id": line.id,
                    "procedure_code": service.procedure.code[:48],
                    "modifiers": list(service.procedure.modifiers),
                    "paid": _money(service.paid),
                    "units": None if service.units is None else str(service.units),
                    "adjustments": _adjustment_values(service.adjustments),
                }
            )
        elif ours is not None:
            summary["lines_unmatched"] += 1
        line_posting_id = new_id()
        rows.lines.append(
            {
                "id": line_posting_id,
                "organization_id": organization_id,
                "claim_posting_id": posting_id,
                "claim_line_id": line.id if line else None,
                "match_method": method,
                "line_control_number": service.line_item_control_number[:50] or None,
                "procedure_code": service.procedure.code[:48],
                "modifiers": service.procedure.modifiers,
                "service_date": service.service_date_from,
                "charge": service.charge,
                "paid": service.paid,
                "units": service.units,
                "remark_codes": tuple(service.remark_codes),
            }
        )
        rows.adjustments += _adjustment_rows(
            organization_id, posting_id, line_posting_id, service.adjustments
        )
    if ours is not None and not clp.is_reversal:
        event = claim_verbs.Adjudicated(
            claim_id=ours.id,
            source_id=posting_id,
            status_code=clp.status_code,
            charge=clp.charge,
            paid=clp.paid,
            payer_claim_number=clp.payer_claim_control_number[:50],
            payment_date=payment.payment_date,
            adjustments=_adjustment_values(clp.adjustments),
            lines=decided_lines,
        )
        if clp.is_crossover:
            rows.crossovers.add(ours.id)
    if event is not None:
        rows.events.append(event)
        rows.event_rows.append(posting)


def _undo(
    rows: _Rows, candidates: list[_Active], clp: ClaimPayment, reversal_id: str
) -> _Active | None:
    """The posting a reversal undoes: same CLP07 and the negated amount, else same CLP07,
    else the latest."""
    choice = next(
        (
            a
            for a in reversed(candidates)
            if a.payer_claim_number == clp.payer_claim_control_number and a.paid == -clp.paid
        ),
        None,
    ) or next(
        (a for a in reversed(candidates) if a.payer_claim_number == clp.payer_claim_control_number),
        None,
    )
    if choice is None and candidates:
        choice = candidates[-1]
    if choice is None:
        return None
    candidates.remove(choice)
    if choice.stored:
        rows.reversed_stored[choice.id] = reversal_id
    else:
        posted = next(r for r in rows.claims if r["id"] == choice.id)
        posted["reversed_by"] = reversal_id
    return choice


def _write(session: Session, rows: _Rows) -> None:
    # The rows are complete dicts: the driver's executemany takes them (service/bulk.py).
    for table, values in (
        (_CLAIM_POSTING, rows.claims),
        (_LINE_POSTING, rows.lines),
        (_ADJUSTMENT, rows.adjustments),
    ):
        bulk.insert_rows(session, table, values)
    for posting_id, reversal_id in rows.reversed_stored.items():
        session.execute(
            sa.update(ClaimPosting)
            .where(col(ClaimPosting.id) == posting_id)
            .values(reversed_by=reversal_id)
        )


__all__ = ["post_835"]
