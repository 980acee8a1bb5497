"""One way for every REST list to turn its query parameters into WHERE clauses: a table of
`Filter`s per list (parameter, column, comparison), applied by `apply_filters`. Filters that
need more than one column (an id or an MRN, a date in the organization's zone) stay written out
beside the table."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from sqlmodel import col

Q = TypeVar("Q")

Op = Literal["eq", "in", "ge", "le", "lt", "prefix"]


@dataclass(frozen=True)
class Filter:
    """`param` of the list's filters compared with `column`: eq (==), in (the value is a list),
    ge/le/lt (a range bound: `date_from` is ge, `date_to` le), prefix (starts with, any case;
    `%` and `_` are literal)."""

    param: str
    column: Any
    op: Op = "eq"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")


def _clause(f: Filter, value: Any) -> Any:
    column = col(f.column)
    if f.op == "eq":
        return column == value
    if f.op == "in":
        return column.in_(list(value))
    if f.op == "ge":
        return column >= value
    if f.op == "le":
        return column <= value
    if f.op == "lt":
        return column < value
    return column.ilike(_escape_like(value) + "%", escape="\\")


def _given(filters: Any, name: str) -> Any:
    return filters.get(name) if isinstance(filters, Mapping) else getattr(filters, name)


def apply_filters(
    query: Q, filters: Any, table: Sequence[Filter], *, blank_is_a_value: bool = False
) -> Q:
    """`query` narrowed by each filter whose parameter was given. `filters` is the list's
    filters schema (or a mapping). An absent parameter (None, an empty list) filters nothing;
    so does an empty string, unless `blank_is_a_value` (the lists that always matched `?x=`
    literally keep doing so)."""
    for f in table:
        value = _given(filters, f.param)
        if value is None or (isinstance(value, list | tuple | set | frozenset) and not value):
            continue
        if value == "" and not blank_is_a_value:
            continue
        query = query.where(_clause(f, value))  # type: ignore[attr-defined]
    return query
