"""Table: the append-only patient ledger."""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.columns import UTCDateTime
from service.ids import new_id
from service.records import TenantRecord, utcnow

ENTRY_KINDS = (
    "charge",
    "insurance_payment",
    "insurance_adjustment",
    "transfer",
    "patient_payment",
    "credit_applied",
    "refund",
    "adjustment",
    "write_off",
    "reversal",
)


def _in(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=column)


class LedgerEntry(SQLModel, table=True):
    """One movement of money on a patient account, never updated or deleted (DESIGN.md
    LedgerEntry): a correction is a `reversal` entry naming the one it undoes.

    Each entry moves two signed amounts: what insurance owes (`insurance_amount`) and what the
    patient owes (`patient_amount`); positive raises the balance, negative lowers it. A charge
    raises the insurance side, a payment lowers one side, a transfer (835 PR, a secondary claim
    sent) lowers one and raises the other. Every balance is a sum of these two columns.
    An entry with no encounter is the patient's unapplied credit (an overpayment, a copay taken
    before the visit was billed)."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        _in("kind", ENTRY_KINDS),
        sa.Index("ix_ledger_entry_org_patient", "organization_id", "patient_id"),
        sa.Index("ix_ledger_entry_org_date", "organization_id", "entry_date"),
        sa.Index("ix_ledger_entry_org_encounter", "organization_id", "encounter_id"),
        sa.Index("ix_ledger_entry_claim_posting", "claim_posting_id"),
        # An entry is reversed at most once: two clerks reversing it at once, one wins.
        sa.Index("uq_ledger_entry_reverses", "reverses_entry_id", unique=True),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", max_length=32)
    patient_id: str = Field(foreign_key="patient.id", max_length=32)
    encounter_id: str | None = Field(default=None, max_length=32)
    claim_id: str | None = Field(default=None, max_length=32)
    claim_line_id: str | None = Field(default=None, max_length=32)
    payer_id: str | None = Field(default=None, max_length=32)
    kind: str = Field(max_length=24)
    insurance_amount: Decimal = Field(default=Decimal(0), sa_type=sa.Numeric(12, 2))
    patient_amount: Decimal = Field(default=Decimal(0), sa_type=sa.Numeric(12, 2))
    # The accounting day (the organization's local date): journals, month-end and "as of".
    entry_date: date
    method: str | None = Field(default=None, max_length=10)  # cash, check, card, other
    reference: str | None = Field(default=None, max_length=50)  # check number, card slip
    reason: str | None = Field(default=None, max_length=24)  # write-offs and adjustments
    note: str | None = Field(default=None, max_length=200)
    # Where an insurance entry came from: the 835 posting and its payment (the deposit).
    claim_posting_id: str | None = Field(default=None, max_length=32)
    remittance_payment_id: str | None = Field(default=None, max_length=32)
    reverses_entry_id: str | None = Field(default=None, max_length=32)
    actor: str = Field(max_length=32)  # the user id, or "system"
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StatementRun(TenantRecord, table=True):
    """A day's statement run: every patient owing more than `threshold` who was not sent one
    in the last `quiet_days`. The same run asked again the same day is this one."""

    __tablename__ = "statement_run"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "run_date", "threshold", "quiet_days"),
    )

    run_date: date
    threshold: Decimal = Field(sa_type=sa.Numeric(12, 2))
    quiet_days: int
    created_by: str = Field(max_length=32)
    statement_count: int = 0
    total_due: Decimal = Field(default=Decimal(0), sa_type=sa.Numeric(14, 2))
    csv_sha256: str = Field(default="", max_length=64)  # the run's list (statement_file_chunk)
    csv_size: int = 0


class Statement(TenantRecord, table=True):
    """One patient's statement as sent: its PDF and CSV are stored (statement_file_chunk) and
    downloaded again byte for byte; the figures are kept for the list and the next run."""

    __tablename__ = "statement"
    __table_args__ = (sa.Index("ix_statement_org_patient", "organization_id", "patient_id"),)

    patient_id: str = Field(foreign_key="patient.id", max_length=32)
    run_id: str | None = Field(default=None, max_length=32, index=True)
    statement_date: date
    amount_due: Decimal = Field(sa_type=sa.Numeric(12, 2))
    insurance_pending: Decimal = Field(sa_type=sa.Numeric(12, 2))
    credit: Decimal = Field(sa_type=sa.Numeric(12, 2))
    created_by: str = Field(max_length=32)
    pdf_sha256: str = Field(max_length=64)
    pdf_size: int
    csv_sha256: str = Field(max_length=64)
    csv_size: int


class StatementFileChunk(SQLModel, table=True):
    """The bytes of statements and runs (service/blobs.py): file_id is "<id>.pdf" or "<id>.csv"."""

    __tablename__ = "statement_file_chunk"

    file_id: str = Field(primary_key=True, max_length=40)
    seq: int = Field(primary_key=True)
    data: bytes = Field(sa_type=sa.LargeBinary)
