"""Patient statements: one patient's, or a day's run over every patient owing more than a
threshold and not sent one in the last N days. Figures come from the ledger only; the PDF and
CSV are stored when issued (service/blobs.py) and downloaded again byte for byte. A run asked
twice the same day with the same terms answers the first (a unique key makes two concurrent
ones one)."""

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from service import blobs, crud, org_clock
from service.audit import logic as audit
from service.auth.logic import Principal
from service.auth.models import Organization
from service.errors import InvalidInput, NotFound
from service.filters import Filter, apply_filters
from service.ledger import repository
from service.ledger.models import LedgerEntry, Statement, StatementFileChunk, StatementRun
from service.ledger.statement_pdf import StatementData, StatementLine, render_csv, render_pdf
from service.paging import CREATED, Page, SortKey, fetch_page, parse_sort
from service.patients.logic import PATIENTS
from service.patients.models import Patient
from service.remittance.reports import BUCKETS, bucket
from service.spreadsheet import csv_text

ZERO = Decimal("0.00")
PAGE = 500
# Ledger kinds (a reversal counts as the kind it undoes) -> the statement column they move.
COLUMN = {
    "charge": "charges",
    "insurance_payment": "insurance_paid",
    "insurance_adjustment": "adjustments",
    "adjustment": "adjustments",
    "write_off": "adjustments",
    "patient_payment": "patient_paid",
    "credit_applied": "patient_paid",
}
SIGN = {"charges": 1, "insurance_paid": -1, "adjustments": -1, "patient_paid": -1}


class StatementNotFound(NotFound):
    code = "statement-not-found"


class StatementRunNotFound(NotFound):
    code = "statement-run-not-found"


def _figures(
    session: Session, organization_id: str, patient_ids: Sequence[str]
) -> dict[str, dict[str | None, dict[str, Decimal]]]:
    """patient -> encounter (None: unapplied credit) -> column -> amount, in one grouped query
    per page of patients."""
    undone = aliased(LedgerEntry)
    kind = sa.func.coalesce(undone.kind, LedgerEntry.kind)
    found: dict[str, dict[str | None, dict[str, Decimal]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(lambda: ZERO))
    )
    for start in range(0, len(patient_ids), PAGE):
        page = patient_ids[start : start + PAGE]
        query = (
            sa.select(
                col(LedgerEntry.patient_id),
                col(LedgerEntry.encounter_id),
                kind,
                sa.func.sum(LedgerEntry.insurance_amount),
                sa.func.sum(LedgerEntry.patient_amount),
            )
            .outerjoin(undone, col(undone.id) == col(LedgerEntry.reverses_entry_id))
            .where(
                col(LedgerEntry.organization_id) == organization_id,
                col(LedgerEntry.patient_id).in_(page),
            )
            .group_by(col(LedgerEntry.patient_id), col(LedgerEntry.encounter_id), kind)
        )
        for patient_id, encounter_id, entry_kind, insurance, own in session.execute(query):
            insurance, own = Decimal(insurance or ZERO), Decimal(own or ZERO)
            cells = found[patient_id][encounter_id]
            cells["insurance_pending"] += insurance
            cells["patient_owes"] += own
            column = COLUMN.get(entry_kind)
            if column is not None:
                cells[column] += SIGN[column] * (insurance + own)
    return found


def _address(patient: Patient) -> list[str]:
    a = patient.address or {}
    city = ", ".join(filter(None, (a.get("city"), a.get("state"))))
    return [
        x
        for x in (a.get("line1"), a.get("line2"), f"{city} {a.get('postal_code') or ''}".strip())
        if x
    ]


def _statement_data(
    clinic: str,
    patient: Patient,
    cells: dict[str | None, dict[str, Decimal]],
    dates: dict[str, date],
    day: date,
) -> StatementData:
    lines = []
    for encounter_id, c in cells.items():
        if encounter_id is None:
            continue
        line = StatementLine(encounter_id, dates.get(encounter_id), **dict(c))
        if any((line.charges, line.insurance_pending, line.patient_owes)):
            lines.append(line)
    lines.sort(key=lambda ln: (str(ln.date_of_service), ln.encounter_id))
    held = cells.get(None, {})
    credit = -(held.get("patient_owes", ZERO) + held.get("insurance_pending", ZERO))
    aging = dict.fromkeys(BUCKETS, ZERO)
    for line in lines:
        if line.patient_owes > 0:
            served = line.date_of_service or day
            aging[bucket(max((day - served).days, 0))] += line.patient_owes
    name = " ".join(
        filter(None, (patient.given_name, patient.middle_name, patient.family_name, patient.suffix))
    )
    return StatementData(clinic, name, _address(patient), patient.mrn, day, lines, credit, aging)


class _Files:
    """The chunk rows (service/blobs.py layout) of the files a run makes, inserted together: a
    run stores two small files per patient, and an INSERT each was a fifth of its time."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, file_id: str, data: bytes) -> tuple[str, int]:
        for seq, start in enumerate(range(0, max(len(data), 1), blobs.CHUNK_BYTES)):
            self.rows.append(
                {"file_id": file_id, "seq": seq, "data": data[start : start + blobs.CHUNK_BYTES]}
            )
        return hashlib.sha256(data).hexdigest(), len(data)

    def write(self, session: Session) -> None:
        for start in range(0, len(self.rows), 100):
            session.execute(sa.insert(StatementFileChunk), self.rows[start : start + 100])
        self.rows = []


def _issue(
    files: _Files,
    actor: Principal,
    data: StatementData,
    patient_id: str,
    run_id: str | None,
    at: datetime,
) -> Statement:
    statement = Statement(
        organization_id=actor.organization_id,
        patient_id=patient_id,
        run_id=run_id,
        statement_date=data.statement_date,
        amount_due=data.amount_due,
        insurance_pending=data.insurance_pending,
        credit=data.credit,
        created_by=actor.user_id,
        pdf_sha256="",
        pdf_size=0,
        csv_sha256="",
        csv_size=0,
        created_at=at,
        updated_at=at,
    )
    statement.pdf_sha256, statement.pdf_size = files.add(f"{statement.id}.pdf", render_pdf(data))
    statement.csv_sha256, statement.csv_size = files.add(f"{statement.id}.csv", render_csv(data))
    return statement


def _build(
    session: Session,
    actor: Principal,
    patients: list[Patient],
    day: date,
    run_id: str | None,
    at: datetime,
) -> list[Statement]:
    clinic = session.get(Organization, actor.organization_id)
    assert clinic is not None
    figures = _figures(session, actor.organization_id, [p.id for p in patients])
    dates = repository.dates_of_service(
        session, [e for p in patients for e in figures[p.id] if e is not None]
    )
    files = _Files()
    statements = [
        _issue(
            files,
            actor,
            _statement_data(clinic.name, p, figures[p.id], dates, day),
            p.id,
            run_id,
            at,
        )
        for p in patients
    ]
    session.add_all(statements)
    session.flush()
    files.write(session)
    audit.record_many(
        session,
        actor,
        action="create",
        resource_type="statement",
        rows=[(s.id, s.patient_id) for s in statements],
        detail=f"statement run {run_id}" if run_id else "statement",
    )
    return statements


def issue_statement(
    session: Session, actor: Principal, patient_id: str, *, at: datetime
) -> Statement:
    """One patient's statement now, whatever the balance (the front desk hands it over)."""
    patient = crud.get(session, actor, PATIENTS, patient_id, audit_read=False)
    day = org_clock.local_date(session, actor.organization_id, at)
    return _build(session, actor, [patient], day, None, at)[0]


def _due_patients(
    session: Session, organization_id: str, threshold: Decimal, quiet_since: date, day: date
) -> list[str]:
    """Patients owing more than the threshold (their side, less credit), not sent a statement
    after `quiet_since`."""
    recent = select(Statement.patient_id).where(
        Statement.organization_id == organization_id,
        col(Statement.statement_date) > quiet_since,
        col(Statement.statement_date) <= day,
    )
    query = (
        sa.select(col(LedgerEntry.patient_id))
        .where(
            col(LedgerEntry.organization_id) == organization_id,
            col(LedgerEntry.patient_id).not_in(recent),
        )
        .group_by(col(LedgerEntry.patient_id))
        .having(sa.func.sum(LedgerEntry.patient_amount) > threshold)
        .order_by(col(LedgerEntry.patient_id))
    )
    return list(session.execute(query).scalars())


def _existing_run(
    session: Session, organization_id: str, day: date, threshold: Decimal, quiet_days: int
) -> StatementRun | None:
    return session.exec(
        select(StatementRun).where(
            StatementRun.organization_id == organization_id,
            StatementRun.run_date == day,
            StatementRun.threshold == threshold,
            StatementRun.quiet_days == quiet_days,
        )
    ).first()


def run_statements(
    session: Session, actor: Principal, *, threshold: Decimal, quiet_days: int, at: datetime
) -> tuple[StatementRun, bool]:
    """The day's run (and True), or the run already made today with these terms (and False)."""
    if threshold < 0 or quiet_days < 0:
        raise InvalidInput("threshold and quiet_days cannot be negative.")
    day = org_clock.local_date(session, actor.organization_id, at)
    found = _existing_run(session, actor.organization_id, day, threshold, quiet_days)
    if found is not None:
        return found, False
    run = StatementRun(
        organization_id=actor.organization_id,
        run_date=day,
        threshold=threshold,
        quiet_days=quiet_days,
        created_by=actor.user_id,
        created_at=at,
        updated_at=at,
    )
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:  # the same run, made by a request that committed meanwhile
        found = _existing_run(session, actor.organization_id, day, threshold, quiet_days)
        if found is None:
            raise
        return found, False
    due = _due_patients(
        session, actor.organization_id, threshold, day - timedelta(days=quiet_days), day
    )
    patients: list[Patient] = []
    for start in range(0, len(due), PAGE):
        patients += session.exec(
            select(Patient).where(col(Patient.id).in_(due[start : start + PAGE]))
        )
    patients.sort(key=lambda p: (p.mrn, p.id))
    statements = _build(session, actor, patients, day, run.id, at)
    run.statement_count = len(statements)
    run.total_due = sum((Decimal(s.amount_due) for s in statements), ZERO)
    listing = _Files()
    run.csv_sha256, run.csv_size = listing.add(f"{run.id}.csv", _run_csv(patients, statements))
    listing.write(session)
    session.add(run)
    session.flush()
    audit.record(
        session,
        actor,
        action="create",
        resource_type="statement_run",
        resource_id=run.id,
        detail=f"{run.statement_count} statements",
    )
    return run, True


def _run_csv(patients: list[Patient], statements: list[Statement]) -> bytes:
    mrn = {p.id: p.mrn for p in patients}
    rows = ["statement_id,patient_id,mrn,statement_date,amount_due,insurance_pending,credit"]
    rows += [
        ",".join(
            (
                s.id,
                s.patient_id,
                _csv_cell(mrn[s.patient_id]),
                s.statement_date.isoformat(),
                f"{s.amount_due:.2f}",
                f"{s.insurance_pending:.2f}",
                f"{s.credit:.2f}",
            )
        )
        for s in statements
    ]
    return ("\r\n".join(rows) + "\r\n").encode("utf-8")


def _csv_cell(text: str) -> str:
    value = csv_text(text)
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\r\n') else value


def get_statement(session: Session, actor: Principal, statement_id: str) -> Statement:
    found = session.get(Statement, statement_id)
    if found is None or found.organization_id != actor.organization_id:
        raise StatementNotFound(f"No statement {statement_id}.")
    return found


def get_run(session: Session, actor: Principal, run_id: str) -> StatementRun:
    found = session.get(StatementRun, run_id)
    if found is None or found.organization_id != actor.organization_id:
        raise StatementRunNotFound(f"No statement run {run_id}.")
    return found


RUN_SORTS = {
    "created_at": CREATED,
    "run_date": SortKey(col(StatementRun.run_date), date.fromisoformat, date.isoformat),
    "total_due": SortKey(col(StatementRun.total_due), Decimal),
}
RUN_FILTERS = (
    Filter("date_from", StatementRun.run_date, "ge"),
    Filter("date_to", StatementRun.run_date, "le"),
    Filter("created_by", StatementRun.created_by),
)


def runs_page(
    session: Session,
    organization_id: str,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    created_by: str | None = None,
    limit: int,
    cursor: str | None,
    sort: str | None,
) -> Page[StatementRun]:
    """The organization's statement runs a page at a time, newest first unless `sort` says
    otherwise; `date_from`/`date_to` bound the run date (the organization's day)."""
    if date_from and date_to and date_from > date_to:
        raise InvalidInput("date_from is after date_to.")
    query = select(StatementRun).where(StatementRun.organization_id == organization_id)
    given = {"date_from": date_from, "date_to": date_to, "created_by": created_by}
    return fetch_page(
        session,
        apply_filters(query, given, RUN_FILTERS),
        StatementRun.id,
        limit=limit,
        cursor=cursor,
        sort=parse_sort(sort, RUN_SORTS, "-created_at"),
    )


def list_runs(session: Session, organization_id: str, *, limit: int) -> list[StatementRun]:
    """The organization's statement runs, newest first."""
    query = select(StatementRun).where(StatementRun.organization_id == organization_id)
    order = (col(StatementRun.run_date).desc(), col(StatementRun.created_at).desc())
    return list(session.exec(query.order_by(*order).limit(limit)))


def statements_of(
    session: Session,
    organization_id: str,
    *,
    patient_id: str | None = None,
    run_id: str | None = None,
) -> list[Statement]:
    query = select(Statement).where(Statement.organization_id == organization_id)
    query = apply_filters(
        query,
        {"patient_id": patient_id, "run_id": run_id},
        (Filter("patient_id", Statement.patient_id), Filter("run_id", Statement.run_id)),
        blank_is_a_value=True,
    )
    return list(session.exec(query.order_by(col(Statement.created_at), col(Statement.id))))


def file_bytes(session: Session, file_id: str) -> bytes:
    return b"".join(blobs.chunks(session, StatementFileChunk, "file_id", file_id))
