"""Table: patient."""

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from service.records import SoftDeletable


class Patient(SoftDeletable, table=True):
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "mrn"),
        sa.CheckConstraint("sex IN ('M', 'F', 'U')", name="sex"),
    )

    mrn: str = Field(max_length=50)
    family_name: str = Field(max_length=100)
    given_name: str | None = Field(default=None, max_length=100)
    middle_name: str | None = Field(default=None, max_length=100)
    suffix: str | None = Field(default=None, max_length=20)
    birth_date: date
    sex: str = Field(max_length=1)
    address: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    phone: str | None = Field(default=None, max_length=30)


class Coverage(SoftDeletable, table=True):
    __table_args__ = (
        sa.CheckConstraint("priority IN ('primary', 'secondary', 'tertiary')", name="priority"),
    )

    patient_id: str = Field(foreign_key="patient.id", index=True, max_length=32)
    payer_id: str = Field(foreign_key="payer.id", max_length=32)
    member_id: str = Field(max_length=80)
    group_number: str | None = Field(default=None, max_length=50)
    priority: str = Field(max_length=10)
    relationship: str = Field(default="18", max_length=2)  # X12 individual relationship code
    # A dependant whose card carries their own member id is the subscriber in the 837 (TR3
    # 1.4.3: 2000B with SBR02 18, no 2000C); one sharing the subscriber's id goes in 2000C.
    own_member_id: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # The subscriber when not the patient: names, birth date, sex, address (JSON).
    subscriber: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    start_date: date
    end_date: date | None = None
