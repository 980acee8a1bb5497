"""The denials work queue: denied and partially paid lines grouped by CARC (and RARC).

Adjustments of active postings (not reversed) whose claim was denied or partially paid, except
patient responsibility (PR: bill the patient) and contractual write-offs (CO 45, CO 253),
grouped by group code + CARC + the line's RARCs, each with the action a biller usually takes.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from service.claims import repository as claim_repository
from service.remittance.models import ClaimPosting, LinePosting, PostedAdjustment

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
    if date_from:
        query = query.where(col(ClaimPosting.payment_date) >= date_from)
    if date_to:
        query = query.where(col(ClaimPosting.payment_date) <= date_to)
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
