"""Names, procedure composites and status codes shared by the 277CA and 835 parsers."""

from __future__ import annotations

from dataclasses import dataclass, field

from service.remittance.x12 import codes
from service.x12.tokens import Segment, required


@dataclass(frozen=True, slots=True)
class Party:
    """An organization or provider from NM1/N1: payer, receiver, billing provider, payee."""

    entity: str  # NM101 / N101 entity identifier code, e.g. PR payer, 85 billing provider
    name: str  # NM103 / N102 (organization or last name)
    first_name: str  # NM104 ("" for organizations)
    id_qualifier: str  # NM108 / N103, e.g. XX NPI, PI payer id, FI tax id, 46 ETIN
    id: str  # NM109 / N104

    @property
    def npi(self) -> str | None:
        return self.id if self.id_qualifier == "XX" else None


@dataclass(frozen=True, slots=True)
class Person:
    """A patient or insured (NM1*QC, NM1*IL, NM1*74): PHI, kept as values and never logged."""

    entity: str  # NM101: QC patient, IL insured, 74 corrected insured
    last_name: str = field(repr=False)  # NM103
    first_name: str = field(repr=False)  # NM104
    middle_name: str = field(repr=False)  # NM105
    suffix: str = field(repr=False)  # NM107
    id_qualifier: str = ""  # NM108, e.g. MI member id, HN HIC number
    id: str = field(default="", repr=False)  # NM109


@dataclass(frozen=True, slots=True)
class Procedure:
    """Composite C003 (SVC01 / SVC06): qualifier, code, up to 4 modifiers."""

    qualifier: str  # C003-01: HC CPT/HCPCS, AD CDT, NU revenue code, N4 NDC ...
    code: str  # C003-02
    modifiers: tuple[str, ...]  # C003-03..06
    description: str = ""  # C003-07


@dataclass(frozen=True, slots=True)
class StatusCode:
    """One STC composite (C043): category, status and entity codes with their words."""

    category: str  # -1 claim status category code (507)
    code: str  # -2 claim status code (508)
    entity: str  # -3 entity identifier code ("" when not sent)
    category_words: str
    code_words: str
    entity_words: str


def party(segment: Segment, label: str) -> Party:
    """NM1 (NM103 name, NM104 first name, NM108/NM109 id) as a Party."""
    return Party(
        entity=segment.get(1),
        name=required(segment, 3, f"{label} name (NM103)")
        if segment.get(2) == "2"
        else segment.get(3),
        first_name=segment.get(4),
        id_qualifier=segment.get(8),
        id=segment.get(9),
    )


def person(segment: Segment) -> Person:
    """NM1*QC / NM1*IL / NM1*74 as a Person."""
    return Person(
        entity=segment.get(1),
        last_name=segment.get(3),
        first_name=segment.get(4),
        middle_name=segment.get(5),
        suffix=segment.get(7),
        id_qualifier=segment.get(8),
        id=segment.get(9),
    )


def procedure(segment: Segment, position: int, label: str) -> Procedure:
    """A C003 composite: qualifier and code are required, empty modifiers are skipped."""
    parts = segment.components(position)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise segment.error(
            position,
            f"{label} needs a qualifier and a code (for example HC{segment.component}99213)",
        )
    return Procedure(
        qualifier=parts[0],
        code=parts[1],
        modifiers=tuple(m for m in parts[2:6] if m),
        description=parts[6] if len(parts) > 6 else "",
    )


def status_code(segment: Segment, position: int, label: str) -> StatusCode:
    """STC01 / STC10 / STC11: category:status:entity."""
    parts = segment.components(position)
    category = parts[0]
    code = parts[1] if len(parts) > 1 else ""
    entity = parts[2] if len(parts) > 2 else ""
    if not category or not code:
        raise segment.error(position, f"{label} needs a category code and a status code")
    return StatusCode(
        category=category,
        code=code,
        entity=entity,
        category_words=codes.words(codes.CATEGORY_CODES, category),
        code_words=codes.words(codes.STATUS_CODES, code),
        entity_words=codes.words(codes.ENTITY_CODES, entity),
    )
