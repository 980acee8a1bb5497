"""JSON columns read in bulk as their stored text and decoded here: the 837 reader's rows
carry tens of thousands of short lists that mostly repeat."""

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa


def as_text(column: sa.Column[Any], postgres: bool) -> sa.ColumnElement[Any]:
    """A JSON column as its stored text (decoded by `decoder`): the driver (psycopg) or
    the type (SQLite) would decode each value on its own, tens of thousands of short lists
    ('[]', '[1, 2]', a claim's diagnoses) that mostly repeat."""
    text = sa.cast(column, sa.Text) if postgres else sa.type_coerce(column, sa.Text)
    return text.label(column.key)


def decoder() -> Callable[[str | bytes | None], Any]:
    """json.loads, remembering the short flat lists it has seen (a fresh copy each time: no
    two rows share a mutable value). One per query, so memory stays flat."""
    seen: dict[str | bytes, list[Any]] = {}

    def decode(text: str | bytes | None) -> Any:
        if text is None:
            return None
        known = seen.get(text)
        if known is not None:
            return list(known)
        value = json.loads(text)
        if (
            isinstance(value, list)
            and len(text) <= 200
            and not any(isinstance(item, (list, dict)) for item in value)
        ):
            seen[text] = value
            return list(value)
        return value

    return decode


def decoded(rows: Iterable[Sequence[Any]], json_at: Sequence[int]) -> Iterable[Sequence[Any]]:
    """The rows with their values at `json_at` (text from `as_text`) decoded."""
    if not json_at:
        return rows
    decode = decoder()
    found = []
    for values in rows:
        row = list(values)
        for i in json_at:
            row[i] = decode(row[i])
        found.append(row)
    return found
