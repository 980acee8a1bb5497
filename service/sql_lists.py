"""`column IN (ids)` for pages of hundreds of ids, written so the statement stays short."""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col


def one_of(session: Session, column: Any, values: Sequence[str]) -> sa.ColumnElement[bool]:
    """On PostgreSQL `column = ANY(:array)`, one parameter: psycopg converts a statement with
    hundreds of placeholders anew at every execution (its cache keeps short statements only),
    which costs more than the query itself. Elsewhere the usual IN."""
    if session.get_bind().dialect.name == "postgresql":
        return col(column) == sa.any_(sa.literal(list(values), postgresql.ARRAY(sa.String)))
    return col(column).in_(list(values))
