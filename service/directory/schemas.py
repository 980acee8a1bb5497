"""Request and response models for payers, providers, facilities and fee schedules."""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from service.identifiers import clia_is_valid, npi_is_valid, taxonomy_is_valid
from service.schemas_common import Address, MoneyText, RecordMeta

# X12 SBR09 claim filing indicator codes (005010X222A1).
ClaimFilingIndicator = Literal[
    "11",
    "12",
    "13",
    "14",
    "15",
    "16",
    "17",
    "AM",
    "BL",
    "CH",
    "CI",
    "DS",
    "FI",
    "HM",
    "LM",
    "MA",
    "MB",
    "MC",
    "OF",
    "TV",
    "VA",
    "WC",
    "ZZ",
]


def _npi(value: str) -> str:
    if not npi_is_valid(value):
        raise ValueError("must be a 10-digit NPI with a valid check digit (Luhn, prefix 80840)")
    return value


def _taxonomy(value: str) -> str:
    if not taxonomy_is_valid(value):
        raise ValueError("must be a 10-character NUCC taxonomy code ending in X")
    return value


def _clia(value: str) -> str:
    if not clia_is_valid(value):
        raise ValueError("must be a CLIA number: 2 digits, D, 7 digits (e.g. 05D0987654)")
    return value


Npi = Annotated[str, StringConstraints(strip_whitespace=True), Field(examples=["1234567893"])]
Money = Annotated[MoneyText, Field(gt=0, max_digits=10, decimal_places=2)]
Phone = Annotated[str, StringConstraints(min_length=7, max_length=30)]


class PayerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    edi_payer_id: str = Field(min_length=2, max_length=80, pattern=r"^[A-Za-z0-9]+$")
    claim_filing_indicator: ClaimFilingIndicator
    address: Address | None = None
    phone: Phone | None = None
    timely_filing_days: int = Field(default=365, ge=1, le=3650)


class PayerRead(PayerCreate, RecordMeta):
    pass


class ProviderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    npi: Npi
    kind: Literal["individual", "organization"]
    family_name: str | None = Field(default=None, min_length=1, max_length=60)
    given_name: str | None = Field(default=None, min_length=1, max_length=35)
    middle_name: str | None = Field(default=None, min_length=1, max_length=25)
    suffix: str | None = Field(default=None, min_length=1, max_length=10)
    organization_name: str | None = Field(default=None, min_length=1, max_length=60)
    taxonomy: str | None = None
    tax_id: str | None = Field(default=None, pattern=r"^\d{9}$", description="EIN or SSN, 9 digits")
    tax_id_type: Literal["EIN", "SSN"] = "EIN"
    address: Address | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _shape(self) -> "ProviderCreate":
        _npi(self.npi)
        if self.taxonomy is not None:
            _taxonomy(self.taxonomy)
        if self.kind == "individual" and not (self.family_name and self.given_name):
            raise ValueError("an individual provider needs family_name and given_name")
        if self.kind == "organization" and not self.organization_name:
            raise ValueError("an organization provider needs organization_name")
        return self


class ProviderRead(ProviderCreate, RecordMeta):
    pass


class FacilityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=60)
    npi: Npi | None = None
    address: Address
    place_of_service: str = Field(pattern=r"^\d{2}$", description="CMS Place of Service code")
    clia_number: str | None = None

    @model_validator(mode="after")
    def _identifiers(self) -> "FacilityCreate":
        if self.npi is not None:
            _npi(self.npi)
        if self.clia_number is not None:
            _clia(self.clia_number)
        return self


class FacilityRead(FacilityCreate, RecordMeta):
    pass


class FeeItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code_system: Literal["CPT", "HCPCS", "CDT"]
    code: str = Field(pattern=r"^[A-Za-z0-9]{5}$")
    modifier: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{2}$")
    charge: Money
    drug: bool = Field(
        default=False,
        description="a drug: to Medicaid it needs its NDC (2410), like every HCPCS J-code",
    )


class FeeScheduleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    payer_id: str | None = Field(default=None, description="None: the default schedule")
    effective_from: date
    effective_to: date | None = None
    items: list[FeeItem] = Field(min_length=1, max_length=20_000)

    @model_validator(mode="after")
    def _consistent(self) -> "FeeScheduleCreate":
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        seen: set[tuple[str, str, str | None]] = set()
        for item in self.items:
            key = (item.code_system, item.code.upper(), item.modifier)
            if key in seen:
                raise ValueError(f"{item.code} {item.modifier or ''} is listed twice")
            seen.add(key)
        return self


class FeeScheduleRead(FeeScheduleCreate, RecordMeta):
    pass


IsaId = Annotated[str, StringConstraints(min_length=1, max_length=15, pattern=r"^[A-Za-z0-9 ]+$")]


class TradingPartnerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    submitter_name: str = Field(min_length=1, max_length=60)
    submitter_id: str = Field(min_length=2, max_length=80, pattern=r"^[A-Za-z0-9]+$")
    contact_name: str = Field(min_length=1, max_length=60)
    contact_phone: str | None = Field(default=None, pattern=r"^\d{10,15}$")
    contact_email: str | None = Field(default=None, max_length=80, pattern=r"^[^@\s]+@[^@\s]+$")
    receiver_name: str = Field(min_length=1, max_length=60)
    receiver_id: str = Field(min_length=2, max_length=80, pattern=r"^[A-Za-z0-9]+$")
    isa_sender_qualifier: Literal["01", "14", "20", "27", "28", "29", "30", "33", "ZZ"] = "ZZ"
    isa_sender_id: IsaId
    isa_receiver_qualifier: Literal["01", "14", "20", "27", "28", "29", "30", "33", "ZZ"] = "ZZ"
    isa_receiver_id: IsaId
    gs_sender_code: str = Field(min_length=2, max_length=15, pattern=r"^[A-Za-z0-9]+$")
    gs_receiver_code: str = Field(min_length=2, max_length=15, pattern=r"^[A-Za-z0-9]+$")
    usage_indicator: Literal["T", "P"] = "T"
    max_claims_per_file: int | None = Field(default=None, ge=1, le=100_000)
    # What the receiver's companion guide allows per ST (the 837 guides: at most 5,000 CLM).
    max_claims_per_transaction_set: int | None = Field(default=None, ge=1, le=5000)

    @model_validator(mode="after")
    def _contact(self) -> "TradingPartnerCreate":
        if not (self.contact_phone or self.contact_email):
            raise ValueError("give contact_phone or contact_email (1000A PER)")
        return self


class TradingPartnerRead(TradingPartnerCreate, RecordMeta):
    pass
