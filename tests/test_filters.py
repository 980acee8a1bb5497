"""The list-filter helper on its own: each comparison, and what counts as an absent value."""

from datetime import date

import pytest
from pydantic import BaseModel
from sqlmodel import select

from service.filters import Filter, apply_filters
from service.patients.models import Patient

TABLE = (
    Filter("mrn", Patient.mrn),
    Filter("ids", Patient.id, "in"),
    Filter("born_from", Patient.birth_date, "ge"),
    Filter("born_to", Patient.birth_date, "le"),
    Filter("born_before", Patient.birth_date, "lt"),
    Filter("family_name", Patient.family_name, "prefix"),
)


class Params(BaseModel):
    mrn: str | None = None
    ids: list[str] = []
    born_from: date | None = None
    born_to: date | None = None
    born_before: date | None = None
    family_name: str | None = None


def _where(query: object) -> str:
    text = str(query.compile(compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]
    return text.split("WHERE", 1)[1].strip() if "WHERE" in text else ""


def test_absent_values_filter_nothing() -> None:
    assert _where(apply_filters(select(Patient), Params(), TABLE)) == ""
    assert _where(apply_filters(select(Patient), {"mrn": None, "ids": ()}, TABLE[:2])) == ""
    assert _where(apply_filters(select(Patient), Params(mrn=""), TABLE)) == ""


def test_a_blank_string_is_a_value_when_the_list_says_so() -> None:
    query = apply_filters(select(Patient), Params(mrn=""), TABLE, blank_is_a_value=True)
    assert _where(query) == "patient.mrn = ''"


@pytest.mark.parametrize(
    ("params", "clause"),
    [
        (Params(mrn="A1"), "patient.mrn = 'A1'"),
        (Params(ids=["p1", "p2"]), "patient.id IN ('p1', 'p2')"),
        (Params(born_from=date(2020, 1, 2)), "patient.birth_date >= '2020-01-02'"),
        (Params(born_to=date(2020, 1, 2)), "patient.birth_date <= '2020-01-02'"),
        (Params(born_before=date(2020, 1, 2)), "patient.birth_date < '2020-01-02'"),
        (
            Params(family_name="O_B%"),
            "lower(patient.family_name) LIKE lower('O\\_B\\%%') ESCAPE '\\'",
        ),
    ],
)
def test_each_comparison(params: Params, clause: str) -> None:
    assert _where(apply_filters(select(Patient), params, TABLE)) == clause


def test_filters_combine_with_and() -> None:
    query = apply_filters(select(Patient), Params(mrn="A1", born_to=date(2020, 1, 2)), TABLE)
    assert _where(query) == "patient.mrn = 'A1' AND patient.birth_date <= '2020-01-02'"
