"""FHIR date search parameters (`birthdate=ge1980-01-01`) on date columns, full dates only."""

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.sql.expression import SelectOfScalar

from service.fhir.mapping.base import Apply, Criterion
from service.fhir.outcomes import invalid

_PREFIXES = ("eq", "ne", "lt", "le", "gt", "ge")


def parse_date(name: str, value: str) -> tuple[str, date]:
    prefix = value[:2] if value[:2] in _PREFIXES else "eq"
    text = value[2:] if value[:2] in _PREFIXES else value
    try:
        return prefix, date.fromisoformat(text)
    except ValueError:
        raise invalid(name, f"{value!r} is not a date YYYY-MM-DD", status=400) from None


def date_filter(column: Any) -> Apply:
    def apply(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
        alternatives = []
        for value in c.values:
            prefix, day = parse_date(c.name, value)
            field = col(column)
            alternatives.append(
                {
                    "eq": field == day,
                    "ne": field != day,
                    "lt": field < day,
                    "le": field <= day,
                    "gt": field > day,
                    "ge": field >= day,
                }[prefix]
            )
        return query.where(sa.or_(*alternatives))

    return apply
