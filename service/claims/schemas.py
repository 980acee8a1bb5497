"""Request and response models for claims and claim batches."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from service.claims.states import BatchStatus
from service.codesets.search import display_code
from service.coding.schemas import Finding
from service.schemas_common import IsoDate, MoneyText

ClaimStatus = Literal[
    "draft",
    "ready",
    "batched",
    "submitted",
    "accepted",
    "rejected",
    "paid",
    "partially_paid",
    "denied",
    "replaced",
    "voided",
    "forwarded",
    "cancelled",
]


class ClaimCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    encounter_id: str = Field(min_length=1, max_length=32)
    coverage_id: str | None = Field(
        default=None, max_length=32, description="default: the encounter's primary coverage"
    )


class LineOrigin(BaseModel):
    """What produced the line: the encounter service line and, for charge capture, the
    specimen (id and accession number) and the lab test."""

    service_line_id: str | None
    source: str | None = None
    specimen_id: str | None = None
    accession_number: str | None = None
    lab_test_id: str | None = None
    lab_test_code: str | None = None


class ClaimLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    position: int
    line_control_number: str
    code_system: str
    code: str
    modifiers: list[str]
    units: Decimal
    charge: MoneyText
    service_date: date
    pointers: list[int]
    tooth: str | None
    surfaces: str | None
    oral_area: str | None
    ndc: str | None
    ndc_unit: str | None
    ndc_quantity: Decimal | None
    ndc_link_number: str | None
    note: str | None
    anesthesia_minutes: int | None
    rendering_provider_id: str | None
    ordering_provider_id: str | None
    duplicate_acknowledged: bool
    origin: LineOrigin


class ClaimRead(BaseModel):
    id: str
    encounter_id: str
    coverage_id: str
    patient_id: str
    payer_id: str
    claim_type: Literal["professional", "dental"]
    payer_responsibility: str
    patient_control_number: str
    frequency: str
    payer_claim_number: str | None = Field(
        description="The payer's claim number (835 CLP07, or entered); REF*F8 on 7 and 8"
    )
    replaces_claim_id: str | None = Field(description="a replacement's or void's original")
    replaced_by_claim_id: str | None = Field(description="the replacement or void of this one")
    status: ClaimStatus
    date_of_service: date
    place_of_service: str
    diagnoses: list[str] = Field(description="ICD-10-CM as sent in HI (no dot), principal first")
    total_charge: MoneyText
    lines: list[ClaimLineRead]
    findings: list[Finding]
    scrubbed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int

    @computed_field(description="the diagnoses as people write them, dotted (E11.9)")
    def diagnoses_display(self) -> list[str]:
        return [display_code(code) for code in self.diagnoses]


class ClaimPatch(BaseModel):
    """What a clerk sets on a claim: the payer's claim number, read off the payer's portal."""

    model_config = ConfigDict(extra="forbid")

    payer_claim_number: str = Field(min_length=1, max_length=50, pattern=r"^[^*:~^]+$")


class ClaimSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    encounter_id: str
    patient_id: str
    payer_id: str
    claim_type: str
    patient_control_number: str
    status: ClaimStatus
    date_of_service: date
    total_charge: MoneyText
    created_at: datetime
    # What staff read instead of ids (issue 24).
    patient_name: str | None = None
    patient_mrn: str | None = None
    payer_name: str | None = None
    provider_name: str | None = Field(
        default=None, description="The encounter's rendering provider, else its billing one."
    )


class ClaimPage(BaseModel):
    items: list[ClaimSummary]
    next_cursor: str | None


class ClaimFilters(BaseModel):
    status: ClaimStatus | None = None
    claim_type: Literal["professional", "dental"] | None = None
    patient_id: str | None = Field(
        default=None, max_length=50, description="A patient's id or MRN."
    )
    payer_id: str | None = Field(
        default=None, max_length=80, description="A payer's id or its payer id (`MCRIL`)."
    )
    encounter_id: str | None = Field(default=None, max_length=32)
    patient_control_number: str | None = Field(default=None, max_length=20)
    date_from: IsoDate | None = None
    date_to: IsoDate | None = None


class BatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trading_partner_id: str = Field(min_length=1, max_length=32)
    claim_type: Literal["professional", "dental"]
    claim_ids: list[str] | None = Field(
        default=None, max_length=100_000, description="default: every ready claim of the type"
    )


class BatchRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    trading_partner_id: str
    claim_type: str
    usage_indicator: str
    status: str
    interchange_control_number: int
    first_st_control_number: int
    transaction_set_count: int
    claim_count: int
    line_count: int
    total_charge: MoneyText
    size_bytes: int
    sha256: str
    filename: str
    created_at: datetime
    downloaded_at: datetime | None
    submitted_at: datetime | None
    cancelled_at: datetime | None


class SkippedClaimRead(BaseModel):
    claim_id: str
    reason: str


class BatchCreated(BatchRead):
    skipped: list[SkippedClaimRead] = Field(
        default_factory=list,
        description="Each listed claim id that is not in the batch, and why (issue 24).",
    )


class BatchPage(BaseModel):
    items: list[BatchRead]
    next_cursor: str | None


class BatchFilters(BaseModel):
    status: BatchStatus | None = None
    claim_type: Literal["professional", "dental"] | None = None
