"""Tables: inbound X12 files (999, 277CA, 835), acknowledgements, payments and their postings."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.columns import UTCDateTime
from service.ids import new_id
from service.records import TenantRecord, utcnow

FILE_KINDS = ("999", "277CA", "835")
MATCH_METHODS = ("line_control_number", "code_date_charge", "unmatched")
DENIAL_STATUSES = ("open", "in_progress", "resubmitted", "appealed", "written_off", "closed")


class RemittanceFile(TenantRecord, table=True):
    """An uploaded 999, 277CA or 835, immutable; the same bytes (SHA-256) are posted once."""

    __tablename__ = "remittance_file"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "sha256"),
        sa.CheckConstraint("kind IN ('999', '277CA', '835')", name="kind"),
    )

    kind: str = Field(max_length=5)
    sha256: str = Field(max_length=64)
    size_bytes: int
    filename: str | None = Field(default=None, max_length=200)
    sender_id: str = Field(max_length=15)  # ISA06
    interchange_control_number: str = Field(max_length=9)  # ISA13 of the inbound file
    uploaded_by: str = Field(max_length=32)
    # What processing found: counts, matched batch, statuses moved, unmatched, messages.
    result: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class RemittanceFileChunk(SQLModel, table=True):
    """The file's bytes, about 1 MB a row (like claim batches: in the database, never on disk)."""

    __tablename__ = "remittance_file_chunk"

    file_id: str = Field(foreign_key="remittance_file.id", primary_key=True, max_length=32)
    seq: int = Field(primary_key=True)
    data: bytes = Field(sa_type=sa.LargeBinary)


class Acknowledgement(SQLModel, table=True):
    """A 999 answer for one ST of a batch (and each claim it refused), or a 277CA claim status."""

    __tablename__ = "acknowledgement"
    __table_args__ = (sa.Index("ix_acknowledgement_org_claim", "organization_id", "claim_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", max_length=32)
    file_id: str = Field(foreign_key="remittance_file.id", index=True, max_length=32)
    kind: str = Field(max_length=5)  # 999 | 277CA
    batch_id: str | None = Field(default=None, max_length=32)
    claim_id: str | None = Field(default=None, max_length=32)
    st_control_number: int | None = None
    patient_control_number: str | None = Field(default=None, max_length=50)
    code: str = Field(max_length=10)  # IK5 code, or the STC categories (A2, A7 ...)
    outcome: str = Field(max_length=10)  # accepted | rejected | other
    payer_claim_number: str | None = Field(default=None, max_length=50)  # 277CA REF*1K
    # Plain words: 999 IK3/IK4 errors, 277CA status/entity codes (claim and lines).
    details: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RemittancePayment(SQLModel, table=True):
    """One 835 transaction set: a payment (BPR) with its trace number (TRN), for deposits."""

    __tablename__ = "remittance_payment"
    __table_args__ = (
        sa.Index("ix_remittance_payment_trace", "organization_id", "trace_number"),
        # A payment posts once, whatever file carries it: two uploads at the same instant
        # both pass the application's check; this index lets one of them in.
        sa.Index(
            "uq_remittance_payment_trace",
            "organization_id",
            "trace_number",
            "trace_originator",
            unique=True,
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", max_length=32)
    file_id: str = Field(foreign_key="remittance_file.id", index=True, max_length=32)
    st_control_number: str = Field(max_length=9)
    trace_number: str = Field(max_length=50)  # TRN02 check or EFT number
    trace_originator: str = Field(max_length=10)  # TRN03
    payer_name: str = Field(max_length=60)
    payer_identifier: str = Field(max_length=80)  # REF*2U / N104 / TRN03
    payee_npi: str | None = Field(default=None, max_length=80)
    handling_code: str = Field(max_length=2)
    credit_debit: str = Field(max_length=1)
    payment_method: str = Field(max_length=3)
    paid_amount: Decimal = Field(sa_type=sa.Numeric(14, 2))  # BPR02
    payment_date: date | None = None  # BPR16
    claim_count: int
    provider_adjustment_total: Decimal = Field(sa_type=sa.Numeric(14, 2))


class ProviderAdjustment(SQLModel, table=True):
    """A PLB reason/amount pair (positive reduces the payment: recoupment; negative: interest)."""

    __tablename__ = "provider_adjustment"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", max_length=32)
    payment_id: str = Field(foreign_key="remittance_payment.id", index=True, max_length=32)
    provider_identifier: str = Field(max_length=50)
    fiscal_period_end: date | None = None
    reason: str = Field(max_length=2)
    reference: str = Field(max_length=50)
    amount: Decimal = Field(sa_type=sa.Numeric(14, 2))
    # The claim PLB03-2 names (CLM01 or CLP07), when it is one of ours: a recoupment (WO, 72,
    # FB ...) moves that claim's money; NULL: on the payment only (unmatched when referenced).
    claim_id: str | None = Field(default=None, index=True, max_length=32)


class ClaimPosting(SQLModel, table=True):
    """One 835 CLP posted: to our claim (CLP01 = CLM01), or unmatched (claim_id NULL: the work
    queue). A reversal (CLP02 22) is a posting of its own that marks the one it undoes."""

    __tablename__ = "claim_posting"
    __table_args__ = (
        sa.Index("ix_claim_posting_org_claim", "organization_id", "claim_id"),
        sa.Index("ix_claim_posting_org_unmatched", "organization_id", "matched"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", max_length=32)
    file_id: str = Field(foreign_key="remittance_file.id", index=True, max_length=32)
    payment_id: str = Field(foreign_key="remittance_payment.id", index=True, max_length=32)
    claim_id: str | None = Field(default=None, max_length=32)
    matched: bool
    patient_control_number: str = Field(max_length=50)  # CLP01
    status_code: str = Field(max_length=2)  # CLP02
    charge: Decimal = Field(sa_type=sa.Numeric(12, 2))  # CLP03
    paid: Decimal = Field(sa_type=sa.Numeric(12, 2))  # CLP04
    patient_responsibility: Decimal = Field(sa_type=sa.Numeric(12, 2))  # CLP05
    payer_claim_number: str = Field(max_length=50)  # CLP07: REF*F8 on 7/8 resubmissions
    filing_indicator: str = Field(max_length=2)  # CLP06
    payment_date: date | None = None
    previous_status: str | None = Field(default=None, max_length=15)  # restored by a reversal
    status_after: str | None = Field(default=None, max_length=15)
    reversed_by: str | None = Field(default=None, max_length=32)  # the reversal posting's id
    reverses: str | None = Field(default=None, max_length=32)
    posted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Claim-level remark codes (MOA/MIA RARCs), e.g. MA18: forwarded to the supplemental payer.
    remark_codes: list[str] = Field(default_factory=list, sa_type=sa.JSON)


class LinePosting(SQLModel, table=True):
    """One 835 SVC, matched to our line by REF*6R, else by code + date + charge, else unmatched."""

    __tablename__ = "line_posting"
    __table_args__ = (
        # The lines that matched none of ours, by their claim posting: the billing desk's
        # unmatched queue finds them without reading every matched line of an 835.
        sa.Index(
            "ix_line_posting_unmatched",
            "claim_posting_id",
            sqlite_where=sa.text("claim_line_id IS NULL"),
            postgresql_where=sa.text("claim_line_id IS NULL"),
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    # Its claim posting's (that row's key to organization checks it): a key of its own would
    # cost a check per row of every 835 and check nothing more.
    organization_id: str = Field(max_length=32)
    claim_posting_id: str = Field(foreign_key="claim_posting.id", index=True, max_length=32)
    claim_line_id: str | None = Field(default=None, max_length=32)
    match_method: str = Field(max_length=20)
    line_control_number: str | None = Field(default=None, max_length=50)  # REF*6R
    procedure_code: str = Field(max_length=48)
    modifiers: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    service_date: date | None = None
    charge: Decimal = Field(sa_type=sa.Numeric(12, 2))  # SVC02
    paid: Decimal = Field(sa_type=sa.Numeric(12, 2))  # SVC03
    units: Decimal | None = Field(default=None, sa_type=sa.Numeric(9, 3))  # SVC05
    remark_codes: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # LQ*HE (RARC)


class PostedAdjustment(SQLModel, table=True):
    """A CAS triplet at the claim (line_posting_id NULL) or line level: group, CARC, amount."""

    __tablename__ = "posted_adjustment"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    # Its claim posting's (that row's key to organization checks it): a key of its own would
    # cost a check per row of every 835 and check nothing more.
    organization_id: str = Field(max_length=32)
    claim_posting_id: str = Field(foreign_key="claim_posting.id", index=True, max_length=32)
    line_posting_id: str | None = Field(default=None, max_length=32)
    group_code: str = Field(max_length=2)
    reason: str = Field(max_length=5)  # CARC
    amount: Decimal = Field(sa_type=sa.Numeric(12, 2))
    quantity: Decimal | None = Field(default=None, sa_type=sa.Numeric(9, 3))


class DenialItem(TenantRecord, table=True):
    """A denied claim line (or claim) from a posted 835, worked by a biller (DESIGN.md
    DenialItem): owner, notes, follow-up date, status, and its history as a list of events."""

    __tablename__ = "denial_item"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('open', 'in_progress', 'resubmitted', 'appealed', 'written_off', 'closed')",
            name="status",
        ),
        sa.Index("ix_denial_item_org_status", "organization_id", "status"),
    )

    claim_id: str = Field(max_length=32, index=True)
    claim_line_id: str | None = Field(default=None, max_length=32)
    claim_posting_id: str = Field(max_length=32, index=True)
    line_posting_id: str | None = Field(default=None, max_length=32)
    patient_id: str = Field(foreign_key="patient.id", max_length=32)
    encounter_id: str = Field(max_length=32)
    payer_id: str = Field(max_length=32)
    group_code: str = Field(max_length=2)
    reason: str = Field(max_length=5)  # CARC
    remark_codes: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # RARCs
    procedure_code: str | None = Field(default=None, max_length=48)
    amount: Decimal = Field(sa_type=sa.Numeric(12, 2))
    denied_date: date  # the payment date of the 835 (else the day it was posted)
    status: str = Field(default="open", max_length=12)
    owner_id: str | None = Field(default=None, max_length=32)
    follow_up_date: date | None = None
    notes: str | None = Field(default=None, max_length=2000)
    # [{at, actor, action, status, note}]: every change, oldest first.
    history: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    write_off_entry_id: str | None = Field(default=None, max_length=32)
