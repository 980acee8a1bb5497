"""Applying acknowledgements: a 999 moves a batch (and refused STs' claims), a 277CA each claim.

999 (X231A1): AK1 GS06 = the batch's interchange control number, AK2 ST02 = our ST02s.
AK9 A/E: batch acknowledged, claims stay submitted; P: partially accepted, the claims of every
refused ST rejected; R (and M, W, X): the batch and all its claims rejected.
277CA (X214): TRN02 = our CLM01; STC A1/A2 accepted, A3/A6/A7/A8 rejected (status and entity
codes kept in words); 2220D REF*FJ = our REF*6R line control number.
A rejected claim leaves its batch (membership no longer pending) so that, once corrected, it
can go out again in a new batch.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.audit import logic as audit
from service.auth.logic import Principal
from service.claims import repository as claim_repository
from service.claims import states as claim_states
from service.claims import verbs as claim_verbs
from service.claims.repository import ClaimBatch
from service.errors import InvalidInput
from service.outbox import events as outbox
from service.remittance.errors import AcknowledgedBatchNotFound, BatchAlreadyAnswered
from service.remittance.models import Acknowledgement
from service.remittance.x12.ack277ca import Ack277CA, Status
from service.remittance.x12.ack999 import Ack999, GroupAck, TransactionSetAck
from service.x12.tokens import Envelope

PAGE = 500
GUIDES = {"005010X222A1": "professional", "005010X224A2": "dental"}
ANSWERED = ("acknowledged", "partially_accepted", "rejected")


def _audit_claims(
    session: Session, actor: Principal, claims: Iterable[tuple[str, str]], detail: str
) -> None:
    audit.record_many(
        session, actor, action="update", resource_type="claim", rows=list(claims), detail=detail
    )


# --- 999 ---


def _find_batch(
    session: Session, actor: Principal, group: GroupAck, envelope: Envelope
) -> ClaimBatch:
    if group.functional_id != "HC" or not group.group_control_number.isdigit():
        raise AcknowledgedBatchNotFound(
            f"The 999 acknowledges GS {group.functional_id}*{group.group_control_number}, "
            "which is not a claim batch of this organization."
        )
    found = claim_repository.batches_by_group_control_number(
        session, actor.organization_id, int(group.group_control_number), GUIDES.get(group.version)
    )
    if len(found) > 1:  # control numbers are unique per sender: the 999's ISA08 is our ISA06
        found = [b for b in found if b.sender_id == envelope.receiver_id] or found[:1]
    if not found:
        raise AcknowledgedBatchNotFound(
            f"No claim batch has group control number (GS06) {group.group_control_number}; "
            "nothing was applied."
        )
    return found[0]


def _ik_details(ts: TransactionSetAck) -> list[dict[str, Any]]:
    details: list[dict[str, Any]] = []
    for error in ts.segment_errors:
        elements = [
            {
                "position": e.position,
                "component": e.component,
                "code": e.code,
                "words": e.words,
                "bad_value": e.bad_value,
                "text": f"element {e.position}"
                + (f", component {e.component}" if e.component else "")
                + f": {e.words}"
                + (f" (value {e.bad_value!r})" if e.bad_value else ""),
            }
            for e in error.element_errors
        ]
        where = f"{error.segment_id} at segment {error.position} of the ST"
        where += f" (loop {error.loop_id})" if error.loop_id else ""
        text = f"{where}: {error.words}" if error.code else where
        if elements:
            text += "; " + "; ".join(str(e["text"]) for e in elements)
        details.append(
            {
                "segment_id": error.segment_id,
                "position": error.position,
                "loop_id": error.loop_id,
                "code": error.code,
                "words": error.words,
                "element_errors": elements,
                "text": text,
            }
        )
    details.extend(
        {"code": c.code, "words": c.words, "text": f"transaction set: {c.words}"}
        for c in ts.syntax_errors
    )
    return details


def apply_999(
    session: Session, actor: Principal, file_id: str, ack: Ack999, *, at: datetime
) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    for group in ack.groups:
        batch = _find_batch(session, actor, group, ack.envelope)
        if batch.status in ANSWERED or batch.status == "cancelled":
            raise BatchAlreadyAnswered(
                f"Batch {batch.id} (GS06 {batch.interchange_control_number}) is {batch.status}; "
                "a second answer is not applied."
            )
        marked_submitted = batch.status in ("generated", "downloaded")
        if marked_submitted:  # DESIGN.md: a 999 for an unsent batch marks it submitted
            claim_verbs.submit_batch(session, actor, batch.id, at=at)
        first, count = batch.first_st_control_number, batch.transaction_set_count
        refused: dict[int, list[dict[str, Any]]] = {}
        sets: list[dict[str, Any]] = []
        for ts in group.transaction_sets:
            number = int(ts.control_number) if ts.control_number.isdigit() else -1
            if not first <= number < first + count:
                raise InvalidInput(
                    f"The 999 acknowledges ST {ts.control_number}, which batch {batch.id} "
                    f"does not hold (its STs are {first} to {first + count - 1})."
                )
            details = _ik_details(ts)
            session.add(
                Acknowledgement(
                    organization_id=actor.organization_id,
                    file_id=file_id,
                    kind="999",
                    batch_id=batch.id,
                    st_control_number=number,
                    code=ts.code,
                    outcome="accepted" if ts.accepted else "rejected",
                    details=details,
                    created_at=at,
                )
            )
            if not ts.accepted:
                refused[number] = details
            sets.append(
                {
                    "st_control_number": number,
                    "code": ts.code,
                    "words": ts.words,
                    "errors": [d["text"] for d in details],
                }
            )
        status = claim_states.batch_status_for_ak9(group.code)
        if status is claim_states.BatchStatus.ACKNOWLEDGED:
            refused = {}
        elif status is claim_states.BatchStatus.REJECTED:  # the whole group is refused
            for number in range(first, first + count):
                refused.setdefault(number, [{"text": f"the group was refused: {group.words}"}])
        rejected = _reject_sets(session, actor, file_id, batch, refused, at)
        claim_verbs.acknowledge_batch(session, batch, status, at=at)
        if status is claim_states.BatchStatus.REJECTED:  # subscribers hear of it (issue 23)
            outbox.emit(session, actor.organization_id, "claim-batch.rejected", batch.id)
        audit.record(
            session,
            actor,
            action="update",
            resource_type="claim_batch",
            resource_id=batch.id,
            detail=f"999 AK9 {group.code}: {status}, {rejected} claims rejected",
            at=at,
        )
        results.append(
            {
                "batch_id": batch.id,
                "group_control_number": group.group_control_number,
                "code": group.code,
                "words": group.words,
                "batch_status": status,
                "marked_submitted": marked_submitted,
                "claims_rejected": rejected,
                "transaction_sets": sets,
                "group_errors": [c.words for c in group.syntax_errors],
            }
        )
    return {"kind": "999", "batches": results}


def _reject_sets(
    session: Session,
    actor: Principal,
    file_id: str,
    batch: ClaimBatch,
    refused: dict[int, list[dict[str, Any]]],
    at: datetime,
) -> int:
    if not refused:
        return 0
    rows = claim_repository.claims_in_sets(session, batch.id, refused)
    claim_verbs.reject_claims(session, [r[0] for r in rows], strict=False)
    values = [
        {
            "id": _id(file_id, i),
            "organization_id": actor.organization_id,
            "file_id": file_id,
            "kind": "999",
            "batch_id": batch.id,
            "claim_id": claim_id,
            "st_control_number": st,
            "patient_control_number": pcn,
            "code": "R",
            "outcome": "rejected",
            "payer_claim_number": None,
            "details": refused[st],
            "created_at": at,
        }
        for i, (claim_id, _, pcn, st) in enumerate(rows)
    ]
    if values:
        session.execute(sa.insert(Acknowledgement), values)
    _audit_claims(session, actor, ((r[0], r[1]) for r in rows), "rejected by a 999")
    return len(rows)


def _id(file_id: str, n: int) -> str:
    return f"{file_id[:22]}{n:010x}"


# --- 277CA ---


def _status_details(statuses: list[Status], level: str, **extra: Any) -> list[dict[str, Any]]:
    found = []
    for status in statuses:
        for c in status.codes:
            text = f"{c.category} {c.category_words}; {c.code} {c.code_words}"
            if c.entity:
                text += f"; entity {c.entity} {c.entity_words}"
            found.append(
                {
                    "level": level,
                    "category": c.category,
                    "category_words": c.category_words,
                    "code": c.code,
                    "code_words": c.code_words,
                    "entity": c.entity,
                    "entity_words": c.entity_words,
                    "date": status.date.isoformat() if status.date else None,
                    "message": status.message,
                    "text": text + (f" ({status.message})" if status.message else ""),
                    **extra,
                }
            )
    return found


def apply_277ca(
    session: Session, actor: Principal, file_id: str, ack: Ack277CA, *, at: datetime
) -> dict[str, Any]:
    pcns = sorted({c.patient_control_number for c in ack.claims})
    claims = claim_repository.claims_by_control_number(session, actor.organization_id, pcns)
    line_ids = {
        line.control: line.id
        for lines in claim_repository.lines_by_claim(
            session, [c.id for c in claims.values()]
        ).values()
        for line in lines
    }
    asked: dict[str, list[str]] = {"accepted": [], "rejected": []}
    patients: dict[str, str] = {}
    unmatched: list[str] = []
    for n, claim_ack in enumerate(ack.claims):
        claim = claims.get(claim_ack.patient_control_number)
        outcome = claim_ack.outcome
        details = _status_details(claim_ack.statuses, "claim")
        for line in claim_ack.lines:
            details += _status_details(
                line.statuses,
                "line",
                line_control_number=line.line_item_control_number,
                claim_line_id=line_ids.get(line.line_item_control_number),
                procedure_code=line.procedure.code,
            )
        session.add(
            Acknowledgement(
                id=_id(file_id, n),
                organization_id=actor.organization_id,
                file_id=file_id,
                kind="277CA",
                claim_id=claim.id if claim else None,
                patient_control_number=claim_ack.patient_control_number[:50],
                code=",".join(dict.fromkeys(c for s in claim_ack.statuses for c in s.categories))[
                    :10
                ],
                outcome=outcome,
                payer_claim_number=claim_ack.payer_claim_control_number or None,
                details=details,
                created_at=at,
            )
        )
        if claim is None:
            unmatched.append(claim_ack.patient_control_number)
            continue
        if outcome in asked:
            asked[outcome].append(claim.id)
            patients[claim.id] = claim.patient_id
    # A late or repeated 277CA does not move a claim the payer has answered since.
    moved = {
        "accepted": claim_verbs.accept_claims(session, asked["accepted"], strict=False),
        "rejected": claim_verbs.reject_claims(session, asked["rejected"], strict=False),
    }
    audited = [(c, patients[c]) for c in moved["accepted"] + moved["rejected"]]
    _audit_claims(session, actor, audited, "277CA claim acknowledgement")
    for claim_id in moved["rejected"]:  # subscribers hear of each rejected claim (issue 23)
        outbox.emit(session, actor.organization_id, "claim.rejected", claim_id, file_id=file_id)
    return {
        "kind": "277CA",
        "claims": len(ack.claims),
        "accepted": len(moved["accepted"]),
        "rejected": len(moved["rejected"]),
        "unchanged": len(ack.claims)
        - len(moved["accepted"])
        - len(moved["rejected"])
        - len(unmatched),
        "unmatched": unmatched,
    }


def acknowledgements_of(
    session: Session, organization_id: str, claim_id: str
) -> list[Acknowledgement]:
    return list(
        session.exec(
            select(Acknowledgement)
            .where(
                Acknowledgement.organization_id == organization_id,
                Acknowledgement.claim_id == claim_id,
            )
            .order_by(col(Acknowledgement.created_at), col(Acknowledgement.id))
        ).all()
    )
