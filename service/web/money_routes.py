"""The billing desk's money pages: denials to work, patient balances and statements, A/R aging
with its chart, and the month-end summary. The same logic, role sets and audit as the API
(denials: service/remittance/denial_routes.py; money: service/ledger/routes.py)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from service import blobs
from service.auth.people import SignedIn
from service.auth.roles import Role
from service.claims import corrections
from service.db import SessionDep
from service.errors import DomainError
from service.ledger import statements
from service.remittance import denials
from service.remittance.schemas import DenialAppeal, DenialWorkItemUpdate, DenialWriteOff
from service.web import money, record_pages
from service.web.page_routes import FormText, PageGuard, check_csrf, render

router = APIRouter(prefix="/app", include_in_schema=False)

# The API's role sets: denials are read by admin, biller, coder and auditor and worked by admin
# and biller; ledger reports and statement runs are read by admin, biller and auditor (and a
# statement by the front desk too).
DenialReader = Annotated[
    SignedIn, Depends(PageGuard(frozenset({Role.ADMIN, Role.BILLER, Role.CODER, Role.AUDITOR})))
]
Biller = Annotated[SignedIn, Depends(PageGuard(frozenset({Role.ADMIN, Role.BILLER})))]
Accountant = Annotated[
    SignedIn, Depends(PageGuard(frozenset({Role.ADMIN, Role.BILLER, Role.AUDITOR})))
]
StatementReader = Annotated[
    SignedIn,
    Depends(PageGuard(frozenset({Role.ADMIN, Role.BILLER, Role.FRONT_DESK, Role.AUDITOR}))),
]

Show = Literal["all", "mine", "unassigned"]
StatusChoice = Literal["working", "all"]
WRITE_OFF_REASONS = (
    "denial",
    "timely_filing",
    "small_balance",
    "courtesy",
    "bad_debt",
    "contractual",
    "other",
)


class PageError(Exception):
    """A refused page action: shown on the page again with its status, nothing written."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@contextmanager
def _all_or_nothing(session: Session) -> Iterator[None]:
    """An action in a savepoint: if the logic refuses it, whatever it wrote is undone before
    the page says why (the request then commits only the audit of the page shown)."""
    try:
        with session.begin_nested():
            yield
    except DomainError as refused:
        raise PageError(refused.status, refused.detail) from None
    except ValidationError as invalid:
        words = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in invalid.errors())
        raise PageError(422, words) from None


# --- denials ---------------------------------------------------------------------------------


def _denials_page(
    request: Request,
    session: Session,
    signed_in: SignedIn,
    *,
    show: str = "all",
    status: str = "working",
    after: str | None = None,
    error: str | None = None,
    http_status: int = 200,
) -> Response:
    actor = signed_in.principal
    rows, next_cursor = money.denial_queue(session, actor, show=show, status=status, after=after)
    may_work = bool(actor.roles & {Role.ADMIN, Role.BILLER})
    return render(
        request,
        "billing_denials.html",
        http_status,
        signed_in=signed_in,
        rows=rows,
        next_cursor=next_cursor,
        show=show,
        status_choice=status,
        may_work=may_work,
        people=money.people_who_work_denials(session, actor.organization_id) if may_work else [],
        statuses=money.STATUS_WORDS,
        settable=sorted(denials.SETTABLE),
        reasons=WRITE_OFF_REASONS,
        error=error,
        now=money.local_text(session, actor.organization_id, datetime.now(UTC)),
        amount=money.money,
    )


@router.get("/billing/denials")
def denial_queue(
    request: Request,
    session: SessionDep,
    signed_in: DenialReader,
    show: Show = "all",
    status: StatusChoice = "working",
    after: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    return _denials_page(request, session, signed_in, show=show, status=status, after=after)


def _work_denial(
    request: Request,
    session: Session,
    signed_in: SignedIn,
    csrf_token: str,
    item_id: str,
    show: str,
    act: Callable[[], Any],
) -> Response:
    check_csrf(signed_in, csrf_token)
    show = show if show in ("all", "mine", "unassigned") else "all"
    try:
        with _all_or_nothing(session):
            act()
    except PageError as refused:
        return _denials_page(
            request,
            session,
            signed_in,
            show=show,
            error=refused.message,
            http_status=refused.status,
        )
    return RedirectResponse(f"/app/billing/denials?show={show}#item-{item_id}", status_code=303)


def _now() -> datetime:
    return datetime.now(UTC)


@router.post("/billing/denials/{item_id}/take")
def take_denial(  # nosec B107 - an empty form field's default, not a password
    request: Request,
    item_id: str,
    session: SessionDep,
    signed_in: Biller,
    csrf_token: FormText = "",
    show: FormText = "all",
) -> Response:
    """The clerk takes the item: they become its owner (PATCH owner_id)."""
    actor = signed_in.principal

    def act() -> None:
        denials.update_item(session, actor, item_id, {"owner_id": actor.user_id}, at=_now())
        money.audit_denial(session, actor, item_id, "denial item taken")

    return _work_denial(request, session, signed_in, csrf_token, item_id, show, act)


@router.post("/billing/denials/{item_id}")
def update_denial(  # nosec B107 - an empty form field's default, not a password
    request: Request,
    item_id: str,
    session: SessionDep,
    signed_in: Biller,
    csrf_token: FormText = "",
    show: FormText = "all",
    owner_id: FormText = "",
    follow_up_date: FormText = "",
    status: FormText = "",
    note: FormText = "",
) -> Response:
    """Owner, follow-up date, status and a note (PATCH /api/v1/denials/items/{id}): only what
    the form changed joins the item's history."""
    actor = signed_in.principal

    def act() -> None:
        item = denials.get_item(session, actor, item_id)
        given: dict[str, Any] = {}
        if owner_id != (item.owner_id or ""):
            given["owner_id"] = owner_id or None
        current = item.follow_up_date.isoformat() if item.follow_up_date else ""
        if follow_up_date != current:
            given["follow_up_date"] = follow_up_date or None
        if status and status != item.status:
            given["status"] = status
        if note.strip():
            given["note"] = note.strip()
        if not given:
            return
        changes = DenialWorkItemUpdate.model_validate(given).model_dump(exclude_unset=True)
        denials.update_item(session, actor, item_id, changes, at=_now())
        money.audit_denial(session, actor, item_id, "denial item")

    return _work_denial(request, session, signed_in, csrf_token, item_id, show, act)


@router.post("/billing/denials/{item_id}/appeal")
def appeal_denial(  # nosec B107 - an empty form field's default, not a password
    request: Request,
    item_id: str,
    session: SessionDep,
    signed_in: Biller,
    csrf_token: FormText = "",
    show: FormText = "all",
    note: FormText = "",
) -> Response:
    """The item marked appealed (the appeal itself goes to the payer outside this service)."""
    actor = signed_in.principal

    def act() -> None:
        body = DenialAppeal.model_validate({"note": note.strip() or None})
        denials.appeal(session, actor, item_id, note=body.note, at=_now())
        money.audit_denial(session, actor, item_id, "denial appealed")

    return _work_denial(request, session, signed_in, csrf_token, item_id, show, act)


@router.post("/billing/denials/{item_id}/write-off")
def write_off_denial(  # nosec B107 - an empty form field's default, not a password
    request: Request,
    item_id: str,
    session: SessionDep,
    signed_in: Biller,
    csrf_token: FormText = "",
    show: FormText = "all",
    reason: FormText = "denial",
    note: FormText = "",
) -> Response:
    """The denied amount given up: a write_off ledger entry, the item written_off."""
    actor = signed_in.principal

    def act() -> None:
        body = DenialWriteOff.model_validate({"reason": reason, "note": note.strip() or None})
        denials.write_off(session, actor, item_id, reason=body.reason, note=body.note, at=_now())
        money.audit_denial(session, actor, item_id, "denial written off")

    return _work_denial(request, session, signed_in, csrf_token, item_id, show, act)


@router.post("/billing/denials/{item_id}/replacement")
def resubmit_denial(  # nosec B107 - an empty form field's default, not a password
    request: Request,
    item_id: str,
    session: SessionDep,
    signed_in: Biller,
    csrf_token: FormText = "",
    show: FormText = "all",
) -> Response:
    """Resubmit: a replacement claim (POST /api/v1/claims/{id}/replacement, frequency 7) from
    the encounter's corrected coding, and the item marked resubmitted, together or not at all."""
    actor = signed_in.principal

    def act() -> None:
        item = denials.get_item(session, actor, item_id)
        today = money.now_local(session, actor.organization_id).date()
        claim = corrections.create_correction(session, actor, item.claim_id, "7", today=today)
        note = f"replacement claim {claim.patient_control_number} ({claim.status})"
        changes = {"status": "resubmitted", "note": note}
        denials.update_item(session, actor, item_id, changes, at=_now())
        money.audit_denial(session, actor, item_id, "denial resubmitted")

    return _work_denial(request, session, signed_in, csrf_token, item_id, show, act)


# --- patient balances and statements ---------------------------------------------------------


@router.get("/billing/balances")
def patient_balances(
    request: Request,
    session: SessionDep,
    signed_in: Accountant,
    sort: Literal["amount", "age"] = "amount",
    page: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Response:
    rows, more = money.balances(session, signed_in.principal, sort=sort, page=page)
    return render(
        request,
        "billing_balances.html",
        signed_in=signed_in,
        rows=rows,
        more=more,
        sort=sort,
        page=page,
        amount=money.money,
        now=money.local_text(session, signed_in.principal.organization_id, _now()),
    )


def _error_page(
    request: Request, signed_in: SignedIn, title: str, refused: DomainError
) -> Response:
    return render(
        request,
        "billing_error.html",
        refused.status,
        signed_in=signed_in,
        title=title,
        detail=refused.detail,
    )


@router.get("/billing/balances/{patient_id}")
def patient_account(
    request: Request, patient_id: str, session: SessionDep, signed_in: Accountant
) -> Response:
    try:
        account = money.patient_account(session, signed_in.principal, patient_id)
    except DomainError as refused:
        return _error_page(request, signed_in, "Patient balance", refused)
    return render(
        request,
        "billing_patient_balance.html",
        signed_in=signed_in,
        account=account,
        amount=money.money,
    )


def _statements_page(
    request: Request,
    session: Session,
    signed_in: SignedIn,
    *,
    error: str | None = None,
    http_status: int = 200,
    threshold: str = "5.00",
    quiet_days: str = "30",
) -> Response:
    actor = signed_in.principal
    return render(
        request,
        "billing_statements.html",
        http_status,
        signed_in=signed_in,
        runs=money.statement_run_list(session, actor),
        may_run=bool(actor.roles & {Role.ADMIN, Role.BILLER}),
        error=error,
        threshold=threshold,
        quiet_days=quiet_days,
        amount=money.money,
        local=lambda at: money.local_text(session, actor.organization_id, at),
    )


@router.get("/billing/statements")
def statement_runs(request: Request, session: SessionDep, signed_in: Accountant) -> Response:
    return _statements_page(request, session, signed_in)


@router.post("/billing/statements")
def run_statements(  # nosec B107 - an empty form field's default, not a password
    request: Request,
    session: SessionDep,
    signed_in: Biller,
    csrf_token: FormText = "",
    threshold: FormText = "",
    quiet_days: FormText = "",
) -> Response:
    """POST /api/v1/statement-runs: statements for every patient owing more than the threshold
    not sent one in the last quiet days; the same run again the same day is the first."""
    check_csrf(signed_in, csrf_token)
    actor = signed_in.principal
    try:
        with _all_or_nothing(session):
            try:
                amount, days = Decimal(threshold.strip()), int(quiet_days.strip())
            except (InvalidOperation, ValueError):
                message = "The threshold is an amount and quiet days a whole number."
                raise PageError(422, message) from None
            if not amount.is_finite() or amount > Decimal("1000000"):
                raise PageError(422, "The threshold is an amount below 1,000,000.")
            if days > 3650:
                raise PageError(422, "Quiet days are at most 3650.")
            run, _ = statements.run_statements(
                session,
                actor,
                threshold=amount.quantize(Decimal("0.01")),
                quiet_days=days,
                at=_now(),
            )
    except PageError as refused:
        return _statements_page(
            request,
            session,
            signed_in,
            error=refused.message,
            http_status=refused.status,
            threshold=threshold,
            quiet_days=quiet_days,
        )
    return RedirectResponse(f"/app/billing/statements/{run.id}", status_code=303)


@router.get("/billing/statements/{run_id}")
def statement_run(
    request: Request,
    run_id: str,
    session: SessionDep,
    signed_in: Accountant,
    after: Annotated[str | None, Query(max_length=200)] = None,
    before: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The run's figures and 100 of its statements (record_pages.RUN_STATEMENTS) a page."""
    try:
        run, page = record_pages.statement_run(
            session, signed_in.principal, run_id, after=after, before=before
        )
    except DomainError as refused:
        return _error_page(request, signed_in, "Statement run", refused)
    return render(
        request,
        "billing_statement_run.html",
        signed_in=signed_in,
        run=run,
        page=page,
        issued=page.rows,
        amount=money.money,
        created=money.local_text(session, signed_in.principal.organization_id, run.created_at),
    )


def _download(body: bytes, sha256: str, name: str, media: str) -> Response:
    return Response(body, media_type=media, headers=blobs.download_headers(name, sha256, len(body)))


@router.get("/billing/statements/{run_id}/list.csv")
def statement_run_csv(
    request: Request, run_id: str, session: SessionDep, signed_in: Accountant
) -> Response:
    try:
        run = money.statement_run_file(session, signed_in.principal, run_id)
    except DomainError as refused:
        return _error_page(request, signed_in, "Statement run", refused)
    body = statements.file_bytes(session, f"{run.id}.csv")
    return _download(body, run.csv_sha256, f"statement-run-{run.run_date}.csv", "text/csv")


@router.get("/billing/statement-files/{statement_id}.{kind}")
def statement_file(
    request: Request,
    statement_id: str,
    kind: Literal["pdf", "csv"],
    session: SessionDep,
    signed_in: StatementReader,
) -> Response:
    """A statement as issued, byte for byte (GET /api/v1/statements/{id}/{kind}), audited."""
    try:
        found = money.statement_file(session, signed_in.principal, statement_id, kind)
    except DomainError as refused:
        return _error_page(request, signed_in, "Statement", refused)
    body = statements.file_bytes(session, f"{found.id}.{kind}")
    sha = found.pdf_sha256 if kind == "pdf" else found.csv_sha256
    media = "application/pdf" if kind == "pdf" else "text/csv"
    name = f"statement-{found.statement_date.isoformat()}-{found.id}.{kind}"
    return _download(body, sha, name, media)


# --- A/R aging and month-end -----------------------------------------------------------------


@router.get("/billing/aging")
def ar_aging(
    request: Request,
    session: SessionDep,
    signed_in: Accountant,
    as_of: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    actor = signed_in.principal
    today = money.now_local(session, actor.organization_id).date()
    day, error = today, None
    if as_of:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            error = f"{as_of!r} is not a date (YYYY-MM-DD); showing today."
    report = money.aging(session, actor, day)
    return render(
        request,
        "billing_aging.html",
        422 if error else 200,
        signed_in=signed_in,
        report=report,
        error=error,
        amount=money.money,
        buckets=list(money.BUCKET_WORDS),
        bucket_words=money.BUCKET_WORDS,
        chart_width=money.CHART_WIDTH,
        label_width=money.LABEL_WIDTH,
        bar_height=money.BAR_HEIGHT,
    )


@router.get("/billing/month-end")
def month_end(
    request: Request,
    session: SessionDep,
    signed_in: Accountant,
    month: Annotated[str, Query(max_length=7)] = "",
) -> Response:
    actor = signed_in.principal
    today = money.now_local(session, actor.organization_id).date()
    first, error = today.replace(day=1), None
    if month:
        parsed = money.parse_month(month)
        if parsed is None:
            error = f"{month!r} is not a month (YYYY-MM, 1900-01 to 9998-12); showing this month."
        else:
            first = parsed
    table = money.month_end(session, actor, first)
    choices = list(money.month_choices(today))
    if f"{first:%Y-%m}" not in choices:
        choices.insert(0, f"{first:%Y-%m}")
    return render(
        request,
        "billing_month_end.html",
        422 if error else 200,
        signed_in=signed_in,
        table=table,
        month=f"{first:%Y-%m}",
        choices=choices,
        error=error,
        amount=money.money,
    )
