"""Table: result (one component of one specimen-test; corrections keep the rows they replace)."""

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field

from service.columns import UTCDateTime
from service.labtests.columns import DecimalText
from service.records import TenantRecord


class Result(TenantRecord, table=True):
    __table_args__ = (
        sa.CheckConstraint("status IN ('preliminary', 'final', 'corrected')", name="status"),
        sa.Index("ix_result_specimen_test_component", "specimen_test_id", "component_code"),
    )

    specimen_id: str = Field(foreign_key="specimen.id", index=True, max_length=32)
    specimen_test_id: str = Field(foreign_key="specimen_test.id", max_length=32)
    lab_test_id: str = Field(foreign_key="lab_test.id", max_length=32)
    patient_id: str = Field(foreign_key="patient.id", index=True, max_length=32)
    worklist_id: str | None = Field(default=None, foreign_key="worklist.id", max_length=32)
    component_code: str = Field(max_length=20)
    component_name: str = Field(max_length=200)
    kind: str = Field(max_length=10)  # numeric | coded
    value: str = Field(max_length=100)
    unit: str | None = Field(default=None, max_length=20)
    ref_low: Decimal | None = Field(default=None, sa_type=DecimalText)
    ref_high: Decimal | None = Field(default=None, sa_type=DecimalText)
    critical_low: Decimal | None = Field(default=None, sa_type=DecimalText)
    critical_high: Decimal | None = Field(default=None, sa_type=DecimalText)
    flag: str | None = Field(default=None, max_length=2)  # L H LL HH A N
    critical: bool = Field(default=False)
    status: str = Field(default="preliminary", max_length=12)
    # "<specimen_test_id>:<component>" while this is the current value, NULL once replaced:
    # the unique index keeps one current value per component.
    current_key: str | None = Field(default=None, unique=True, max_length=60)
    supersedes_id: str | None = Field(default=None, foreign_key="result.id", max_length=32)
    correction_reason: str | None = Field(default=None, max_length=500)
    entered_by: str = Field(max_length=32)
    entered_at: datetime = Field(sa_type=UTCDateTime)
    verified_by: str | None = Field(default=None, max_length=32)
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    notified_name: str | None = Field(default=None, max_length=200)
    notified_by: str | None = Field(default=None, max_length=32)
    notified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    notification_note: str | None = Field(default=None, max_length=500)
