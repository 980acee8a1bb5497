"""Reports as CSV or XLSX downloads (the same rows and totals as the JSON)."""

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]

from service.remittance.reports import Table
from service.spreadsheet import csv_text, keep_text


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else value


def _csv(value: Any) -> Any:
    # Only text is guarded: amounts, counts and dates are ours, not user data.
    return csv_text(value) if isinstance(value, str) else _plain(value)


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return value.quantize(Decimal("0.01"))
    return "" if value is None else value


def to_json(table: Table) -> dict[str, Any]:
    return {
        "title": table.title,
        **table.params,
        "columns": table.columns,
        "rows": [{c: _plain(row.get(c)) for c in table.columns} for row in table.rows],
        "totals": {c: _plain(v) for c, v in table.totals.items()},
    }


def _total_row(table: Table) -> list[Any]:
    totals = table.totals
    return ["TOTAL", *(totals.get(c, "") for c in table.columns[1:])]


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_csv(row.get(c)) for c in table.columns])
    if table.summed:
        writer.writerow([_csv(v) for v in _total_row(table)])
    return out.getvalue().encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "report"
    sheet.append(table.columns)
    for row in table.rows:
        sheet.append([_cell(row.get(c)) for c in table.columns])
    if table.summed:
        sheet.append([_cell(v) for v in _total_row(table)])
    for cells in sheet.iter_rows():
        for cell in cells:
            keep_text(cell)
    for index, column in enumerate(table.columns, start=1):
        if column in table.money:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "#,##0.00"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
