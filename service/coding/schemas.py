"""Request and response models for encounters and their coding."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from service.schemas_common import IsoDate, RecordMeta, page_of, patch_of

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=8)]
TOOTH = r"^([1-9]|[12][0-9]|3[0-2]|[A-Ta-t]|[5-8][0-9]|[A-Ta-t][Ss])$"
ORAL_AREA = r"^(00|01|02|09|10|20|30|40|L|R|UR|UL|LR|LL|UA|LA)$"
Modifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{2}$", to_upper=True)]


class EncounterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient_id: str = Field(min_length=1, max_length=32)
    date_of_service: date
    place_of_service: str = Field(pattern=r"^\d{2}$", description="CMS Place of Service code")
    kind: Literal["medical", "dental"]
    billing_provider_id: str = Field(min_length=1, max_length=32)
    rendering_provider_id: str | None = Field(default=None, max_length=32)
    referring_provider_id: str | None = Field(default=None, max_length=32)
    facility_id: str | None = Field(default=None, max_length=32)
    coverage_ids: list[str] = Field(default_factory=list, max_length=3)
    prior_authorization: str | None = Field(default=None, min_length=1, max_length=50)
    referral_number: str | None = Field(default=None, min_length=1, max_length=50)


EncounterPatch = patch_of(EncounterCreate)


class ServiceLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code_system: Literal["CPT", "HCPCS", "CDT"]
    code: str = Field(pattern=r"^[A-Za-z0-9]{5}$")
    modifiers: list[Modifier] = Field(default_factory=list, max_length=4)
    units: Decimal = Field(default=Decimal(1), gt=0, max_digits=9, decimal_places=3)
    charge: Decimal | None = Field(
        default=None,
        gt=0,
        max_digits=10,
        decimal_places=2,
        description="From the fee schedule when left out",
    )
    service_date: date | None = Field(default=None, description="The date of service if left out")
    pointers: list[int] = Field(default_factory=list, max_length=4)
    tooth: str | None = Field(
        default=None, pattern=r"^([1-9]|[1-2][0-9]|3[0-2]|[A-Ta-t]|[5-8][0-9]|[A-Ta-t]S)$"
    )
    surfaces: str | None = Field(default=None, pattern=r"^[MOIDBFLmoidbfl]{1,5}$")
    oral_area: str | None = Field(
        default=None, pattern=r"^(00|01|02|09|10|20|30|40|L|R|UR|UL|LR|LL|UA|LA)$"
    )
    prosthesis: Literal["I", "R"] | None = None

    @model_validator(mode="after")
    def _upper(self) -> "ServiceLineIn":
        self.code = self.code.upper()
        if self.tooth:
            self.tooth = self.tooth.upper()
        if self.surfaces:
            self.surfaces = self.surfaces.upper()
        return self


class CodingIn(BaseModel):
    """The whole coding of an encounter: replaces its diagnoses and service lines."""

    model_config = ConfigDict(extra="forbid")

    diagnoses: list[Code] = Field(default_factory=list, max_length=30)
    service_lines: list[ServiceLineIn] = Field(default_factory=list, max_length=100)


class ServiceLineRead(BaseModel):
    id: str
    position: int
    code_system: str
    code: str
    modifiers: list[str]
    units: Decimal
    charge: Decimal
    service_date: date
    pointers: list[int]
    tooth: str | None
    surfaces: str | None
    oral_area: str | None
    prosthesis: str | None
    source: str


class Finding(BaseModel):
    code: str
    severity: Literal["error", "warning"]
    field: str  # JSON Pointer into the encounter's read form, e.g. /diagnoses/0
    message: str


class EncounterRead(EncounterCreate, RecordMeta):
    status: Literal["open", "coded", "ready", "billed"]
    diagnoses: list[str] = Field(description="ICD-10-CM, dotted, principal first")
    service_lines: list[ServiceLineRead]
    total_charge: Decimal
    findings: list[Finding]


EncounterPage = page_of(EncounterRead)


class EncounterFilters(BaseModel):
    patient_id: str | None = Field(default=None, max_length=32)
    status: Literal["open", "coded", "ready", "billed"] | None = None
    kind: Literal["medical", "dental"] | None = None
    date_from: IsoDate | None = Field(default=None, description="date of service on or after")
    date_to: IsoDate | None = Field(default=None, description="date of service on or before")


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["open", "coded", "ready"]


class EncounterReopen(BaseModel):
    """Why a billed encounter is opened again; kept in the audit trail (codes, not names)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=400)
