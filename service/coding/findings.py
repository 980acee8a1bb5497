"""What the edits read (an encounter, or a claim built from one) and what they answer."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol


class CodedVisit(Protocol):
    """What the edits read of an encounter (or of a claim built from one)."""

    @property
    def kind(self) -> str: ...  # medical | dental
    @property
    def diagnoses(self) -> list[str]: ...  # ICD-10-CM without dots, principal first
    @property
    def date_of_service(self) -> date: ...
    @property
    def place_of_service(self) -> str: ...


class CodedLine(Protocol):
    @property
    def code_system(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def modifiers(self) -> list[str]: ...
    @property
    def units(self) -> Decimal: ...
    @property
    def pointers(self) -> list[int]: ...
    @property
    def service_date(self) -> date: ...
    @property
    def tooth(self) -> str | None: ...
    @property
    def surfaces(self) -> str | None: ...
    @property
    def oral_area(self) -> str | None: ...


class CodedPatient(Protocol):
    """The demographics the age and sex edits read (a Patient row)."""

    @property
    def birth_date(self) -> date: ...
    @property
    def sex(self) -> str: ...  # M | F | U


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # error | warning
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity,
            "field": self.field,
            "message": self.message,
        }
