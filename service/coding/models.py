"""Tables: encounter, service_line. Diagnoses are an ordered list on the encounter."""

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.ids import new_id
from service.records import SoftDeletable


class Encounter(SoftDeletable, table=True):
    __table_args__ = (
        sa.CheckConstraint("kind IN ('medical', 'dental')", name="kind"),
        sa.CheckConstraint("status IN ('open', 'coded', 'ready', 'billed')", name="status"),
        sa.Index("ix_encounter_org_status", "organization_id", "status"),
    )

    patient_id: str = Field(foreign_key="patient.id", index=True, max_length=32)
    date_of_service: date  # a local date in the organization's time zone
    place_of_service: str = Field(max_length=2)
    kind: str = Field(max_length=10)
    billing_provider_id: str = Field(foreign_key="provider.id", max_length=32)
    rendering_provider_id: str | None = Field(
        default=None, foreign_key="provider.id", max_length=32
    )
    referring_provider_id: str | None = Field(
        default=None, foreign_key="provider.id", max_length=32
    )
    facility_id: str | None = Field(default=None, foreign_key="facility.id", max_length=32)
    coverage_ids: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    prior_authorization: str | None = Field(default=None, max_length=50)
    referral_number: str | None = Field(default=None, max_length=50)
    status: str = Field(default="open", max_length=10)
    # ICD-10-CM codes without the dot, principal first.
    diagnoses: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # Counts coding changes (diagnoses, lines): a claim copied at an older version is stale.
    coding_version: int = Field(default=0)
    # The edits' findings, recomputed on every change: [{code, severity, field, message}].
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    # What the claim (loop 2300) carries besides codes: NTE*ADD, DTP*431 onset, DTP*439
    # accident, CLM11 related causes (AA auto accident needs its state), PWK attachments.
    claim_note: str | None = Field(default=None, max_length=80)
    onset_date: date | None = None
    accident_date: date | None = None
    related_causes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    accident_state: str | None = Field(default=None, max_length=2)
    # [{report_type, transmission, control_number}] (PWK01, PWK02, PWK06).
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)


# What a coder sets on a service line besides its code and amounts (NDC, note, providers...).
LINE_DETAIL = (
    "ndc",
    "ndc_unit",
    "ndc_quantity",
    "ndc_link_number",
    "note",
    "anesthesia_minutes",
    "rendering_provider_id",
    "ordering_provider_id",
    "duplicate_acknowledged",
)
# The values of a service line: what a claim line copies and what coding compares; not
# its ids, position, source or origin.
LINE_VALUES = (
    "code_system",
    "code",
    "modifiers",
    "units",
    "charge",
    "service_date",
    "pointers",
    "tooth",
    "surfaces",
    "oral_area",
    "prosthesis",
    *LINE_DETAIL,
)


class ServiceLine(SQLModel, table=True):
    __tablename__ = "service_line"
    __table_args__ = (
        sa.UniqueConstraint("encounter_id", "position"),
        sa.CheckConstraint("units > 0", name="units_positive"),
        sa.CheckConstraint("charge > 0", name="charge_positive"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", max_length=32)
    encounter_id: str = Field(foreign_key="encounter.id", index=True, max_length=32)
    position: int
    code_system: str = Field(max_length=5)  # CPT | HCPCS | CDT
    code: str = Field(max_length=5)
    modifiers: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    units: Decimal = Field(sa_type=sa.Numeric(9, 3))
    charge: Decimal = Field(sa_type=sa.Numeric(10, 2))
    service_date: date
    pointers: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    tooth: str | None = Field(default=None, max_length=3)
    surfaces: str | None = Field(default=None, max_length=5)
    oral_area: str | None = Field(default=None, max_length=3)
    prosthesis: str | None = Field(default=None, max_length=1)  # I initial, R replacement
    # manual, or lab_result (charge capture): where the line came from.
    source: str = Field(default="manual", max_length=20)
    source_id: str | None = Field(default=None, max_length=64)
    # For lab_result lines: {specimen_id, accession_number, lab_test_id, lab_test_code}, kept
    # so that the claim line and FHIR Claim.item name the specimen that produced the charge.
    origin: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    # 2410 drug identification (LIN*N4, CTP), NTE*ADD, SV103 MJ minutes, 2420A/2420E.
    ndc: str | None = Field(default=None, max_length=11)
    ndc_unit: str | None = Field(default=None, max_length=2)
    ndc_quantity: Decimal | None = Field(default=None, sa_type=sa.Numeric(12, 3))
    note: str | None = Field(default=None, max_length=80)
    anesthesia_minutes: int | None = None
    rendering_provider_id: str | None = Field(
        default=None, foreign_key="provider.id", max_length=32
    )
    ordering_provider_id: str | None = Field(default=None, foreign_key="provider.id", max_length=32)
    ndc_link_number: str | None = Field(default=None, max_length=50)  # 2410 REF*VY
    # The clerk confirmed the line repeats a service billed on another claim on purpose (the
    # duplicate-claim edit then lets it through); setting it is audited.
    duplicate_acknowledged: bool = Field(default=False)
