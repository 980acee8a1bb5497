"""SMART Backend Services over HTTP: client registration (admin), the discovery document and
the token endpoint (RFC 6749 errors, not problem+json: OAuth clients parse those)."""

import json
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from service.api import tags
from service.api.deps import Paging, allow
from service.api.problems import problem_responses
from service.audit import logic as audit
from service.auth.logic import Principal
from service.auth.roles import Role
from service.db import SessionDep
from service.net import check_url
from service.settings import get_settings
from service.smart import keysets, logic
from service.smart.models import SmartClient
from service.smart.schemas import (
    SmartClientCreate,
    SmartClientPage,
    SmartClientRead,
    TokenIssued,
)

router = APIRouter(prefix="/api/v1/smart-clients", tags=[tags.SMART])
public = APIRouter(tags=[tags.SMART])

Admin = Annotated[Principal, allow(Role.ADMIN)]
AdminOrAuditor = Annotated[Principal, allow(Role.ADMIN, Role.AUDITOR)]
TOKEN_PATH = "/oauth/token"  # nosec B105 - a URL path, not a secret
MAX_FORM_BYTES = 20_000
# Public keys by jwks_url, per process (the cache holds public data only).
REMOTE_KEY_SETS = keysets.RemoteKeySets()


def client_read(session: Session, client: SmartClient) -> SmartClientRead:
    return SmartClientRead(
        id=client.id,
        client_id=client.client_id,
        name=client.name,
        user_id=client.user_id,
        roles=sorted(Role(r) for r in logic.client_roles(session, client)),
        scopes=client.scopes,
        jwks=json.loads(client.jwks) if client.jwks else None,
        jwks_url=client.jwks_url,
        created_at=client.created_at,
        revoked_at=client.revoked_at,
    )


@router.post(
    "",
    summary="Register a SMART backend client",
    status_code=201,
    responses=problem_responses(400, 401, 403, 415, 422),
)
def register_client(data: SmartClientCreate, session: SessionDep, user: Admin) -> SmartClientRead:
    if data.jwks_url is not None:
        check_url(str(data.jwks_url), allow_private=get_settings().allow_private_webhook_addresses)
    client = logic.register_client(session, user.organization_id, data)
    audit.record(
        session,
        user,
        action="create",
        resource_type="smart_client",
        resource_id=client.id,
        detail=f"scopes: {client.scopes}",
    )
    return client_read(session, client)


@router.get("", summary="List SMART backend clients", responses=problem_responses(401, 403, 422))
def list_clients(session: SessionDep, user: AdminOrAuditor, paging: Paging) -> SmartClientPage:
    page = logic.list_clients(
        session, user.organization_id, limit=paging.limit, cursor=paging.cursor, sort=paging.sort
    )
    return SmartClientPage(
        items=[client_read(session, c) for c in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{client_pk}",
    summary="Read a SMART backend client",
    responses=problem_responses(401, 403, 404),
)
def get_client(client_pk: str, session: SessionDep, user: AdminOrAuditor) -> SmartClientRead:
    return client_read(session, logic.get_client(session, user.organization_id, client_pk))


@router.post(
    "/{client_pk}/revocation",
    summary="Revoke a SMART backend client",
    responses=problem_responses(401, 403, 404),
)
def revoke_client(client_pk: str, session: SessionDep, user: Admin) -> SmartClientRead:
    client = logic.revoke_client(session, user.organization_id, client_pk, at=datetime.now(UTC))
    audit.record(
        session,
        user,
        action="update",
        resource_type="smart_client",
        resource_id=client.id,
        detail="revoked",
    )
    return client_read(session, client)


def _origin(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@public.get(
    "/fhir/.well-known/smart-configuration",
    summary="SMART configuration (discovery)",
    response_model=None,
)
def smart_configuration(request: Request) -> dict[str, Any]:
    """SMART App Launch v2 §Conformance: what a backend service needs to get a token."""
    return {
        "token_endpoint": _origin(request) + TOKEN_PATH,
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(keysets.ALGORITHMS),
        "scopes_supported": ["system/*.rs", "system/*.cruds", "system/*.read", "system/*.write"],
        "capabilities": ["client-confidential-asymmetric", "permission-v2", "permission-v1"],
    }


def _oauth_error(error: logic.OAuthError) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer error="invalid_client"'
    return JSONResponse(
        {"error": error.error, "error_description": error.description},
        status_code=error.status,
        headers=headers,
    )


@public.post(
    TOKEN_PATH,
    summary="SMART Backend Services token endpoint",
    response_model=TokenIssued,
    responses={400: {"description": "RFC 6749 §5.2 error"}, 401: {"description": "invalid_client"}},
)
async def token(request: Request, session: SessionDep) -> Response:
    """`grant_type=client_credentials`, `client_assertion_type=...jwt-bearer`,
    `client_assertion=<JWT signed RS384/ES384>`, `scope=system/...` as a form body."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if media != "application/x-www-form-urlencoded" or len(raw) > MAX_FORM_BYTES:
        return _oauth_error(
            logic.OAuthError(
                "invalid_request", "Send the parameters as application/x-www-form-urlencoded."
            )
        )
    pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    names = [name for name, _ in pairs]
    if len(names) != len(set(names)):  # RFC 6749 §3.2: parameters must not repeat
        return _oauth_error(logic.OAuthError("invalid_request", "A parameter is repeated."))
    at = datetime.now(UTC)

    def work() -> logic.Issued:
        issued = logic.issue_token(
            session,
            dict(pairs),
            token_url=_origin(request) + TOKEN_PATH,
            at=at,
            remote=REMOTE_KEY_SETS,
        )
        audit.record_system(
            session,
            organization_id=issued.client.organization_id,
            action="login",
            resource_type="smart_client",
            resource_id=issued.client.id,
            detail=f"token issued: {' '.join(str(s) for s in issued.granted)}",
        )
        return issued

    try:
        issued = await run_in_threadpool(work)
    except logic.OAuthError as error:
        await run_in_threadpool(session.rollback)  # nothing of a refused request is kept
        return _oauth_error(error)
    body = TokenIssued(
        access_token=issued.token,
        expires_in=issued.expires_in,
        scope=" ".join(str(s) for s in issued.granted),
    )
    return JSONResponse(
        body.model_dump(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"}
    )
