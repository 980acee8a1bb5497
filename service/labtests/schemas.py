"""Request and response models for the test catalog: protocol steps, components, controls."""

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from service.schemas_common import RecordMeta, page_of, patch_of

# HL7 v2 table 0487 (specimen type), the values a clinic lab meets most.
SpecimenType = Literal[
    "BLD",
    "BLDA",
    "BLDC",
    "BLDV",
    "SER",
    "PLAS",
    "UR",
    "CSF",
    "TISS",
    "SAL",
    "SPT",
    "STL",
    "BON",
    "FLU",
    "SKN",
    "TOOTH",
]
VolumeUnit = Literal["mL", "uL", "g", "mg", "ea"]
Policy = Literal["refuse", "flag"]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
Loinc = Annotated[str, StringConstraints(pattern=r"^\d{1,7}-\d$")]
# CPT (5 digits, or 4 digits + F/T/U) or HCPCS Level II (a letter A-V and 4 digits).
BillingCode = Annotated[
    str, StringConstraints(to_upper=True, pattern=r"^(\d{4}[0-9FTU]|[A-Va-v]\d{4})$")
]
StepName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{1,29}$")]
Hours = Annotated[int, Field(ge=0, le=24 * 365)]


class StepParameter(BaseModel):
    """One numeric parameter of a step, with its acceptable range (inclusive)."""

    model_config = ConfigDict(extra="forbid")

    name: StepName
    unit: str = Field(default="", max_length=20)
    min: Decimal | None = None
    max: Decimal | None = None
    required: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> "StepParameter":
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"parameter {self.name}: min is above max")
        return self


class ProtocolStep(BaseModel):
    """A preparation step type, in protocol order; its policies say what a deviation does."""

    model_config = ConfigDict(extra="forbid")

    step: StepName
    required: bool = True
    parameters: list[StepParameter] = Field(default_factory=list, max_length=10)
    on_out_of_range: Policy = "refuse"
    on_out_of_order: Policy = "refuse"


class ReferenceRange(BaseModel):
    """Limits for one sex and age band; the most specific matching range applies."""

    model_config = ConfigDict(extra="forbid")

    sex: Literal["M", "F"] | None = None
    age_min_years: int | None = Field(default=None, ge=0, le=150)
    age_max_years: int | None = Field(default=None, ge=0, le=150)  # exclusive
    low: Decimal | None = None
    high: Decimal | None = None
    critical_low: Decimal | None = None
    critical_high: Decimal | None = None


class ResultComponent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code  # LOINC where there is one, else a local code
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["numeric", "coded"] = "numeric"
    unit: str | None = Field(default=None, max_length=20)
    ranges: list[ReferenceRange] = Field(default_factory=list, max_length=20)
    # Coded results: the answers that are normal; anything else is flagged A (abnormal).
    normal_values: list[str] = Field(default_factory=list, max_length=20)


class ControlMaterial(BaseModel):
    model_config = ConfigDict(extra="forbid")

    material: str = Field(min_length=1, max_length=80)
    level: str = Field(default="", max_length=20)
    component_code: Code
    low: Decimal
    high: Decimal


class LabTestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code
    name: str = Field(min_length=1, max_length=200)
    loinc: Loinc | None = None
    billing_code: BillingCode
    billing_modifier: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{2}$")] | None = None
    specimen_type: SpecimenType
    container: str = Field(min_length=1, max_length=60)
    min_volume: Decimal = Field(gt=0, max_digits=10, decimal_places=3)
    volume_unit: VolumeUnit
    stability_room_temp_hours: Hours | None = None
    stability_refrigerated_hours: Hours | None = None
    bench: str = Field(min_length=1, max_length=40)
    protocol: list[ProtocolStep] = Field(default_factory=list, max_length=20)
    components: list[ResultComponent] = Field(min_length=1, max_length=60)
    controls: list[ControlMaterial] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _consistent(self) -> "LabTestCreate":
        steps = [s.step for s in self.protocol]
        if len(set(steps)) != len(steps):
            raise ValueError("protocol step types must be unique")
        codes = {c.code for c in self.components}
        if len(codes) != len(self.components):
            raise ValueError("component codes must be unique")
        for control in self.controls:
            if control.component_code not in codes:
                raise ValueError(
                    f"control {control.material}: no component {control.component_code}"
                )
            if control.low > control.high:
                raise ValueError(f"control {control.material}: low is above high")
        return self


class LabTestRead(LabTestCreate, RecordMeta):
    pass


LabTestPage = page_of(LabTestRead)
LabTestPatch = patch_of(LabTestCreate)


class LabTestFilters(BaseModel):
    code: str | None = Field(default=None, max_length=20)
    bench: str | None = Field(default=None, max_length=40)
