"""Admin routes: users of the caller's organization and their API keys."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Response

from service.api.deps import Paging, allow
from service.api.problems import problem_responses
from service.auth import logic
from service.auth.logic import Principal
from service.auth.models import ApiKey, AppUser
from service.auth.roles import Role
from service.auth.schemas import (
    ApiKeyCreate,
    ApiKeyIssued,
    ApiKeyPage,
    ApiKeyRead,
    UserCreate,
    UserPage,
    UserRead,
    UserUpdate,
)
from service.db import SessionDep

router = APIRouter(prefix="/api/v1", tags=["users and keys"])

Admin = Annotated[Principal, allow(Role.ADMIN)]
AdminOrAuditor = Annotated[Principal, allow(Role.ADMIN, Role.AUDITOR)]


def user_read(user: AppUser) -> UserRead:
    return UserRead(
        id=user.id,
        name=user.name,
        kind=user.kind,
        roles=sorted(Role(r) for r in user.role_set),
        active=user.active,
        created_at=user.created_at,
    )


def key_read(key: ApiKey) -> ApiKeyRead:
    return ApiKeyRead.model_validate(key, from_attributes=True)


@router.post("/users", status_code=201, responses=problem_responses(401, 403, 415, 422))
def create_user(data: UserCreate, session: SessionDep, user: Admin) -> UserRead:
    return user_read(logic.create_user(session, user.organization_id, data))


@router.get("/users", responses=problem_responses(401, 403, 422))
def list_users(session: SessionDep, user: AdminOrAuditor, paging: Paging) -> UserPage:
    page = logic.list_users(session, user.organization_id, limit=paging.limit, cursor=paging.cursor)
    return UserPage(items=[user_read(u) for u in page.items], next_cursor=page.next_cursor)


@router.get("/users/{user_id}", responses=problem_responses(401, 403, 404))
def read_user(user_id: str, session: SessionDep, user: AdminOrAuditor) -> UserRead:
    return user_read(logic.get_user(session, user.organization_id, user_id))


@router.patch("/users/{user_id}", responses=problem_responses(401, 403, 404, 415, 422))
def update_user(user_id: str, data: UserUpdate, session: SessionDep, user: Admin) -> UserRead:
    return user_read(logic.update_user(session, user.organization_id, user_id, data))


@router.post(
    "/users/{user_id}/api-keys",
    status_code=201,
    responses=problem_responses(401, 403, 404, 415, 422),
)
def issue_key(user_id: str, data: ApiKeyCreate, session: SessionDep, user: Admin) -> ApiKeyIssued:
    key, plaintext = logic.issue_api_key(session, user.organization_id, user_id, data.label)
    return ApiKeyIssued(**key_read(key).model_dump(), key=plaintext)


@router.get("/users/{user_id}/api-keys", responses=problem_responses(401, 403, 404, 422))
def list_keys(
    user_id: str, session: SessionDep, user: AdminOrAuditor, paging: Paging
) -> ApiKeyPage:
    page = logic.list_api_keys(
        session, user.organization_id, user_id, limit=paging.limit, cursor=paging.cursor
    )
    return ApiKeyPage(items=[key_read(k) for k in page.items], next_cursor=page.next_cursor)


@router.delete("/api-keys/{key_id}", status_code=204, responses=problem_responses(401, 403, 404))
def revoke_key(key_id: str, session: SessionDep, user: Admin) -> Response:
    logic.revoke_api_key(session, user.organization_id, key_id, at=datetime.now(UTC))
    return Response(status_code=204)
