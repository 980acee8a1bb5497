"""Table: lab_order."""

import sqlalchemy as sa
from sqlmodel import Field

from service.records import SoftDeletable


class LabOrder(SoftDeletable, table=True):
    __tablename__ = "lab_order"
    __table_args__ = (
        sa.CheckConstraint("priority IN ('routine', 'stat')", name="priority"),
        sa.CheckConstraint("status IN ('active', 'completed', 'cancelled')", name="status"),
    )

    patient_id: str = Field(foreign_key="patient.id", index=True, max_length=32)
    ordering_provider_id: str = Field(foreign_key="provider.id", max_length=32)
    test_ids: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # lab_test ids
    priority: str = Field(default="routine", max_length=10)
    reason_codes: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # ICD-10-CM, dotted
    # Encounters arrive with the coding issue; until then the id is kept as given.
    encounter_id: str | None = Field(default=None, max_length=64)
    status: str = Field(default="active", max_length=10)
