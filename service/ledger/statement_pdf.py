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
COLUMNS = (
    ("Date of service", 30),
    ("Charges", 25),
    ("Insurance paid", 28),
    ("Adjusted", 24),
    ("You paid", 24),
    ("Insurance pending", 30),
    ("You owe", 25),
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
    pdf = FPDF(format="letter")
    pdf.set_creation_date(datetime.combine(data.statement_date, datetime.min.time(), UTC))
    pdf.set_title(_latin1(f"Statement {data.statement_date.isoformat()}"))
    pdf.add_page()
    pdf.set_font("helvetica", "B", 14)
    pdf.cell(0, 8, _latin1(data.clinic), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 10)
    pdf.cell(
        0, 6, f"Statement date: {data.statement_date.isoformat()}", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(4)
    for text in (data.patient_name, *data.address, f"Account: {data.mrn}"):
        pdf.cell(0, 5, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("helvetica", "B", 9)
    for title, width in COLUMNS:
        pdf.cell(width, 6, title, border="B", align="R" if width < 30 else "L")
    pdf.ln()
    pdf.set_font("helvetica", "", 9)
    for line in data.lines:
        served = line.date_of_service.isoformat() if line.date_of_service else ""
        values: tuple[str | Decimal, ...] = (
            served,
            line.charges,
            line.insurance_paid,
            line.adjustments,
            line.patient_paid,
            line.insurance_pending,
            line.patient_owes,
        )
        for (_, width), value in zip(COLUMNS, values, strict=True):
            text = value if isinstance(value, str) else _money(value)
            pdf.cell(width, 6, text, align="L" if isinstance(value, str) else "R")
        pdf.ln()
    pdf.ln(4)
    pdf.set_font("helvetica", "", 10)
    pdf.cell(
        0,
        6,
        f"Pending with insurance: {_money(data.insurance_pending)}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if data.credit:
        pdf.cell(
            0, 6, f"Credit on your account: {_money(data.credit)}", new_x="LMARGIN", new_y="NEXT"
        )
    pdf.set_font("helvetica", "B", 12)
    pdf.cell(0, 8, f"Amount due: {_money(data.amount_due)}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 9)
    aging = "   ".join(f"{k} days: {_money(v)}" for k, v in data.aging.items())
    pdf.cell(0, 6, _latin1(f"Aging of what you owe: {aging}"), new_x="LMARGIN", new_y="NEXT")
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
