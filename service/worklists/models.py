"""Tables: worklist_template, worklist, worklist_item, control_result."""

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.columns import UTCDateTime
from service.ids import new_id
from service.labtests.columns import DecimalText
from service.records import SoftDeletable, TenantRecord, utcnow


class WorklistTemplate(SoftDeletable, table=True):
    __tablename__ = "worklist_template"
    __table_args__ = (sa.CheckConstraint("layout IN ('rack', 'plate96')", name="layout"),)

    name: str = Field(max_length=100)
    bench: str = Field(max_length=40)
    instrument: str | None = Field(default=None, max_length=100)
    test_ids: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    layout: str = Field(max_length=10)
    capacity: int  # positions of a rack; 96 for a plate
    reserved: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)


class Worklist(TenantRecord, table=True):
    __table_args__ = (
        sa.CheckConstraint("status IN ('open', 'in_progress', 'completed')", name="status"),
    )

    template_id: str | None = Field(default=None, foreign_key="worklist_template.id", max_length=32)
    name: str = Field(max_length=100)
    bench: str = Field(max_length=40)
    instrument: str | None = Field(default=None, max_length=100)
    test_ids: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    layout: str = Field(max_length=10)
    capacity: int
    reserved: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    status: str = Field(default="open", index=True, max_length=12)
    built_by: str = Field(max_length=32)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WorklistItem(SQLModel, table=True):
    """A specimen-test at a position. `active_specimen_test_id` repeats the specimen-test while
    the worklist is active and is NULL after: its unique index is what keeps a specimen-test on
    at most one active worklist, even when two technicians build at the same moment."""

    __tablename__ = "worklist_item"
    __table_args__ = (sa.UniqueConstraint("worklist_id", "position"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", max_length=32)
    worklist_id: str = Field(foreign_key="worklist.id", index=True, max_length=32)
    position: str = Field(max_length=8)
    specimen_test_id: str = Field(foreign_key="specimen_test.id", index=True, max_length=32)
    specimen_id: str = Field(foreign_key="specimen.id", max_length=32)
    lab_test_id: str = Field(foreign_key="lab_test.id", max_length=32)
    active_specimen_test_id: str | None = Field(default=None, unique=True, max_length=32)
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ControlResult(SQLModel, table=True):
    """A control material measured in a run; out of range blocks verification of the run's
    patient results until a lab user accepts it or a rerun comes back in range."""

    __tablename__ = "control_result"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", max_length=32)
    worklist_id: str = Field(foreign_key="worklist.id", index=True, max_length=32)
    lab_test_id: str = Field(foreign_key="lab_test.id", max_length=32)
    material: str = Field(max_length=80)
    component_code: str = Field(max_length=20)
    value: Decimal = Field(sa_type=DecimalText)
    low: Decimal = Field(sa_type=DecimalText)
    high: Decimal = Field(sa_type=DecimalText)
    in_range: bool
    entered_by: str = Field(max_length=32)
    entered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    accepted_by: str | None = Field(default=None, max_length=32)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    accept_note: str | None = Field(default=None, max_length=500)
