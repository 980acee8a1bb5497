"""Text cells of CSV and XLSX downloads that a spreadsheet will not run as formulas.

OWASP "CSV Injection": Excel and LibreOffice run a cell that begins with =, +, -, @, tab or
carriage return as a formula (a payer or patient name typed as `=HYPERLINK(...)` or
`=cmd|...`); a leading single quote makes it text. Only text from data needs this: numbers we
write (Decimal, int, dates) are not text, and text that is just a number ("-12.50") cannot hold
a formula, so it stays as it is and still reads as a number.

Used by the remittance reports and the worklist CSV (opened in a spreadsheet as often as by an
instrument).
"""

import re
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?", re.ASCII)
# Spreadsheets skip leading blanks before a formula (" =1+1" runs), and a reader that splits on
# another separator (";" in many locales, tab, "|") starts a new cell after it: "x;=cmd|..." is a
# formula in its second cell. Such text is quoted as a whole, and every "=" or "@" that follows a
# separator is broken with a quote too.
_BLANKS = " \t\r\n\u00a0"
_AFTER_SEPARATOR = re.compile(r"(?<=\S)([,;|\t]\s*)([=@]|[+\-](?![\d.]+(?:[,;|\t]|$)))")


def looks_like_formula(text: str) -> bool:
    stripped = text.lstrip(_BLANKS)
    if stripped.startswith(FORMULA_STARTS) and _NUMBER.fullmatch(stripped) is None:
        return True
    if text != stripped and text.startswith(("\t", "\r")):
        return True
    return _AFTER_SEPARATOR.search(text) is not None


def csv_text(text: str) -> str:
    """The text for a CSV cell, quoted with ' when a spreadsheet would run it (also after an
    inner separator, where a differently configured spreadsheet would start a cell)."""
    if not looks_like_formula(text):
        return text
    return "'" + _AFTER_SEPARATOR.sub(r"\1'\2", text)


def keep_text(cell: Any) -> None:
    """Stores an openpyxl cell holding a str as text: openpyxl makes "=..." a formula (and
    "#N/A" an error). Excel's quote prefix keeps a formula-like text as text when edited."""
    if isinstance(cell.value, str):
        cell.data_type = "s"
        if looks_like_formula(cell.value):
            cell.quotePrefix = True
