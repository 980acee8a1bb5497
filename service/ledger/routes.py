"""REST routes: a patient's ledger and balance, payments, credit, refunds, write-offs,
adjustments, transfers and reversals (each an append-only ledger entry)."""

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from sqlmodel import Session

from service import blobs, org_clock
from service.api import tags
from service.api.deps import Paging, allow
from service.api.problems import problem_responses
from service.audit import logic as audit
from service.auth.logic import Principal
from service.auth.roles import Role
from service.db import SessionDep
from service.errors import InvalidInput
from service.ledger import logic, reports, repository, statements
from service.ledger.models import LedgerEntry, Statement, StatementRun
from service.ledger.schemas import (
    BalanceChangeCreate,
    BalanceRead,
    CreditApplicationCreate,
    LedgerEntryRead,
    LedgerRead,
    MovementRead,
    PaymentCreate,
    RefundCreate,
    ReversalCreate,
    StatementRead,
    StatementRunCreate,
    StatementRunFilters,
    StatementRunPage,
    StatementRunRead,
    StatementRunSummary,
    TransferCreate,
)
from service.remittance import export
from service.remittance.reports import Table
from service.remittance.schemas import QueryDate

patient_ledger = APIRouter(prefix="/api/v1/patients", tags=[tags.PATIENT_MONEY])
money = APIRouter(prefix="/api/v1", tags=[tags.PATIENT_MONEY])
ledger_reports = APIRouter(prefix="/api/v1/ledger-reports", tags=[tags.PATIENT_MONEY])

# DESIGN.md roles: the front desk takes copays and patient payments; billers and admins refund,
# adjust and write off; auditors read.
Reader = Annotated[Principal, allow(Role.ADMIN, Role.BILLER, Role.FRONT_DESK, Role.AUDITOR)]
Desk = Annotated[Principal, allow(Role.ADMIN, Role.BILLER, Role.FRONT_DESK)]
Biller = Annotated[Principal, allow(Role.ADMIN, Role.BILLER)]
Accountant = Annotated[Principal, allow(Role.ADMIN, Role.BILLER, Role.AUDITOR)]

WRITE = problem_responses(400, 401, 403, 404, 409, 422)


def _now() -> datetime:
    return datetime.now(UTC)


def _balance(session: Session, user: Principal, patient_id: str) -> BalanceRead:
    return BalanceRead.model_validate(logic.balance(session, user, patient_id))


def _moved(session: Session, user: Principal, entries: list[LedgerEntry]) -> MovementRead:
    return MovementRead(
        entries=[LedgerEntryRead.model_validate(e) for e in entries],
        balance=_balance(session, user, entries[0].patient_id),
    )


@patient_ledger.get(
    "/{patient_id}/ledger",
    summary="Read a patient's ledger entries and balance",
    responses=problem_responses(401, 403, 404),
)
def read_ledger(patient_id: str, session: SessionDep, user: Reader) -> LedgerRead:
    """Every entry of the patient's account, oldest first, and the balances they sum to."""
    found = _balance(session, user, patient_id)
    entries = repository.list_entries(session, user.organization_id, patient_id=patient_id)
    audit.record(
        session,
        user,
        action="read",
        resource_type="patient_ledger",
        resource_id=patient_id,
        patient_id=patient_id,
    )
    return LedgerRead(
        patient_id=patient_id,
        entries=[LedgerEntryRead.model_validate(e) for e in entries],
        balance=found,
    )


@patient_ledger.get(
    "/{patient_id}/balance",
    summary="Read a patient's balance by encounter",
    responses=problem_responses(401, 403, 404),
)
def read_balance(patient_id: str, session: SessionDep, user: Reader) -> BalanceRead:
    """What insurance and the patient owe, per encounter, and the patient's unapplied credit."""
    found = _balance(session, user, patient_id)
    audit.record(
        session,
        user,
        action="read",
        resource_type="patient_balance",
        resource_id=patient_id,
        patient_id=patient_id,
    )
    return found


@money.post("/patient-payments", summary="Take a patient payment", status_code=201, responses=WRITE)
def take_payment(body: PaymentCreate, session: SessionDep, user: Desk) -> MovementRead:
    """A copay or patient payment (cash, check, card). With `encounter_id` it pays what the
    patient owes on that encounter; anything more is kept as unapplied credit, never a
    negative balance."""
    entries = logic.take_payment(session, user, **body.model_dump(), at=_now())
    return _moved(session, user, entries)


@money.post(
    "/credit-applications",
    summary="Apply a patient's credit to an encounter",
    status_code=201,
    responses=WRITE,
)
def apply_credit(body: CreditApplicationCreate, session: SessionDep, user: Desk) -> MovementRead:
    """Unapplied credit moved onto an encounter the patient owes on."""
    entries = logic.apply_credit(session, user, **body.model_dump(), at=_now())
    return _moved(session, user, entries)


@money.post("/refunds", summary="Refund a patient's credit", status_code=201, responses=WRITE)
def refund(body: RefundCreate, session: SessionDep, user: Biller) -> MovementRead:
    """Money given back to the patient, out of unapplied credit (422 beyond it)."""
    entry = logic.refund(session, user, **body.model_dump(), at=_now())
    return _moved(session, user, [entry])


@money.post("/write-offs", summary="Write off part of a balance", status_code=201, responses=WRITE)
def write_off(body: BalanceChangeCreate, session: SessionDep, user: Biller) -> MovementRead:
    """A balance given up (small balance, bad debt, courtesy, ...), with a reason from the
    fixed list, on the insurance or the patient side of an encounter."""
    entry = logic.reduce_balance(session, user, "write_off", **body.model_dump(), at=_now())
    return _moved(session, user, [entry])


@money.post("/adjustments", summary="Adjust a balance", status_code=201, responses=WRITE)
def adjust(body: BalanceChangeCreate, session: SessionDep, user: Biller) -> MovementRead:
    """A correction of what is owed (contractual, billing error, prompt-pay discount, ...)."""
    entry = logic.reduce_balance(session, user, "adjustment", **body.model_dump(), at=_now())
    return _moved(session, user, [entry])


@money.post(
    "/transfers",
    summary="Transfer a balance between insurance and patient",
    status_code=201,
    responses=WRITE,
)
def transfer(body: TransferCreate, session: SessionDep, user: Biller) -> MovementRead:
    """Responsibility moved between insurance and the patient on one encounter."""
    entry = logic.transfer(session, user, **body.model_dump(), at=_now())
    return _moved(session, user, [entry])


@money.get(
    "/ledger-entries/{entry_id}",
    summary="Read a ledger entry",
    responses=problem_responses(401, 403, 404),
)
def read_entry(entry_id: str, session: SessionDep, user: Reader) -> LedgerEntryRead:
    entry = logic.get_entry(session, user, entry_id)
    audit.record(
        session,
        user,
        action="read",
        resource_type="ledger_entry",
        resource_id=entry.id,
        patient_id=entry.patient_id,
    )
    return LedgerEntryRead.model_validate(entry)


@money.post(
    "/ledger-entries/{entry_id}/reversal",
    summary="Reverse a ledger entry",
    status_code=201,
    responses=WRITE,
)
def reverse(entry_id: str, body: ReversalCreate, session: SessionDep, user: Biller) -> MovementRead:
    """Undoes a payment, refund, adjustment or write-off with an entry of the negated amounts
    (409 for a charge or an 835 entry, or one reversed already)."""
    entry = logic.reverse_entry(session, user, entry_id, note=body.note, at=_now())
    return _moved(session, user, [entry])


Format = Literal["json", "csv", "xlsx"]
XLSX = export.XLSX
REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **problem_responses(401, 403, 422),
    200: {
        "description": "the report (JSON, or CSV/XLSX with ?format=)",
        "content": {"application/json": {}, "text/csv": {}, XLSX: {}},
    },
}


def _report(session: Session, user: Principal, table: Table, name: str, fmt: Format) -> Any:
    audit.record(
        session,
        user,
        action="export" if fmt != "json" else "query",
        resource_type="ledger_report",
        detail=f"{name} {fmt} {table.params}",
    )
    if fmt == "json":
        return export.to_json(table)
    body, media, filename = export.download(table, name, fmt, _as_of(session, user, None))
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _as_of(session: Session, user: Principal, as_of: date | None) -> date:
    return as_of or org_clock.local_date(session, user.organization_id, datetime.now(UTC))


AsOf = Annotated[QueryDate | None, Query(description="default: today in the organization's zone")]


@ledger_reports.get(
    "/receivables",
    summary="Report receivables by encounter, payer or patient",
    responses=REPORT_RESPONSES,
)
def receivables_report(
    session: SessionDep,
    user: Accountant,
    by: Annotated[Literal["encounter", "payer", "patient"], Query()] = "encounter",
    as_of: AsOf = None,
    format: Annotated[Format, Query()] = "json",
) -> Any:
    """A/R from the ledger as of a day: per encounter (insurance and patient on one line), per
    payer, or per patient (with unapplied credit)."""
    day = _as_of(session, user, as_of)
    table = reports.receivables(session, user.organization_id, by=by, as_of=day)
    return _report(session, user, table, "receivables", format)


@ledger_reports.get(
    "/aging", summary="Report ledger aging by payer or patient", responses=REPORT_RESPONSES
)
def aging_report(
    session: SessionDep,
    user: Accountant,
    by: Annotated[Literal["payer", "patient"], Query()] = "payer",
    as_of: AsOf = None,
    format: Annotated[Format, Query()] = "json",
) -> Any:
    """The ledger's A/R as of a day in 0-30 ... 120+ day buckets from the date of service: by
    payer what insurance owes, by patient what patients owe (credit apart)."""
    day = _as_of(session, user, as_of)
    table = reports.aging(session, user.organization_id, by=by, as_of=day)
    return _report(session, user, table, "ledger-aging", format)


@ledger_reports.get(
    "/journal", summary="Report the payment journal by deposit or day", responses=REPORT_RESPONSES
)
def journal_report(
    session: SessionDep,
    user: Accountant,
    group: Annotated[Literal["deposit", "day"], Query()] = "deposit",
    date_from: QueryDate | None = None,
    date_to: QueryDate | None = None,
    format: Annotated[Format, Query()] = "json",
) -> Any:
    """Payments received and refunded: per deposit (an 835 payment's trace number; a day's
    patient cash, checks or cards) or per day."""
    if date_from and date_to and date_from > date_to:
        raise InvalidInput("date_from is after date_to.")
    table = reports.journal(
        session, user.organization_id, group=group, date_from=date_from, date_to=date_to
    )
    return _report(session, user, table, f"journal-by-{group}", format)


MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@ledger_reports.get("/month-end", summary="Report a month-end close", responses=REPORT_RESPONSES)
def month_end_report(
    session: SessionDep,
    user: Accountant,
    month: Annotated[str, Query(description="YYYY-MM", max_length=7)],
    format: Annotated[Format, Query()] = "json",
) -> Any:
    """A/R at the start, charges, payments (net of refunds), adjustments and write-offs, A/R
    at the end; `difference` is 0 when they add up (start + charges - payments - adjustments
    = end)."""
    found = MONTH.match(month)
    if found is None or not 1900 <= int(found[1]) <= 9998:
        raise InvalidInput(f"month {month!r} is not YYYY-MM (1900-01 to 9998-12).")
    first = date(int(found[1]), int(found[2]), 1)
    table = reports.month_end(session, user.organization_id, month=first)
    return _report(session, user, table, f"month-end-{month}", format)


statement_runs = APIRouter(prefix="/api/v1/statement-runs", tags=[tags.PATIENT_MONEY])
statement_files = APIRouter(prefix="/api/v1/statements", tags=[tags.PATIENT_MONEY])
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **problem_responses(401, 403, 404, 422),
    200: {"content": {"application/pdf": {}, "text/csv": {}}, "description": "as issued"},
}


def _statement(s: Statement) -> StatementRead:
    base = f"{statement_files.prefix}/{s.id}"
    return StatementRead.model_validate(
        {**s.model_dump(), "links": {"pdf": f"{base}/pdf", "csv": f"{base}/csv"}}
    )


def _run_links(run: StatementRun) -> dict[str, str]:
    base = f"{statement_runs.prefix}/{run.id}"
    return {"self": base, "csv": f"{base}/csv"}


def _run(
    session: Session, run: StatementRun, *, duplicate: bool, user: Principal | None = None
) -> StatementRunRead:
    """The run with its statements; with `user`, each statement shown is audited under its
    patient (a read; a run just made has its statements audited as created)."""
    issued = statements.statements_of(session, run.organization_id, run_id=run.id)
    if user is not None:
        audit.record_many(
            session,
            user,
            action="query",
            resource_type="statement",
            rows=[(s.id, s.patient_id) for s in issued],
            detail=f"statement run {run.id}",
        )
    return StatementRunRead.model_validate(
        {
            **run.model_dump(),
            "links": _run_links(run),
            "duplicate": duplicate,
            "statements": [_statement(s) for s in issued],
        }
    )


def _download(file_id: str, sha256: str, name: str, media: str, session: Session) -> Response:
    body = statements.file_bytes(session, file_id)
    return Response(body, media_type=media, headers=blobs.download_headers(name, sha256, len(body)))


@patient_ledger.post(
    "/{patient_id}/statements",
    summary="Issue a statement to a patient now",
    status_code=201,
    responses=WRITE,
)
def issue_statement(patient_id: str, session: SessionDep, user: Desk) -> StatementRead:
    """The patient's statement as of today (PDF and CSV, stored: download them by the links)."""
    return _statement(statements.issue_statement(session, user, patient_id, at=_now()))


@patient_ledger.get(
    "/{patient_id}/statements",
    summary="List a patient's statements",
    responses=problem_responses(401, 403, 404),
)
def list_statements(patient_id: str, session: SessionDep, user: Reader) -> list[StatementRead]:
    _balance(session, user, patient_id)  # 404 for another organization's patient
    found = statements.statements_of(session, user.organization_id, patient_id=patient_id)
    audit.record(
        session,
        user,
        action="read",
        resource_type="statement",
        patient_id=patient_id,
        detail="statements of the patient",
    )
    return [_statement(s) for s in found]


@statement_files.get(
    "/{statement_id}", summary="Read a statement", responses=problem_responses(401, 403, 404)
)
def read_statement(statement_id: str, session: SessionDep, user: Reader) -> StatementRead:
    found = statements.get_statement(session, user, statement_id)
    audit.record(
        session,
        user,
        action="read",
        resource_type="statement",
        resource_id=found.id,
        patient_id=found.patient_id,
    )
    return _statement(found)


@statement_files.get(
    "/{statement_id}/{kind}", summary="Download a statement as PDF or CSV", responses=FILE_RESPONSES
)
def download_statement(
    statement_id: str, kind: Literal["pdf", "csv"], session: SessionDep, user: Reader
) -> Response:
    """The statement as issued, byte for byte (ETag = its SHA-256)."""
    found = statements.get_statement(session, user, statement_id)
    audit.record(
        session,
        user,
        action="export",
        resource_type="statement",
        resource_id=found.id,
        patient_id=found.patient_id,
        detail=kind,
    )
    sha = found.pdf_sha256 if kind == "pdf" else found.csv_sha256
    media = "application/pdf" if kind == "pdf" else "text/csv"
    name = f"statement-{found.statement_date.isoformat()}-{found.id}.{kind}"
    return _download(f"{found.id}.{kind}", sha, name, media, session)


@statement_runs.post(
    "",
    summary="Run statements for every patient who owes",
    status_code=201,
    responses={
        **WRITE,
        200: {"model": StatementRunRead, "description": "today's run, made before"},
    },
)
def run_statements(
    body: StatementRunCreate, session: SessionDep, user: Biller, response: Response
) -> StatementRunRead:
    """Statements for every patient owing more than `threshold` who was not sent one in the
    last `quiet_days` days. The same run again the same day answers 200 with the first."""
    run, created = statements.run_statements(
        session, user, threshold=body.threshold, quiet_days=body.quiet_days, at=_now()
    )
    if not created:
        response.status_code = 200
    # A run asked again shows the statements made before: read again, so audited.
    return _run(session, run, duplicate=not created, user=None if created else user)


@statement_runs.get("", summary="List statement runs", responses=problem_responses(401, 403, 422))
def list_runs(
    session: SessionDep,
    user: Accountant,
    paging: Paging,
    filters: Annotated[StatementRunFilters, Query()],
) -> StatementRunPage:
    """Newest first by default; `sort` by created_at, run_date or total_due (`-` for
    descending). Each run's terms and totals without its statements: read a run for those."""
    page = statements.runs_page(
        session,
        user.organization_id,
        **filters.model_dump(),
        limit=paging.limit,
        cursor=paging.cursor,
        sort=paging.sort,
    )
    audit.record_many(
        session,
        user,
        action="query",
        resource_type="statement_run",
        rows=[(run.id, None) for run in page.items],
    )
    items = [
        StatementRunSummary.model_validate({**run.model_dump(), "links": _run_links(run)})
        for run in page.items
    ]
    return StatementRunPage(items=items, next_cursor=page.next_cursor)


@statement_runs.get(
    "/{run_id}", summary="Read a statement run", responses=problem_responses(401, 403, 404)
)
def read_run(run_id: str, session: SessionDep, user: Accountant) -> StatementRunRead:
    """The run's terms and totals and every statement it issued (each audited under its
    patient)."""
    run = statements.get_run(session, user, run_id)
    audit.record(session, user, action="read", resource_type="statement_run", resource_id=run.id)
    return _run(session, run, duplicate=False, user=user)


@statement_runs.get(
    "/{run_id}/csv", summary="Download a statement run's list as CSV", responses=FILE_RESPONSES
)
def download_run(run_id: str, session: SessionDep, user: Accountant) -> Response:
    """The run's list of statements (one row per patient), as made."""
    run = statements.get_run(session, user, run_id)
    audit.record(session, user, action="export", resource_type="statement_run", resource_id=run.id)
    return _download(
        f"{run.id}.csv", run.csv_sha256, f"statement-run-{run.run_date}.csv", "text/csv", session
    )


ROUTERS = [patient_ledger, money, ledger_reports, statement_runs, statement_files]
