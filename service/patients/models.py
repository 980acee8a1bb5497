"""Table: patient."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field

from service.columns import UTCDateTime
from service.records import TenantRecord


class Patient(TenantRecord, table=True):
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "mrn"),
        sa.CheckConstraint("sex IN ('M', 'F', 'U')", name="sex"),
    )

    mrn: str = Field(max_length=50)
    family_name: str = Field(max_length=100)
    given_name: str = Field(max_length=100)
    middle_name: str | None = Field(default=None, max_length=100)
    suffix: str | None = Field(default=None, max_length=20)
    birth_date: date
    sex: str = Field(max_length=1)
    address_line1: str | None = Field(default=None, max_length=100)
    address_line2: str | None = Field(default=None, max_length=100)
    city: str | None = Field(default=None, max_length=60)
    state: str | None = Field(default=None, max_length=2)
    postal_code: str | None = Field(default=None, max_length=10)
    phone: str | None = Field(default=None, max_length=30)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
