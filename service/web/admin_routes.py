"""The Administration desk (issue 26): staff accounts on a page. An admin creates a person's
account (name, username, roles) and resets passwords; each gives a one-time password, shown
once on the answer to that form (never stored in plain, never shown again). Renames, role
changes and deactivation go through the API's own logic, so its last-admin rules hold here."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from service.audit import logic as audit
from service.auth import logic, people
from service.auth.people import SignedIn
from service.auth.roles import Role
from service.auth.schemas import PasswordReset, UserCreate, UserUpdate
from service.db import SessionDep
from service.errors import DomainError
from service.web.desks import ADMIN_ROLES
from service.web.page_routes import FormText, PageGuard, check_csrf, render

router = APIRouter(prefix="/app", include_in_schema=False)

AdminDesk = Annotated[SignedIn, Depends(PageGuard(ADMIN_ROLES))]
FormRoles = Annotated[list[str], Form()]
PAGE_SIZE = 100
# Integration clients have no password: they are made and keyed through the API.
PERSON_ROLES = sorted(r.value for r in Role if r != Role.INTEGRATION)


def _first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "form"
    return f"{where}: {first['msg']}"


def _users_page(
    request: Request,
    session: SessionDep,
    signed_in: SignedIn,
    *,
    status: int = 200,
    after: str | None = None,
    error: str | None = None,
    issued: tuple[str, str, str] | None = None,  # (name, username, one-time password)
    notice: str | None = None,
) -> Response:
    page = logic.list_users(
        session, signed_in.principal.organization_id, limit=PAGE_SIZE, cursor=after
    )
    return render(
        request,
        "admin_users.html",
        status,
        signed_in=signed_in,
        users=page.items,
        next_cursor=page.next_cursor,
        person_roles=PERSON_ROLES,
        error=error,
        issued=issued,
        notice=notice,
    )


def _audit(
    signed_in: SignedIn, session: SessionDep, action: str, user_id: str, detail: str
) -> None:
    audit.record(
        session,
        signed_in.principal,
        action=action,
        resource_type="user",
        resource_id=user_id,
        detail=f"{detail} (web page)",
    )


@router.get("/admin/users")
def users_page(
    request: Request,
    session: SessionDep,
    signed_in: AdminDesk,
    after: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    return _users_page(request, session, signed_in, after=after)


@router.post("/admin/users")
def create_user(  # nosec B107 - an empty form field's default, not a password
    request: Request,
    session: SessionDep,
    signed_in: AdminDesk,
    csrf_token: FormText = "",
    name: FormText = "",
    username: FormText = "",
    roles: FormRoles = [],  # noqa: B006 - FastAPI copies a default
) -> Response:
    check_csrf(signed_in, csrf_token)
    org = signed_in.principal.organization_id
    try:
        data = UserCreate(name=name.strip(), roles=roles)
        wanted = PasswordReset(username=username.strip()).username
    except ValidationError as invalid:
        return _users_page(request, session, signed_in, status=422, error=_first_problem(invalid))
    assert wanted is not None
    try:
        user, password = people.create_person(
            session, org, data, username=wanted, at=datetime.now(UTC)
        )
    except DomainError as refused:
        return _users_page(request, session, signed_in, status=409, error=refused.detail)
    _audit(signed_in, session, "create", user.id, f"roles: {user.roles}")
    _audit(signed_in, session, "update", user.id, "password reset (one-time password)")
    assert user.username is not None
    issued = (user.name, user.username, password)
    return _users_page(request, session, signed_in, status=201, issued=issued)


@router.post("/admin/users/{user_id}/password-reset")
def reset_password(  # nosec B107 - an empty form field's default, not a password
    request: Request,
    session: SessionDep,
    signed_in: AdminDesk,
    user_id: str,
    csrf_token: FormText = "",
    username: FormText = "",
) -> Response:
    """A fresh one-time password (and, for a person who has none, a username)."""
    check_csrf(signed_in, csrf_token)
    org = signed_in.principal.organization_id
    try:
        wanted = PasswordReset(username=username.strip() or None).username
    except ValidationError as invalid:
        return _users_page(request, session, signed_in, status=422, error=_first_problem(invalid))
    try:
        user, password = people.issue_one_time_password(
            session, org, user_id[:32], username=wanted, at=datetime.now(UTC)
        )
    except DomainError as refused:
        return _users_page(request, session, signed_in, status=refused.status, error=refused.detail)
    _audit(signed_in, session, "update", user.id, "password reset (one-time password)")
    assert user.username is not None
    return _users_page(request, session, signed_in, issued=(user.name, user.username, password))


@router.post("/admin/users/{user_id}")
def update_user(  # nosec B107 - an empty form field's default, not a password
    request: Request,
    session: SessionDep,
    signed_in: AdminDesk,
    user_id: str,
    csrf_token: FormText = "",
    name: FormText = "",
    active: FormText = "",
    roles: FormRoles = [],  # noqa: B006 - FastAPI copies a default
) -> Response:
    check_csrf(signed_in, csrf_token)
    org = signed_in.principal.organization_id
    try:
        data = UserUpdate(name=name.strip(), roles=roles, active=active == "yes")
    except ValidationError as invalid:
        return _users_page(request, session, signed_in, status=422, error=_first_problem(invalid))
    try:
        user = logic.update_user(session, org, user_id[:32], data)
    except DomainError as refused:
        return _users_page(request, session, signed_in, status=refused.status, error=refused.detail)
    _audit(signed_in, session, "update", user.id, "changed: active, name, roles")
    notice = f"Saved {user.name}: roles {user.roles.replace(',', ', ')}, " + (
        "active." if user.active else "deactivated (signed out everywhere)."
    )
    return _users_page(request, session, signed_in, notice=notice)
