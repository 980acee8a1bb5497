"""TRUNCATE skips row triggers and binds a superuser through no privilege: the append-only
tables refuse it with a statement trigger (PostgreSQL; SQLite has no TRUNCATE)."""

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from tests.conftest import postgres_only


@postgres_only
@pytest.mark.parametrize("table", ["audit_event", "specimen_event"])
def test_truncating_an_append_only_table_is_refused(db: Session, table: str) -> None:
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.execute(sa.text(f"TRUNCATE {table}"))
    db.rollback()
