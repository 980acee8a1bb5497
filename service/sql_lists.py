"""`column IN (ids)` for pages of hundreds of ids, written so the statement stays short."""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col

_TEXT_ARRAY = postgresql.ARRAY(sa.String)


def one_of(session: Session, column: Any, values: Sequence[str]) -> sa.ColumnElement[bool]:
    """On PostgreSQL `column = ANY(:array)`, one parameter: psycopg converts a statement with
    hundreds of placeholders anew at every execution (its cache keeps short statements only),
    which costs more than the query itself. Elsewhere the usual IN."""
    if session.get_bind().dialect.name == "postgresql":
        return col(column) == sa.any_(pg_array(values))
    return col(column).in_(list(values))


def pg_array(values: Sequence[str]) -> sa.ColumnElement[Any]:
    """A text[] parameter for PostgreSQL. Ids without commas go as one comma-joined string split
    by the server: psycopg dumps a list element by element in Python (half a millisecond per
    500 ids, on every page query of a batch)."""
    joined = ",".join(values)
    # Not for [""]: the server splits an empty string into no element at all.
    if joined and joined.count(",") == len(values) - 1:
        return sa.func.string_to_array(sa.literal(joined, sa.Text), ",", type_=_TEXT_ARRAY)
    return sa.literal(list(values), _TEXT_ARRAY)
