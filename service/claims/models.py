"""Tables: claim, claim_line, payer_adjudication, claim_batch (+ member, chunk) and
control_counter."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.claims.states import BatchStatus, ClaimStatus
from service.columns import UTCDateTime
from service.ids import new_id
from service.records import TenantRecord

# The CHECK constraints list what claims.states knows (one source for the status names).
CLAIM_STATUSES = tuple(s.value for s in ClaimStatus)
BATCH_STATUSES = tuple(s.value for s in BatchStatus)


def _in(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=column)


class Claim(TenantRecord, table=True):
    """One coverage of one encounter. Its lines and codes are copied from the encounter when
    the claim is built, so later coding changes never alter a claim already sent."""

    __table_args__ = (
        sa.UniqueConstraint("organization_id", "patient_control_number"),
        _in("status", CLAIM_STATUSES),
        sa.CheckConstraint("claim_type IN ('professional', 'dental')", name="claim_type"),
        sa.CheckConstraint("frequency IN ('1', '7', '8')", name="frequency"),
        sa.Index("ix_claim_org_status_type", "organization_id", "status", "claim_type"),
        # A work queue (the billing desk's drafts, rejections) pages one status in id order:
        # read from the index in order, 50 rows, not every row of the status and then sorted.
        sa.Index("ix_claim_org_status_id", "organization_id", "status", "id"),
    )

    encounter_id: str = Field(foreign_key="encounter.id", index=True, max_length=32)
    coverage_id: str = Field(foreign_key="coverage.id", max_length=32)
    patient_id: str = Field(foreign_key="patient.id", index=True, max_length=32)
    payer_id: str = Field(foreign_key="payer.id", max_length=32)
    claim_type: str = Field(max_length=12)
    payer_responsibility: str = Field(default="P", max_length=1)  # SBR01 P/S/T
    patient_control_number: str = Field(max_length=20)  # CLM01, echoed in 835 CLP01
    frequency: str = Field(default="1", max_length=1)  # CLM05-3
    payer_claim_number: str | None = Field(default=None, max_length=50)  # REF*F8 for 7/8
    # A replacement (7) or void (8) points at the claim it corrects (no foreign key: the
    # claim table carries the line-total triggers, and a plain column keeps it unrebuilt).
    replaces_claim_id: str | None = Field(default=None, index=True, max_length=32)
    status: str = Field(default="draft", max_length=15)
    date_of_service: date
    place_of_service: str = Field(max_length=2)
    diagnoses: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # Kept equal to the sum of the lines by database triggers (see the claims migration).
    total_charge: Decimal = Field(default=Decimal(0), sa_type=sa.Numeric(12, 2))
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    scrubbed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The encounter's coding_version the lines were copied at: an encounter re-coded since
    # (coding.logic bumps its version) makes this claim stale until rebuilt.
    coding_version: int = Field(default=0)
    first_submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ClaimLine(SQLModel, table=True):
    __tablename__ = "claim_line"
    __table_args__ = (
        sa.UniqueConstraint("claim_id", "position"),
        sa.UniqueConstraint("line_control_number"),
        sa.CheckConstraint("charge > 0", name="charge_positive"),
        sa.CheckConstraint("units > 0", name="units_positive"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", max_length=32)
    claim_id: str = Field(foreign_key="claim.id", index=True, max_length=32)
    service_line_id: str | None = Field(default=None, max_length=32)
    position: int
    # REF*6R: unique per line, so 835 SVC and 277CA line statuses find the exact line.
    line_control_number: str = Field(max_length=30)
    code_system: str = Field(max_length=5)
    code: str = Field(max_length=5)
    modifiers: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    units: Decimal = Field(sa_type=sa.Numeric(9, 3))
    charge: Decimal = Field(sa_type=sa.Numeric(10, 2))
    service_date: date
    pointers: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    tooth: str | None = Field(default=None, max_length=3)
    surfaces: str | None = Field(default=None, max_length=5)
    oral_area: str | None = Field(default=None, max_length=3)
    prosthesis: str | None = Field(default=None, max_length=1)
    # Copied from the service line (see coding.models.ServiceLine); ids without foreign keys
    # so the claim_line table (and its total triggers) need not be rebuilt.
    origin: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    ndc: str | None = Field(default=None, max_length=11)
    ndc_unit: str | None = Field(default=None, max_length=2)
    ndc_quantity: Decimal | None = Field(default=None, sa_type=sa.Numeric(12, 3))
    note: str | None = Field(default=None, max_length=80)
    anesthesia_minutes: int | None = None
    rendering_provider_id: str | None = Field(default=None, max_length=32)
    ordering_provider_id: str | None = Field(default=None, max_length=32)
    ndc_link_number: str | None = Field(default=None, max_length=50)  # 2410 REF*VY
    # The clerk confirmed the line is not a duplicate of the same service on another claim.
    duplicate_acknowledged: bool = Field(default=False)


class PayerAdjudication(SQLModel, table=True):
    """What a payer decided on a claim, one row per posted 835 CLP (a payer may split a claim
    into several), written by the claims verbs remittance calls. A reversal clears the row it
    undoes (cleared_by). Secondary claims read the active rows of the primary claim in bulk for
    2320/2330/2430, without reaching into remittance's tables."""

    __tablename__ = "payer_adjudication"
    __table_args__ = (
        sa.Index("ix_payer_adjudication_claim", "claim_id", "cleared_by"),
        sa.UniqueConstraint("source_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", max_length=32)
    claim_id: str = Field(foreign_key="claim.id", max_length=32)
    source_id: str = Field(max_length=32)  # the remittance posting (CLP) it came from
    status_code: str = Field(max_length=2)  # CLP02
    charge: Decimal = Field(sa_type=sa.Numeric(12, 2))  # CLP03
    paid: Decimal = Field(sa_type=sa.Numeric(12, 2))  # CLP04
    payer_claim_number: str = Field(max_length=50)  # CLP07
    payment_date: date | None = None  # BPR16
    previous_status: str = Field(max_length=15)  # what a reversal restores
    # Claim level CAS: [{group, reason, amount, quantity}]; lines: [{claim_line_id,
    # procedure_code, modifiers, paid, units, adjustments}] (SVC, matched lines only).
    adjustments: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    lines: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    cleared_by: str | None = Field(default=None, max_length=32)  # the reversal's source id


class ControlCounter(SQLModel, table=True):
    """Per sender (ISA06): the next interchange/group and transaction set control numbers.

    Numbers are taken in a transaction of their own, committed before the batch is written,
    so a failed or cancelled batch burns its numbers and none is ever sent twice."""

    __tablename__ = "control_counter"
    __table_args__ = (sa.UniqueConstraint("organization_id", "sender_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", max_length=32)
    sender_id: str = Field(max_length=15)
    next_interchange: int = Field(default=1)  # ISA13 and GS06
    next_transaction_set: int = Field(default=1)  # ST02


class ClaimBatch(TenantRecord, table=True):
    __tablename__ = "claim_batch"
    __table_args__ = (
        _in("status", BATCH_STATUSES),
        sa.UniqueConstraint("organization_id", "sender_id", "interchange_control_number"),
    )

    trading_partner_id: str = Field(foreign_key="trading_partner.id", max_length=32)
    claim_type: str = Field(max_length=12)
    usage_indicator: str = Field(max_length=1)
    status: str = Field(default="generated", max_length=20)
    sender_id: str = Field(max_length=15)
    interchange_control_number: int  # ISA13 = GS06
    first_st_control_number: int
    transaction_set_count: int
    claim_count: int
    line_count: int
    total_charge: Decimal = Field(sa_type=sa.Numeric(14, 2))
    size_bytes: int
    sha256: str = Field(max_length=64)
    filename: str = Field(max_length=120)
    created_by: str = Field(max_length=32)
    downloaded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ClaimBatchMember(SQLModel, table=True):
    """A claim in a batch. `pending` while the batch may still carry it to the payer; a partial
    unique index lets a claim be pending in one batch at most."""

    __tablename__ = "claim_batch_member"
    __table_args__ = (
        sa.UniqueConstraint("batch_id", "claim_id"),
        sa.Index(
            "uq_claim_batch_member_pending_claim",
            "claim_id",
            unique=True,
            sqlite_where=sa.text("pending"),
            postgresql_where=sa.text("pending"),
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    batch_id: str = Field(foreign_key="claim_batch.id", index=True, max_length=32)
    claim_id: str = Field(foreign_key="claim.id", max_length=32)
    st_control_number: int
    pending: bool = Field(default=True)


class ClaimBatchChunk(SQLModel, table=True):
    """The immutable file, about 1 MB a row: written and downloaded as a stream, and in the
    database (never on one replica's disk)."""

    __tablename__ = "claim_batch_chunk"

    batch_id: str = Field(foreign_key="claim_batch.id", primary_key=True, max_length=32)
    seq: int = Field(primary_key=True)
    data: bytes = Field(sa_type=sa.LargeBinary)
