"""Cursor paging over time-ordered ids: `{"items": [...], "next_cursor": ...}`."""

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

from service.errors import InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("The cursor is not one this service issued.") from None
    if not raw.isalnum() or len(raw) > 64:
        raise InvalidInput("The cursor is not one this service issued.")
    return raw


def fetch_page(
    session: Session, query: SelectOfScalar[T], id_column: Any, *, limit: int, cursor: str | None
) -> Page[T]:
    """Runs `query` ordered by id after the cursor; one extra row tells whether more remain."""
    if cursor:
        query = query.where(id_column > decode_cursor(cursor))
    rows = list(session.exec(query.order_by(id_column).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(getattr(rows[-1], "id")) if more and rows else None  # noqa: B009
    return Page(rows, next_cursor)


__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Page", "fetch_page", "select"]
