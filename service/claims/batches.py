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

from service import blobs, bulk, org_clock
from service.audit import logic as audit
from service.auth.logic import Principal
from service.claims import control_numbers, logic, verbs
from service.claims.models import Claim, ClaimBatch, ClaimBatchChunk, ClaimBatchMember
from service.claims.states import ClaimStatus
from service.claims.x12 import model as x12
from service.claims.x12.writer_837 import MAX_CLAIMS_PER_ST, write_837
from service.claims.x12_input import iter_claim_inputs
from service.coding.models import Encounter
from service.db import SessionFactory
from service.directory.models import TradingPartner
from service.errors import Conflict, InvalidInput

KINDS = {"professional": "P", "dental": "D"}
_MEMBER: sa.Table = ClaimBatchMember.__table__  # type: ignore[attr-defined]


class NoClaimsReady(Conflict):
    code = "no-claims-ready"


class TradingPartnerNotFound(InvalidInput):
    code = "trading-partner-not-found"


def _ready_claim_ids(
    session: Session,
    organization_id: str,
    claim_type: str,
    claim_ids: list[str] | None,
    *,
    rescrub: bool,
) -> list[str]:
    query = (
        select(Claim.id)
        .join(Encounter, col(Encounter.id) == col(Claim.encounter_id))
        .where(
            Claim.organization_id == organization_id,
            Claim.claim_type == claim_type,
            Claim.status == ClaimStatus.READY,
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
    if not rescrub:
        # Stale lines never go out: unscrubbed, a claim whose encounter was re-coded after it
        # was built is left out here; scrubbed, it turns draft with `coding-stale`.
        query = query.where(col(Claim.coding_version) == col(Encounter.coding_version))
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
        session,
        actor.organization_id,
        request.claim_type,
        request.claim_ids,
        rescrub=request.rescrub,
    )
    if request.rescrub:
        # Codes and payer rules change: every batch scrubs again, and claims with errors drop out.
        claim_ids = logic.rescrub_claims(session, claim_ids, today=today)
    if partner.max_claims_per_file:
        claim_ids = claim_ids[: partner.max_claims_per_file]
    if not claim_ids:
        raise NoClaimsReady(f"No {request.claim_type} claims are ready to batch.")
    kind = KINDS[request.claim_type]
    # A receiver may take fewer CLMs per ST than the guide's 5,000 (its companion guide).
    per_st = partner.max_claims_per_transaction_set or MAX_CLAIMS_PER_ST
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
        # claim type, local day and ISA13: unique per sender, and sorts by day in a folder
        filename=(
            f"{request.claim_type}-{org_clock.local_date(session, actor.organization_id, at)}"
            f"-{numbers.interchange:09d}.x12"
        ),
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
            # ISA09/10, GS04/05 and BHT04/05 are the sender's local date and time.
            created_at=org_clock.local_time(session, actor.organization_id, at),
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
    # _ready_claim_ids selected them ready (and the re-scrub kept only those still ready).
    verbs.batch_claims(session, claim_ids, actor=actor, at=at, ready=True)
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
    """A thousand rows at a time (one COPY on PostgreSQL, an executemany elsewhere:
    service/bulk.py), each thousand built only when it is sent: memory stays flat however many
    claims the batch has."""
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
        bulk.insert_rows(session, _MEMBER, members)
