"""The billing desk's claim-to-money pages (issue 26): fix a claim's finding and scrub it again,
ready claims by payer into a batch, the batches with their 999/277CA answers and their 837 file,
a remittance (835, 999 or 277CA) uploaded with a dry run first, and the 835 lines that matched
nothing. Same logic, role sets and audit as the API routes they stand for."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlmodel import Session

from service import blobs, org_clock, uploads
from service.auth.logic import Principal
from service.auth.people import SignedIn
from service.auth.roles import Role
from service.claims import logic as claim_logic
from service.claims import verbs as claim_verbs
from service.claims.models import ClaimBatchChunk
from service.db import SessionDep
from service.errors import DomainError, InvalidInput
from service.remittance import files
from service.web import (
    billing,
    billing_flow,
    claim_fixes,
    record_pages,
    staged_uploads,
    unmatched_lines,
)
from service.web.page_routes import FormText, PageGuard, check_csrf, render

router = APIRouter(prefix="/app/billing", include_in_schema=False)

# The API's role sets: batches and remittances are read by admin, biller, coder and auditor,
# and built, downloaded and posted by admin and biller (claims/routes.py, route_roles.py).
READERS = frozenset({Role.ADMIN, Role.BILLER, Role.CODER, Role.AUDITOR})
Reader = Annotated[SignedIn, Depends(PageGuard(READERS))]
Biller = Annotated[SignedIn, Depends(PageGuard(claim_fixes.CLAIM_WRITERS))]
X12_TYPES = ("text/plain", "application/edi-x12", "application/x12")
# A record page's cursor: ?after= (the next page) or ?before= (the previous one).
Cursor = Annotated[str | None, Query(max_length=200)]


def _today(session: Session, actor: Principal) -> date:
    return org_clock.local_date(session, actor.organization_id, datetime.now(UTC))


def _in_savepoint(session: Session, work: Callable[[], Any]) -> Any:
    """The work, undone whole when it raises: a refusal shown as a page (a 4xx response, which
    the request's transaction commits) must leave nothing half-written."""
    with session.begin_nested():
        return work()


def _staging(request: Request) -> Path:
    found: Path = request.app.state.web_staging  # routes.install: under the data directory
    return found


# --- a claim with a finding -------------------------------------------------------------------


def _claim_page(
    request: Request,
    session: Session,
    signed_in: SignedIn,
    claim_id: str,
    *,
    status: int = 200,
    error: str | None = None,
) -> Response:
    actor = signed_in.principal
    claim = claim_logic.get_claim(session, actor, claim_id)  # audited read, 404 elsewhere
    [row] = billing.claim_rows(session, actor, [claim])
    return render(
        request,
        "billing_claim.html",
        status,
        signed_in=signed_in,
        claim=row,
        fixes=claim_fixes.fixes_for(session, actor, claim),
        may_scrub=bool(actor.roles & claim_fixes.CLAIM_WRITERS),
        error=error,
    )


def _missing(request: Request, signed_in: SignedIn, refused: DomainError) -> Response:
    """A claim, batch or file not found (another organization's is not found either), or a page
    of one asked for with a cursor this service did not issue."""
    if isinstance(refused, InvalidInput):
        return render(
            request,
            "billing_error.html",
            refused.status,
            signed_in=signed_in,
            title="No such page",
            detail=refused.detail,
        )
    return render(
        request, "billing_missing.html", refused.status, signed_in=signed_in, detail=refused.detail
    )


@router.get("/claims/{claim_id}")
def claim_page(request: Request, session: SessionDep, signed_in: Reader, claim_id: str) -> Response:
    try:
        return _claim_page(request, session, signed_in, claim_id)
    except DomainError as refused:
        return _missing(request, signed_in, refused)


@router.post("/claims/{claim_id}/fix")
async def fix_claim(
    request: Request, session: SessionDep, signed_in: Biller, claim_id: str
) -> Response:
    form = await request.form(max_files=0, max_fields=20)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    check_csrf(signed_in, values.get("csrf_token"))
    return await run_in_threadpool(_fix, request, session, signed_in, claim_id, values)


def _fix(
    request: Request, session: Session, signed_in: SignedIn, claim_id: str, values: dict[str, str]
) -> Response:
    actor = signed_in.principal
    claim = claim_logic.get_claim(session, actor, claim_id, audit_read=False)
    try:
        _in_savepoint(
            session,
            lambda: claim_fixes.apply_fix(
                session, actor, claim, values.get("fix", ""), values, today=_today(session, actor)
            ),
        )
    except DomainError as refused:
        session.refresh(claim)
        return _claim_page(
            request, session, signed_in, claim_id, status=refused.status, error=refused.detail
        )
    return RedirectResponse(f"/app/billing/claims/{claim_id}", status_code=303)


@router.post("/claims/{claim_id}/scrub")
def scrub_claim(  # nosec B107 - an empty form field's default, not a password
    request: Request,
    session: SessionDep,
    signed_in: Biller,
    claim_id: str,
    csrf_token: FormText = "",
) -> Response:
    check_csrf(signed_in, csrf_token)
    actor = signed_in.principal
    claim = claim_logic.get_claim(session, actor, claim_id, audit_read=False)
    try:
        _in_savepoint(
            session,
            lambda: claim_fixes.scrub_again(session, actor, claim, today=_today(session, actor)),
        )
    except DomainError as refused:
        session.refresh(claim)
        return _claim_page(
            request, session, signed_in, claim_id, status=refused.status, error=refused.detail
        )
    return RedirectResponse(f"/app/billing/claims/{claim_id}", status_code=303)


# --- ready claims by payer, into a batch ----------------------------------------------------


def _ready_page(
    request: Request,
    session: Session,
    signed_in: SignedIn,
    *,
    status: int = 200,
    error: str | None = None,
    after: str | None = None,
) -> Response:
    actor = signed_in.principal
    groups, next_cursor = billing_flow.ready_by_payer(session, actor, after)
    return render(
        request,
        "billing_ready.html",
        status,
        signed_in=signed_in,
        groups=groups,
        next_cursor=next_cursor,
        first_page=after is None,
        batch_max=billing_flow.READY_BATCH_MAX,
        page_size=billing_flow.READY_PAGE,
        partners=billing_flow.trading_partners(session, actor),
        may_batch=bool(actor.roles & claim_fixes.CLAIM_WRITERS),
        error=error,
    )


@router.get("/ready")
def ready_claims(
    request: Request,
    session: SessionDep,
    signed_in: Reader,
    after: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    return _ready_page(request, session, signed_in, after=after)


@router.post("/batches")
def build_batch(  # nosec B107 - an empty form field's default, not a password
    request: Request,
    session: SessionDep,
    signed_in: Biller,
    csrf_token: FormText = "",
    trading_partner_id: FormText = "",
    claim_id: Annotated[list[str] | None, Form(max_length=32)] = None,
    all_of_payer: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """The ticked claims, or (the payer's own button) the payer's ready claims, oldest first
    (READY_BATCH_MAX at most)."""
    check_csrf(signed_in, csrf_token)
    actor = signed_in.principal
    if all_of_payer:
        claim_id = billing_flow.ready_claim_ids(session, actor, all_of_payer)
    try:
        built = _in_savepoint(
            session,
            lambda: billing_flow.build_batches(
                session,
                actor,
                trading_partner_id,
                claim_id or [],
                numbers_factory=request.app.state.session_factory,
                at=datetime.now(UTC),
                today=_today(session, actor),
            ),
        )
    except DomainError as refused:
        return _ready_page(request, session, signed_in, status=refused.status, error=refused.detail)
    return RedirectResponse(f"/app/billing/batches/{built[0].id}", status_code=303)


# --- batches --------------------------------------------------------------------------------


@router.get("/batches")
def batches_page(
    request: Request,
    session: SessionDep,
    signed_in: Reader,
    after: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    actor = signed_in.principal
    return render(
        request,
        "billing_batches.html",
        signed_in=signed_in,
        page=billing_flow.list_batches(session, actor, after),
        may_download=bool(actor.roles & claim_fixes.CLAIM_WRITERS),
    )


@router.get("/batches/{batch_id}")
def batch_page(
    request: Request,
    session: SessionDep,
    signed_in: Reader,
    batch_id: str,
    after: Cursor = None,
    before: Cursor = None,
) -> Response:
    """The batch's figures and 100 of its claims (record_pages.BATCH_CLAIMS) a page."""
    actor = signed_in.principal
    try:
        detail = record_pages.batch_detail(session, actor, batch_id, after=after, before=before)
    except DomainError as refused:
        return _missing(request, signed_in, refused)
    return render(
        request,
        "billing_batch.html",
        signed_in=signed_in,
        detail=detail,
        may_download=bool(actor.roles & claim_fixes.CLAIM_WRITERS),
    )


@router.get("/batches/{batch_id}/file")
def download_batch(
    request: Request, session: SessionDep, signed_in: Biller, batch_id: str
) -> Response:
    """The 837 as an attachment, audited as GET /api/v1/claim-batches/{id}/file is."""
    actor = signed_in.principal
    try:
        batch = claim_verbs.get_batch(session, actor, batch_id)
    except DomainError as refused:
        return _missing(request, signed_in, refused)
    claim_verbs.record_download(session, actor, batch)
    return StreamingResponse(
        blobs.stream(request.app.state.session_factory, ClaimBatchChunk, "batch_id", batch.id),
        media_type="text/plain",
        headers=blobs.download_headers(batch.filename, batch.sha256, batch.size_bytes),
    )


# --- remittances: upload, dry run, post -----------------------------------------------------


@router.get("/remittances")
def upload_page(request: Request, signed_in: Biller) -> Response:
    return render(request, "billing_upload.html", signed_in=signed_in, error=None)


def _upload_refused(request: Request, signed_in: SignedIn, status: int, error: str) -> Response:
    return render(request, "billing_upload.html", status, signed_in=signed_in, error=error)


@router.post("/remittances")
async def dry_run(request: Request, session: SessionDep, signed_in: Biller) -> Response:
    """The chosen file's dry run (the API's ?dry_run=true): what it would post, then a Post
    button that hands the kept file over (staged_uploads)."""
    content_type = request.headers.get("content-type", "")
    if uploads.media_type(content_type) != uploads.MULTIPART:
        return _upload_refused(request, signed_in, 415, "Choose the file with the form.")
    try:
        received = await uploads.receive(
            request.stream(),
            content_type=content_type,
            limit=uploads.limits(request.app).x12,
            what="X12 file",
        )
    except DomainError as refused:
        return _upload_refused(request, signed_in, refused.status, refused.detail)
    with received:
        check_csrf(signed_in, received.form_fields.get("csrf_token"))
        return await run_in_threadpool(_dry_run, request, session, signed_in, received)


def _dry_run(
    request: Request, session: Session, signed_in: SignedIn, received: uploads.UploadedFile
) -> Response:
    actor = signed_in.principal
    try:
        upload = _in_savepoint(
            session,
            lambda: files.upload(
                session,
                actor,
                received,
                filename=received.filename,
                at=datetime.now(UTC),
                dry_run=True,
                holding=request.app.state.remittance_holding,
                peek=lambda s, file_id: record_pages.postings_of(s, actor.organization_id, file_id),
            ),
        )
    except DomainError as refused:
        return _upload_refused(request, signed_in, refused.status, refused.detail)
    if not upload.dry_run:  # the same bytes were uploaded before: nothing would change
        return _posted_before(request, session, signed_in, upload.file)
    digest = staged_uploads.stage(_staging(request), actor.organization_id, received)
    return render(
        request,
        "billing_dry_run.html",
        signed_in=signed_in,
        file=upload.file,
        result=upload.file.result or {},
        claims=upload.peeked or [],
        filename=received.filename or "",
        digest=digest,
    )


def _posted_before(
    request: Request, session: Session, signed_in: SignedIn, earlier: Any
) -> Response:
    when = billing_flow.local_time(session, signed_in.principal.organization_id, earlier.created_at)
    error = (
        f"This file was uploaded before ({earlier.kind}, {when}): it is not posted twice. "
        "Its result is on the page linked below."
    )
    return render(
        request,
        "billing_upload.html",
        409,
        signed_in=signed_in,
        error=error,
        earlier_id=earlier.id,
    )


@router.post("/remittances/post")
def post_remittance(  # nosec B107 - an empty form field's default, not a password
    request: Request,
    session: SessionDep,
    signed_in: Biller,
    csrf_token: FormText = "",
    digest: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check_csrf(signed_in, csrf_token)
    actor = signed_in.principal
    try:
        staged = staged_uploads.open_staged(_staging(request), actor.organization_id, digest)
    except DomainError as refused:
        return _upload_refused(request, signed_in, refused.status, refused.detail)
    with staged:
        try:
            upload = _in_savepoint(
                session,
                lambda: files.upload(
                    session,
                    actor,
                    staged,
                    filename=None,
                    at=datetime.now(UTC),
                    holding=request.app.state.remittance_holding,
                ),
            )
        except DomainError as refused:
            return _upload_refused(request, signed_in, refused.status, refused.detail)
    if not upload.created:
        return _posted_before(request, session, signed_in, upload.file)
    staged_uploads.discard(_staging(request), actor.organization_id, digest)
    return RedirectResponse(f"/app/billing/remittances/{upload.file.id}", status_code=303)


@router.get("/remittances/{file_id}")
def remittance_page(
    request: Request,
    session: SessionDep,
    signed_in: Reader,
    file_id: str,
    after: Cursor = None,
    before: Cursor = None,
) -> Response:
    """What a file did; an 835's claims 50 (record_pages.POSTED_CLAIMS) a page, with the whole
    file's totals."""
    actor = signed_in.principal
    try:
        found = files.get_file(session, actor, file_id)
        posted = None
        if found.kind == "835":
            posted = record_pages.posted_page(session, actor, found.id, after=after, before=before)
    except DomainError as refused:
        return _missing(request, signed_in, refused)
    if posted is None:
        billing_flow.audit_postings_shown(session, actor, found.id, dry_run=False)
    return render(
        request,
        "billing_posted.html",
        signed_in=signed_in,
        file=found,
        result=found.result or {},
        posted=posted,
        claims=posted.claims.rows if posted else [],
        received_at=billing_flow.local_time(session, actor.organization_id, found.created_at),
    )


# --- unmatched remittance lines -------------------------------------------------------------


@router.get("/unmatched")
def unmatched_page(request: Request, session: SessionDep, signed_in: Reader) -> Response:
    found = unmatched_lines.unmatched(session, signed_in.principal)
    return render(
        request,
        "billing_unmatched.html",
        signed_in=signed_in,
        rows=found.rows,
        more=found.more,
        shown=unmatched_lines.UNMATCHED_SHOWN,
    )
