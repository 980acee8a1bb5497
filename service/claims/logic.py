"""Claims: built from a ready encounter for one of its coverages, scrubbed, corrected.

Status: draft -> ready -> batched -> submitted -> accepted -> paid | partially_paid | denied,
or rejected (then corrected back to ready). Only a scrubbed claim without errors is ready.
"""

import secrets
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service import crud
from service.audit import logic as audit
from service.auth.logic import Principal
from service.claims import repository, scrubber, states, x12_input
from service.claims.models import Claim, ClaimLine
from service.claims.repository import ClaimNotFound as ClaimNotFound
from service.claims.states import ClaimStatus, ClaimVerb
from service.coding import logic as coding
from service.coding.edits import Finding
from service.coding.logic import ENCOUNTERS
from service.coding.models import LINE_VALUES
from service.directory.models import Payer
from service.errors import Conflict, FieldError, InvalidInput
from service.filters import Filter, apply_filters
from service.ids import new_id
from service.patients.models import Coverage, Patient
from service.records import utcnow

_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PRIORITY_TO_SBR01 = {"primary": "P", "secondary": "S", "tertiary": "T"}


class EncounterNotReady(Conflict):
    code = "encounter-not-ready"


class ClaimExists(Conflict):
    code = "claim-exists"


class ClaimNotEditable(Conflict):
    code = "claim-not-editable"


def _base36(number: int) -> str:
    digits = ""
    while number:
        number, rest = divmod(number, 36)
        digits = _BASE36[rest] + digits
    return digits or "0"


def new_patient_control_number() -> str:
    """CLM01 (at most 20; echoed in 835 CLP01 and 277CA TRN02), 16 characters: the time and
    per-process sequence of a new id (unique in this process even within one millisecond),
    then randomness against other processes; the unique index has the last word."""
    time_and_sequence = int(new_id()[:16], 16)
    return _base36(time_and_sequence) + "".join(secrets.choice(_BASE36) for _ in range(3))


def get_claim(
    session: Session, actor: Principal, claim_id: str, *, audit_read: bool = True
) -> Claim:
    claim = repository.require_claim(session, actor.organization_id, claim_id)
    if audit_read:
        audit.record(
            session,
            actor,
            action="read",
            resource_type="claim",
            resource_id=claim.id,
            patient_id=claim.patient_id,
        )
    return claim


def get_claim_by_pcn(session: Session, actor: Principal, pcn: str) -> Claim:
    """The claim a payer's letter or an 835 names by its patient control number (CLM01)."""
    claim_id = session.exec(
        select(Claim.id).where(
            Claim.organization_id == actor.organization_id, Claim.patient_control_number == pcn
        )
    ).first()
    if claim_id is None:
        raise ClaimNotFound(f"No claim with patient control number {pcn}.")
    return get_claim(session, actor, claim_id)


lines_of = repository.lines_of


def build_claim(
    session: Session, actor: Principal, encounter_id: str, *, coverage_id: str | None, today: date
) -> Claim:
    """A claim for one coverage of a ready (or, for secondary claims, billed) encounter."""
    encounter = crud.get(session, actor, ENCOUNTERS, encounter_id, audit_read=False)
    coverages = [session.get(Coverage, cid) for cid in encounter.coverage_ids]
    live = [c for c in coverages if c is not None and c.deleted_at is None]
    if coverage_id is None:
        coverage = primary_coverage(live, encounter.date_of_service)
    else:
        coverage = next((c for c in live if c.id == coverage_id), None)
    if coverage is None:
        raise InvalidInput(
            "The encounter lists no such coverage (a primary one unless coverage_id is given).",
            errors=[FieldError("/coverage_id", "not a coverage of this encounter")],
        )
    # A claim already there is named first: "code it to ready" would mislead for a billed
    # encounter (issue 24).
    existing = session.exec(
        select(Claim).where(
            Claim.encounter_id == encounter.id,
            Claim.coverage_id == coverage.id,
            col(Claim.status).not_in(("rejected",)),
            Claim.frequency == "1",
        )
    ).first()
    if existing is not None:
        raise ClaimExists(
            f"Claim {existing.id} (PCN {existing.patient_control_number}, {existing.status}) "
            "already bills this coverage of the encounter."
        )
    if coverage.priority == "primary" and encounter.status == "billed":
        billed = session.exec(
            select(Claim).where(Claim.encounter_id == encounter.id).order_by(col(Claim.id))
        ).all()
        raise ClaimExists(
            f"Encounter {encounter.id} is billed by "
            + ", ".join(
                f"claim {c.id} (PCN {c.patient_control_number}, {c.status})" for c in billed
            )
            + ". Correct that claim (replacement or void) rather than build another."
        )
    if coverage.priority == "primary" and encounter.status != "ready":
        raise EncounterNotReady(
            f"Encounter {encounter.id} is {encounter.status}; code it to ready first."
        )
    claim = Claim(
        organization_id=actor.organization_id,
        encounter_id=encounter.id,
        coverage_id=coverage.id,
        patient_id=encounter.patient_id,
        payer_id=coverage.payer_id,
        claim_type="professional" if encounter.kind == "medical" else "dental",
        payer_responsibility=PRIORITY_TO_SBR01[coverage.priority],
        patient_control_number=new_patient_control_number(),
        date_of_service=encounter.date_of_service,
        place_of_service=encounter.place_of_service,
        diagnoses=list(encounter.diagnoses),
        coding_version=encounter.coding_version,
    )
    session.add(claim)
    session.flush()
    copy_encounter_lines(session, claim)
    session.refresh(claim)  # the total comes from the database trigger
    audit.record(
        session,
        actor,
        action="create",
        resource_type="claim",
        resource_id=claim.id,
        patient_id=claim.patient_id,
    )
    scrub_claim(session, actor, claim, today=today)
    return claim


def primary_coverage(coverages: list[Coverage], on: date) -> Coverage | None:
    """The primary coverage in force on the date of service (an ended one never bills); the
    first listed primary when none is in force, so the scrubber names why."""
    primaries = [c for c in coverages if c.priority == "primary"]
    in_force = [
        c for c in primaries if c.start_date <= on and (c.end_date is None or c.end_date >= on)
    ]
    return next(iter(in_force or primaries), None)


# What a claim line copies from its source line (an encounter service line or, for a void,
# the original claim's line), besides its own ids and line control number.
COPIED_LINE_FIELDS = ("position", *LINE_VALUES, "origin")


def copy_line(claim: Claim, source: Any, service_line_id: str | None) -> ClaimLine:
    values = {name: getattr(source, name) for name in COPIED_LINE_FIELDS}
    values["modifiers"], values["pointers"] = list(source.modifiers), list(source.pointers)
    return ClaimLine(
        organization_id=claim.organization_id,
        claim_id=claim.id,
        service_line_id=service_line_id,
        line_control_number=f"{claim.patient_control_number}-{source.position}",
        **values,
    )


def copy_encounter_lines(session: Session, claim: Claim) -> None:
    """The encounter's service lines as they stand, copied onto the claim."""
    for line in coding.lines_of(session, claim.encounter_id):
        session.add(copy_line(claim, line, line.id))
    session.flush()


def scrub_claim(session: Session, actor: Principal, claim: Claim, *, today: date) -> Claim:
    """Runs the scrubber; a clean draft becomes ready, a ready claim with errors a draft."""
    findings = scrubber.scrub(session, claim, today=today)
    claim.findings = [f.as_dict() for f in findings]
    claim.scrubbed_at = utcnow()
    claim.status = _status_after_scrub(claim.status, findings)
    session.add(claim)
    session.flush()
    return claim


def rescrub_claims(session: Session, claim_ids: list[str], *, today: date) -> list[str]:
    """scrub_claim for many claims, a page at a time: each page's references are read once and
    its results written in one bulk UPDATE, with no flush per claim. Returns the ids that are
    ready afterwards, in the order given."""
    ready: list[str] = []
    directory = x12_input.Directory(session)
    for start in range(0, len(claim_ids), x12_input.PAGE):
        claims = x12_input.read_claims(session, claim_ids[start : start + x12_input.PAGE])
        found = scrubber.scrub_page(session, claims, today=today, directory=directory)
        scrubbed_at = utcnow()
        statuses = {c.id: _status_after_scrub(c.status, found[c.id]) for c in claims}
        session.execute(  # by primary key: one executemany
            sa.update(Claim),
            [
                {
                    "id": c.id,
                    "findings": [f.as_dict() for f in found[c.id]],
                    "scrubbed_at": scrubbed_at,
                    "status": statuses[c.id],
                }
                for c in claims
            ],
        )
        ready += [c.id for c in claims if statuses[c.id] == "ready"]
    return ready


def _status_after_scrub(status: str, findings: list[Finding]) -> str:
    """A clean draft becomes ready, a ready claim with errors a draft; others keep theirs."""
    target = (
        ClaimStatus.DRAFT if any(f.severity == "error" for f in findings) else ClaimStatus.READY
    )
    return target.value if states.claim_allows(status, ClaimVerb.SCRUB) else status


def correct_claim(session: Session, actor: Principal, claim_id: str, *, today: date) -> Claim:
    """A rejected claim, corrected (its encounter's directory data fixed), goes out again as an
    original: scrubbed back to ready, keeping its history."""
    claim = get_claim(session, actor, claim_id, audit_read=False)
    claim.status = states.check_claim(claim.id, claim.status, ClaimVerb.CORRECT).value
    claim.frequency = _resent_frequency(claim)
    audit.record(
        session,
        actor,
        action="update",
        resource_type="claim",
        resource_id=claim.id,
        patient_id=claim.patient_id,
        detail="corrected after rejection",
    )
    return scrub_claim(session, actor, claim, today=today)


def _resent_frequency(claim: Claim) -> str:
    """A rejected claim is sent again as it was meant: an original as 1, a replacement or void
    (which points at its original) as 7 or 8."""
    return claim.frequency if claim.replaces_claim_id else "1"


def release_claim(session: Session, actor: Principal, claim_id: str, *, today: date) -> Claim:
    """A forwarded claim (the primary payer said it crossed it over) that the secondary payer
    never received: a clerk sends it on. Back to draft, then scrubbed to ready for a batch;
    409 for a claim that is not forwarded."""
    claim = get_claim(session, actor, claim_id, audit_read=False)
    claim.status = states.check_claim(claim.id, claim.status, ClaimVerb.RELEASE).value
    audit.record(
        session,
        actor,
        action="update",
        resource_type="claim",
        resource_id=claim.id,
        patient_id=claim.patient_id,
        detail="released: the crossover did not reach the secondary payer",
    )
    return scrub_claim(session, actor, claim, today=today)


REBUILDABLE = (ClaimStatus.DRAFT, ClaimStatus.READY, ClaimStatus.REJECTED)


def rebuild_claim(session: Session, actor: Principal, claim_id: str, *, today: date) -> Claim:
    """A claim built before its encounter was re-coded (the scrubber's `coding-stale`) takes
    the encounter's current diagnoses and lines, then is scrubbed again. Only a claim no
    payer holds (draft, ready, rejected): one that went out is answered by a replacement."""
    claim = get_claim(session, actor, claim_id, audit_read=False)
    if claim.status not in REBUILDABLE:
        raise ClaimNotEditable(
            f"Claim {claim.id} is {claim.status}; only draft, ready and rejected claims are "
            "rebuilt."
        )
    if claim.frequency == "8":
        raise ClaimNotEditable(f"Claim {claim.id} is a void: it carries its original's lines.")
    encounter = crud.get(session, actor, ENCOUNTERS, claim.encounter_id, audit_read=False)
    if claim.payer_responsibility == "P" and encounter.status != "ready":
        raise EncounterNotReady(
            f"Encounter {encounter.id} is {encounter.status}; code it to ready first."
        )
    for line in lines_of(session, claim.id):
        session.delete(line)
    session.flush()  # the line control numbers are reused
    if claim.status == ClaimStatus.REJECTED:
        claim.status = states.check_claim(claim.id, claim.status, ClaimVerb.CORRECT).value
        claim.frequency = _resent_frequency(claim)
    claim.diagnoses = list(encounter.diagnoses)
    claim.date_of_service = encounter.date_of_service
    claim.place_of_service = encounter.place_of_service
    claim.coding_version = encounter.coding_version
    session.add(claim)
    copy_encounter_lines(session, claim)
    session.refresh(claim)  # the total comes from the database trigger
    audit.record(
        session,
        actor,
        action="update",
        resource_type="claim",
        resource_id=claim.id,
        patient_id=claim.patient_id,
        detail=f"rebuilt from the encounter's coding version {encounter.coding_version}",
    )
    return scrub_claim(session, actor, claim, today=today)


CLAIM_FILTERS = (
    Filter("status", Claim.status),
    Filter("claim_type", Claim.claim_type),
    Filter("encounter_id", Claim.encounter_id),
    Filter("patient_control_number", Claim.patient_control_number),
    Filter("date_from", Claim.date_of_service, "ge"),
    Filter("date_to", Claim.date_of_service, "le"),
)


def claims_query(actor: Principal, filters: Any) -> Any:
    query = select(Claim).where(Claim.organization_id == actor.organization_id)
    query = apply_filters(query, filters, CLAIM_FILTERS)
    if filters.patient_id:  # an id or an MRN
        patients = select(Patient.id).where(
            Patient.organization_id == actor.organization_id,
            (col(Patient.id) == filters.patient_id) | (col(Patient.mrn) == filters.patient_id),
        )
        query = query.where(col(Claim.patient_id).in_(patients))
    if filters.payer_id:  # an id or the clearinghouse payer id: "all Medicare claims"
        payers = select(Payer.id).where(
            Payer.organization_id == actor.organization_id,
            (col(Payer.id) == filters.payer_id) | (col(Payer.edi_payer_id) == filters.payer_id),
        )
        query = query.where(col(Claim.payer_id).in_(payers))
    return query
