"""Web pages under /app (issue 26): person sign-in, the home page, the billing desk's claims
needing attention, and the wiring (exception pages, security headers, static files) of every
page module. The shared page machinery is in page_routes.py."""

import contextlib
import secrets
from dataclasses import replace
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.audit import logic as audit
from service.audit.logic import AuditWriter, FailedAccess
from service.auth import people, throttle, totp
from service.auth.logic import LoginDenied
from service.auth.throttle import FailedLoginCounter
from service.claims.states import ClaimStatus
from service.db import SessionDep
from service.errors import DomainError
from service.records import utcnow
from service.request_context import request_id_var
from service.settings import Settings
from service.web import (
    admin_routes,
    billing,
    billing_flow_routes,
    desks,
    money_routes,
    two_step_routes,
)
from service.web.page_routes import (
    COOKIE_PATH,
    HERE,
    SECOND_STEP_COOKIE,
    SECURITY_HEADERS,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    AnySession,
    BillingDesk,
    FormText,
    PageRefused,
    PasswordChangeRequired,
    Signed,
    SignInFailed,
    SignInRequired,
    check_csrf,
    client_address,
    render,
    set_cookie,
    signed_in_response,
)

router = APIRouter(prefix="/app", include_in_schema=False)

# Every page module's router; a new page module adds its router here.
PAGE_ROUTERS: tuple[APIRouter, ...] = (
    router,
    two_step_routes.router,
    admin_routes.router,
    billing_flow_routes.router,
    money_routes.router,
)


@router.get("/sign-in")
def sign_in_page(request: Request) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "sign_in.html", csrf_token=token, error=None)
    set_cookie(request, response, SIGN_IN_COOKIE, token)
    return response


def _refused_sign_in(request: Request, error: str, status: int) -> Response:
    token = request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(32)
    response = render(request, "sign_in.html", status, csrf_token=token, error=error)
    set_cookie(request, response, SIGN_IN_COOKIE, token)
    return response


@router.post("/sign-in")
def sign_in(  # nosec B107 - an empty form field's default, not a password
    request: Request,
    session: SessionDep,
    username: FormText = "",
    password: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not secrets.compare_digest(expected.encode(), csrf_token.encode()):
        raise PageRefused(None, "The sign-in form is out of date; reload the page.", "csrf")
    address, at = client_address(request), utcnow()
    name = people.normalize_username(username)
    wait = throttle.retry_after(session, None, address, at, username=name or None)
    if wait > 0:
        minutes = -(-wait // 60)
        message = f"Too many failed sign-ins. Try again in {minutes} minute(s)."
        return _refused_sign_in(request, message, 429)
    try:
        user = people.check_password(session, username, password)
    except LoginDenied as denied:
        # Audited and counted by the handler, after this request's transaction has ended
        # (on SQLite it holds the write lock), as for a refused API key.
        raise SignInFailed(denied, name) from None
    if totp.is_on(user):  # the code's page next (two_step_routes.py), on a session of its own
        half = people.start_session(session, user, address=address, at=at, awaiting_code=True)
        response = RedirectResponse("/app/sign-in/code", status_code=303)
        set_cookie(request, response, SECOND_STEP_COOKIE, half)
        response.delete_cookie(SIGN_IN_COOKIE, path=COOKIE_PATH)
        return response
    token = people.start_session(session, user, address=address, at=at)
    return signed_in_response(
        request,
        session,
        token,
        must_change_password=user.password_must_change,
        step_cookie=SIGN_IN_COOKIE,
        detail="signed in to the web pages",
    )


async def _sign_in_failed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInFailed)
    await run_in_threadpool(_audit_failed_sign_in, request, exc.denied, exc.username)
    if exc.retry is not None:
        return exc.retry(request, exc.denied.detail, 401)
    return _refused_sign_in(request, people.SIGN_IN_REFUSED, 401)


def _audit_failed_sign_in(request: Request, denied: LoginDenied, username: str) -> None:
    address = client_address(request)
    writer: AuditWriter = request.app.state.audit_writer
    failure = FailedAccess(
        principal=None,
        action="login-denied",
        resource_type="web_session",
        resource_id=None,
        outcome="denied",
        detail=f"401 sign-in refused: {denied.reason}",
        client_address=address,
        request_id=request_id_var.get(),
        organization_id=denied.organization_id,
        user_id=denied.user_id,
    )
    counter: FailedLoginCounter = request.app.state.login_failures
    try:
        writer.write(failure)
        for scope in counter.failed(None, address, utcnow(), username=username or None):
            writer.write(
                replace(
                    failure,
                    action="login-throttled",
                    detail=f"{scope.partition(':')[0]} blocked after repeated failed sign-ins",
                )
            )
    except SQLAlchemyError:
        pass  # the database is down: the refusal stands, the page says so no differently


@router.post("/sign-out")
def sign_out(  # nosec B107 - an empty form field's default, not a password
    request: Request, session: SessionDep, signed_in: AnySession, csrf_token: FormText = ""
) -> Response:
    check_csrf(signed_in, csrf_token)
    people.end_session(session, signed_in.session_id, at=utcnow())
    audit.record(
        session,
        signed_in.principal,
        action="logout",
        resource_type="web_session",
        resource_id=signed_in.session_id,
    )
    response = RedirectResponse("/app/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


@router.get("/password")
def password_page(request: Request, signed_in: AnySession) -> Response:
    return render(request, "password.html", signed_in=signed_in, error=None)


@router.post("/password")
def change_password(  # nosec B107 - an empty form field's default, not a password
    request: Request,
    session: SessionDep,
    signed_in: AnySession,
    csrf_token: FormText = "",
    current_password: FormText = "",
    new_password: FormText = "",
    confirm_password: FormText = "",
) -> Response:
    check_csrf(signed_in, csrf_token)
    if new_password != confirm_password:
        error = "The new password and its confirmation differ."
        return render(request, "password.html", 422, signed_in=signed_in, error=error)
    try:
        people.change_password(
            session, signed_in, current=current_password, new=new_password, at=utcnow()
        )
    except DomainError as refused:
        return render(request, "password.html", 422, signed_in=signed_in, error=refused.detail)
    audit.record(
        session,
        signed_in.principal,
        action="update",
        resource_type="user",
        resource_id=signed_in.principal.user_id,
        detail="password changed on the web pages",
    )
    return RedirectResponse("/app/", status_code=303)


@router.get("/")
def home(request: Request, signed_in: Signed) -> Response:
    return render(
        request,
        "home.html",
        signed_in=signed_in,
        desks=desks.desks_for(signed_in.principal.roles),
    )


@router.get("/billing/claims")
def claims_needing_attention(
    request: Request,
    session: SessionDep,
    signed_in: BillingDesk,
    drafts_after: Annotated[str | None, Query(max_length=200)] = None,
    rejected_after: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    actor = signed_in.principal
    drafts, rejected = billing.claims_needing_attention(
        session,
        actor,
        [(ClaimStatus.DRAFT, drafts_after), (ClaimStatus.REJECTED, rejected_after)],
    )
    sections = [
        ("Held by the scrubber", "drafts_after", drafts),
        ("Rejected by the clearinghouse or payer", "rejected_after", rejected),
    ]
    return render(
        request,
        "billing_claims.html",
        signed_in=signed_in,
        sections=sections,
        now=billing.local_now(session, actor.organization_id),
    )


# --- wiring: exception pages, security headers, static files -----------------------------------


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        await run_in_threadpool(_end_if_idle, request, token)
    response = RedirectResponse("/app/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


def _end_if_idle(request: Request, token: str) -> None:
    """An idle session stays ended: ended here, after the refused request's rollback."""
    factory = request.app.state.session_factory
    with contextlib.suppress(SQLAlchemyError), factory() as session:
        if people.end_if_idle(session, token, at=utcnow(), idle=request.app.state.web_idle):
            session.commit()


async def _password_change_required(request: Request, exc: Exception) -> Response:
    return RedirectResponse("/app/password", status_code=303)


async def _page_refused(request: Request, exc: Exception) -> Response:
    """403 page, audited after the request's rollback like every API denial."""
    assert isinstance(exc, PageRefused)
    await run_in_threadpool(_audit_refusal, request, exc)
    return render(request, "refused.html", 403, signed_in=exc.signed_in, detail=exc.detail)


def _audit_refusal(request: Request, exc: PageRefused) -> None:
    writer: AuditWriter = request.app.state.audit_writer
    principal = exc.signed_in.principal if exc.signed_in else None
    # If the database is down the refusal stands all the same (/readyz reports the outage).
    with contextlib.suppress(SQLAlchemyError):
        writer.write(
            FailedAccess(
                principal=principal,
                action="read" if request.method == "GET" else "update",
                resource_type="page",
                resource_id=request.url.path[:64],
                outcome="denied",
                detail=f"403 {exc.code}",
                client_address=client_address(request),
                request_id=request_id_var.get(),
            )
        )


class PageHeaders:
    """Security headers on every /app response (pages, redirects, the stylesheet)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(COOKIE_PATH):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += SECURITY_HEADERS
                if not scope["path"].startswith("/app/static/"):
                    headers.append((b"cache-control", b"no-store"))  # pages show patients
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI, settings: Settings) -> None:
    app.state.web_idle = timedelta(minutes=settings.web_idle_minutes)
    app.state.web_cookie_secure = settings.web_cookie_secure
    app.state.web_staging = (
        settings.data_dir / "staged-uploads"
    )  # remittances between dry run and post
    for page_router in PAGE_ROUTERS:
        app.include_router(page_router)
    app.mount("/app/static", StaticFiles(directory=HERE / "static"), name="web-static")
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(PasswordChangeRequired, _password_change_required)
    app.add_exception_handler(PageRefused, _page_refused)
    app.add_exception_handler(SignInFailed, _sign_in_failed)
    app.add_middleware(PageHeaders)
