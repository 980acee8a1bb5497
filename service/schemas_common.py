"""Value schemas several capabilities share: addresses, names, US postal codes."""

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    create_model,
)

Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
USState = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$", to_upper=True)]
# ZIP or ZIP+4 (X12 N403 wants 5 or 9 digits; the dash is accepted and dropped).
PostalCode = Annotated[
    str,
    StringConstraints(pattern=r"^\d{5}(-?\d{4})?$"),
    AfterValidator(lambda v: v.replace("-", "")),
]


def money_text(value: Decimal) -> str:
    """An amount as JSON shows it: "400.00"."""
    return f"{value:.2f}"


# Money in a response: a decimal string with two places ("400.00", never "400" or 400.0): the
# one place amounts are shaped for JSON, so every claim, remittance and ledger figure agrees.
MoneyText = Annotated[Decimal, PlainSerializer(money_text, return_type=str, when_used="json")]


_NUMBER = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")


def _iso_text(value: Any) -> Any:
    """Pydantic reads a number (0, "0", 1.5e9) as a Unix time, so `?date_to=0` meant 1970-01-01;
    dates and times here are ISO 8601 text (YYYY-MM-DD, or a time with its offset)."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("must be ISO 8601 text (YYYY-MM-DD or a date and time), not a number")
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date_text(value: Any) -> Any:
    """ "04/02/1980" would fail with "invalid character in year": say which form is expected."""
    value = _iso_text(value)
    if isinstance(value, str) and not _ISO_DATE.match(value.strip()):
        raise ValueError("must be a date as YYYY-MM-DD (e.g. 1980-04-02)")
    return value


def _whole_number(value: Any) -> Any:
    """JSON Schema's integer: 30 and 30.0 are the same number; true and "30" are not numbers."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be a whole number")
        return int(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]


IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_text)]
IsoInstant = Annotated[AwareDatetime, BeforeValidator(_iso_text)]  # with its UTC offset


# A query bound: an instant with its offset, or a plain date (a whole day on the organization's
# clock, which the route resolves with service.org_clock).
def _plain_date_text(value: Any) -> Any:
    """A bound that is not an instant with its offset must be a date alone: a time without an
    offset ("2026-03-01T00:00:00") is ambiguous, not midnight of a day."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value.strip()):
        raise ValueError(
            "must be a date (YYYY-MM-DD) or a date and time with its offset "
            "(2026-12-01T08:00:00-06:00)"
        )
    return value


DateOrInstant = Annotated[
    AwareDatetime | Annotated[date, BeforeValidator(_plain_date_text)],
    Field(union_mode="left_to_right"),
    BeforeValidator(_iso_text),
]


def _not_future(value: date) -> date:
    if value > date.today():  # noqa: DTZ011 - a birth date is a calendar date, no zone involved
        raise ValueError("must not be in the future")
    if value.year < 1880:
        raise ValueError("must be after 1880")
    return value


PastDate = Annotated[IsoDate, AfterValidator(_not_future)]


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line1: str = Field(min_length=1, max_length=100)
    line2: str | None = Field(default=None, max_length=100)
    city: str = Field(min_length=1, max_length=60)
    state: USState
    postal_code: PostalCode


class RecordMeta(BaseModel):
    """What every stored record adds to its create schema when read back."""

    model_config = ConfigDict(extra="ignore")

    id: str
    created_at: datetime
    updated_at: datetime
    version: int


def page_of(item: type[BaseModel]) -> Any:
    """`{"items": [...], "next_cursor": ...}` for a record type."""
    return create_model(
        f"{item.__name__.removesuffix('Read')}Page",
        items=(list[item], ...),  # type: ignore[valid-type]
        next_cursor=(str | None, ...),
    )


def patch_of(create: type[BaseModel]) -> Any:
    """The documented PATCH body: every field of the create schema, optional (null removes)."""
    fields: dict[str, Any] = {
        name: (field.annotation | None, None)  # type: ignore[operator]
        for name, field in create.model_fields.items()
    }
    return create_model(f"{create.__name__.removesuffix('Create')}Patch", **fields)
