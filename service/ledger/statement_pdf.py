"""A patient statement as PDF and CSV bytes (values in, bytes out; fpdf2's core Helvetica).

The PDF carries what the issue asks a statement to show: the clinic, the patient, each date of
service with its charges, what insurance paid and adjusted, what the patient paid, what is
still pending with insurance, the amount due and its aging. Its creation date is the
statement's date, so the same figures give the same bytes; the stored copy is what is sent.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from fpdf import FPDF  # type: ignore[import-untyped]

from service.spreadsheet import csv_text

ZERO = Decimal("0.00")
# Column titles and widths in characters (Courier: every character is as wide).
COLUMNS = (
    ("Date of service", 16),
    ("Charges", 12),
    ("Insurance paid", 16),
    ("Adjusted", 12),
    ("You paid", 12),
    ("Insurance pending", 19),
    ("You owe", 12),
)


@dataclass
class StatementLine:
    encounter_id: str
    date_of_service: date | None
    charges: Decimal = ZERO
    insurance_paid: Decimal = ZERO
    adjustments: Decimal = ZERO
    patient_paid: Decimal = ZERO
    insurance_pending: Decimal = ZERO
    patient_owes: Decimal = ZERO


@dataclass
class StatementData:
    clinic: str
    patient_name: str
    address: list[str]
    mrn: str
    statement_date: date
    lines: list[StatementLine]
    credit: Decimal
    aging: dict[str, Decimal] = field(default_factory=dict)

    @property
    def owes(self) -> Decimal:
        return sum((ln.patient_owes for ln in self.lines), ZERO)

    @property
    def amount_due(self) -> Decimal:
        return max(self.owes - self.credit, ZERO)

    @property
    def insurance_pending(self) -> Decimal:
        return sum((ln.insurance_pending for ln in self.lines), ZERO)


def _latin1(text: str) -> str:
    """The core fonts are Latin-1: anything else prints as '?' rather than failing."""
    return text.encode("latin-1", "replace").decode("latin-1")


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def render_pdf(data: StatementData) -> bytes:
    """One letter page per statement (more when the lines run over). Text is placed with
    FPDF.text and the table set in Courier with padded columns: a statement run renders
    thousands, and cell() layout costs several times as much."""
    pdf = FPDF(format="letter", unit="pt")
    pdf.set_creation_date(datetime.combine(data.statement_date, datetime.min.time(), UTC))
    pdf.set_title(_latin1(f"Statement {data.statement_date.isoformat()}"))
    pdf.set_auto_page_break(False)
    pdf.add_page()
    y = 60.0

    def text(
        value: str, *, font: str = "helvetica", style: str = "", size: int = 10, step: float = 14
    ) -> None:
        nonlocal y
        if y > 740:
            pdf.add_page()
            y = 60.0
        pdf.set_font(font, style, size)
        pdf.text(54, y, _latin1(value))
        y += step

    text(data.clinic, style="B", size=14, step=18)
    text(f"Statement date: {data.statement_date.isoformat()}", step=24)
    for address_line in (data.patient_name, *data.address):
        text(address_line)
    text(f"Account: {data.mrn}", step=24)
    header = "".join(
        title.rjust(width) if i else title.ljust(width) for i, (title, width) in enumerate(COLUMNS)
    )
    text(header, font="courier", style="B", size=8, step=12)
    for line in data.lines:
        served = line.date_of_service.isoformat() if line.date_of_service else ""
        values = (
            line.charges,
            line.insurance_paid,
            line.adjustments,
            line.patient_paid,
            line.insurance_pending,
            line.patient_owes,
        )
        row = served.ljust(COLUMNS[0][1]) + "".join(
            _money(v).rjust(width) for (_, width), v in zip(COLUMNS[1:], values, strict=True)
        )
        text(row, font="courier", size=8, step=12)
    y += 12
    text(f"Pending with insurance: {_money(data.insurance_pending)}")
    if data.credit:
        text(f"Credit on your account: {_money(data.credit)}")
    text(f"Amount due: {_money(data.amount_due)}", style="B", size=12, step=18)
    aging = "   ".join(f"{k} days: {_money(v)}" for k, v in data.aging.items())
    text(f"Aging of what you owe: {aging}", size=9)
    return bytes(pdf.output())


def render_csv(data: StatementData) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "date_of_service",
            "encounter_id",
            "charges",
            "insurance_paid",
            "adjustments",
            "patient_paid",
            "insurance_pending",
            "patient_owes",
        ]
    )
    for line in data.lines:
        writer.writerow(
            [
                line.date_of_service.isoformat() if line.date_of_service else "",
                line.encounter_id,
                *(
                    f"{v:.2f}"
                    for v in (
                        line.charges,
                        line.insurance_paid,
                        line.adjustments,
                        line.patient_paid,
                        line.insurance_pending,
                        line.patient_owes,
                    )
                ),
            ]
        )
    writer.writerow(["credit", "", f"{data.credit:.2f}"])
    writer.writerow(["amount_due", "", f"{data.amount_due:.2f}"])
    writer.writerow(["clinic", "", csv_text(data.clinic)])
    return out.getvalue().encode("utf-8")
