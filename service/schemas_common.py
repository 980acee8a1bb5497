"""Value schemas several capabilities share: addresses, names, US postal codes."""

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
USState = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$", to_upper=True)]
# ZIP or ZIP+4 (X12 N403 wants 5 or 9 digits; the dash is accepted and dropped).
PostalCode = Annotated[
    str,
    StringConstraints(pattern=r"^\d{5}(-?\d{4})?$"),
    AfterValidator(lambda v: v.replace("-", "")),
]


def _not_future(value: date) -> date:
    if value > date.today():  # noqa: DTZ011 - a birth date is a calendar date, no zone involved
        raise ValueError("must not be in the future")
    if value.year < 1880:
        raise ValueError("must be after 1880")
    return value


PastDate = Annotated[date, AfterValidator(_not_future)]


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line1: str = Field(min_length=1, max_length=100)
    line2: str | None = Field(default=None, max_length=100)
    city: str = Field(min_length=1, max_length=60)
    state: USState
    postal_code: PostalCode
