"""FHIR date search parameters (`birthdate=ge1980`, `date=lt2026-10-15T10:00:00Z`) on date and
instant columns. A search value is a range as wide as its precision (FHIR 3.1.1.5.6): `1985`
is the whole year, `2026-10-15T09:30Z` one minute; the prefixes compare ranges."""

import calendar
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.sql.expression import SelectOfScalar

from service.fhir.mapping.base import Apply, Criterion
from service.fhir.outcomes import invalid

_PREFIXES = ("eq", "ne", "lt", "le", "gt", "ge", "sa", "eb")
_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def _bad(name: str, value: str) -> Exception:
    return invalid(
        name,
        f"{value!r} is not a FHIR date or dateTime (YYYY, YYYY-MM, YYYY-MM-DD, "
        "YYYY-MM-DDThh:mm[:ss][Z|±hh:mm])",
        status=400,
    )


def parse_range(name: str, value: str) -> tuple[str, datetime, datetime]:
    """(prefix, start, end): the value as a half-open range of UTC instants."""
    prefix = value[:2] if value[:2] in _PREFIXES else "eq"
    text = value[2:] if value[:2] in _PREFIXES else value
    partial = _PARTIAL.match(text)
    try:
        if partial:
            year, month, day = (int(p) if p else None for p in partial.groups())
            assert year is not None
            if month is None:
                start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
            elif day is None:
                start = datetime(year, month, 1, tzinfo=UTC)
                end = start + timedelta(days=calendar.monthrange(year, month)[1])
            else:
                start = datetime(year, month, day, tzinfo=UTC)
                end = start + timedelta(days=1)
            return prefix, start, end
        if "T" not in text:
            raise ValueError(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise _bad(name, value) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # FHIR: no offset is the server's time zone (UTC)
    time_part = text.split("T", 1)[1]
    width = timedelta(minutes=1) if time_part.count(":") == 1 else timedelta(seconds=1)
    if "." in time_part:
        width = timedelta(milliseconds=1)
    moment = moment.astimezone(UTC)
    return prefix, moment, moment + width


def parse_date(name: str, value: str) -> tuple[str, date]:
    """A full date (the day its range starts on), for parameters that take one day."""
    prefix, start, _ = parse_range(name, value)
    return prefix, start.date()


def _compare(field: Any, prefix: str, start: Any, end: Any, name: str) -> Any:
    """The target (a point: a day or an instant) against the range [start, end)."""
    if prefix == "eq":
        return sa.and_(field >= start, field < end)
    if prefix == "ne":
        return sa.or_(field < start, field >= end)
    if prefix in ("lt", "eb"):
        return field < start
    if prefix == "le":
        return field < end
    if prefix in ("gt", "sa"):
        return field >= end
    if prefix == "ge":
        return field >= start
    raise invalid(name, f"unknown prefix {prefix}", status=400)


def date_filter(column: Any) -> Apply:
    """On a date column the range is widened to whole days; on an instant column (or an
    expression of one) it is exact."""
    if not isinstance(column, sa.ColumnElement):
        column = col(column)
    is_date = isinstance(column.type, sa.Date) and not isinstance(column.type, sa.DateTime)

    def apply(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
        alternatives = []
        for value in c.values:
            prefix, start, end = parse_range(c.name, value)
            low: Any = start
            high: Any = end
            if is_date:
                low = start.date()
                high = (
                    end.date() if end.time() == datetime.min.time() else end.date() + timedelta(1)
                )
            alternatives.append(_compare(column, prefix, low, high, c.name))
        return query.where(sa.or_(*alternatives))

    return apply
