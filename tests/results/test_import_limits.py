"""Result CSVs past the reader's limits are a 422 naming the row (and column), never a 500."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from service.auth.roles import Role
from service.results.models import Result
from tests.factories import LabSetup, Tenant, make_lab_setup, make_ready_specimen

HEADER = "accession,test_code,component_code,value,unit\n"


@pytest.fixture
def setup(db: Session, tenant: Tenant) -> LabSetup:
    return make_lab_setup(db, tenant)


def _import(client: TestClient, tenant: Tenant, text: str) -> Any:
    return client.post(
        "/api/v1/result-imports",
        content=text.encode(),
        headers={**tenant.headers(Role.LAB), "Content-Type": "text/csv"},
    )


def _pointers(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [e["pointer"] for e in response.json()["errors"]]


def test_a_field_longer_than_the_csv_modules_limit_names_its_line(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimen = make_ready_specimen(db, tenant, setup)
    text = HEADER + f"{specimen.accession},A1C,4548-4,5.4,%\n" + "x" * 131_073 + ",A1C,,1,\n"
    assert _pointers(_import(client, tenant, text)) == ["/rows/3"]
    assert db.exec(select(func.count()).select_from(Result)).one() == 0


def test_a_long_field_names_its_row_and_column(
    client: TestClient, tenant: Tenant, db: Session, setup: LabSetup
) -> None:
    specimen = make_ready_specimen(db, tenant, setup)
    text = HEADER + f"{specimen.accession},A1C,4548-4,{'9' * 5000},%\n"
    assert _pointers(_import(client, tenant, text)) == ["/rows/2/value"]


def test_a_header_of_a_million_columns_is_refused_before_it_is_split(
    client: TestClient, tenant: Tenant
) -> None:
    text = ",".join(["c"] * 1_000_000) + "\n1\n"
    response = _import(client, tenant, text)
    assert _pointers(response) == ["/rows/1"]
    assert "header" in response.json()["detail"]


def test_a_header_of_too_many_short_columns_is_refused(client: TestClient, tenant: Tenant) -> None:
    text = HEADER.strip() + "," + ",".join(f"x{i}" for i in range(60)) + "\n"
    response = _import(client, tenant, text)
    assert _pointers(response) == ["/rows/1"]
    assert "columns" in response.json()["detail"]


def test_a_stray_quote_that_runs_to_the_end_is_still_a_clear_refusal(
    client: TestClient, tenant: Tenant
) -> None:
    text = HEADER + '26-000001,A1C,4548-4,"5.4' + "y" * 140_000 + "\n"
    assert _pointers(_import(client, tenant, text)) == ["/rows/2"]
