"""Report downloads as staff use them: named for the report and its date, and an XLSX with a
title, an as-of line, a frozen and filtered header, widths, number formats and full totals."""

import io
import re
from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlmodel import Session

from service.remittance import export
from service.remittance.reports import Table
from tests.claims.conftest import Demo
from tests.remittance.helpers import make_batch, paid_in_full, remit_835, upload


def test_the_aging_xlsx_reads_back_with_title_as_of_frozen_header_filter_and_totals(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = make_batch(client, demo_org, db)
    upload(client, demo_org, remit_835([paid_in_full(batch.claims[0])]))
    url = "/api/v1/remittance-reports/aging"
    params = {"as_of": "2026-12-31", "format": "xlsx"}
    body = client.get(url, params={"as_of": "2026-12-31"}, headers=demo_org.headers()).json()
    response = client.get(url, params=params, headers=demo_org.headers())

    assert response.headers["content-disposition"] == (
        'attachment; filename="aging-2026-12-31.xlsx"'
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == "Aging"
    assert sheet["A1"].value == "A/R aging by payer as of 2026-12-31"
    assert sheet["A2"].value.startswith("As of 2026-12-31")
    assert sheet.freeze_panes == f"A{export.HEADER_ROW + 1}"
    rows = list(sheet.iter_rows(min_row=export.HEADER_ROW))
    header, *data, total = rows
    assert [c.value for c in header] == body["columns"]
    assert sheet.auto_filter.ref == f"A{export.HEADER_ROW}:I{export.HEADER_ROW + len(data)}"
    by_name = dict(zip(body["columns"], total, strict=True))
    assert by_name["payer_name"].value == "TOTAL"
    # the claim count is totalled too, and it matches the rows
    assert by_name["claims"].value == sum(r[1].value for r in data) == body["totals"]["claims"]
    assert by_name["claims"].value == len(batch.claims) - 1
    assert Decimal(str(by_name["total"].value)) == Decimal(body["totals"]["total"])
    assert by_name["total"].number_format == export.MONEY_FORMAT
    assert all(r[-2].number_format == export.MONEY_FORMAT for r in data)
    assert sheet.column_dimensions["A"].width >= len(str(data[0][0].value))


def test_report_files_carry_their_dates_so_month_end_downloads_do_not_collide(
    client: TestClient, demo_org: Demo
) -> None:
    url = "/api/v1/remittance-reports/deposits"
    headers = demo_org.headers()
    ranged = client.get(
        url,
        params={"date_from": "2026-12-01", "date_to": "2026-12-31", "format": "csv"},
        headers=headers,
    )
    assert ranged.headers["content-disposition"] == (
        'attachment; filename="deposits-2026-12-01-to-2026-12-31.csv"'
    )
    made = client.get("/api/v1/remittance-reports/batches?format=xlsx", headers=headers)
    # dated the day it was made
    assert re.fullmatch(
        r'attachment; filename="batches-\d{4}-\d{2}-\d{2}\.xlsx"',
        made.headers["content-disposition"],
    )


def test_dates_are_dates_and_a_report_without_totals_has_no_total_row() -> None:
    table = Table(
        "Payments by deposit",
        ["trace_number", "payment_date", "claim_count", "deposit_amount"],
        [
            {
                "trace_number": "EFT1",
                "payment_date": date(2026, 12, 1),
                "claim_count": 2,
                "deposit_amount": Decimal(400),
            },
            {
                "trace_number": "EFT2",
                "payment_date": date(2026, 12, 2),
                "claim_count": 3,
                "deposit_amount": Decimal("230.5"),
            },
        ],
        ["deposit_amount"],
    )
    sheet = load_workbook(io.BytesIO(export.to_xlsx(table, name="deposits", as_of="x"))).active
    _header, first, _second, total = sheet.iter_rows(min_row=export.HEADER_ROW)
    assert first[1].is_date
    assert first[1].number_format == export.DATE_FORMAT
    assert [c.value for c in total] == ["TOTAL", None, 5, 630.5]
    assert export.to_json(table)["totals"] == {"claim_count": 5, "deposit_amount": "630.50"}
    unsummed = Table("Month-end", ["line", "amount"], [{"line": "a", "amount": 1}], ["amount"])
    unsummed.summed = False
    rows = list(
        load_workbook(io.BytesIO(export.to_xlsx(unsummed))).active.iter_rows(values_only=True)
    )
    assert rows[-1] == ("a", 1)
