"""Tables: accession_counter, specimen, specimen_test, specimen_event."""

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.columns import UTCDateTime
from service.ids import new_id
from service.labtests.columns import DecimalText
from service.records import TenantRecord, utcnow
from service.specimens.states import SpecimenStatus

_STATUSES = ", ".join(f"'{s.value}'" for s in SpecimenStatus)


class AccessionCounter(SQLModel, table=True):
    """The last accession number handed out per organization and year (YY-NNNNNN)."""

    __tablename__ = "accession_counter"

    organization_id: str = Field(foreign_key="organization.id", primary_key=True, max_length=32)
    year: int = Field(primary_key=True)
    last_number: int = Field(default=0)


class Specimen(TenantRecord, table=True):
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "accession"),
        sa.CheckConstraint(f"status IN ({_STATUSES})", name="status"),
        sa.CheckConstraint("kind IN ('primary', 'aliquot', 'block', 'slide')", name="kind"),
    )

    accession: str = Field(max_length=24)
    order_id: str = Field(foreign_key="lab_order.id", index=True, max_length=32)
    patient_id: str = Field(foreign_key="patient.id", index=True, max_length=32)
    parent_id: str | None = Field(
        default=None, foreign_key="specimen.id", index=True, max_length=32
    )
    recollection_of_id: str | None = Field(default=None, foreign_key="specimen.id", max_length=32)
    kind: str = Field(default="primary", max_length=10)
    specimen_type: str = Field(max_length=10)
    container: str | None = Field(default=None, max_length=60)
    status: str = Field(default=SpecimenStatus.ORDERED.value, max_length=20)
    priority: str = Field(default="routine", max_length=10)
    volume: Decimal | None = Field(default=None, sa_type=DecimalText)
    volume_unit: str | None = Field(default=None, max_length=5)
    location: str | None = Field(default=None, max_length=100)
    temperature: str | None = Field(default=None, max_length=12)  # room | refrigerated | frozen
    condition: str | None = Field(default=None, max_length=100)
    collected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    collected_by: str | None = Field(default=None, max_length=32)
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    received_by: str | None = Field(default=None, max_length=32)
    ready_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rejection_reason: str | None = Field(default=None, max_length=30)
    warnings: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    label_prints: int = Field(default=0)


class SpecimenTest(SQLModel, table=True):
    """One ordered test on one specimen: the unit that worklists place and results answer."""

    __tablename__ = "specimen_test"
    __table_args__ = (
        sa.UniqueConstraint("specimen_id", "lab_test_id"),
        sa.CheckConstraint(
            "status IN ('pending', 'resulted', 'verified', 'cancelled')", name="status"
        ),
        sa.Index("ix_specimen_test_org_status", "organization_id", "status"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", max_length=32)
    specimen_id: str = Field(foreign_key="specimen.id", index=True, max_length=32)
    lab_test_id: str = Field(foreign_key="lab_test.id", max_length=32)
    status: str = Field(default="pending", max_length=10)


class SpecimenEvent(SQLModel, table=True):
    """The chain of custody: append-only (the database refuses UPDATE and DELETE)."""

    __tablename__ = "specimen_event"
    __table_args__ = (sa.Index("ix_specimen_event_specimen_at", "specimen_id", "at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", index=True, max_length=32)
    specimen_id: str = Field(foreign_key="specimen.id", max_length=32)
    event: str = Field(max_length=30)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    user_id: str = Field(max_length=32)
    location: str | None = Field(default=None, max_length=100)
    step: str | None = Field(default=None, max_length=30)
    deviation: bool = Field(default=False)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
