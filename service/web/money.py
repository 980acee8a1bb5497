"""What the billing desk's money pages show: the denial work queue, patient balances and
statement runs, A/R aging (with its chart) and the month-end summary. Read through the
remittance and ledger capabilities' own logic and audited as their API routes audit them."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from service import display_names, org_clock
from service.audit import logic as audit
from service.auth import logic as auth_logic
from service.auth.logic import Principal
from service.auth.roles import Role
from service.claims import repository as claim_repository
from service.ledger import logic as ledger_logic
from service.ledger import reports, statements
from service.ledger import repository as ledger_repository
from service.ledger.models import LedgerEntry, Statement, StatementRun
from service.remittance import denial_views, denials
from service.remittance.reports import BUCKETS, Table
from service.remittance.schemas import DenialWorkItemRead

PAGE_SIZE = 50
ZERO = Decimal("0.00")
# The statuses still to be worked; written_off and closed are done.
WORKING = ("open", "in_progress", "resubmitted", "appealed")
STATUS_WORDS = {
    "open": "Open",
    "in_progress": "In progress",
    "resubmitted": "Resubmitted",
    "appealed": "Appealed",
    "written_off": "Written off",
    "closed": "Closed",
}


def now_local(session: Session, organization_id: str) -> datetime:
    return org_clock.local_time(session, organization_id, datetime.now(UTC))


def local_text(session: Session, organization_id: str, at: datetime | str) -> str:
    """A UTC time (or its ISO text, as a denial's history keeps it) on the clinic's clock."""
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return org_clock.local_time(session, organization_id, moment).strftime("%Y-%m-%d %H:%M %Z")


def money(value: Decimal | int | str) -> str:
    """1234.5 -> "1,234.50" (the sign kept: a credit shows as negative)."""
    return f"{Decimal(value):,.2f}"


# --- denials ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    at: str  # the clinic's clock
    who: str
    what: str


@dataclass(frozen=True)
class DenialRow:
    item: DenialWorkItemRead
    claim_number: str  # the patient control number a clerk quotes to the payer
    owner: str
    events: list[Event]

    @property
    def open(self) -> bool:
        return self.item.status in WORKING


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str


def people_who_work_denials(session: Session, organization_id: str) -> list[Person]:
    """The organization's active billers and admins: those an item may be given to."""
    found = auth_logic.list_users(session, organization_id, limit=200, cursor=None)
    return sorted(
        (
            Person(u.id, u.name)
            for u in found.items
            if u.active and u.kind == "person" and u.role_set & {Role.BILLER, Role.ADMIN}
        ),
        key=lambda p: (p.name.casefold(), p.user_id),
    )


def _event_words(event: dict[str, Any], names: dict[str, str]) -> str:
    action = event.get("action", "")
    if action == "assigned":
        owner = event.get("owner_id")
        words = f"given to {names.get(owner, owner)}" if owner else "owner removed"
    elif action == "follow_up":
        day = event.get("follow_up_date")
        words = f"follow up on {day}" if day else "follow-up date removed"
    elif action == "status":
        words = f"status: {STATUS_WORDS.get(event.get('status', ''), event.get('status'))}"
    elif action == "written_off":
        words = f"written off ({event.get('amount')})"
    else:
        words = action.replace("_", " ")
    note = event.get("note")
    return f"{words}: {note}" if note and action != "note" else (note or words)


def denial_queue(
    session: Session, actor: Principal, *, show: str, status: str, after: str | None
) -> tuple[list[DenialRow], str | None]:
    """One page of the work queue, oldest first, as GET /api/v1/denials/items lists it: all,
    the signed-in clerk's ("mine") or nobody's ("unassigned"); still to work, or all. Audited
    per patient shown."""
    items = denials.list_items(
        session,
        actor.organization_id,
        statuses=WORKING if status == "working" else (),
        owner_id=actor.user_id if show == "mine" else None,
        unassigned=show == "unassigned",
        limit=PAGE_SIZE + 1,
        after=after,
    )
    more = len(items) > PAGE_SIZE
    items = items[:PAGE_SIZE]
    audit.record_many(
        session,
        actor,
        action="query",
        resource_type="denial_item",
        rows=[(i.id, i.patient_id) for i in items],
        detail="web page: denial work queue",
    )
    read = denial_views.work_items(session, actor, items)
    claims = claim_repository.claims_by_id(
        session, actor.organization_id, {i.claim_id for i in items}
    )
    names = {p.user_id: p.name for p in people_who_work_denials(session, actor.organization_id)}
    names["system"] = "the system"
    names[actor.user_id] = names.get(actor.user_id, "you")
    rows = [
        DenialRow(
            item=r,
            claim_number=claims[r.claim_id].patient_control_number if r.claim_id in claims else "",
            owner=names.get(r.owner_id, r.owner_id) if r.owner_id else "",
            events=[
                Event(
                    local_text(session, actor.organization_id, e.get("at", "")),
                    names.get(e.get("actor", ""), e.get("actor", "")),
                    _event_words(e, names),
                )
                for e in r.history
            ],
        )
        for r in read
    ]
    return rows, items[-1].id if more else None


def audit_denial(session: Session, actor: Principal, item_id: str, detail: str) -> None:
    """A change of an item, audited as the API audits it (update, with its patient)."""
    item = denials.get_item(session, actor, item_id)
    audit.record_many(
        session,
        actor,
        action="update",
        resource_type="denial_item",
        rows=[(item.id, item.patient_id)],
        detail=f"web page: {detail}",
    )


# --- patient balances and statements ---------------------------------------------------------


@dataclass(frozen=True)
class BalanceRow:
    patient_id: str
    name: str
    mrn: str
    insurance: Decimal
    patient: Decimal
    credit: Decimal
    total: Decimal
    oldest: date | None  # the oldest date of service still owed on
    age_days: int | None


SORTS = ("amount", "age")


def balances(
    session: Session, actor: Principal, *, sort: str, page: int
) -> tuple[list[BalanceRow], bool]:
    """Patients who owe or are owed (insurance pending, patient responsibility, credit), from
    the ledger as GET /api/v1/patients/{id}/balance sums it; biggest or oldest first. Each
    patient shown is an audited read of their balance."""
    today = org_clock.local_date(session, actor.organization_id, datetime.now(UTC))
    found = ledger_repository.owed_by_patient(
        session,
        actor.organization_id,
        by_age=sort == "age",
        offset=page * PAGE_SIZE,
        limit=PAGE_SIZE + 1,
    )
    more = len(found) > PAGE_SIZE
    shown: list[tuple[str, dict[str, Any], Decimal]] = [
        (pid, {"insurance": i, "patient": o, "credit": c, "oldest": d}, i + o - c)
        for pid, i, o, c, d in found[:PAGE_SIZE]
    ]
    names = display_names.patients(session, (pid for pid, _, _ in shown))
    audit.record_many(
        session,
        actor,
        action="query",
        resource_type="patient_balance",
        rows=[(pid, pid) for pid, _, _ in shown],
        detail="web page: patient balances",
    )
    out = []
    for pid, f, total in shown:
        name = names.get(pid)
        out.append(
            BalanceRow(
                patient_id=pid,
                name=name.name if name else "",
                mrn=name.mrn if name else "",
                insurance=f["insurance"],
                patient=f["patient"],
                credit=f["credit"],
                total=total,
                oldest=f["oldest"],
                age_days=(today - f["oldest"]).days if f["oldest"] else None,
            )
        )
    return out, more


@dataclass
class PatientAccount:
    patient_id: str
    name: str
    mrn: str
    balance: dict[str, Any]
    entries: list[LedgerEntry]
    statements: list[Statement] = field(default_factory=list)


def patient_account(session: Session, actor: Principal, patient_id: str) -> PatientAccount:
    """A patient's balance by encounter, the ledger entries behind it and the statements sent
    (GET .../ledger and .../statements); NotFound for another organization's patient."""
    found = ledger_logic.balance(session, actor, patient_id)
    entries = ledger_repository.list_entries(session, actor.organization_id, patient_id=patient_id)
    sent = statements.statements_of(session, actor.organization_id, patient_id=patient_id)
    audit.record(
        session,
        actor,
        action="read",
        resource_type="patient_ledger",
        resource_id=patient_id,
        patient_id=patient_id,
        detail="web page: patient balance",
    )
    name = display_names.patients(session, [patient_id]).get(patient_id)
    return PatientAccount(
        patient_id,
        name.name if name else "",
        name.mrn if name else "",
        found,
        entries,
        sent,
    )


def statement_run_list(session: Session, actor: Principal) -> list[StatementRun]:
    found = statements.list_runs(session, actor.organization_id, limit=PAGE_SIZE)
    audit.record(
        session, actor, action="query", resource_type="statement_run", detail="web page: runs"
    )
    return found


def statement_run_file(session: Session, actor: Principal, run_id: str) -> StatementRun:
    run = statements.get_run(session, actor, run_id)
    audit.record(session, actor, action="export", resource_type="statement_run", resource_id=run.id)
    return run


def statement_file(session: Session, actor: Principal, statement_id: str, kind: str) -> Statement:
    found = statements.get_statement(session, actor, statement_id)
    audit.record(
        session,
        actor,
        action="export",
        resource_type="statement",
        resource_id=found.id,
        patient_id=found.patient_id,
        detail=kind,
    )
    return found


# --- A/R aging and its chart -----------------------------------------------------------------

# Lightest for the newest money, darkest for the oldest; each with a text label in the chart's
# <title> and the legend, so colour is never the only cue.
BUCKET_COLOURS = ("#c6dbef", "#6baed6", "#3182bd", "#08519c", "#08306b")
CHART_WIDTH = 640
LABEL_WIDTH = 200
BAR_HEIGHT = 26
BAR_GAP = 14
BUCKET_WORDS = dict(zip(BUCKETS, ("0-30", "31-60", "61-90", "91-120", "over 120"), strict=True))


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    colour: str
    title: str


@dataclass(frozen=True)
class Bar:
    label: str
    y: float
    total: str
    segments: list[Segment]


@dataclass
class Aging:
    as_of: date
    rows: list[dict[str, Any]]  # label, each bucket, credit, total (Decimal)
    totals: dict[str, Decimal]
    bars: list[Bar]
    height: int
    legend: list[tuple[str, str]]  # (colour, words)


def _bars(rows: list[dict[str, Any]]) -> tuple[list[Bar], int]:
    """Horizontal stacked bars, one per row: a bucket's width is its share of the largest
    owed amount (credit and negative buckets are left out of the picture, not the table)."""
    widest = max((sum(max(r[b], ZERO) for b in BUCKETS) for r in rows), default=ZERO)
    room = CHART_WIDTH - LABEL_WIDTH - 90  # the total is written after the bar
    bars = []
    for n, row in enumerate(rows):
        x = float(LABEL_WIDTH)
        segments = []
        for bucket, colour in zip(BUCKETS, BUCKET_COLOURS, strict=True):
            amount = max(row[bucket], ZERO)
            if not amount or not widest:
                continue
            width = float(amount / widest) * room
            words = f"{row['label']}, {BUCKET_WORDS[bucket]} days: ${money(amount)}"
            segments.append(Segment(round(x, 2), round(width, 2), colour, words))
            x += width
        bars.append(Bar(row["label"], n * (BAR_HEIGHT + BAR_GAP), money(row["total"]), segments))
    return bars, max(len(rows) * (BAR_HEIGHT + BAR_GAP), BAR_HEIGHT)


def aging(session: Session, actor: Principal, as_of: date) -> Aging:
    """The ledger's A/R aging (GET /api/v1/ledger-reports/aging) by payer, with what patients
    owe as one more row, and the chart's geometry. Audited as the report's query."""
    by_payer = reports.aging(session, actor.organization_id, by="payer", as_of=as_of)
    # What patients owe is one row of the chart: its totals, not a row per patient.
    patients = reports.aging_totals(session, actor.organization_id, by="patient", as_of=as_of)
    audit.record(
        session,
        actor,
        action="query",
        resource_type="ledger_report",
        detail=f"ledger-aging web page {by_payer.params}",
    )
    money_columns = [*BUCKETS, "credit", "total"]
    rows = [
        {"label": r["payer_name"] or "No payer named"} | {c: r[c] for c in money_columns}
        for r in by_payer.rows
    ]
    if patients is not None:
        rows.append({"label": "Patient responsibility"} | {c: patients[c] for c in money_columns})
    totals = {c: sum((Decimal(r[c]) for r in rows), ZERO) for c in money_columns}
    bars, height = _bars(rows)
    return Aging(
        as_of,
        rows,
        totals,
        bars,
        height,
        [(c, f"{BUCKET_WORDS[b]} days") for b, c in zip(BUCKETS, BUCKET_COLOURS, strict=True)],
    )


# --- month-end -------------------------------------------------------------------------------


def parse_month(text: str) -> date | None:
    """ "2026-11" -> 2026-11-01; None for anything else (the API's range: 1900-01 to 9998-12)."""
    year, _, month = text.partition("-")
    if len(year) != 4 or len(month) != 2 or not (year.isdigit() and month.isdigit()):
        return None
    if not (1900 <= int(year) <= 9998 and 1 <= int(month) <= 12):
        return None
    return date(int(year), int(month), 1)


def month_end(session: Session, actor: Principal, first: date) -> Table:
    table = reports.month_end(session, actor.organization_id, month=first)
    audit.record(
        session,
        actor,
        action="query",
        resource_type="ledger_report",
        detail=f"month-end web page {table.params}",
    )
    return table


def month_choices(today: date, count: int = 13) -> Sequence[str]:
    """This month and the twelve before it, newest first (the picker's list)."""
    year, month = today.year, today.month
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out
