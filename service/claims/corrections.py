"""Replacement (CLM05-3 7) and void (8) claims of a claim the payer holds, and the payer's
claim number they carry in REF*F8.

A replacement is built from the encounter's current coding (the coder reopens the billed
encounter, corrects it and moves it to ready; then the biller asks for the replacement); a
void carries the original's lines, as the TR3 asks. Both point at the original
(`replaces_claim_id`). The original is not touched here: it turns replaced / voided when the
new claim's batch is submitted (claims.verbs.supersede_originals).
"""

from datetime import date
from typing import Literal

from sqlmodel import Session, col, select

from service import crud
from service.audit import logic as audit
from service.auth.logic import Principal
from service.claims import logic, repository, states
from service.claims.models import Claim, PayerAdjudication
from service.coding.logic import ENCOUNTERS
from service.errors import Conflict

Frequency = Literal["7", "8"]
_WHAT = {"7": "replacement", "8": "void"}


class ClaimNotSent(Conflict):
    code = "claim-not-sent"


class ClaimAlreadyCorrected(Conflict):
    code = "claim-already-corrected"


class PayerClaimNumberUnknown(Conflict):
    code = "payer-claim-number-unknown"


def known_payer_claim_number(session: Session, claim: Claim) -> str | None:
    """The payer's number for the claim: its latest standing 835 CLP07, else the one the
    clerk entered (or, for a replacement, the one it was sent with)."""
    latest = session.exec(
        select(PayerAdjudication.payer_claim_number)
        .where(PayerAdjudication.claim_id == claim.id, col(PayerAdjudication.cleared_by).is_(None))
        .order_by(col(PayerAdjudication.recorded_at).desc(), col(PayerAdjudication.id).desc())
    ).first()
    return latest or claim.payer_claim_number


def correction_of(session: Session, claim_id: str) -> Claim | None:
    """The replacement or void that points at the claim, if there is one not cancelled."""
    return session.exec(
        select(Claim)
        .where(
            Claim.replaces_claim_id == claim_id,
            Claim.status != states.ClaimStatus.CANCELLED.value,
        )
        .order_by(col(Claim.id))
    ).first()


def _check_correctable(session: Session, original: Claim, frequency: Frequency) -> str:
    """Returns the payer claim number, or raises the 409 that says why not."""
    what = _WHAT[frequency]
    if original.status in (states.ClaimStatus.REPLACED, states.ClaimStatus.VOIDED):
        raise ClaimAlreadyCorrected(
            f"Claim {original.id} is {original.status}; correct its latest claim instead."
        )
    existing = correction_of(session, original.id)
    if existing is not None:
        raise ClaimAlreadyCorrected(
            f"Claim {original.id} already has a {_WHAT.get(existing.frequency, 'correction')} "
            f"(claim {existing.id}, {existing.status}); a second {what} is refused."
        )
    if original.frequency == "8":
        raise ClaimAlreadyCorrected(f"Claim {original.id} is a void; it is not corrected again.")
    if original.status not in states.SENT:
        verb = "replace" if frequency == "7" else "void"
        raise ClaimNotSent(
            f"Claim {original.id} is {original.status}: the payer does not hold it, so there "
            f"is nothing to {verb} (a rejected claim is corrected and sent again instead)."
        )
    number = known_payer_claim_number(session, original)
    if not number:
        raise PayerClaimNumberUnknown(
            f"Claim {original.id} has no payer claim number yet (REF*F8): post the payer's 835 "
            "(CLP07) or enter the number (PATCH /api/v1/claims/{id} payer_claim_number)."
        )
    return number


def create_correction(
    session: Session, actor: Principal, claim_id: str, frequency: Frequency, *, today: date
) -> Claim:
    """POST /claims/{id}/replacement (7) and /void (8): the new claim, scrubbed."""
    original = repository.require_claim(session, actor.organization_id, claim_id)
    # Two clerks asking at once: the second waits here, then sees the first one's claim.
    session.exec(select(Claim.id).where(Claim.id == original.id).with_for_update()).first()
    number = _check_correctable(session, original, frequency)
    encounter = crud.get(session, actor, ENCOUNTERS, original.encounter_id, audit_read=False)
    replacement = frequency == "7"
    if replacement and original.payer_responsibility == "P" and encounter.status != "ready":
        raise logic.EncounterNotReady(
            f"Encounter {encounter.id} is {encounter.status}: a replacement takes the corrected "
            "coding, so reopen the encounter (POST /api/v1/encounters/{id}/reopen), correct it "
            "and move it to ready first."
        )
    source = encounter if replacement else original
    claim = Claim(
        organization_id=actor.organization_id,
        encounter_id=original.encounter_id,
        coverage_id=original.coverage_id,
        patient_id=original.patient_id,
        payer_id=original.payer_id,
        claim_type=original.claim_type,
        payer_responsibility=original.payer_responsibility,
        patient_control_number=logic.new_patient_control_number(),
        frequency=frequency,
        payer_claim_number=number,
        replaces_claim_id=original.id,
        date_of_service=source.date_of_service,
        place_of_service=source.place_of_service,
        diagnoses=list(source.diagnoses),
        # A void copies the lines as sent: it is not stale when the encounter is re-coded.
        coding_version=encounter.coding_version,
    )
    session.add(claim)
    session.flush()
    if replacement:
        logic.copy_encounter_lines(session, claim)
    else:
        for line in logic.lines_of(session, original.id):
            session.add(logic.copy_line(claim, line, line.service_line_id))
        session.flush()
    session.refresh(claim)  # the total comes from the database trigger
    audit.record(
        session,
        actor,
        action="create",
        resource_type="claim",
        resource_id=claim.id,
        patient_id=claim.patient_id,
        detail=f"{_WHAT[frequency]} of claim {original.id} (frequency {frequency})",
    )
    return logic.scrub_claim(session, actor, claim, today=today)


class NotACorrection(Conflict):
    code = "claim-not-a-correction"


def cancel_correction(session: Session, actor: Principal, claim_id: str) -> Claim:
    """POST /claims/{id}/cancellation: a replacement or void not yet batched is withdrawn for
    good (status cancelled), so that another replacement or void of its original can be made.
    A batched one is cancelled with its batch first (its claims return to ready)."""
    claim = repository.require_claim(session, actor.organization_id, claim_id)
    session.exec(select(Claim.id).where(Claim.id == claim.id).with_for_update()).first()
    session.refresh(claim)
    if claim.frequency not in _WHAT:
        raise NotACorrection(
            f"Claim {claim.id} is an original claim (frequency {claim.frequency}): only a "
            "replacement or void is cancelled."
        )
    claim.status = states.check_claim(claim.id, claim.status, states.ClaimVerb.CANCEL)
    session.add(claim)
    session.flush()
    audit.record(
        session,
        actor,
        action="update",
        resource_type="claim",
        resource_id=claim.id,
        patient_id=claim.patient_id,
        detail=f"{_WHAT[claim.frequency]} of claim {claim.replaces_claim_id} cancelled",
    )
    return claim


class PayerClaimNumberRefused(Conflict):
    code = "payer-claim-number-refused"


def enter_payer_claim_number(
    session: Session, actor: Principal, claim_id: str, number: str
) -> Claim:
    """The clerk enters the payer's claim number (read on the payer's portal, say) of an
    original claim the payer holds."""
    claim = repository.require_claim(session, actor.organization_id, claim_id)
    if claim.frequency != "1":
        raise PayerClaimNumberRefused(
            f"Claim {claim.id} is a frequency {claim.frequency} claim: it carries its "
            "original's number."
        )
    if claim.status not in states.SENT:
        raise PayerClaimNumberRefused(
            f"Claim {claim.id} is {claim.status}: only a claim the payer holds has its number."
        )
    claim.payer_claim_number = number
    session.add(claim)
    session.flush()
    audit.record(
        session,
        actor,
        action="update",
        resource_type="claim",
        resource_id=claim.id,
        patient_id=claim.patient_id,
        detail="payer claim number entered",
    )
    return claim
