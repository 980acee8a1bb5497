"""What every /app page module shares: the templates, the signed-in person as a dependency,
the role guard, the CSRF check and the exceptions that become the sign-in, password and
403 pages (their handlers are in routes.py).

Server-rendered (Jinja2), no script: every page is a plain HTML form or list, so it works by
keyboard and at any zoom. Pages call the same logic as the API under the same role sets and
audit, and stay out of the OpenAPI schema (the reference and fuzz tests walk that). A page
module makes its own `APIRouter(prefix="/app", include_in_schema=False)` and is listed in
routes.PAGE_ROUTERS. Page modules are named `*_routes.py`: only HTTP modules import FastAPI."""

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from service.audit import logic as audit
from service.auth import people
from service.auth.logic import LoginDenied
from service.auth.people import SignedIn
from service.db import SessionDep
from service.records import utcnow
from service.request_context import request_id_var
from service.web import desks

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

SESSION_COOKIE = "bo_session"
# Before there is a session, the sign-in form's token is a cookie of its own (double submit),
# so that another site cannot sign a browser in as someone else.
SIGN_IN_COOKIE = "bo_sign_in"
# Between a right password and the two-step code: the half-signed-in session's token.
SECOND_STEP_COOKIE = "bo_second_step"
COOKIE_PATH = "/app"

# Only this service's own stylesheet; no script, no frames, forms post back here only.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class SignInRequired(Exception):
    """No live session: the browser is sent to the sign-in page."""


class PasswordChangeRequired(Exception):
    """A one-time password was used: nothing but the password page until it is changed."""


class SignInFailed(Exception):
    """A refused username, password or two-step code: the form again (`retry(request, error,
    status)`, by default the sign-in form), once the refusal is audited and counted."""

    def __init__(
        self,
        denied: LoginDenied,
        username: str,
        retry: Callable[[Request, str, int], Response] | None = None,
    ) -> None:
        super().__init__(denied.detail)
        self.denied = denied
        self.username = username
        self.retry = retry


class PageRefused(Exception):
    """403: a role that may not see the page, or a form without its session's CSRF token."""

    def __init__(self, signed_in: SignedIn | None, detail: str, code: str) -> None:
        super().__init__(detail)
        self.signed_in = signed_in
        self.detail = detail
        self.code = code


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("billing_pages", desks.BILLING_PAGES)
    context.setdefault("current_path", request.url.path)
    return templates.TemplateResponse(request, template, context, status_code=status)


def _signed_in(request: Request, session: SessionDep) -> SignedIn:
    token = request.cookies.get(SESSION_COOKIE, "")
    found = people.resume_session(
        session,
        token,
        at=utcnow(),
        idle=request.app.state.web_idle,
        address=client_address(request),
    )
    if found is None:
        raise SignInRequired()
    principal = replace(found.principal, request_id=request_id_var.get())
    request.state.principal = principal
    return replace(found, principal=principal)


AnySession = Annotated[SignedIn, Depends(_signed_in)]


class PageGuard:
    """A signed-in person whose password is settled and who has one of `roles`."""

    def __init__(self, roles: frozenset[str] | None) -> None:
        self.roles = roles

    def __call__(self, signed_in: AnySession) -> SignedIn:
        if signed_in.password_must_change:
            raise PasswordChangeRequired()
        if self.roles is not None and not signed_in.principal.roles & self.roles:
            raise PageRefused(
                signed_in,
                "Your role may not see this page. Allowed: " + ", ".join(sorted(self.roles)),
                "forbidden",
            )
        return signed_in


def check_csrf(signed_in: SignedIn, sent: str | None) -> None:
    if not people.csrf_matches(signed_in, sent):
        raise PageRefused(signed_in, "The form is out of date; reload the page.", "csrf-refused")


Signed = Annotated[SignedIn, Depends(PageGuard(None))]
BillingDesk = Annotated[SignedIn, Depends(PageGuard(desks.BILLING_ROLES))]
FormText = Annotated[str, Form()]


def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    secure = request.url.scheme == "https" or request.app.state.web_cookie_secure
    response.set_cookie(
        name, value, path=COOKIE_PATH, httponly=True, samesite="strict", secure=secure
    )


def signed_in_response(
    request: Request,
    session: Session,
    token: str,
    *,
    must_change_password: bool,
    step_cookie: str,
    detail: str,
) -> Response:
    """The end of a sign-in (password alone, or password and code): the new session audited
    as a login, its cookie set, the step's cookie dropped, then the password page or home."""
    at = utcnow()
    signed_in = people.resume_session(session, token, at=at, idle=request.app.state.web_idle)
    assert signed_in is not None  # just started
    audit.record(
        session,
        replace(
            signed_in.principal,
            client_address=client_address(request),
            request_id=request_id_var.get(),
        ),
        action="login",
        resource_type="web_session",
        resource_id=signed_in.session_id,
        detail=detail,
    )
    target = "/app/password" if must_change_password else "/app/"
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, SESSION_COOKIE, token)
    response.delete_cookie(step_cookie, path=COOKIE_PATH)
    return response
