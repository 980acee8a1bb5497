"""Timely filing counts a secondary's days from the primary's adjudication, not the service."""

from datetime import date
from decimal import Decimal

from service.claims.secondary import PriorPayers
from service.claims.timely_filing import timely_filing
from service.claims.x12 import model as x12

SERVICE = date(2026, 1, 10)
TODAY = date(2026, 9, 1)  # 234 days after the service


def _answered(on: date) -> PriorPayers:
    line = x12.LineAdjudication("MCRIL", Decimal("40.00"), "99213", on)
    return PriorPayers(other_payers=(), lines={"line-1": (line,)})


def test_a_late_secondary_counts_from_the_primary_adjudication() -> None:
    assert timely_filing("Medicaid", 180, SERVICE, _answered(date(2026, 8, 1)), TODAY) == []


def test_a_secondary_past_the_limit_after_adjudication_is_refused() -> None:
    (finding,) = timely_filing("Medicaid", 20, SERVICE, _answered(date(2026, 8, 1)), TODAY)
    assert finding.code == "timely-filing"
    assert "prior payer's adjudication (2026-08-01)" in finding.message


def test_a_primary_counts_from_the_date_of_service() -> None:
    (finding,) = timely_filing("Acme", 180, SERVICE, None, TODAY)
    assert finding.field == "/date_of_service"
    assert "234 days" in finding.message
