"""service/bulk.py: rows written through COPY / the driver's executemany read back exactly as
a Core insert of the same rows does (the same bind processing), on both databases."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from service import bulk
from service.columns import UTCDateTime

_METADATA = sa.MetaData()
_CORE = sa.Table(
    "bulk_probe_core",
    _METADATA,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("amount", sa.Numeric(12, 2), nullable=False),
    sa.Column("quantity", sa.Numeric(9, 3)),
    sa.Column("day", sa.Date),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("flag", sa.Boolean, nullable=False),
    sa.Column("codes", sa.JSON, nullable=False),
    sa.Column("note", sa.String(200)),
)
_BULK = _CORE.to_metadata(_METADATA, name="bulk_probe_bulk")


def _rows(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"row{i:05d}",
            "amount": Decimal("-12.30") + i,
            "quantity": None if i % 2 else Decimal("1.125"),
            "day": None if i % 3 else date(2026, 12, 1),
            "at": datetime(2026, 12, 7, 1, 2, 3, 4005, tzinfo=UTC),
            "flag": bool(i % 2),
            "codes": [] if i % 4 else ["N290", {"group": "CO", "amount": "1.00"}],
            "note": "a 'quoted' \\ tab\there; 100% %s" if i == 1 else None,
        }
        for i in range(count)
    ]


def _read(db: Session, table: sa.Table) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in db.execute(sa.select(table).order_by(table.c.id))]


def test_bulk_rows_read_back_like_core_inserted_ones(db: Session) -> None:
    _METADATA.create_all(db.connection())
    rows = _rows(2 * bulk.PAGE + 3)  # several executemany pages on SQLite

    db.execute(sa.insert(_CORE), rows)
    bulk.insert_rows(db, _BULK, rows)

    core, written = _read(db, _CORE), _read(db, _BULK)
    assert len(written) == len(rows)
    assert written == core
    assert written[1][-1] == "a 'quoted' \\ tab\there; 100% %s"
    assert written[0][6] == ["N290", {"group": "CO", "amount": "1.00"}]


def test_rows_that_lack_a_column_are_refused_before_anything_is_written(db: Session) -> None:
    _METADATA.create_all(db.connection())
    rows = _rows(2)
    del rows[0]["note"]

    with pytest.raises(ValueError, match=r"lack \['note'\]"):
        bulk.insert_rows(db, _BULK, rows)
    assert _read(db, _BULK) == []


class _Counted(sa.types.TypeDecorator[str]):
    """A text column whose bind processing (written in Python) is counted."""

    impl = sa.String(40)
    cache_ok = True
    calls: ClassVar[list[Any]] = []

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        _Counted.calls.append(value)
        return None if value is None else f"<{value}>"


_COUNTED = sa.Table(
    "bulk_probe_counted",
    _METADATA,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("day", sa.Date),
    sa.Column("tag", _Counted),
    sa.Column("codes", sa.JSON, nullable=False),
)


def test_a_python_bind_processor_runs_once_per_value_the_rows_repeat(db: Session) -> None:
    """Equal strings and dates are processed once; any other value once per object, so equal
    values that are written differently (the same instant in two zones, 1 and 1.0) each get
    their own answer."""
    _METADATA.create_all(db.connection())
    at = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    same_instant = datetime(2026, 12, 6, 21, 0, tzinfo=timezone(timedelta(hours=-6)))
    none: tuple[str, ...] = ()
    rows = [
        {
            "id": f"row{i:03d}",
            "at": same_instant if i == 7 else at,
            "day": date(2026, 12, 1 + i % 2),  # a new object every row: equal by value
            "tag": ["a", "b", None][i % 3],
            "codes": none if i % 2 else [i, 1.0 if i == 4 else 1, True],
        }
        for i in range(2 * bulk.PAGE + 3)
    ]
    _Counted.calls.clear()

    bulk.insert_rows(db, _COUNTED, rows)

    assert sorted(_Counted.calls, key=str) == [None, "a", "b"]
    read = {r.id: r for r in db.execute(sa.select(_COUNTED))}
    assert len(read) == len(rows)
    assert {r.at for r in read.values()} == {at}  # both zones: the same UTC instant
    assert read["row000"].tag == "<a>"
    assert read["row002"].tag is None
    assert read["row001"].day == date(2026, 12, 2)
    assert read["row002"].day == date(2026, 12, 1)
    assert read["row001"].codes == []
    assert read["row004"].codes == [4, 1.0, True]
    assert read["row006"].codes == [6, 1, True]
