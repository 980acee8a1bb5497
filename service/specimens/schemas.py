"""Request and response models for specimens, their events, lineage and turnaround times."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.schemas_common import IsoDate, IsoInstant
from service.specimens.states import REJECTION_REASONS, SpecimenStatus

Temperature = Literal["room", "refrigerated", "frozen"]
Location = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=32)]
Volume = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=3)]
RejectionReason = Literal[REJECTION_REASONS]  # type: ignore[valid-type]


class SpecimenCreate(BaseModel):
    """Accession a specimen for an order (status `ordered`, or `collected` with collected_at)."""

    model_config = ConfigDict(extra="forbid")

    order_id: Id
    test_ids: list[Id] | None = Field(
        default=None, max_length=50, description="tests this specimen is for; default: all"
    )
    container: str | None = Field(default=None, min_length=1, max_length=60)
    collected_at: IsoInstant | None = None
    location: Location | None = None
    volume: Volume | None = None
    volume_unit: Literal["mL", "uL", "g", "mg", "ea"] | None = None


class Collection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: IsoInstant | None = None
    location: Location | None = None
    volume: Volume | None = None
    volume_unit: Literal["mL", "uL", "g", "mg", "ea"] | None = None


class Receipt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: IsoInstant | None = None
    location: Location
    temperature: Temperature = "room"
    condition: str | None = Field(default=None, min_length=1, max_length=100)


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: RejectionReason
    note: str | None = Field(default=None, max_length=500)
    recollect: bool = False


class Move(BaseModel):
    """Storage (verified -> stored) or a change of place without a status change."""

    model_config = ConfigDict(extra="forbid")

    location: Location
    temperature: Temperature | None = None
    at: IsoInstant | None = None


class Disposal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: IsoInstant | None = None
    note: str | None = Field(default=None, max_length=500)


class StepCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{1,29}$")]
    parameters: dict[str, Decimal] = Field(default_factory=dict, max_length=10)
    at: IsoInstant | None = None
    location: Location | None = None
    note: str | None = Field(default=None, max_length=500)


class ChildCreate(BaseModel):
    """An aliquot (A), block (B) or slide (S) taken from this specimen."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["aliquot", "block", "slide"]
    volume: Volume | None = None
    volume_unit: Literal["mL", "uL", "g", "mg", "ea"] | None = None
    test_ids: list[Id] = Field(default_factory=list, max_length=50)
    container: str | None = Field(default=None, min_length=1, max_length=60)
    at: IsoInstant | None = None


class SpecimenTestRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    lab_test_id: str
    status: str


class SpecimenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    accession: str
    order_id: str
    patient_id: str
    parent_id: str | None
    recollection_of_id: str | None
    kind: str
    specimen_type: str
    container: str | None
    status: str
    priority: str
    volume: Decimal | None
    volume_unit: str | None
    location: str | None
    temperature: str | None
    condition: str | None
    collected_at: datetime | None
    received_at: datetime | None
    ready_at: datetime | None
    verified_at: datetime | None
    rejection_reason: str | None
    warnings: list[str]
    label_prints: int
    tests: list[SpecimenTestRead] = Field(default_factory=list)
    patient_name: str | None = Field(default=None, description="In lists: who it is from.")
    patient_mrn: str | None = None
    created_at: datetime
    updated_at: datetime
    version: int


class SpecimenPage(BaseModel):
    items: list[SpecimenRead]
    next_cursor: str | None


class StepResult(BaseModel):
    specimen: SpecimenRead
    deviation: bool
    deviations: list[str]


class SpecimenFilters(BaseModel):
    accession: str | None = Field(default=None, max_length=24)
    status: SpecimenStatus | None = None
    order_id: str | None = Field(default=None, max_length=32)
    patient_id: str | None = Field(default=None, max_length=32)
    test: str | None = Field(
        default=None, max_length=32, description="A lab test's id or code (`A1C`)."
    )
    collected_from: IsoDate | None = Field(
        default=None, description="First day of collection (the organization's local date)."
    )
    collected_to: IsoDate | None = Field(
        default=None, description="Last day of collection, included (local date)."
    )


class SpecimenEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    event: str
    at: datetime
    user_id: str
    location: str | None
    step: str | None
    deviation: bool
    details: dict[str, Any]


class SpecimenEventPage(BaseModel):
    items: list[SpecimenEventRead]
    next_cursor: str | None


class Lineage(BaseModel):
    specimen_id: str
    ancestors: list[SpecimenRead]  # parent first, then its parent...
    descendants: list[SpecimenRead]  # children and their children, by accession


class SpecimenTurnaround(BaseModel):
    specimen_id: str
    accession: str
    collected_to_received_minutes: float | None
    received_to_ready_minutes: float | None
    ready_to_verified_minutes: float | None


class TurnaroundGroup(BaseModel):
    key: str  # test code or bench
    specimens: int
    collected_to_received_avg_minutes: float | None
    received_to_ready_avg_minutes: float | None
    ready_to_verified_avg_minutes: float | None
    collected_to_verified_median_minutes: float | None


class TurnaroundReport(BaseModel):
    collected_from: datetime
    collected_to: datetime
    by_test: list[TurnaroundGroup]
    by_bench: list[TurnaroundGroup]
