"""Request and response models for encounters and their coding."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from service.schemas_common import IsoDate, MoneyText, RecordMeta, page_of, patch_of

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=8)]
TOOTH = r"^([1-9]|[12][0-9]|3[0-2]|[A-Ta-t]|[5-8][0-9]|[A-Ta-t][Ss])$"
ORAL_AREA = r"^(00|01|02|09|10|20|30|40|L|R|UR|UL|LR|LL|UA|LA)$"
Modifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{2}$", to_upper=True)]
_X12_DELIMITERS = str.maketrans("", "", "*:~^")


def _x12_note(value: str | None) -> str | None:
    """NTE02: X12 delimiters stripped, blanks collapsed; 80 characters at most after that."""
    if value is None:
        return None
    cleaned = " ".join(value.translate(_X12_DELIMITERS).split())
    if not cleaned:
        raise ValueError("the note is empty once the X12 delimiters (* : ~ ^) are removed")
    if len(cleaned) > 80:
        raise ValueError(f"a note is at most 80 characters (NTE02); this one has {len(cleaned)}")
    return cleaned


def _ndc(value: str | None) -> str | None:
    """An NDC in the 11-digit 5-4-2 form (N4), with or without the dashes."""
    if value is None:
        return None
    digits = value.replace("-", "")
    if not (digits.isdigit() and len(digits) == 11) or (
        "-" in value and [len(p) for p in value.split("-")] != [5, 4, 2]
    ):
        raise ValueError("an NDC is 11 digits in 5-4-2 form (e.g. 00409-4888-02 or 00409488802)")
    return digits


Note = Annotated[str | None, AfterValidator(_x12_note)]
Ndc = Annotated[str | None, AfterValidator(_ndc)]


class Attachment(BaseModel):
    """A PWK attachment: report type (PWK01, e.g. OZ support data, 09 progress report),
    transmission (PWK02: AA available on request, BM mail, EL electronic, FX fax...) and the
    attachment control number (PWK06) the payer matches the paperwork with."""

    model_config = ConfigDict(extra="forbid")

    report_type: str = Field(pattern=r"^[0-9A-Z]{2}$")
    transmission: Literal["AA", "BM", "EL", "EM", "FT", "FX"]
    control_number: str = Field(min_length=2, max_length=80, pattern=r"^[^*:~^]+$")


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
    claim_note: Note = Field(default=None, description="NTE*ADD on the claim, 80 characters")
    onset_date: date | None = Field(default=None, description="onset of illness (DTP*431)")
    accident_date: date | None = Field(default=None, description="DTP*439, with AA or OA")
    related_causes: list[Literal["AA", "EM", "OA"]] = Field(
        default_factory=list,
        max_length=3,
        description="CLM11: AA auto accident, EM employment, OA other accident",
    )
    accident_state: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}$", description="CLM11-4, the auto accident's state"
    )
    attachments: list[Attachment] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _accident(self) -> "EncounterCreate":
        if len(set(self.related_causes)) != len(self.related_causes):
            raise ValueError("related_causes are listed once each")
        if ("AA" in self.related_causes) != (self.accident_state is not None):
            raise ValueError("an auto accident (AA) needs accident_state, and only it takes one")
        if self.accident_date is not None and not {"AA", "OA"} & set(self.related_causes):
            raise ValueError("accident_date goes with related_causes AA or OA")
        return self


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
    ndc: Ndc = Field(default=None, description="NDC (11 digits, 5-4-2) for 2410 LIN*N4")
    ndc_unit: Literal["F2", "GR", "ME", "ML", "UN"] | None = Field(
        default=None, description="CTP05: F2 international unit, GR gram, ME mg, ML, UN unit"
    )
    ndc_quantity: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=3)
    ndc_link_number: str | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        pattern=r"^[^*:~^]+$",
        description="2410 REF*VY: the link sequence (prescription) number of the NDC",
    )
    note: Note = Field(default=None, description="NTE*ADD on the line, 80 characters")
    anesthesia_minutes: int | None = Field(
        default=None, gt=0, le=1440, description="SV103 MJ: minutes, anesthesia codes only"
    )
    rendering_provider_id: str | None = Field(default=None, max_length=32)
    ordering_provider_id: str | None = Field(default=None, max_length=32)
    duplicate_acknowledged: bool = Field(
        default=False,
        description="the clerk confirms the same service on another claim is not a duplicate "
        "(the duplicate-claim edit lets the line through; audited)",
    )

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
    charge: MoneyText
    service_date: date
    pointers: list[int]
    tooth: str | None
    surfaces: str | None
    oral_area: str | None
    prosthesis: str | None
    source: str
    ndc: str | None
    ndc_unit: str | None
    ndc_quantity: Decimal | None
    ndc_link_number: str | None
    note: str | None
    anesthesia_minutes: int | None
    rendering_provider_id: str | None
    ordering_provider_id: str | None
    duplicate_acknowledged: bool
    origin: dict[str, str | None] | None = Field(
        description="lab_result lines: the specimen (id, accession) and lab test they came from"
    )


class Finding(BaseModel):
    code: str
    severity: Literal["error", "warning"]
    field: str  # JSON Pointer into the encounter's read form, e.g. /diagnoses/0
    message: str


class EncounterRead(EncounterCreate, RecordMeta):
    status: Literal["open", "coded", "ready", "billed"]
    diagnoses: list[str] = Field(description="ICD-10-CM, dotted, principal first")
    service_lines: list[ServiceLineRead]
    total_charge: MoneyText
    findings: list[Finding]
    notices: list[str] = Field(
        default_factory=list,
        description="What this request did besides the fields sent: a PATCH that changed a "
        "ready encounter sent it back to `coded`.",
    )


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
