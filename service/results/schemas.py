"""Request and response models for results."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.schemas_common import IsoInstant

Id = Annotated[str, StringConstraints(min_length=1, max_length=32)]
Value = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ResultCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    specimen_id: Id
    lab_test_id: Id
    component_code: str = Field(min_length=1, max_length=20)
    value: Value
    unit: str | None = Field(default=None, min_length=1, max_length=20)


class Notification(BaseModel):
    """Who was told of a critical value; the caller is who told them."""

    model_config = ConfigDict(extra="forbid")

    notified_name: str = Field(min_length=1, max_length=200)
    at: IsoInstant | None = None
    note: str | None = Field(default=None, max_length=500)


class Verification(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result_ids: list[Id] = Field(min_length=1, max_length=500)


class Correction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: Value
    reason: str = Field(min_length=1, max_length=500)


class ResultRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    specimen_id: str
    specimen_test_id: str
    lab_test_id: str
    patient_id: str
    worklist_id: str | None
    component_code: str
    component_name: str
    kind: str
    value: str
    unit: str | None
    ref_low: Decimal | None
    ref_high: Decimal | None
    critical_low: Decimal | None
    critical_high: Decimal | None
    flag: str | None
    critical: bool
    status: str
    current: bool
    supersedes_id: str | None
    correction_reason: str | None
    entered_by: str
    entered_at: datetime
    verified_by: str | None
    verified_at: datetime | None
    notified_name: str | None
    notified_by: str | None
    notified_at: datetime | None
    version: int


class ResultPage(BaseModel):
    items: list[ResultRead]
    next_cursor: str | None


class ResultFilters(BaseModel):
    specimen_id: str | None = Field(default=None, max_length=32)
    patient_id: str | None = Field(default=None, max_length=32)
    status: Literal["preliminary", "final", "corrected"] | None = None
    worklist_id: str | None = Field(default=None, max_length=32)


class ImportReport(BaseModel):
    imported: int
    result_ids: list[str]
