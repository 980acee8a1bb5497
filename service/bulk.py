"""Many complete rows into one table at once, for bulk writers (835 posting, its ledger entries
and adjudications): PostgreSQL's COPY, else the driver's executemany.

A Core `insert(table)` with a list of dicts builds and processes every row's parameters in
SQLAlchemy (per row: a dict of every column, then each value's bind processor): on a
10,000-claim 835 that was a fifth of the posting time. Here the statement is written once, each
column's bind processor (the same one Core would apply: UTC datetimes, JSON, Decimal on SQLite)
is looked up once, and the rows go to the driver as plain tuples, on the session's connection
and inside its transaction. On PostgreSQL (psycopg) they stream through one COPY per table,
which skips the per-row statement work of INSERT on the server as well. Every row must give
every column: no defaults are filled in here.
"""

import operator
import types
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session

PAGE = 1000  # rows per executemany: bounded statements and driver buffers


def _processors(table: sa.Table, dialect: sa.Dialect) -> list[Callable[[Any], Any] | None]:
    return [column.type.dialect_impl(dialect).bind_processor(dialect) for column in table.columns]


# Values of these types are remembered by value: equal values are the same text to every
# processor (a date is never equal to a datetime, nor a str to anything but a str).
_BY_VALUE = frozenset({str, date})
_UNSEEN = object()


def _remembering(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`process`, answering again without running it for a value seen before in these rows:
    by value for a str or a date, else by identity (the same object in many rows: the file's
    instant and day, a payment's date, a shared empty tuple). A processor written in Python
    (a UTC datetime formatted for SQLite, JSON, a date) costs several microseconds a value;
    the rows of an 835 repeat the same few values thousands of times."""
    by_value: dict[Any, Any] = {}
    by_identity: dict[int, tuple[Any, Any]] = {}  # id -> (the object, kept alive; its result)

    def remembered(value: Any) -> Any:
        if value.__class__ in _BY_VALUE:
            result = by_value.get(value, _UNSEEN)
            if result is _UNSEEN:
                result = by_value[value] = process(value)
            return result
        seen = by_identity.get(id(value))
        if seen is not None and seen[0] is value:
            return seen[1]
        result = process(value)
        by_identity[id(value)] = (value, result)
        return result

    return remembered


def _tuples(
    table: sa.Table, dialect: sa.Dialect, rows: Sequence[dict[str, Any]]
) -> Iterator[tuple[Any, ...]]:
    row_values = operator.itemgetter(*[column.key for column in table.columns])  # in C
    processed = [
        # One compiled to C (Decimal to float on SQLite) is quicker than a lookup: run as is.
        (i, _remembering(p) if isinstance(p, types.FunctionType | types.MethodType) else p)
        for i, p in enumerate(_processors(table, dialect))
        if p is not None
    ]
    for row in rows:
        value = list(row_values(row))
        for i, process in processed:
            value[i] = process(value[i])
        yield tuple(value)


def insert_rows(session: Session, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Inserts `rows` (dicts naming every column of `table`)."""
    if not rows:
        return
    missing = {column.key for column in table.columns} - rows[0].keys()
    if missing:
        raise ValueError(f"rows for {table.name} lack {sorted(missing)}")
    connection = session.connection()
    dialect = connection.dialect
    quote = dialect.identifier_preparer
    # Names from the table's metadata; values only ever as parameters or COPY data.
    target = f"{quote.format_table(table)} ({', '.join(map(quote.format_column, table.columns))})"
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for value in _tuples(table, dialect, rows):
                copy.write_row(value)
        return
    if dialect.paramstyle not in ("qmark", "format", "pyformat"):
        raise NotImplementedError(f"paramstyle {dialect.paramstyle}")
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    statement = f"INSERT INTO {target} VALUES ({', '.join([marker] * len(table.columns))})"  # nosec B608
    values = _tuples(table, dialect, rows)
    while page := [value for _, value in zip(range(PAGE), values, strict=False)]:
        connection.exec_driver_sql(statement, page)


def set_by_id(
    session: Session,
    column: sa.Column[Any],
    values: dict[str, str],
    *where: sa.ColumnElement[bool],
) -> None:
    """`column = values[id]` for the rows of those ids (and `where`): on PostgreSQL one UPDATE
    joined to the arrays unnested (10,000 single-row UPDATEs cost the server a second on an
    835), elsewhere one executemany by primary key."""
    if not values:
        return
    table = column.table
    pairs = sorted(values.items())
    if session.get_bind().dialect.name == "postgresql":
        given = (
            sa.func.unnest(
                sa.literal([k for k, _ in pairs], postgresql.ARRAY(sa.String)),
                sa.literal([v for _, v in pairs], postgresql.ARRAY(sa.String)),
            )
            .table_valued("key", "value")
            .render_derived(name="given")
        )
        session.execute(
            sa.update(table)
            .where(table.c.id == given.c.key, *where)
            .values({column.key: given.c.value})
        )
        return
    session.execute(
        sa.update(table)
        .where(table.c.id == sa.bindparam("key"), *where)
        .values({column.key: sa.bindparam("value")}),
        [{"key": k, "value": v} for k, v in pairs],
    )
