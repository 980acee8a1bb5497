"""Reports from the ledger alone: A/R by encounter, payer and patient, aging, the payments
journal (by deposit and by day) and the month-end summary, as tables for JSON, CSV and XLSX.

"As of" a day counts the entries whose accounting day (entry_date) is on or before it, so an
old month-end still adds up after later work. Month-end: A/R at the start (the day before the
month) + charges - payments - adjustments = A/R at the end, where payments are insurance and
patient payments net of refunds, adjustments are insurance adjustments, adjustments and
write-offs, and a reversal counts in the category of the entry it undoes. Transfers and credit
applications move money between sides and encounters, never in or out of A/R.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from service.coding.models import Encounter
from service.directory.models import Payer
from service.ledger import repository
from service.ledger.models import LedgerEntry
from service.patients.models import Patient
from service.remittance.models import RemittancePayment
from service.remittance.reports import BUCKETS, Table, bucket

ZERO = Decimal("0.00")
CATEGORY = {
    "charge": "charges",
    "insurance_payment": "insurance_payments",
    "patient_payment": "patient_payments",
    "refund": "refunds",
    "insurance_adjustment": "insurance_adjustments",
    "adjustment": "adjustments",
    "write_off": "write_offs",
    "transfer": "transfers",
    "credit_applied": "transfers",
}
PAYMENT_KINDS = ("insurance_payment", "patient_payment", "refund")


def _names(session: Session, organization_id: str, model: Any, label: str) -> dict[str, str]:
    return {
        row[0]: row[1]
        for row in session.execute(
            sa.select(model.id, getattr(model, label)).where(
                model.organization_id == organization_id
            )
        )
    }


def _rows_as_of(
    session: Session, organization_id: str, as_of: date
) -> list[tuple[str, str | None, Decimal, Decimal]]:
    return repository.balances_by_encounter(session, organization_id, as_of=as_of)


def receivables(session: Session, organization_id: str, *, by: str, as_of: date) -> Table:
    """What is owed as of a day: per encounter (insurance and patient on one line), per payer
    (the insurance side, by the payer each entry names), or per patient (with credit)."""
    if by == "payer":
        return _by_payer(session, organization_id, as_of)
    rows = _rows_as_of(session, organization_id, as_of)
    mrns = _names(session, organization_id, Patient, "mrn")
    if by == "encounter":
        dates = repository.dates_of_service(session, [e for _, e, _, _ in rows if e])
        out = [
            {
                "encounter_id": e,
                "mrn": mrns.get(p, ""),
                "date_of_service": dates.get(e),
                "insurance": i,
                "patient": o,
                "total": i + o,
            }
            for p, e, i, o in rows
            if e is not None and (i or o)
        ]
        columns = ["encounter_id", "mrn", "date_of_service", "insurance", "patient", "total"]
        return Table(
            f"A/R by encounter as of {as_of}",
            columns,
            sorted(out, key=lambda r: (str(r["date_of_service"]), r["encounter_id"])),
            ["insurance", "patient", "total"],
            {"by": by, "as_of": as_of.isoformat()},
        )
    per: dict[str, dict[str, Any]] = {}
    for p, e, i, o in rows:
        row = per.setdefault(
            p,
            {
                "patient_id": p,
                "mrn": mrns.get(p, ""),
                "insurance": ZERO,
                "patient": ZERO,
                "credit": ZERO,
                "total": ZERO,
            },
        )
        if e is None:
            row["credit"] -= i + o
        else:
            row["insurance"] += i
            row["patient"] += o
        row["total"] += i + o
    out = [r for r in per.values() if r["insurance"] or r["patient"] or r["credit"]]
    money = ["insurance", "patient", "credit", "total"]
    return Table(
        f"A/R by patient as of {as_of}",
        ["patient_id", "mrn", *money],
        sorted(out, key=lambda r: (r["mrn"], r["patient_id"])),
        money,
        {"by": by, "as_of": as_of.isoformat()},
    )


def _payer_rows(
    session: Session, organization_id: str, as_of: date
) -> list[tuple[str | None, str | None, Decimal]]:
    query = (
        sa.select(
            col(LedgerEntry.payer_id),
            col(LedgerEntry.encounter_id),
            sa.func.sum(LedgerEntry.insurance_amount),
        )
        .where(
            col(LedgerEntry.organization_id) == organization_id,
            col(LedgerEntry.entry_date) <= as_of,
        )
        .group_by(col(LedgerEntry.payer_id), col(LedgerEntry.encounter_id))
    )
    return [(p, e, Decimal(a or ZERO)) for p, e, a in session.execute(query)]


def _by_payer(session: Session, organization_id: str, as_of: date) -> Table:
    names = _names(session, organization_id, Payer, "name")
    per: dict[str, dict[str, Any]] = {}
    for payer_id, _, amount in _payer_rows(session, organization_id, as_of):
        key = payer_id or ""
        row = per.setdefault(
            key, {"payer_id": key, "payer_name": names.get(key, ""), "insurance": ZERO}
        )
        row["insurance"] += amount
    out = [r for r in per.values() if r["insurance"]]
    return Table(
        f"A/R by payer as of {as_of}",
        ["payer_id", "payer_name", "insurance"],
        sorted(out, key=lambda r: (r["payer_name"], r["payer_id"])),
        ["insurance"],
        {"by": "payer", "as_of": as_of.isoformat()},
    )


def _aging_items(
    session: Session, organization_id: str, by: str, as_of: date
) -> list[tuple[str, bool, date | None, Decimal]]:
    """(payer or patient id, credit?, date of service, amount) as of a day: by payer the
    insurance side, by patient the patient side. The database sums each encounter, leaves out
    those at zero, then sums what is left by date of service (the aging needs no more), so a
    page reads a row per payer and day, not one per encounter; the dates come in the same
    statement (a join)."""
    key, amount = (
        (LedgerEntry.payer_id, LedgerEntry.insurance_amount)
        if by == "payer"
        else (LedgerEntry.patient_id, LedgerEntry.patient_amount)
    )
    summed = sa.func.sum(amount)
    encounters = (
        sa.select(
            col(key).label("key"),
            col(LedgerEntry.encounter_id).label("encounter_id"),
            col(Encounter.date_of_service).label("served"),
            summed.label("amount"),
        )
        .outerjoin(Encounter, col(Encounter.id) == col(LedgerEntry.encounter_id))
        .where(
            col(LedgerEntry.organization_id) == organization_id,
            col(LedgerEntry.entry_date) <= as_of,
        )
        .group_by(col(key), col(LedgerEntry.encounter_id), col(Encounter.date_of_service))
        # Rounded: SQLite sums NUMERIC as floating point, 0.1 + 0.2 - 0.3 is not 0 there.
        .having(sa.func.round(summed, 2) != 0)
        .subquery()
    )
    e = encounters.c
    credit = e.encounter_id.is_(None)
    query = sa.select(
        e.key, credit, e.served, sa.type_coerce(sa.func.sum(e.amount), sa.Numeric(14, 2))
    ).group_by(e.key, credit, e.served)
    cent = Decimal("0.01")
    return [
        (k or "", bool(c), d, Decimal(a or ZERO).quantize(cent))
        for k, c, d, a in session.execute(query)
    ]


def aging(session: Session, organization_id: str, *, by: str, as_of: date) -> Table:
    """The ledger's A/R as of a day in buckets from the date of service: by payer the insurance
    side, by patient the patient side (unapplied credit apart, taken off the total)."""
    if by == "payer":
        names = _names(session, organization_id, Payer, "name")
        label, key_name = "payer_name", "payer_id"
    else:
        names = _names(session, organization_id, Patient, "mrn")
        label, key_name = "mrn", "patient_id"
    per: dict[str, dict[str, Any]] = {}
    # Each item sums encounters that are not at zero: its key has a row even if they net out.
    for key, is_credit, served, amount in _aging_items(session, organization_id, by, as_of):
        row = per.setdefault(
            key,
            {key_name: key, label: names.get(key, "")}
            | dict.fromkeys(BUCKETS, ZERO)
            | {"credit": ZERO, "total": ZERO},
        )
        if is_credit:
            row["credit"] -= amount
        else:
            row[bucket(max((as_of - (served or as_of)).days, 0))] += amount
        row["total"] += amount
    money = [*BUCKETS, "credit", "total"]
    return Table(
        f"Ledger A/R aging by {by} as of {as_of}",
        [key_name, label, *money],
        sorted(per.values(), key=lambda r: (str(r[label]), r[key_name])),
        money,
        {"by": by, "as_of": as_of.isoformat()},
    )


def aging_totals(
    session: Session, organization_id: str, *, by: str, as_of: date
) -> dict[str, Decimal] | None:
    """The totals row of `aging(by=...)` (each bucket, credit, total) without its rows: the
    database sums by date of service, so no row per patient or encounter is read. None when
    nothing is owed on that side."""
    amount = LedgerEntry.insurance_amount if by == "payer" else LedgerEntry.patient_amount
    credit = col(LedgerEntry.encounter_id).is_(None)
    query = (
        sa.select(col(Encounter.date_of_service), credit, sa.func.sum(amount))
        .outerjoin(Encounter, col(Encounter.id) == col(LedgerEntry.encounter_id))
        .where(
            col(LedgerEntry.organization_id) == organization_id,
            col(LedgerEntry.entry_date) <= as_of,
        )
        .group_by(col(Encounter.date_of_service), credit)
    )
    totals = dict.fromkeys([*BUCKETS, "credit", "total"], ZERO)
    owed = False
    for served, is_credit, summed in session.execute(query):
        value = Decimal(summed or ZERO)
        if not value:
            continue
        owed = True
        if is_credit:
            totals["credit"] -= value
        else:
            totals[bucket(max((as_of - (served or as_of)).days, 0))] += value
        totals["total"] += value
    return totals if owed else None


def _entries_between(
    session: Session, organization_id: str, date_from: date | None, date_to: date | None
) -> list[LedgerEntry]:
    return repository.list_entries(session, organization_id, date_from=date_from, date_to=date_to)


def _reversed_kinds(session: Session, entries: list[LedgerEntry]) -> dict[str, str]:
    """reversal entry id -> the kind of the entry it undoes."""
    targets = {
        e.reverses_entry_id: e.id for e in entries if e.kind == "reversal" and e.reverses_entry_id
    }
    found: dict[str, str] = {}
    ids = sorted(targets)
    for start in range(0, len(ids), 500):
        for entry_id, kind in session.execute(
            sa.select(col(LedgerEntry.id), col(LedgerEntry.kind)).where(
                col(LedgerEntry.id).in_(ids[start : start + 500])
            )
        ):
            found[targets[entry_id]] = kind
    return found


def _kind(entry: LedgerEntry, reversed_kinds: dict[str, str]) -> str:
    return reversed_kinds.get(entry.id, entry.kind) if entry.kind == "reversal" else entry.kind


def journal(
    session: Session,
    organization_id: str,
    *,
    group: str,
    date_from: date | None,
    date_to: date | None,
) -> Table:
    """Money received and given back: insurance payments (per 835 payment: the deposit's trace
    number), patient payments and refunds (per day and method: the day's cash, checks, cards),
    reversals with what they undo. Amounts received are positive."""
    entries = _entries_between(session, organization_id, date_from, date_to)
    kinds = _reversed_kinds(session, entries)
    paid = [(e, _kind(e, kinds)) for e in entries if _kind(e, kinds) in PAYMENT_KINDS]
    params = {
        "group": group,
        "date_from": date_from.isoformat() if date_from else None,
        "date_to": date_to.isoformat() if date_to else None,
    }
    if group == "day":
        days: dict[date, dict[str, Any]] = {}
        for e, kind in paid:
            row = days.setdefault(
                e.entry_date,
                {
                    "date": e.entry_date,
                    "insurance_payments": ZERO,
                    "patient_payments": ZERO,
                    "refunds": ZERO,
                    "net": ZERO,
                },
            )
            amount = -(Decimal(e.insurance_amount) + Decimal(e.patient_amount))
            row[CATEGORY[kind]] += -amount if kind == "refund" else amount
            row["net"] += amount
        money = ["insurance_payments", "patient_payments", "refunds", "net"]
        return Table(
            "Payments journal by day",
            ["date", *money],
            [days[d] for d in sorted(days)],
            money,
            params,
        )
    deposits = (
        {
            p.id: p
            for p in session.exec(
                select(RemittancePayment).where(
                    RemittancePayment.organization_id == organization_id
                )
            )
        }
        if any(e.remittance_payment_id for e, _ in paid)
        else {}
    )
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for e, kind in paid:
        if kind == "insurance_payment" and e.remittance_payment_id in deposits:
            p = deposits[e.remittance_payment_id]
            key: tuple[Any, ...] = ("insurance", p.id)
            base = {
                "deposit": p.trace_number,
                "date": e.entry_date,
                "source": "insurance",
                "payer_or_method": p.payer_name,
                "payment_date": p.payment_date,
            }
        else:
            method = e.method or "other"
            key = ("patient", e.entry_date, method)
            base = {
                "deposit": f"{e.entry_date.isoformat()} {method}",
                "date": e.entry_date,
                "source": "patient",
                "payer_or_method": method,
                "payment_date": e.entry_date,
            }
        if key not in groups:
            groups[key] = base | {"entries": 0, "received": ZERO, "refunded": ZERO, "net": ZERO}
        row = groups[key]
        amount = -(Decimal(e.insurance_amount) + Decimal(e.patient_amount))
        row["entries"] += 1
        row["refunded" if kind == "refund" else "received"] += (
            -amount if kind == "refund" else amount
        )
        row["net"] += amount
    money = ["received", "refunded", "net"]
    rows = sorted(groups.values(), key=lambda r: (r["date"], r["source"], str(r["deposit"])))
    return Table(
        "Payments journal by deposit",
        ["deposit", "date", "source", "payer_or_method", "payment_date", "entries", *money],
        rows,
        money,
        params,
    )


def ar_total(session: Session, organization_id: str, as_of: date) -> Decimal:
    """Everything owed to the practice as of a day, less the credit it holds (one sum)."""
    insurance, own = session.execute(
        sa.select(
            sa.func.sum(LedgerEntry.insurance_amount), sa.func.sum(LedgerEntry.patient_amount)
        ).where(
            col(LedgerEntry.organization_id) == organization_id,
            col(LedgerEntry.entry_date) <= as_of,
        )
    ).one()
    return Decimal(insurance or ZERO) + Decimal(own or ZERO)


def _sums_by_kind(
    session: Session, organization_id: str, first: date, last: date
) -> dict[str, Decimal]:
    """The month's entries summed by category, by the database: one row per kind (and, for a
    reversal, the kind of the entry it undoes), not one per entry."""
    undone = aliased(LedgerEntry)
    query = (
        sa.select(
            col(LedgerEntry.kind),
            col(undone.kind),
            sa.func.sum(LedgerEntry.insurance_amount),
            sa.func.sum(LedgerEntry.patient_amount),
        )
        .outerjoin(undone, col(undone.id) == col(LedgerEntry.reverses_entry_id))
        .where(
            col(LedgerEntry.organization_id) == organization_id,
            col(LedgerEntry.entry_date) >= first,
            col(LedgerEntry.entry_date) <= last,
        )
        .group_by(col(LedgerEntry.kind), col(undone.kind))
    )
    sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for kind, undone_kind, insurance, own in session.execute(query):
        if kind == "reversal":
            kind = undone_kind or kind
        sums[CATEGORY[kind]] += Decimal(insurance or ZERO) + Decimal(own or ZERO)
    return sums


def month_end(session: Session, organization_id: str, *, month: date) -> Table:
    """The month's figures (see the module): one line each, and the check that they add up."""
    first = month.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    start = ar_total(session, organization_id, first - timedelta(days=1))
    end = ar_total(session, organization_id, last)
    sums = _sums_by_kind(session, organization_id, first, last)
    charges = sums["charges"]
    payments = -(sums["insurance_payments"] + sums["patient_payments"] + sums["refunds"])
    adjustments = -(sums["insurance_adjustments"] + sums["adjustments"] + sums["write_offs"])
    lines = [
        ("ar_start", f"A/R at the start ({first - timedelta(days=1)})", start),
        ("charges", "Charges", charges),
        ("insurance_payments", "Insurance payments", -sums["insurance_payments"]),
        ("patient_payments", "Patient payments", -sums["patient_payments"]),
        ("refunds", "Refunds to patients (less)", sums["refunds"]),
        ("payments", "Payments, net of refunds", payments),
        ("insurance_adjustments", "Insurance adjustments", -sums["insurance_adjustments"]),
        ("adjustments", "Adjustments", -sums["adjustments"]),
        ("write_offs", "Write-offs", -sums["write_offs"]),
        ("adjustments_total", "Adjustments and write-offs", adjustments),
        ("ar_end", f"A/R at the end ({last})", end),
        (
            "difference",
            "start + charges - payments - adjustments - end",
            start + charges - payments - adjustments - end,
        ),
    ]
    return Table(
        f"Month-end {first:%Y-%m}",
        ["line", "description", "amount"],
        [{"line": k, "description": d, "amount": a} for k, d, a in lines],
        ["amount"],
        {
            "month": f"{first:%Y-%m}",
            "ar_start": f"{start:.2f}",
            "charges": f"{charges:.2f}",
            "payments": f"{payments:.2f}",
            "adjustments": f"{adjustments:.2f}",
            "ar_end": f"{end:.2f}",
        },
        summed=False,
    )
