"""Table: idempotency_record (one per organization and key)."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.columns import UTCDateTime
from service.ids import new_id
from service.records import utcnow


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_record"
    __table_args__ = (sa.UniqueConstraint("organization_id", "key"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(max_length=32)
    key: str = Field(max_length=200)
    # method + path + SHA-256 of the body: the same key with another request is refused.
    fingerprint: str = Field(max_length=300)
    status_code: int | None = None
    response_body: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
