"""Two-step sign-in on the pages (issue 26, admins): the code asked for after the password, and
the admin's own page to turn it on (secret, otpauth:// URI and QR code, confirmed by a first
code) and off (with a code). The codes' logic is service/auth/totp.py.

A wrong code is audited and counted like a wrong password (SignInFailed: the same handler, the
same throttle on the username and the address), and a blocked username gets no code checked.
A secrets key that does not open the admin's secret (service/secret_box.py) is a 503 page that
says so, audited as a refused sign-in but not counted: no code is accepted without it."""

import secrets
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from service.audit import logic as audit
from service.auth import people, throttle, totp
from service.auth.logic import LoginDenied, get_user
from service.auth.people import HalfSignedIn, SignedIn
from service.auth.roles import Role
from service.db import SessionDep
from service.errors import DomainError
from service.records import utcnow
from service.request_context import request_id_var
from service.secret_box import SecretBox
from service.web.page_routes import (
    SECOND_STEP_COOKIE,
    FormText,
    PageGuard,
    PageRefused,
    SignInFailed,
    check_csrf,
    client_address,
    render,
    signed_in_response,
)

router = APIRouter(prefix="/app", include_in_schema=False)

AdminOnly = Annotated[SignedIn, Depends(PageGuard(frozenset({Role.ADMIN})))]
CODE_REFUSED = "The code is not right, or it was used already: wait for the next one."


def _blocked_message(wait: int) -> str:
    return f"Too many failed sign-ins. Try again in {-(-wait // 60)} minute(s)."


def _half(request: Request, session: SessionDep) -> HalfSignedIn | None:
    return people.resume_half_signed_in(
        session,
        request.cookies.get(SECOND_STEP_COOKIE, ""),
        at=utcnow(),
        within=totp.CODE_STEP_TIME,
    )


def _box(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.secret_box
    return box


def _code_form(csrf_token: str) -> Callable[[Request, str, int], Response]:
    def again(request: Request, error: str, status: int) -> Response:
        return render(request, "sign_in_code.html", status, csrf_token=csrf_token, error=error)

    return again


@router.get("/sign-in/code")
def code_page(request: Request, session: SessionDep) -> Response:
    half = _half(request, session)
    if half is None:  # no password yet, or too long ago: start again
        return RedirectResponse("/app/sign-in", status_code=303)
    return render(request, "sign_in_code.html", csrf_token=half.csrf_token, error=None)


@router.post("/sign-in/code")
def submit_code(  # nosec B107 - an empty form field's default, not a password
    request: Request, session: SessionDep, code: FormText = "", csrf_token: FormText = ""
) -> Response:
    half = _half(request, session)
    if half is None:
        return RedirectResponse("/app/sign-in", status_code=303)
    if not secrets.compare_digest(half.csrf_token.encode(), csrf_token.encode()):
        raise PageRefused(None, "The sign-in form is out of date; reload the page.", "csrf")
    address, at = client_address(request), utcnow()
    user = get_user(session, half.organization_id, half.user_id)
    wait = throttle.retry_after(session, None, address, at, username=user.username)
    if wait > 0:
        return _code_form(half.csrf_token)(request, _blocked_message(wait), 429)
    try:
        right = totp.use_code(session, user, code[:20], at=at, box=_box(request))
    except totp.TwoStepUnavailable as unavailable:
        totp.record_unavailable(
            session, user, client_address(request), request_id=request_id_var.get()
        )
        return _code_form(half.csrf_token)(request, unavailable.detail, unavailable.status)
    if not right:
        denied = LoginDenied(
            CODE_REFUSED,
            organization_id=user.organization_id,
            user_id=user.id,
            reason="wrong or used two-step code",
        )
        raise SignInFailed(denied, user.username or "", _code_form(half.csrf_token))
    token = people.complete_session(session, half, at=at)
    return signed_in_response(
        request,
        session,
        token,
        must_change_password=user.password_must_change,
        step_cookie=SECOND_STEP_COOKIE,
        detail="signed in to the web pages (password and two-step code)",
    )


def _two_step_page(
    request: Request,
    session: SessionDep,
    signed_in: SignedIn,
    status: int = 200,
    error: str | None = None,
    enrolment: totp.Enrolment | None = None,
) -> Response:
    state = totp.status(session, signed_in.principal, box=_box(request))
    return render(
        request,
        "two_step.html",
        status,
        signed_in=signed_in,
        state=state,
        enrolment=enrolment or state.pending,
        error=error,
    )


@router.get("/account/two-step")
def two_step_page(request: Request, session: SessionDep, signed_in: AdminOnly) -> Response:
    return _two_step_page(request, session, signed_in)


@router.post("/account/two-step/start")
def start(  # nosec B107 - an empty form field's default, not a password
    request: Request, session: SessionDep, signed_in: AdminOnly, csrf_token: FormText = ""
) -> Response:
    check_csrf(signed_in, csrf_token)
    try:
        enrolment = totp.start_enrolment(
            session, signed_in.principal, at=utcnow(), box=_box(request)
        )
    except DomainError as refused:
        return _two_step_page(request, session, signed_in, refused.status, refused.detail)
    audit.record(
        session,
        signed_in.principal,
        action="update",
        resource_type="user",
        resource_id=signed_in.principal.user_id,
        detail="two-step sign-in: enrolment started",
    )
    return _two_step_page(request, session, signed_in, enrolment=enrolment)


def _with_code(
    request: Request, session: SessionDep, signed_in: SignedIn, code: str, *, turning_on: bool
) -> Response:
    """Confirms an enrolment or turns two-step sign-in off; a wrong code counts as a failed
    sign-in (a stolen session must not be a way to guess codes)."""
    actor, at, address = signed_in.principal, utcnow(), client_address(request)
    box = _box(request)
    state = totp.status(session, actor, box=box)
    wait = throttle.retry_after(session, None, address, at, username=state.username or None)
    if wait > 0:
        return _two_step_page(request, session, signed_in, 429, _blocked_message(wait))
    try:
        if turning_on:
            totp.confirm_enrolment(session, actor, code[:20], at=at, box=box)
        else:
            totp.turn_off(session, actor, code[:20], at=at, box=box)
    except totp.CodeRefused:
        pending = state.pending

        def again(request: Request, error: str, status: int) -> Response:
            return render(
                request,
                "two_step.html",
                422,
                signed_in=signed_in,
                state=state,
                enrolment=pending,
                error=error,
            )

        denied = LoginDenied(
            CODE_REFUSED,
            organization_id=actor.organization_id,
            user_id=actor.user_id,
            reason="wrong or used two-step code on the two-step page",
        )
        raise SignInFailed(denied, state.username, again) from None
    except DomainError as refused:
        return _two_step_page(request, session, signed_in, refused.status, refused.detail)
    audit.record(
        session,
        actor,
        action="update",
        resource_type="user",
        resource_id=actor.user_id,
        detail="two-step sign-in turned " + ("on" if turning_on else "off"),
    )
    return RedirectResponse("/app/account/two-step", status_code=303)


@router.post("/account/two-step/confirm")
def confirm(  # nosec B107 - an empty form field's default, not a password
    request: Request,
    session: SessionDep,
    signed_in: AdminOnly,
    code: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_csrf(signed_in, csrf_token)
    return _with_code(request, session, signed_in, code, turning_on=True)


@router.post("/account/two-step/off")
def turn_off(  # nosec B107 - an empty form field's default, not a password
    request: Request,
    session: SessionDep,
    signed_in: AdminOnly,
    code: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_csrf(signed_in, csrf_token)
    return _with_code(request, session, signed_in, code, turning_on=False)
