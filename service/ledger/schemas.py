"""Request and response models for the patient ledger and its reports."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.ledger.logic import METHODS, REASONS
from service.schemas_common import IsoDate, MoneyText, WholeNumber

# Money in: positive, cents at most (the ledger keeps Numeric(12, 2)).
Amount = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=2)]
Method = Literal[METHODS]  # type: ignore[valid-type]
Reason = Literal[REASONS]  # type: ignore[valid-type]
Note = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Reference = Annotated[str, StringConstraints(min_length=1, max_length=50, strip_whitespace=True)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PaymentCreate(_In):
    """A patient payment: a copay at check-in, a check, cash or a card."""

    patient_id: Id
    amount: Amount
    method: Method
    reference: Reference | None = Field(default=None, description="check number, card slip")
    encounter_id: Id | None = Field(
        default=None,
        description="applied to this encounter up to what the patient owes on it; the rest "
        "(or all, without one) is unapplied credit",
    )
    note: Note | None = None


class CreditApplicationCreate(_In):
    patient_id: Id
    encounter_id: Id
    amount: Amount | None = Field(default=None, description="default: as much as both allow")


class RefundCreate(_In):
    patient_id: Id
    amount: Amount
    method: Method
    reference: Reference | None = None
    note: Note | None = None


class BalanceChangeCreate(_In):
    """A write-off or an adjustment: what one side owes on an encounter, reduced for a reason."""

    patient_id: Id
    encounter_id: Id
    amount: Amount
    reason: Reason
    side: Literal["insurance", "patient"] = "patient"
    note: Note | None = None


class TransferCreate(_In):
    encounter_id: Id
    amount: Amount
    to: Literal["patient", "insurance"]
    note: Note | None = None


class ReversalCreate(_In):
    note: Note


class LedgerEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    patient_id: str
    encounter_id: str | None
    claim_id: str | None
    payer_id: str | None
    kind: str
    insurance_amount: MoneyText
    patient_amount: MoneyText
    entry_date: date
    method: str | None
    reference: str | None
    reason: str | None
    note: str | None
    claim_posting_id: str | None
    remittance_payment_id: str | None
    reverses_entry_id: str | None
    actor: str
    at: datetime


class EncounterBalance(BaseModel):
    encounter_id: str
    date_of_service: date | None
    insurance: MoneyText
    patient: MoneyText
    total: MoneyText


class BalanceRead(BaseModel):
    patient_id: str
    insurance: MoneyText = Field(description="what payers still owe")
    patient: MoneyText = Field(description="what the patient owes on encounters")
    credit: MoneyText = Field(description="unapplied credit (>= 0): the patient's money we hold")
    total: MoneyText = Field(description="insurance + patient - credit")
    encounters: list[EncounterBalance]


class LedgerRead(BaseModel):
    patient_id: str
    entries: list[LedgerEntryRead]
    balance: BalanceRead


class MovementRead(BaseModel):
    """What a request wrote, and the balance after it."""

    entries: list[LedgerEntryRead]
    balance: BalanceRead


class StatementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    patient_id: str
    run_id: str | None
    statement_date: date
    amount_due: MoneyText
    insurance_pending: MoneyText
    credit: MoneyText
    pdf_sha256: str
    pdf_size: int
    csv_sha256: str
    csv_size: int
    created_at: datetime
    links: dict[str, str] = Field(default_factory=dict)


class StatementRunCreate(_In):
    threshold: Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2)] = Decimal("5.00")
    quiet_days: Annotated[WholeNumber, Field(ge=0, le=365)] = 30


class StatementRunSummary(BaseModel):
    """A run as the list shows it: its terms and totals, without its statements."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    run_date: date
    threshold: MoneyText
    quiet_days: int
    statement_count: int
    total_due: MoneyText
    csv_sha256: str
    created_by: str = Field(description="the user who ran it")
    created_at: datetime
    links: dict[str, str] = Field(default_factory=dict)


class StatementRunPage(BaseModel):
    items: list[StatementRunSummary]
    next_cursor: str | None


class StatementRunFilters(BaseModel):
    date_from: IsoDate | None = Field(default=None, description="runs on or after this day")
    date_to: IsoDate | None = Field(default=None, description="runs on or before this day")
    created_by: Id | None = Field(default=None, description="runs made by this user (an id)")


class StatementRunRead(StatementRunSummary):
    duplicate: bool = Field(
        default=False, description="true: today's run with these terms, made before"
    )
    statements: list[StatementRead]
