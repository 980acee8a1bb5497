"""The denials work queue: denied and partially paid lines grouped by CARC (and RARC), and
the items a biller works one by one (DESIGN.md DenialItem).

Adjustments of active postings (not reversed) whose claim was denied or partially paid, except
patient responsibility (PR: bill the patient) and contractual write-offs (CO 45, CO 253),
grouped by group code + CARC + the line's RARCs, each with the action a biller usually takes.
The same adjustments, per claim line (or claim) and CARC, become DenialItems when the 835 posts
(open_items): an owner, notes, a follow-up date and a status with its history; a write-off is a
ledger entry; a reversal of the 835 closes them.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.auth.logic import Principal
from service.auth.models import AppUser
from service.claims import repository as claim_repository
from service.codesets import logic as codeset_logic
from service.errors import Conflict, DomainError, InvalidInput, NotFound
from service.filters import Filter, apply_filters
from service.ids import new_id
from service.ledger import logic as ledger
from service.ledger import repository as ledger_repository
from service.remittance.models import (
    DENIAL_STATUSES,
    ClaimPosting,
    DenialItem,
    LinePosting,
    PostedAdjustment,
)
from service.schemas_common import money_text

WRITE_OFF = {("CO", "45"), ("CO", "253")}
MAX_ITEMS = 100

# CARC -> (action, note). Actions: correct_and_resubmit, replacement (frequency 7, REF*F8 =
# CLP07), void (frequency 8), appeal, bill_other_payer, review.
_ACTIONS: dict[str, tuple[str, str]] = {
    "4": (
        "replacement",
        "Procedure and modifier do not agree: fix the modifier and send a "
        "replacement claim (frequency 7, REF*F8 = the payer claim number).",
    ),
    "11": (
        "replacement",
        "Diagnosis inconsistent with the procedure: correct the diagnosis "
        "pointers and send a replacement claim (frequency 7, REF*F8 = CLP07).",
    ),
    "16": (
        "correct_and_resubmit",
        "Claim lacks information (see the RARC): add it and resubmit "
        "as a replacement claim (frequency 7, REF*F8 = CLP07).",
    ),
    "18": (
        "void",
        "Duplicate claim: if the claim was sent twice in error, void the duplicate "
        "(frequency 8, REF*F8 = CLP07); otherwise no action.",
    ),
    "22": (
        "bill_other_payer",
        "Another payer is primary (coordination of benefits): bill the "
        "primary payer first, then this one as secondary.",
    ),
    "27": (
        "bill_other_payer",
        "Coverage ended before the date of service: check eligibility and "
        "bill the right payer or the patient.",
    ),
    "29": (
        "appeal",
        "Timely filing limit passed: appeal with proof of timely submission (999 "
        "and 277CA acceptance).",
    ),
    "31": (
        "correct_and_resubmit",
        "Patient not identified as the insured: correct the member id or subscriber and resubmit.",
    ),
    "50": ("appeal", "Not medically necessary: appeal with clinical documentation."),
    "96": (
        "appeal",
        "Non-covered charge: appeal if covered, else bill the patient (with an "
        "advance beneficiary notice on file).",
    ),
    "97": (
        "appeal",
        "Bundled into another service: review NCCI edits; appeal, or send a "
        "replacement with the right modifier (frequency 7).",
    ),
    "109": ("bill_other_payer", "Not covered by this payer: bill the correct payer."),
    "151": ("appeal", "Frequency or number of services not supported: appeal with documentation."),
    "197": (
        "appeal",
        "Precertification or authorization absent: appeal with the "
        "authorization (REF*G1), or a replacement claim carrying it (frequency 7).",
    ),
    "204": (
        "bill_other_payer",
        "Not covered under the current benefit plan: bill the patient or another payer.",
    ),
}
_DEFAULT = (
    "review",
    "Review the remittance and the claim: correct and send a replacement "
    "(frequency 7, REF*F8 = CLP07: POST /api/v1/claims/{claim_id}/replacement), void it "
    "(frequency 8: POST /api/v1/claims/{claim_id}/void), or appeal.",
)


# The claims routes that carry out an action (the claim's id goes in the path).
_ROUTES = {
    "replacement": "POST /api/v1/claims/{claim_id}/replacement",
    "void": "POST /api/v1/claims/{claim_id}/void",
    "correct_and_resubmit": "POST /api/v1/claims/{claim_id}/replacement",
}


def suggested_action(group: str, reason: str) -> dict[str, str]:
    action, note = _ACTIONS.get(reason, _DEFAULT)
    suggestion = {"action": action, "note": note}
    if action in _ROUTES:
        suggestion["route"] = _ROUTES[action]
    return suggestion


@dataclass
class _Group:
    group: str
    reason: str
    remark_codes: tuple[str, ...]
    amount: Decimal = Decimal(0)
    adjustments: int = 0
    claims: set[str] = field(default_factory=set)
    lines: set[str] = field(default_factory=set)
    items: list[dict[str, Any]] = field(default_factory=list)


DENIAL_FILTERS = (
    Filter("date_from", ClaimPosting.payment_date, "ge"),
    Filter("date_to", ClaimPosting.payment_date, "le"),
)


def denials(
    session: Session,
    organization_id: str,
    *,
    payer_id: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[dict[str, Any]]:
    query = (
        select(PostedAdjustment, ClaimPosting, LinePosting)
        .join(ClaimPosting, col(ClaimPosting.id) == col(PostedAdjustment.claim_posting_id))
        .outerjoin(LinePosting, col(LinePosting.id) == col(PostedAdjustment.line_posting_id))
        .where(
            PostedAdjustment.organization_id == organization_id,
            col(ClaimPosting.status_after).in_(("denied", "partially_paid")),
            col(ClaimPosting.reversed_by).is_(None),
            col(ClaimPosting.status_code) != "22",  # a reversal is not a denial
            col(PostedAdjustment.group_code) != "PR",
            col(ClaimPosting.claim_id).is_not(None),
        )
        .order_by(col(PostedAdjustment.id))
    )
    query = apply_filters(query, {"date_from": date_from, "date_to": date_to}, DENIAL_FILTERS)
    groups: dict[tuple[str, str, tuple[str, ...]], _Group] = {}
    rows = list(session.exec(query))
    claims = claim_repository.claims_by_id(
        session, organization_id, (posting.claim_id or "" for _, posting, _ in rows)
    )
    for adjustment, posting, line in rows:
        claim = claims.get(posting.claim_id or "")
        if claim is None or (payer_id and claim.payer_id != payer_id):
            continue
        if (adjustment.group_code, adjustment.reason) in WRITE_OFF:
            continue
        if line is not None and line.paid >= line.charge:
            continue  # the line itself was paid in full
        remarks = tuple(sorted(line.remark_codes)) if line is not None else ()
        key = (adjustment.group_code, adjustment.reason, remarks)
        found = groups.get(key) or groups.setdefault(key, _Group(*key))
        found.amount += Decimal(adjustment.amount)
        found.adjustments += 1
        found.claims.add(claim.id)
        if line is not None:
            found.lines.add(line.id)
        if len(found.items) < MAX_ITEMS:
            found.items.append(
                {
                    "claim_id": claim.id,
                    "patient_control_number": claim.patient_control_number,
                    "payer_id": claim.payer_id,
                    "claim_status": claim.status,
                    "payer_claim_number": posting.payer_claim_number,
                    "payment_date": posting.payment_date,
                    "claim_line_id": line.claim_line_id if line else None,
                    "procedure_code": line.procedure_code if line else None,
                    "amount": Decimal(adjustment.amount),
                }
            )
    ordered = sorted(groups.values(), key=lambda g: (-g.amount, g.group, g.reason))
    return [
        {
            "group_code": g.group,
            "reason": g.reason,
            "remark_codes": list(g.remark_codes),
            "adjustment_count": g.adjustments,
            "claim_count": len(g.claims),
            "line_count": len(g.lines),
            "amount": g.amount,
            "suggested_action": suggested_action(g.group, g.reason),
            "items": g.items,
        }
        for g in ordered
    ]


# --- the work queue: one item per denied line (or claim) and CARC ----------------------------

WORKABLE = frozenset({"denied", "partially_paid"})
FINAL = frozenset({"written_off", "closed"})
# What a person may set with PATCH; written_off comes only with the write-off (a ledger entry).
SETTABLE = frozenset(DENIAL_STATUSES) - {"written_off"}


class DenialItemNotFound(NotFound):
    code = "denial-item-not-found"


class DenialItemClosed(Conflict):
    code = "denial-item-closed"


def _money(value: Any) -> Decimal:
    return Decimal(str(value))


def open_items(
    session: Session,
    organization_id: str,
    postings: Sequence[dict[str, Any]],
    lines: Sequence[dict[str, Any]],
    adjustments: Sequence[dict[str, Any]],
    *,
    at: datetime,
    day: date,
) -> None:
    """The items of one page of 835 postings (rows as posting.py inserts them): the denied
    adjustments of the denials queue above, per line and CARC; and the items of the postings
    a reversal undoes, closed."""
    undone = [p["reverses"] for p in postings if p["reverses"] is not None]
    if undone:
        _close_reversed(session, undone, at)
    workable = {
        p["id"]: p
        for p in postings
        if p["claim_id"] is not None
        and p["reverses"] is None
        and p["status_code"] != "22"
        and p["status_after"] in WORKABLE
    }
    if not workable:
        return
    line_of = {ln["id"]: ln for ln in lines}
    amounts: dict[tuple[str, str | None, str, str], Decimal] = defaultdict(Decimal)
    for a in adjustments:
        if a["claim_posting_id"] not in workable or a["group_code"] == "PR":
            continue
        if (a["group_code"], a["reason"]) in WRITE_OFF:
            continue
        line = line_of.get(a["line_posting_id"] or "")
        if line is not None and _money(line["paid"]) >= _money(line["charge"]):
            continue  # the line itself was paid in full
        key = (a["claim_posting_id"], a["line_posting_id"], a["group_code"], a["reason"])
        amounts[key] += _money(a["amount"])
    # Only the claims that have an item: most partially paid claims have none.
    claims = claim_repository.claims_by_id(
        session,
        organization_id,
        {workable[key[0]]["claim_id"] for key, amount in amounts.items() if amount > 0},
    )
    rows = []
    for (posting_id, line_posting_id, group, reason), amount in amounts.items():
        if amount <= 0:
            continue
        posting = workable[posting_id]
        claim = claims[posting["claim_id"]]
        line = line_of.get(line_posting_id or "")
        rows.append(
            {
                "id": new_id(),
                "organization_id": organization_id,
                "created_at": at,
                "updated_at": at,
                "version": 1,
                "claim_id": claim.id,
                "claim_line_id": line["claim_line_id"] if line else None,
                "claim_posting_id": posting_id,
                "line_posting_id": line_posting_id,
                "patient_id": claim.patient_id,
                "encounter_id": claim.encounter_id,
                "payer_id": claim.payer_id,
                "group_code": group,
                "reason": reason,
                "remark_codes": sorted(line["remark_codes"]) if line else [],
                "procedure_code": line["procedure_code"] if line else None,
                "amount": amount,
                "denied_date": posting["payment_date"] or day,
                "status": "open",
                "owner_id": None,
                "follow_up_date": None,
                "notes": None,
                "history": [
                    {
                        "at": at.isoformat(),
                        "actor": "system",
                        "action": "opened",
                        "status": "open",
                        "note": "835 posted",
                    }
                ],
                "write_off_entry_id": None,
            }
        )
    if rows:
        session.execute(sa.insert(DenialItem), rows)


def _close_reversed(session: Session, posting_ids: list[str], at: datetime) -> None:
    for item in session.exec(
        select(DenialItem).where(
            col(DenialItem.claim_posting_id).in_(posting_ids),
            col(DenialItem.status).not_in(FINAL),
        )
    ):
        _change(item, "system", at, action="closed", status="closed", note="835 reversed")
        session.add(item)


def _change(item: DenialItem, actor_id: str, at: datetime, **event: Any) -> None:
    if "status" in event:
        item.status = event["status"]
    item.history = [*item.history, {"at": at.isoformat(), "actor": actor_id, **event}]
    item.updated_at = at
    item.version += 1


def get_item(session: Session, actor: Principal, item_id: str) -> DenialItem:
    item = session.get(DenialItem, item_id)
    if item is None or item.organization_id != actor.organization_id:
        raise DenialItemNotFound(f"No denial item {item_id}.")
    return item


ITEM_FILTERS = (
    Filter("statuses", DenialItem.status, "in"),
    Filter("owner_id", DenialItem.owner_id),
    Filter("payer_id", DenialItem.payer_id),
    Filter("follow_up_by", DenialItem.follow_up_date, "le"),
)


def list_items(
    session: Session,
    organization_id: str,
    *,
    statuses: Sequence[str] = (),
    owner_id: str | None = None,
    payer_id: str | None = None,
    follow_up_by: date | None = None,
    unassigned: bool = False,
    limit: int = 100,
    after: str | None = None,
) -> list[DenialItem]:
    query = select(DenialItem).where(DenialItem.organization_id == organization_id)
    if unassigned:  # nobody has taken it yet (the desk's "unassigned" queue)
        query = query.where(col(DenialItem.owner_id).is_(None))
    given = {
        "statuses": statuses,
        "owner_id": owner_id,
        "payer_id": payer_id,
        "follow_up_by": follow_up_by,
    }
    query = apply_filters(query, given, ITEM_FILTERS)
    if after:
        query = query.where(col(DenialItem.id) > after)
    return list(session.exec(query.order_by(col(DenialItem.id)).limit(limit)))


def update_item(
    session: Session,
    actor: Principal,
    item_id: str,
    changes: dict[str, Any],
    *,
    at: datetime,
) -> DenialItem:
    """Owner, follow-up date, status (not written_off: that is the write-off) and a note, each
    change a history event. A written-off or closed item takes notes only."""
    item = get_item(session, actor, item_id)
    status = changes.get("status")
    if status is not None and status not in SETTABLE:
        raise InvalidInput(
            f"Status {status!r} is set by its action; PATCH sets {', '.join(sorted(SETTABLE))}."
        )
    if item.status in FINAL and set(changes) - {"note"}:
        raise DenialItemClosed(f"Denial item {item.id} is {item.status}; only notes are added.")
    if "owner_id" in changes:
        owner = session.get(AppUser, changes["owner_id"]) if changes["owner_id"] else None
        if changes["owner_id"] and (owner is None or owner.organization_id != item.organization_id):
            raise InvalidInput(f"No user {changes['owner_id']} to own the item.")
        item.owner_id = changes["owner_id"]
        _change(item, actor.user_id, at, action="assigned", owner_id=item.owner_id)
    if "follow_up_date" in changes:
        item.follow_up_date = changes["follow_up_date"]
        follow_up = item.follow_up_date.isoformat() if item.follow_up_date else None
        _change(item, actor.user_id, at, action="follow_up", follow_up_date=follow_up)
    if status is not None and status != item.status:
        _change(item, actor.user_id, at, action="status", status=status)
    if changes.get("note"):
        item.notes = ((item.notes + "\n") if item.notes else "") + changes["note"]
        item.notes = item.notes[-2000:]
        _change(item, actor.user_id, at, action="note", note=changes["note"])
    session.add(item)
    session.flush()
    return item


def appeal(
    session: Session, actor: Principal, item_id: str, *, note: str | None, at: datetime
) -> DenialItem:
    item = get_item(session, actor, item_id)
    if item.status in FINAL:
        raise DenialItemClosed(f"Denial item {item.id} is {item.status}.")
    _change(item, actor.user_id, at, action="appealed", status="appealed", note=note)
    session.add(item)
    session.flush()
    return item


def write_off(
    session: Session,
    actor: Principal,
    item_id: str,
    *,
    reason: str,
    note: str | None,
    at: datetime,
) -> DenialItem:
    """The denied amount given up: a write_off ledger entry on the insurance side of the
    encounter (no more than insurance still owes there), and the item written_off."""
    item = get_item(session, actor, item_id)
    if item.status in FINAL:
        raise DenialItemClosed(f"Denial item {item.id} is {item.status}.")
    owed = ledger_repository.encounter_balance(session, actor.organization_id, item.encounter_id)[0]
    amount = min(Decimal(item.amount), owed)
    if amount <= 0:
        raise ledger.AmountOverBalance(
            f"Insurance owes nothing more on encounter {item.encounter_id}; close the item instead."
        )
    entry = ledger.reduce_balance(
        session,
        actor,
        "write_off",
        patient_id=item.patient_id,
        encounter_id=item.encounter_id,
        amount=amount,
        reason=reason,
        side="insurance",
        note=note or f"denial {item.group_code} {item.reason}",
        at=at,
        claim_id=item.claim_id,
        payer_id=item.payer_id,
    )
    item.write_off_entry_id = entry.id
    _change(
        item,
        actor.user_id,
        at,
        action="written_off",
        status="written_off",
        amount=money_text(amount),
        ledger_entry_id=entry.id,
        note=note,
    )
    session.add(item)
    session.flush()
    return item


def code_text(session: Session, system: str, code: str, on: date) -> str | None:
    """The CARC or RARC title from the imported set in force on `on` (None when the set is not
    loaded or lacks the code: the X12 code lists are licensed, so they are imported, not
    bundled)."""
    try:
        return codeset_logic.lookup(session, system, code, on).title
    except DomainError:
        return None
