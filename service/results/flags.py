"""Result flags, pure: the reference range for the patient's sex and age, then L/H/LL/HH for
numbers (HL7 v2 table 0078 abnormal flags) and N/A for coded answers."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from service.labtests.schemas import ReferenceRange, ResultComponent


@dataclass(frozen=True)
class Flagged:
    value: str
    flag: str | None
    critical: bool
    range: ReferenceRange | None


class BadValue(ValueError):
    pass


def age_in_years(birth_date: date, on: date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def pick_range(ranges: list[ReferenceRange], sex: str, age: int) -> ReferenceRange | None:
    """The most specific range that matches: one for the sex and age band beats a general one."""
    matching = [
        r
        for r in ranges
        if (r.sex is None or r.sex == sex)
        and (r.age_min_years is None or age >= r.age_min_years)
        and (r.age_max_years is None or age < r.age_max_years)
    ]
    if not matching:
        return None
    return max(
        matching,
        key=lambda r: (
            (r.sex is not None) + (r.age_min_years is not None or r.age_max_years is not None)
        ),
    )


def flag(component: ResultComponent, raw: str, sex: str, age: int) -> Flagged:
    text = raw.strip()
    if not text:
        raise BadValue("the value is empty")
    if component.kind == "coded":
        if not component.normal_values:
            return Flagged(text, None, False, None)
        return Flagged(text, "N" if text in component.normal_values else "A", False, None)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise BadValue(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise BadValue(f"{text!r} is not a number")
    chosen = pick_range(component.ranges, sex, age)
    if chosen is None:
        return Flagged(str(value), None, False, None)
    result = "N"
    if chosen.critical_low is not None and value < chosen.critical_low:
        result = "LL"
    elif chosen.critical_high is not None and value > chosen.critical_high:
        result = "HH"
    elif chosen.low is not None and value < chosen.low:
        result = "L"
    elif chosen.high is not None and value > chosen.high:
        result = "H"
    return Flagged(str(value), result, result in ("LL", "HH"), chosen)
