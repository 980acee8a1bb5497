"""Request and response models for patients (field names as in DESIGN.md)."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.schemas_common import Address, Name, PastDate


class PatientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mrn: str = Field(min_length=1, max_length=50)
    family_name: Name
    given_name: Name
    middle_name: Name | None = None
    suffix: str | None = Field(default=None, min_length=1, max_length=20)
    birth_date: PastDate
    sex: Literal["M", "F", "U"]
    address: Address | None = None
    phone: str | None = Field(default=None, min_length=1, max_length=30)


class PatientPatch(BaseModel):
    """Documents the PATCH body: a JSON merge patch of PatientCreate (null removes a field)."""

    mrn: str | None = None
    family_name: str | None = None
    given_name: str | None = None
    middle_name: str | None = None
    suffix: str | None = None
    birth_date: date | None = None
    sex: Literal["M", "F", "U"] | None = None
    address: Address | None = None
    phone: str | None = None


class PatientRead(PatientCreate):
    model_config = ConfigDict(extra="ignore")

    id: str
    birth_date: date
    created_at: datetime
    updated_at: datetime
    version: int


class PatientPage(BaseModel):
    items: list[PatientRead]
    next_cursor: str | None


def patient_document(row: object) -> dict[str, object]:
    """The PatientCreate-shaped view of a row: what a merge patch applies to."""
    get = row.__getattribute__
    doc: dict[str, object] = {
        "mrn": get("mrn"),
        "family_name": get("family_name"),
        "given_name": get("given_name"),
        "middle_name": get("middle_name"),
        "suffix": get("suffix"),
        "birth_date": get("birth_date").isoformat(),
        "sex": get("sex"),
        "phone": get("phone"),
        "address": None,
    }
    if get("address_line1"):
        doc["address"] = {
            "line1": get("address_line1"),
            "line2": get("address_line2"),
            "city": get("city"),
            "state": get("state"),
            "postal_code": get("postal_code"),
        }
    return {k: v for k, v in doc.items() if v is not None}


def patient_read(row: object) -> PatientRead:
    get = row.__getattribute__
    return PatientRead.model_validate(
        patient_document(row)
        | {
            "id": get("id"),
            "birth_date": get("birth_date"),
            "created_at": get("created_at"),
            "updated_at": get("updated_at"),
            "version": get("version"),
        }
    )
