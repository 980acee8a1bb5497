"""Request and response models for patients (field names as in DESIGN.md)."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.schemas_common import Address, IsoDate, Name, PastDate, RecordMeta, page_of, patch_of


class PatientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mrn: str = Field(min_length=1, max_length=50)
    family_name: Name
    # US Core and X12 (NM104 "when the person has a first name") allow a person with one name.
    given_name: Name | None = None
    middle_name: Name | None = None
    suffix: str | None = Field(default=None, min_length=1, max_length=20)
    birth_date: PastDate
    sex: Literal["M", "F", "U"]
    address: Address | None = None
    phone: str | None = Field(default=None, min_length=1, max_length=30)


class PatientWarning(BaseModel):
    code: Literal["possible-duplicate"]
    patient_id: str
    mrn: str
    detail: str


class PatientRead(PatientCreate, RecordMeta):
    birth_date: date  # stored dates were checked on the way in
    warnings: list[PatientWarning] = Field(
        default_factory=list,
        description="On create: patients already registered who may be this one (same or "
        "close name and birth date). The patient is created all the same.",
    )


class DuplicatePair(BaseModel):
    reason: str
    patients: list[PatientRead]


class DuplicateList(BaseModel):
    items: list[DuplicatePair]


PatientPage = page_of(PatientRead)
PatientPatch = patch_of(PatientCreate)


class PatientFilters(BaseModel):
    mrn: str | None = Field(default=None, max_length=50)
    family_name: str | None = Field(default=None, max_length=100, description="prefix, any case")
    birth_date: IsoDate | None = None
