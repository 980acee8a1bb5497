"""Table: the append-only patient ledger."""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.columns import UTCDateTime
from service.ids import new_id
from service.records import utcnow

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
