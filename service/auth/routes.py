"""Admin routes: the caller's organization (its time zone), its users and their API keys."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Response
from sqlmodel import Session

from service import org_clock
from service.api import tags
from service.api.deps import Paging, allow
from service.api.problems import problem_responses
from service.audit import logic as audit
from service.auth import logic, people, repository
from service.auth.logic import Principal
from service.auth.models import ApiKey, AppUser
from service.auth.roles import Role
from service.auth.schemas import (
    ApiKeyCreate,
    ApiKeyIssued,
    ApiKeyPage,
    ApiKeyRead,
    OrganizationRead,
    OrganizationUpdate,
    PasswordIssued,
    PasswordReset,
    UserCreate,
    UserPage,
    UserRead,
    UserUpdate,
)
from service.db import SessionDep

router = APIRouter(prefix="/api/v1", tags=[tags.ORGANIZATION])

Admin = Annotated[Principal, allow(Role.ADMIN)]
AdminOrAuditor = Annotated[Principal, allow(Role.ADMIN, Role.AUDITOR)]
Anyone = Annotated[Principal, allow(*Role)]


def _audit(
    session: Session, actor: Principal, action: str, kind: str, record_id: str, detail: str
) -> None:
    """User and key changes are audited (DESIGN.md), in the request's transaction."""
    audit.record(
        session, actor, action=action, resource_type=kind, resource_id=record_id, detail=detail
    )


def user_read(user: AppUser) -> UserRead:
    return UserRead(
        id=user.id,
        name=user.name,
        kind=user.kind,
        roles=sorted(Role(r) for r in user.role_set),
        active=user.active,
        created_at=user.created_at,
        username=user.username,
        password_must_change=user.password_must_change,
    )


def key_read(key: ApiKey) -> ApiKeyRead:
    return ApiKeyRead.model_validate(key, from_attributes=True)


@router.post(
    "/users",
    summary="Create a user with roles",
    status_code=201,
    responses=problem_responses(400, 401, 403, 415, 422),
)
def create_user(data: UserCreate, session: SessionDep, user: Admin) -> UserRead:
    created = logic.create_user(session, user.organization_id, data)
    _audit(session, user, "create", "user", created.id, f"roles: {created.roles}")
    return user_read(created)


@router.get(
    "/users", summary="List the organization's users", responses=problem_responses(401, 403, 422)
)
def list_users(session: SessionDep, user: AdminOrAuditor, paging: Paging) -> UserPage:
    page = logic.list_users(
        session, user.organization_id, limit=paging.limit, cursor=paging.cursor, sort=paging.sort
    )
    return UserPage(items=[user_read(u) for u in page.items], next_cursor=page.next_cursor)


@router.get("/users/{user_id}", summary="Read a user", responses=problem_responses(401, 403, 404))
def read_user(user_id: str, session: SessionDep, user: AdminOrAuditor) -> UserRead:
    return user_read(logic.get_user(session, user.organization_id, user_id))


@router.patch(
    "/users/{user_id}",
    summary="Rename, re-role or deactivate a user",
    responses=problem_responses(400, 401, 403, 404, 409, 415, 422),
)
def update_user(user_id: str, data: UserUpdate, session: SessionDep, user: Admin) -> UserRead:
    updated = logic.update_user(session, user.organization_id, user_id, data)
    changed = ", ".join(sorted(data.model_dump(exclude_unset=True)))
    _audit(session, user, "update", "user", updated.id, f"changed: {changed}")
    return user_read(updated)


@router.post(
    "/users/{user_id}/api-keys",
    summary="Issue an API key to a user (shown once)",
    status_code=201,
    responses=problem_responses(400, 401, 403, 404, 415, 422),
)
def issue_key(user_id: str, data: ApiKeyCreate, session: SessionDep, user: Admin) -> ApiKeyIssued:
    key, plaintext = logic.issue_api_key(session, user.organization_id, user_id, data.label)
    _audit(session, user, "create", "api_key", key.id, f"for user {user_id}")
    return ApiKeyIssued(**key_read(key).model_dump(), key=plaintext)


@router.post(
    "/users/{user_id}/password-reset",
    summary="Issue a one-time web sign-in password",
    responses=problem_responses(400, 401, 403, 404, 409, 415, 422),
)
def reset_password(
    user_id: str, data: PasswordReset, session: SessionDep, user: Admin
) -> PasswordIssued:
    """A one-time password for a person's sign-in to the web pages (shown once; the user must
    choose a new one at the first sign-in). Sets the username when sent; ends the user's web
    sessions. API keys are unchanged."""
    person, password = people.issue_one_time_password(
        session, user.organization_id, user_id, username=data.username, at=datetime.now(UTC)
    )
    _audit(session, user, "update", "user", person.id, "password reset (one-time password)")
    assert person.username is not None  # issue_one_time_password refuses a user without one
    return PasswordIssued(user_id=person.id, username=person.username, one_time_password=password)


@router.get(
    "/users/{user_id}/api-keys",
    summary="List a user's API keys",
    responses=problem_responses(401, 403, 404, 422),
)
def list_keys(
    user_id: str, session: SessionDep, user: AdminOrAuditor, paging: Paging
) -> ApiKeyPage:
    page = logic.list_api_keys(
        session,
        user.organization_id,
        user_id,
        limit=paging.limit,
        cursor=paging.cursor,
        sort=paging.sort,
    )
    return ApiKeyPage(items=[key_read(k) for k in page.items], next_cursor=page.next_cursor)


@router.delete(
    "/api-keys/{key_id}",
    summary="Revoke an API key",
    status_code=204,
    responses=problem_responses(401, 403, 404, 409),
)
def revoke_key(key_id: str, session: SessionDep, user: Admin) -> Response:
    key = logic.revoke_api_key(session, user.organization_id, key_id, at=datetime.now(UTC))
    _audit(session, user, "revoke", "api_key", key.id, f"of user {key.user_id}")
    return Response(status_code=204)


def organization_read(session: Session, organization_id: str) -> OrganizationRead:
    organization = repository.get_organization(session, organization_id)
    assert organization is not None  # the caller's own
    return OrganizationRead.model_validate(organization, from_attributes=True)


@router.get(
    "/organization", summary="Read your organization", responses=problem_responses(401, 403)
)
def read_organization(session: SessionDep, user: Anyone) -> OrganizationRead:
    """The caller's organization: every role may see the clock its dates follow."""
    return organization_read(session, user.organization_id)


@router.patch(
    "/organization",
    summary="Change your organization's time zone",
    responses=problem_responses(400, 401, 403, 415, 422),
)
def update_organization(
    data: OrganizationUpdate, session: SessionDep, user: Admin
) -> OrganizationRead:
    """Sets the organization's time zone (admin). Stored instants are unchanged; local dates
    and times shown or written from now on use the new zone."""
    previous = org_clock.set_time_zone(session, user.organization_id, data.time_zone)
    _audit(
        session,
        user,
        "update",
        "organization",
        user.organization_id,
        f"time_zone: {previous} -> {data.time_zone}",
    )
    return organization_read(session, user.organization_id)
