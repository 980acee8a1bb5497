"""Columns every tenant-owned table shares: id, organization, timestamps, version."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel

from service.columns import UTCDateTime
from service.errors import PreconditionFailed
from service.ids import new_id


def utcnow() -> datetime:
    return datetime.now(UTC)


class TenantRecord(SQLModel):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", index=True, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Optimistic concurrency: ETag "<version>", If-Match compares it.
    version: int = Field(default=1)


class SoftDeletable(TenantRecord):
    """Records that carry patient data or are referenced by claims are hidden, never removed."""

    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def bump_version(
    session: Session, row: TenantRecord, expected: int | None, *, locked: bool = False
) -> None:
    """Claims the next version in the database itself, so two concurrent updates cannot both win.

    The conditional UPDATE blocks behind a concurrent writer's row lock and then finds the
    version changed (PostgreSQL re-checks the WHERE clause), so exactly one of them succeeds.
    `locked`: the caller read the row locked in this transaction (FOR UPDATE, or SQLite's write
    lock), so no one else can change it before the commit: the version and the time go out
    with the caller's own UPDATE of the row (one statement fewer while the lock is held).
    """
    current = row.version if expected is None else expected
    now = utcnow()
    if locked and current == row.version:
        row.version = current + 1
        row.updated_at = now
        return
    table = type(row).__table__  # type: ignore[attr-defined]
    result = session.execute(
        sa.update(table)
        .where(table.c.id == row.id, table.c.version == current)
        .values(version=current + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise PreconditionFailed(
            f"{table.name} {row.id} has changed since version {current}; read it again."
        )
    session.refresh(row)
