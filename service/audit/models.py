"""Table: audit_event. No foreign keys (it copies ids), so writing it never waits on rows
another transaction holds; on PostgreSQL a trigger refuses UPDATE and DELETE."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.columns import UTCDateTime
from service.ids import new_id
from service.records import utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_event_org_at", "organization_id", "at"),
        sa.Index("ix_audit_event_org_patient", "organization_id", "patient_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str | None = Field(default=None, max_length=32)
    user_id: str | None = Field(default=None, max_length=32)
    role: str = Field(default="", max_length=200)
    # create, read, update, delete, query, export, login-denied, ...
    action: str = Field(max_length=40)
    resource_type: str = Field(max_length=60)
    resource_id: str | None = Field(default=None, max_length=64)
    patient_id: str | None = Field(default=None, max_length=32)
    outcome: str = Field(max_length=10)  # success | denied | failed
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    client_address: str = Field(default="", max_length=64)
    request_id: str = Field(default="", max_length=64)
    # Never PHI: a status code and problem code, or the names of changed fields.
    detail: str = Field(default="", max_length=500)
    # Before/after values of coded data (codes, not names), JSON.
    changes: str | None = Field(default=None)
