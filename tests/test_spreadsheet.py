"""The formula guard of CSV and XLSX downloads: what a spreadsheet would run stays text."""

import pytest

from service.spreadsheet import csv_text, looks_like_formula


@pytest.mark.parametrize(
    "text",
    ["=1+1", " =1+1", '\u00a0=HYPERLINK("x")', "  @SUM(A1)", "\t=1", "\n+cmd", " -2+3"],
)
def test_a_formula_after_leading_blanks_is_quoted(text: str) -> None:
    assert looks_like_formula(text)
    assert csv_text(text).startswith("'")


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("Rivera;=cmd|' /C calc'!A0", "'Rivera;'=cmd|' /C calc'!A0"),
        ("a,@SUM(1)", "'a,'@SUM(1)"),
        ("x|=1", "'x|'=1"),
        ("x;  +A1", "'x;  '+A1"),
    ],
)
def test_a_formula_after_a_separator_is_broken_where_a_spreadsheet_would_start_a_cell(
    text: str, quoted: str
) -> None:
    assert csv_text(text) == quoted


@pytest.mark.parametrize(
    "text", ["-12.50", "+3", "Smith, John", "O'Brien", "1;-2", "x; -5", "a-b", "E11.9"]
)
def test_plain_text_and_numbers_stay_as_they_are(text: str) -> None:
    assert csv_text(text) == text
