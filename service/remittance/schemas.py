"""Request and response models for remittance files, acknowledgements, postings and denials."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.schemas_common import IsoDate, MoneyText

# Dates in queries are YYYY-MM-DD only (pydantic alone would also take 0 as 1970-01-01).
QueryDate = IsoDate


class RemittanceFileRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: Literal["999", "277CA", "835"]
    sha256: str
    size_bytes: int
    filename: str | None
    sender_id: str
    interchange_control_number: str
    uploaded_by: str
    created_at: datetime
    result: dict[str, Any]
    duplicate: bool = Field(
        default=False, description="true: these bytes were uploaded before; this is that result"
    )
    dry_run: bool = Field(
        default=False, description="true: what the file would post; nothing was stored"
    )


class RemittanceFilePage(BaseModel):
    items: list[RemittanceFileRead]
    next_cursor: str | None


class RemittanceFileFilters(BaseModel):
    kind: Literal["999", "277CA", "835"] | None = None


class AdjustmentRead(BaseModel):
    group: str
    group_words: str
    reason: str
    amount: MoneyText
    quantity: Decimal | None


class LinePostingRead(BaseModel):
    id: str | None = None
    claim_line_id: str | None
    match_method: str
    line_control_number: str | None
    procedure_code: str
    modifiers: list[str]
    service_date: date | None
    charge: MoneyText
    paid: MoneyText
    units: Decimal | None
    remark_codes: list[str]
    adjustments: list[AdjustmentRead] = []


class UnmatchedClaimRead(BaseModel):
    posting_id: str
    patient_control_number: str
    payer_claim_number: str
    status_code: str
    charge: MoneyText
    paid: MoneyText
    patient_responsibility: MoneyText
    payment_date: date | None
    lines: list[LinePostingRead]


class UnmatchedLineRead(LinePostingRead):
    claim_id: str
    patient_control_number: str
    payer_claim_number: str


class UnmatchedProviderAdjustmentRead(BaseModel):
    """A PLB whose reference (PLB03-2) names no claim of ours: kept on its payment."""

    payment_id: str
    reason: str
    reference: str
    amount: MoneyText


class UnmatchedRead(BaseModel):
    file_id: str
    claims: list[UnmatchedClaimRead]
    lines: list[UnmatchedLineRead]
    provider_adjustments: list[UnmatchedProviderAdjustmentRead] = []


class AdjudicationPartRead(BaseModel):
    """One active CLP of the claim (several when the payer split it)."""

    posting_id: str
    status_code: str
    status_words: str
    charge: MoneyText
    paid: MoneyText
    patient_responsibility: MoneyText
    payer_claim_number: str
    payment_date: date | None
    trace_number: str
    remark_codes: list[str]


class AdjudicationRead(BaseModel):
    """The payer's decision: the claim's active 835 postings combined (amounts summed, every
    adjustment and line); status code and CLP07 (payer_claim_number) of the latest one."""

    claim_id: str
    status_code: str
    status_words: str
    claim_status: str | None
    charge: MoneyText
    paid: MoneyText
    patient_responsibility: MoneyText
    payer_claim_number: str
    payment_date: date | None
    trace_number: str
    payer_name: str
    payer_identifier: str
    adjustments: list[AdjustmentRead]
    lines: list[LinePostingRead]
    remark_codes: list[str] = Field(description="claim-level MOA/MIA remark codes (RARC)")
    postings: list[AdjudicationPartRead]


class AcknowledgementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    file_id: str
    kind: str
    batch_id: str | None
    claim_id: str | None
    st_control_number: int | None
    patient_control_number: str | None
    code: str
    outcome: str
    payer_claim_number: str | None
    details: list[dict[str, Any]]
    created_at: datetime


class DenialFilters(BaseModel):
    payer_id: str | None = Field(default=None, max_length=32)
    date_from: QueryDate | None = None
    date_to: QueryDate | None = None


class SuggestedAction(BaseModel):
    action: str
    note: str
    route: str | None = Field(
        default=None, description="the claims route that does it, {claim_id} to fill in"
    )


class DenialItem(BaseModel):
    claim_id: str
    patient_control_number: str
    payer_id: str
    claim_status: str
    payer_claim_number: str
    payment_date: date | None
    claim_line_id: str | None
    procedure_code: str | None
    amount: MoneyText


class DenialGroup(BaseModel):
    group_code: str
    reason: str
    remark_codes: list[str]
    adjustment_count: int
    claim_count: int
    line_count: int
    amount: MoneyText
    suggested_action: SuggestedAction
    items: list[DenialItem]


class DenialQueue(BaseModel):
    items: list[DenialGroup]


class DenialGroupCode(BaseModel):
    code: str
    text: str | None = Field(description="from the imported CARC/RARC set; null if not loaded")


class DenialWorkItemRead(BaseModel):
    """A denied line (or claim) to work: what was denied, why, for whom, and where it stands."""

    id: str
    claim_id: str
    claim_line_id: str | None
    encounter_id: str
    patient_id: str
    patient_name: str
    payer_id: str
    payer_name: str
    group_code: str
    group_words: str
    reason: DenialGroupCode = Field(description="the CARC")
    remark_codes: list[DenialGroupCode] = Field(description="the RARCs")
    procedure_code: str | None
    amount: MoneyText
    denied_date: date
    age_days: int
    status: Literal["open", "in_progress", "resubmitted", "appealed", "written_off", "closed"]
    owner_id: str | None
    follow_up_date: date | None
    notes: str | None
    history: list[dict[str, Any]]
    write_off_entry_id: str | None
    suggested_action: SuggestedAction
    links: dict[str, str] = Field(description="claims routes: replacement, void, adjudication")
    version: int


class DenialWorkItemPage(BaseModel):
    items: list[DenialWorkItemRead]
    next_cursor: str | None


class DenialWorkFilters(BaseModel):
    status: list[
        Literal["open", "in_progress", "resubmitted", "appealed", "written_off", "closed"]
    ] = []
    owner_id: str | None = Field(default=None, max_length=32)
    payer_id: str | None = Field(default=None, max_length=32)
    follow_up_by: QueryDate | None = None


class DenialWorkItemUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner_id: str | None = Field(default=None, min_length=1, max_length=32)
    follow_up_date: QueryDate | None = None
    status: Literal["open", "in_progress", "resubmitted", "appealed", "closed"] | None = None
    note: str | None = Field(default=None, min_length=1, max_length=500)


class DenialAppeal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, min_length=1, max_length=500)


class DenialWriteOff(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Literal[
        "denial", "timely_filing", "small_balance", "courtesy", "bad_debt", "contractual", "other"
    ] = "denial"
    note: str | None = Field(default=None, min_length=1, max_length=200)
