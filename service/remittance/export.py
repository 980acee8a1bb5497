"""Reports as CSV or XLSX downloads (the same rows and totals as the JSON), named for what they
are and when: `aging-2026-12-31.xlsx`, `deposits-2026-12-01-to-2026-12-31.csv`."""

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

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


def describe(name: str, params: dict[str, Any], today: date) -> tuple[str, str]:
    """(file name stem, the sheet's as-of line) for a report: dated by its `as_of`, its
    `date_from`/`date_to` period, or else the day it was made (the organization's date), so
    that month-end downloads of the same report do not overwrite each other."""
    made = today.isoformat()
    if params.get("date_from") or params.get("date_to"):
        start, end = params.get("date_from"), params.get("date_to") or made
        period = f"{start}-to-{end}" if start else f"to-{end}"
        shown = f"{start} to {end}" if start else f"up to {end}"
        return f"{name}-{period}", f"Period {shown}; made {made}"
    if params.get("as_of"):
        return f"{name}-{params['as_of']}", f"As of {params['as_of']}; made {made}"
    if params.get("month"):  # the name carries the month already
        return name, f"Month {params['month']}; made {made}"
    return f"{name}-{made}", f"As of {made}"


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(table: Table, name: str, fmt: str, today: date) -> tuple[bytes, str, str]:
    """(body, media type, file name) of a report as CSV or XLSX."""
    stem, as_of = describe(name, table.params, today)
    if fmt == "csv":
        return to_csv(table), "text/csv", f"{stem}.csv"
    return to_xlsx(table, name=name, as_of=as_of), XLSX, f"{stem}.xlsx"


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


# Rows of the sheet: title, as-of line, a blank row, then the table from the header on.
HEADER_ROW = 4
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"


def sheet_name(name: str) -> str:
    """Excel caps a sheet name at 31 characters and refuses []:*?/\\ in it."""
    text = name.replace("-", " ").capitalize()
    return "".join(c for c in text if c not in "[]:*?/\\")[:31]


def to_xlsx(table: Table, *, name: str = "report", as_of: str = "") -> bytes:
    """A sheet a clerk can print or filter as it is: the report's title and as-of line above
    a frozen header with a filter, columns wide enough to read, money with two decimals,
    dates as dates, and the TOTAL row (money and counts) kept below the filtered range."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = sheet_name(name)
    sheet.append([table.title])
    sheet.append([as_of])
    sheet.append([])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(table.columns)
    for row in table.rows:
        sheet.append([_cell(row.get(c)) for c in table.columns])
    last_data_row = sheet.max_row
    if table.summed:
        sheet.append([_cell(v) for v in _total_row(table)])
    for cells in sheet.iter_rows(min_row=HEADER_ROW):
        for cell in cells:
            keep_text(cell)
            if isinstance(cell.value, date):
                cell.number_format = DATE_FORMAT
    for index, column in enumerate(table.columns, start=1):
        letter = get_column_letter(index)
        if column in table.money:
            for (cell,) in sheet.iter_rows(min_row=HEADER_ROW + 1, min_col=index, max_col=index):
                cell.number_format = MONEY_FORMAT
        widest = max(
            len(str(_plain(c.value)))
            for (c,) in sheet.iter_rows(min_row=HEADER_ROW, min_col=index, max_col=index)
        )
        sheet.column_dimensions[letter].width = min(max(widest + 2, 10), 60)
    for cell in sheet[HEADER_ROW]:
        cell.font = Font(bold=True)
    if table.summed:
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    last = get_column_letter(len(table.columns))
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{last}{max(last_data_row, HEADER_ROW)}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
