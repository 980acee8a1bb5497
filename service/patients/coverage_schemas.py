"""Request and response models for coverages (a patient's insurance with one payer)."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.schemas_common import Address, IsoDate, Name, PastDate, RecordMeta, page_of, patch_of

# X12 individual relationship codes (SBR02 / PAT01), 005010X222A1.
Relationship = Literal["01", "18", "19", "20", "21", "39", "40", "53", "G8"]


class Subscriber(BaseModel):
    model_config = ConfigDict(extra="forbid")

    family_name: Name
    given_name: Name
    middle_name: Name | None = None
    suffix: str | None = Field(default=None, min_length=1, max_length=10)
    birth_date: PastDate
    sex: Literal["M", "F", "U"]
    address: Address | None = None


class CoverageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient_id: str = Field(min_length=1, max_length=32)
    payer_id: str = Field(min_length=1, max_length=32)
    member_id: str = Field(min_length=1, max_length=80)
    group_number: str | None = Field(default=None, min_length=1, max_length=50)
    priority: Literal["primary", "secondary", "tertiary"]
    relationship: Relationship = Field(
        default="18", description="18 = the patient is the subscriber"
    )
    subscriber: Subscriber | None = None
    own_member_id: bool = Field(
        default=False,
        description="a dependant's card carries their own member id: the patient is then the "
        "subscriber in the 837 (2000B, SBR02 18, no 2000C); false: the subscriber's id is shared",
    )
    start_date: date
    end_date: date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "CoverageCreate":
        if self.relationship == "18" and self.subscriber is not None:
            raise ValueError("relationship 18 (self) takes no subscriber: the patient is one")
        if self.relationship != "18" and self.subscriber is None:
            raise ValueError("a subscriber other than the patient needs `subscriber`")
        if self.relationship == "18" and self.own_member_id:
            raise ValueError("own_member_id is for a dependant (relationship other than 18)")
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class CoverageRead(CoverageCreate, RecordMeta):
    pass


CoveragePage = page_of(CoverageRead)
CoveragePatch = patch_of(CoverageCreate)


class CoverageFilters(BaseModel):
    patient_id: str | None = Field(default=None, max_length=32)
    payer_id: str | None = Field(default=None, max_length=32)
    priority: Literal["primary", "secondary", "tertiary"] | None = None
    active_on: IsoDate | None = Field(default=None, description="coverages in force on this date")
