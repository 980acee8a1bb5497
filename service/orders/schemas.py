"""Request and response models for lab orders (FHIR ServiceRequest)."""

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from service.schemas_common import RecordMeta, page_of, patch_of

Priority = Literal["routine", "stat"]
OrderStatus = Literal["active", "completed", "cancelled"]


def _dotted(code: str) -> str:
    """ICD-10-CM is accepted with or without the dot and shown with it (E11621 -> E11.621)."""
    bare = code.replace(".", "").upper()
    return f"{bare[:3]}.{bare[3:]}" if len(bare) > 3 else bare


# ICD-10-CM shape: a letter (not U), a digit, an alphanumeric, then up to 4 more after the dot.
Icd10Code = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, pattern=r"^[A-TV-Za-tv-z]\d[0-9A-Za-z]\.?[0-9A-Za-z]{0,4}$"
    ),
    AfterValidator(_dotted),
]
Id = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class LabOrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient_id: Id
    ordering_provider_id: Id
    test_ids: list[Id] = Field(min_length=1, max_length=50)
    priority: Priority = "routine"
    reason_codes: list[Icd10Code] = Field(default_factory=list, max_length=12)
    encounter_id: str | None = Field(default=None, min_length=1, max_length=64)
    status: OrderStatus = "active"


class LabOrderRead(LabOrderCreate, RecordMeta):
    pass


LabOrderPage = page_of(LabOrderRead)
LabOrderPatch = patch_of(LabOrderCreate)


class LabOrderFilters(BaseModel):
    patient_id: str | None = Field(default=None, max_length=32)
    status: OrderStatus | None = None
    priority: Priority | None = None
