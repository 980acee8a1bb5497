"""Request and response models for worklist templates, worklists, items and control results."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from service.schemas_common import RecordMeta, page_of, patch_of
from service.worklists import layout as rules

Id = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class ReservedPosition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    position: str = Field(min_length=1, max_length=8)
    kind: Literal["control", "blank", "calibrator"]
    material: str | None = Field(default=None, max_length=80)


class WorklistTemplateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    bench: str = Field(min_length=1, max_length=40)
    instrument: str | None = Field(default=None, min_length=1, max_length=100)
    test_ids: list[Id] = Field(min_length=1, max_length=50)
    layout: Literal["rack", "plate96"]
    capacity: int = Field(ge=1, le=10_000, description="rack positions; a plate has 96")
    reserved: list[ReservedPosition] = Field(default_factory=list, max_length=96)

    @model_validator(mode="after")
    def _fits(self) -> "WorklistTemplateCreate":
        if self.layout == "plate96" and self.capacity != 96:
            raise ValueError("a 96-well plate has capacity 96")
        seen: set[str] = set()
        for r in self.reserved:
            if not rules.is_position(self.layout, self.capacity, r.position):
                raise ValueError(f"{r.position} is not a position of this layout")
            if r.position in seen:
                raise ValueError(f"{r.position} is reserved twice")
            seen.add(r.position)
        if len(seen) >= self.capacity:
            raise ValueError("reserved positions leave no room for specimens")
        return self


class WorklistTemplateRead(WorklistTemplateCreate, RecordMeta):
    pass


WorklistTemplatePage = page_of(WorklistTemplateRead)
WorklistTemplatePatch = patch_of(WorklistTemplateCreate)


class WorklistTemplateFilters(BaseModel):
    bench: str | None = Field(default=None, max_length=40)


class WorklistBuild(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template_id: Id
    name: str | None = Field(default=None, min_length=1, max_length=100)
    limit: int | None = Field(default=None, ge=0, le=10_000, description="at most this many")


class ItemAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    specimen_id: Id
    lab_test_id: Id
    position: str | None = Field(default=None, min_length=1, max_length=8)


class WorklistItemRead(BaseModel):
    id: str
    position: str
    specimen_test_id: str
    specimen_id: str
    accession: str
    lab_test_id: str
    test_code: str
    priority: str


class WorklistRead(BaseModel):
    id: str
    template_id: str | None
    name: str
    bench: str
    instrument: str | None
    test_ids: list[str]
    layout: str
    capacity: int
    reserved: list[ReservedPosition]
    status: str
    built_by: str
    completed_at: datetime | None
    items: list[WorklistItemRead]
    created_at: datetime
    updated_at: datetime
    version: int


class WorklistSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    bench: str
    status: str
    capacity: int
    created_at: datetime


class WorklistPage(BaseModel):
    items: list[WorklistSummary]
    next_cursor: str | None


class WorklistFilters(BaseModel):
    status: Literal["open", "in_progress", "completed"] | None = None
    bench: str | None = Field(default=None, max_length=40)


class ControlCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lab_test_id: Id
    material: str = Field(min_length=1, max_length=80)
    component_code: str = Field(min_length=1, max_length=20)
    value: Decimal = Field(max_digits=18, decimal_places=6)


class ControlAcceptance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=500)


class ControlRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    worklist_id: str
    lab_test_id: str
    material: str
    component_code: str
    value: Decimal
    low: Decimal
    high: Decimal
    in_range: bool
    entered_by: str
    entered_at: datetime
    accepted_by: str | None
    accepted_at: datetime | None
    accept_note: str | None
