"""Cursor paging over time-ordered ids: `{"items": [...], "next_cursor": ...}`, in the order a
list's `sort` asks for (one helper for every list: `created_at` is id order, since ids are
time-ordered; other keys page by (value, id))."""

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

from service.errors import FieldError, InvalidInput

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


@dataclass(frozen=True)
class SortKey:
    """A column a list may be sorted by. `parse` reads a cursor's text back into the column's
    type; the column must not be null (rows with a null would fall out of keyset paging)."""

    column: Any  # None: the id (creation order)
    parse: Callable[[str], Any] = str
    text: Callable[[Any], str] = str


CREATED = SortKey(None)


@dataclass(frozen=True)
class Sort:
    name: str
    key: SortKey
    descending: bool


def parse_sort(value: str | None, keys: Mapping[str, SortKey], default: str) -> Sort:
    """`?sort=-created_at`: a key of `keys`, `-` for descending; unknown keys are a 422 that
    lists the accepted ones (a silently ignored sort reads as a wrong order)."""
    text = value or default
    name = text.removeprefix("-")
    if name not in keys:
        accepted = ", ".join(f"{k}, -{k}" for k in keys)
        raise InvalidInput(
            f"Cannot sort this list by {name!r}. Accepted: {accepted} (default {default}).",
            errors=[FieldError("?sort", f"one of {accepted}")],
        )
    return Sort(name, keys[name], text.startswith("-"))


def _after(query: SelectOfScalar[T], id_column: Any, sort: Sort, cursor: str) -> Any:
    if sort.key.column is None:
        last = decode_cursor(cursor)
        return query.where(id_column < last if sort.descending else id_column > last)
    value, last = _decode_pair(cursor, sort.key)
    column = sort.key.column
    if sort.descending:
        return query.where((column < value) | ((column == value) & (id_column < last)))
    return query.where((column > value) | ((column == value) & (id_column > last)))


def _decode_pair(cursor: str, key: SortKey) -> tuple[Any, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value, last = json.loads(raw)
        if not (isinstance(value, str) and isinstance(last, str)) or len(value) > 200:
            raise ValueError(raw)
        return key.parse(value), decode_cursor(encode_cursor(last))
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, InvalidInput):
        raise InvalidInput("The cursor is not one this service issued.") from None


def fetch_page(
    session: Session,
    query: SelectOfScalar[T],
    id_column: Any,
    *,
    limit: int,
    cursor: str | None,
    sort: Sort | None = None,
) -> Page[T]:
    """Runs `query` in `sort` order (default: id, oldest first) after the cursor; one extra row
    tells whether more remain."""
    sort = sort or Sort("created_at", CREATED, False)
    if cursor:
        query = _after(query, id_column, sort, cursor)
    order = [] if sort.key.column is None else [sort.key.column]
    order.append(id_column)
    query = query.order_by(*(c.desc() if sort.descending else c.asc() for c in order))
    rows = list(session.exec(query.limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        last_id = getattr(last, "id")  # noqa: B009
        if sort.key.column is None:
            next_cursor = encode_cursor(last_id)
        else:
            value = sort.key.text(getattr(last, sort.key.column.key))
            raw = json.dumps([value, last_id])
            next_cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    return Page(rows, next_cursor)


__all__ = [
    "CREATED",
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "Page",
    "Sort",
    "SortKey",
    "by_creation",
    "fetch_page",
    "parse_sort",
    "select",
]


def by_creation(value: str | None, default: str) -> Sort:
    """`parse_sort` for a list whose only key is `created_at`."""
    return parse_sort(value, {"created_at": CREATED}, default)
