"""The 837 reader's page queries read straight from psycopg on PostgreSQL: each row becomes the
caller's tuple as the driver reads it (no SQLAlchemy Row, no second pass), and JSON values are
decoded by the driver through json_columns' decoder, which remembers the short lists that
repeat. On a 10,000-claim batch the Rows and the pass were about a quarter of the page reads'
time."""

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from psycopg.adapt import Loader
from sqlmodel import Session

from service.claims import json_columns

R = TypeVar("R")


class _JsonLoader(Loader):
    """json and jsonb, one decoder (and its memory of lists) per query's cursor."""

    def __init__(self, oid: int, context: Any = None) -> None:
        super().__init__(oid, context)
        self._decode = json_columns.decoder()

    def load(self, data: Any) -> Any:
        return self._decode(bytes(data))


def usable(session: Session, columns: Sequence[sa.ColumnElement[Any]]) -> bool:
    """psycopg, and no column whose values SQLAlchemy would change after the driver (JSON
    aside, which the loader decodes): what the driver gives is what the ORM would."""
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql" or dialect.driver != "psycopg":
        return False
    return all(_as_given(c.type, dialect) for c in columns)


def _as_given(kind: sa.types.TypeEngine[Any], dialect: sa.Dialect) -> bool:
    if isinstance(kind, sa.JSON):
        return True
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        # A NUMERIC column: psycopg gives the Decimal SQLAlchemy would (its processor depends
        # on the result's type oid, known only once the query has run).
        return bool(kind.asdecimal)
    return kind.dialect_impl(dialect).result_processor(dialect, None) is None


def fetch(session: Session, query: sa.Select[Any], make: Callable[[Sequence[Any]], R]) -> list[R]:
    """`make(values)` of every row of `query`, on the session's connection and transaction."""
    connection = session.connection()
    compiled = query.compile(dialect=connection.dialect)
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor(row_factory=lambda _cursor: make) as cursor:
        for name in ("json", "jsonb"):
            cursor.adapters.register_loader(name, _JsonLoader)
        cursor.execute(str(compiled), compiled.params)
        rows: list[R] = cursor.fetchall()
    return rows
