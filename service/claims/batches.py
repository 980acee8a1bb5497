"""Claim batches: one X12 interchange for one trading partner and one claim type.

Building a batch is one transaction: the batch row, its file (streamed into ~1 MB chunks as
the 837 writer produces segments), its members, the claims' and encounters' statuses. Any
failure or a killed process leaves none of it; only the control numbers, taken beforehand in
their own transaction, are burned."""

import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service import blobs
from service.audit import logic as audit
from service.auth.logic import Principal
from service.claims import control_numbers, logic
from service.claims.models import Claim, ClaimBatch, ClaimBatchChunk, ClaimBatchMember
from service.claims.x12 import model as x12
from service.claims.x12.writer_837 import MAX_CLAIMS_PER_ST, write_837
from service.claims.x12_input import iter_claim_inputs
from service.coding.models import Encounter
from service.db import SessionFactory
from service.directory.models import TradingPartner
from service.errors import Conflict, InvalidInput, NotFound
from service.records import utcnow

KINDS = {"professional": "P", "dental": "D"}


class BatchNotFound(NotFound):
    code = "claim-batch-not-found"


class NoClaimsReady(Conflict):
    code = "no-claims-ready"


class BatchTransitionRefused(Conflict):
    code = "claim-batch-transition-refused"


class TradingPartnerNotFound(InvalidInput):
    code = "trading-partner-not-found"


def _ready_claim_ids(
    session: Session, organization_id: str, claim_type: str, claim_ids: list[str] | None
) -> list[str]:
    query = (
        select(Claim.id)
        .join(Encounter, col(Encounter.id) == col(Claim.encounter_id))
        .where(
            Claim.organization_id == organization_id,
            Claim.claim_type == claim_type,
            Claim.status == "ready",
        )
        # The writer opens a new 2000A/2000B loop whenever these change: keep them together.
        .order_by(
            col(Encounter.billing_provider_id),
            col(Claim.payer_id),
            col(Claim.coverage_id),
            col(Claim.patient_control_number),
        )
    )
    if claim_ids is not None:
        query = query.where(col(Claim.id).in_(claim_ids))
    if session.get_bind().dialect.name == "postgresql":
        # Two clerks batching at once take disjoint claims instead of waiting or colliding.
        query = query.with_for_update(of=Claim, skip_locked=True)
    return list(session.exec(query).all())


@dataclass(frozen=True)
class BatchRequest:
    trading_partner_id: str
    claim_type: str  # professional | dental
    claim_ids: list[str] | None = None  # None: every ready claim of the type
    rescrub: bool = True


def build_claim_batch(
    session: Session,
    actor: Principal,
    request: BatchRequest,
    *,
    numbers_factory: SessionFactory,
    at: datetime,
    today: date,
) -> ClaimBatch:
    partner = session.get(TradingPartner, request.trading_partner_id)
    if partner is None or partner.organization_id != actor.organization_id or partner.deleted_at:
        raise TradingPartnerNotFound(f"No trading partner {request.trading_partner_id}.")
    claim_ids = _ready_claim_ids(
        session, actor.organization_id, request.claim_type, request.claim_ids
    )
    if request.rescrub:
        # Codes and payer rules change: every batch scrubs again, and claims with errors drop out.
        claim_ids = logic.rescrub_claims(session, claim_ids, today=today)
    if partner.max_claims_per_file:
        claim_ids = claim_ids[: partner.max_claims_per_file]
    if not claim_ids:
        raise NoClaimsReady(f"No {request.claim_type} claims are ready to batch.")
    kind = KINDS[request.claim_type]
    per_st = MAX_CLAIMS_PER_ST
    numbers = control_numbers.take(
        session,
        numbers_factory,
        actor.organization_id,
        partner.isa_sender_id,
        math.ceil(len(claim_ids) / per_st),
    )
    batch = ClaimBatch(
        organization_id=actor.organization_id,
        trading_partner_id=partner.id,
        claim_type=request.claim_type,
        usage_indicator=partner.usage_indicator,
        sender_id=partner.isa_sender_id,
        interchange_control_number=numbers.interchange,
        first_st_control_number=numbers.first_transaction_set,
        transaction_set_count=0,
        claim_count=0,
        line_count=0,
        total_charge=Decimal(0),
        size_bytes=0,
        sha256="",
        filename=f"{request.claim_type}-{numbers.interchange:09d}.x12",
        created_by=actor.user_id,
    )
    session.add(batch)
    session.flush()
    header = x12.Header(
        interchange=x12.Interchange(
            sender_qualifier=partner.isa_sender_qualifier,
            sender_id=partner.isa_sender_id,
            receiver_qualifier=partner.isa_receiver_qualifier,
            receiver_id=partner.isa_receiver_id,
            interchange_control_number=numbers.interchange,
            group_control_number=numbers.interchange,
            application_sender_code=partner.gs_sender_code,
            application_receiver_code=partner.gs_receiver_code,
            created_at=at,
            usage_indicator=partner.usage_indicator,  # type: ignore[arg-type]
        ),
        submitter=x12.Submitter(
            name=partner.submitter_name,
            submitter_id=partner.submitter_id,
            contact_name=partner.contact_name,
            phone=partner.contact_phone,
            email=partner.contact_email,
        ),
        receiver=x12.Receiver(name=partner.receiver_name, receiver_id=partner.receiver_id),
    )
    sink = blobs.ChunkWriter(session, ClaimBatchChunk, "batch_id", batch.id)
    summary = write_837(
        header,
        iter_claim_inputs(session, claim_ids),
        sink.write_text,
        kind=kind,  # type: ignore[arg-type]
        first_st_control=numbers.first_transaction_set,
        max_claims_per_st=per_st,
    )
    sink.close()
    st_numbers = [int(n) for n in summary.st_control_numbers]
    _add_members(session, batch.id, claim_ids, st_numbers, per_st)
    logic.set_status(session, claim_ids, "batched")
    _mark_encounters_billed(session, claim_ids)
    batch.transaction_set_count = len(st_numbers)
    batch.claim_count, batch.line_count = summary.claim_count, summary.line_count
    batch.total_charge = summary.total_charge
    batch.size_bytes, batch.sha256 = sink.size, sink.sha256
    session.add(batch)
    session.flush()
    audit.record(
        session,
        actor,
        action="create",
        resource_type="claim_batch",
        resource_id=batch.id,
        detail=f"{batch.claim_count} claims, ISA13 {batch.interchange_control_number}",
    )
    return batch


def _add_members(
    session: Session, batch_id: str, claim_ids: list[str], st_numbers: list[int], per_st: int
) -> None:
    """A thousand rows per INSERT, each thousand built only when it is sent: memory stays flat
    however many claims the batch has."""
    for start in range(0, len(claim_ids), 1000):
        members = [
            {
                "id": f"{batch_id[:24]}{i:08x}",
                "batch_id": batch_id,
                "claim_id": claim_id,
                "st_control_number": st_numbers[i // per_st],
                "pending": True,
            }
            for i, claim_id in enumerate(claim_ids[start : start + 1000], start=start)
        ]
        session.execute(sa.insert(ClaimBatchMember), members)


def _mark_encounters_billed(session: Session, claim_ids: list[str]) -> None:
    """DESIGN.md: batching the primary claim moves its encounter to billed."""
    for start in range(0, len(claim_ids), 500):
        primary = (
            select(Claim.encounter_id)
            .where(
                col(Claim.id).in_(claim_ids[start : start + 500]), Claim.payer_responsibility == "P"
            )
            .scalar_subquery()
        )
        session.execute(
            sa.update(Encounter).where(col(Encounter.id).in_(primary)).values(status="billed")
        )


def get_batch(session: Session, actor: Principal, batch_id: str) -> ClaimBatch:
    batch = session.get(ClaimBatch, batch_id)
    if batch is None or batch.organization_id != actor.organization_id:
        raise BatchNotFound(f"No claim batch {batch_id}.")
    return batch


def record_download(session: Session, actor: Principal, batch: ClaimBatch) -> None:
    if batch.status == "generated":
        batch.status = "downloaded"
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


def _member_claim_ids(session: Session, batch_id: str) -> list[str]:
    return list(
        session.exec(
            select(ClaimBatchMember.claim_id).where(ClaimBatchMember.batch_id == batch_id)
        ).all()
    )


def mark_submitted(
    session: Session, actor: Principal, batch_id: str, *, at: datetime
) -> ClaimBatch:
    batch = get_batch(session, actor, batch_id)
    if batch.status not in ("generated", "downloaded"):
        raise BatchTransitionRefused(
            f"Batch {batch.id} is {batch.status}; it cannot be marked submitted."
        )
    batch.status, batch.submitted_at = "submitted", at
    session.add(batch)
    claim_ids = _member_claim_ids(session, batch.id)
    logic.set_status(session, claim_ids, "submitted")
    for start in range(0, len(claim_ids), 500):
        session.execute(
            sa.update(Claim)
            .where(
                col(Claim.id).in_(claim_ids[start : start + 500]),
                col(Claim.first_submitted_at).is_(None),
            )
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


def cancel(session: Session, actor: Principal, batch_id: str, *, at: datetime) -> ClaimBatch:
    """Before submission only: the claims go back to ready; the control numbers stay burned."""
    batch = get_batch(session, actor, batch_id)
    if batch.status not in ("generated", "downloaded"):
        raise BatchTransitionRefused(
            f"Batch {batch.id} is {batch.status}; only an unsent batch is cancelled."
        )
    batch.status, batch.cancelled_at = "cancelled", at
    session.add(batch)
    claim_ids = _member_claim_ids(session, batch.id)
    session.execute(
        sa.update(ClaimBatchMember)
        .where(col(ClaimBatchMember.batch_id) == batch.id)
        .values(pending=False)
    )
    logic.set_status(session, claim_ids, "ready")
    for start in range(0, len(claim_ids), 500):
        page = claim_ids[start : start + 500]
        encounters = (
            select(Claim.encounter_id)
            .where(col(Claim.id).in_(page), Claim.payer_responsibility == "P")
            .scalar_subquery()
        )
        session.execute(
            sa.update(Encounter).where(col(Encounter.id).in_(encounters)).values(status="ready")
        )
    audit.record(
        session,
        actor,
        action="update",
        resource_type="claim_batch",
        resource_id=batch.id,
        detail="cancelled",
    )
    return batch
