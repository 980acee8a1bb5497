"""Timely filing: how old a claim is, counted from the day its payer's clock starts.

A primary claim's clock starts on the date of service. A secondary or tertiary claim's starts
on the prior payer's adjudication date (the 835 it answers), as payers' coordination of
benefits rules count it; counting from the service date would block every late secondary."""

from datetime import date

from service.claims.secondary import PriorPayers
from service.coding.findings import Finding


def clock_start(date_of_service: date, prior: PriorPayers | None) -> tuple[date, str]:
    """(the day the clock starts, what that day is) for one claim."""
    if prior is None:
        return date_of_service, "the date of service"
    dates = [p.adjudication_date for p in prior.other_payers if p.adjudication_date]
    dates += [a.adjudication_date for line in prior.lines.values() for a in line]
    if not dates:
        return date_of_service, "the date of service"
    return max(dates), "the prior payer's adjudication"


def timely_filing(
    payer_name: str, limit_days: int, date_of_service: date, prior: PriorPayers | None, today: date
) -> list[Finding]:
    start, what = clock_start(date_of_service, prior)
    age = (today - start).days
    if age <= limit_days:
        return []
    field = "/date_of_service" if prior is None else "/coverage_id"
    return [
        Finding(
            "timely-filing",
            "error",
            field,
            f"{payer_name} takes claims up to {limit_days} days after {what} ({start}); "
            f"this one is {age} days past it.",
        )
    ]
