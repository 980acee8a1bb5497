"""service/claims/driver_rows.py: on PostgreSQL the 837 reader's rows read straight from the
driver equal those SQLAlchemy gives for the same select (JSON decoded, Decimals, dates, nulls);
a column SQLAlchemy processes after the driver keeps the query on SQLAlchemy's path."""

from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from service.claims import driver_rows
from service.columns import UTCDateTime

_METADATA = sa.MetaData()
_PROBE = sa.Table(
    "driver_rows_probe",
    _METADATA,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("charge", sa.Numeric(12, 2), nullable=False),
    sa.Column("units", sa.Numeric(9, 3)),
    sa.Column("day", sa.Date),
    sa.Column("codes", sa.JSON),
    sa.Column("address", sa.JSON),
    sa.Column("at", UTCDateTime),
)


class _Row(NamedTuple):
    id: str
    charge: Decimal
    units: Decimal | None
    day: date | None
    codes: list[Any] | None
    address: dict[str, Any] | None


def test_driver_rows_equal_sqlalchemy_rows(db: Session) -> None:
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("the driver path is PostgreSQL's (psycopg)")
    _METADATA.create_all(db.connection())
    db.execute(
        sa.insert(_PROBE),
        [
            {
                "id": f"r{i}",
                "charge": Decimal("12.50") + i,
                "units": None if i % 2 else Decimal("1.125"),
                "day": None if i % 3 else date(2026, 12, 7),
                "codes": [] if i % 2 else ["A", 1],
                "address": None if i % 2 else {"line1": "1 Main St", "city": "X"},
            }
            for i in range(6)
        ],
    )
    columns = [_PROBE.c[name] for name in _Row._fields]
    query = sa.select(*columns).order_by(_PROBE.c.id)
    assert driver_rows.usable(db, columns)
    fetched = driver_rows.fetch(db, query, _Row._make)

    assert fetched == [_Row._make(r) for r in db.execute(query)]
    # Each row its own list: a decoded list remembered for a query is never shared.
    assert fetched[0].codes is not fetched[2].codes
    assert not driver_rows.usable(db, [_PROBE.c.id, _PROBE.c.at])  # UTCDateTime processes
