"""Request dependencies: the caller (with role checks), paging parameters, If-Match."""

from dataclasses import replace
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from service import org_clock
from service.auth import logic as auth_logic
from service.auth import throttle
from service.auth.logic import Caller, Principal
from service.auth.verified_keys import VerifiedKeys
from service.db import AuditedReadSessionDep, ReadSessionDep, SessionDep
from service.errors import InvalidInput, PermissionDenied
from service.paging import DEFAULT_LIMIT, MAX_LIMIT
from service.records import utcnow
from service.request_context import request_id_var
from service.smart import scopes as smart_scopes

# Declares the scheme in OpenAPI (the Authorize button on /docs); the guard reads the header itself
# so that a missing key is a problem+json 401, not FastAPI's default error.
_bearer_scheme = HTTPBearer(auto_error=False, description="An API key: `bo_…`")


class RoleGuard:
    """Authenticates the key and checks the caller's roles. The role matrix test reads `.roles`."""

    def __init__(self, roles: frozenset[str]) -> None:
        self.roles = roles

    def __call__(
        self,
        request: Request,
        session: SessionDep,
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
    ) -> Principal:
        return self.check(request, session)

    def check(self, request: Request, session: Session) -> Principal:
        return self.check_caller(request, session).principal

    def check_caller(self, request: Request, session: Session) -> Caller:
        """The principal and its organization's time zone ("" when the full check ran)."""
        header = request.headers.get("authorization")
        # As uvicorn reports it: the TCP peer, or X-Forwarded-For from a peer it trusts
        # (FORWARDED_ALLOW_IPS, default 127.0.0.1). No forwarding header is read here.
        address = request.client.host if request.client else ""
        # The plain case in one statement; anything else (refused, blocked, a SMART token)
        # takes the full check below, which says why, and is audited and counted.
        caller = auth_logic.authenticate_quickly(session.connection(), header, address, utcnow())
        if caller is None:
            caller = Caller(self._authenticate(request, session, header, address), "")
        principal = replace(caller.principal, request_id=request_id_var.get())
        request.state.principal = principal
        smart_scopes.refuse_outside(principal.scopes, request.method, request.url.path)
        self.refuse_other_roles(principal)
        return replace(caller, principal=principal)

    @staticmethod
    def _authenticate(
        request: Request, session: Session, header: str | None, address: str
    ) -> Principal:
        key_id = auth_logic.key_id_of(header)
        if key_id is not None:
            # Only a well-formed key can be a guess (anything else fails without a lookup): a
            # blocked key id or address is refused before the key is even looked at.
            throttle.refuse_if_blocked(session, key_id, address, utcnow())
        try:
            authenticated = auth_logic.authenticate(session, header)
        except auth_logic.LoginDenied as denied:
            request.state.login_denied = denied  # audited and counted after the rollback
            raise
        return replace(authenticated, client_address=address)

    def refuse_other_roles(self, principal: Principal) -> None:
        if not principal.roles & self.roles:
            raise PermissionDenied(
                "Your role may not do this. Allowed: " + ", ".join(sorted(self.roles)) + "."
            )


class ReadRoleGuard(RoleGuard):
    """The same check on the read-only session: the route must take ReadSessionDep too, or the
    request would open two sessions."""

    def __call__(
        self,
        request: Request,
        session: ReadSessionDep,
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
    ) -> Principal:
        return self.check(request, session)


class AuditedReadRoleGuard(RoleGuard):
    """The same check on the audited read session (reads of patient data): the route must take
    AuditedReadSessionDep too."""

    async def __call__(  # type: ignore[override]
        self,
        request: Request,
        session: AuditedReadSessionDep,
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
    ) -> Principal:
        # Async with one explicit thread hop: FastAPI would spend the same hop on a sync guard
        # and then more on the sync session dependency around it.
        return await run_in_threadpool(self.check, request, session)


class CallerGuard(RoleGuard):
    """The same check for routes that need no session of their own (the typeahead): a session
    only for the check, in one worker-thread hop; returns the caller with the organization's
    time zone, read by the same statement."""

    async def __call__(  # type: ignore[override]
        self,
        request: Request,
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
    ) -> Caller:
        verified: VerifiedKeys = request.app.state.verified_keys
        header = request.headers.get("authorization")
        address = request.client.host if request.client else ""
        cached = verified.get(header, address)
        if cached is None:
            caller = await run_in_threadpool(self.caller, request)
            if caller.principal.scopes is None:  # an API key (a SMART token is not kept)
                verified.put(header, address, caller)
            return caller
        principal = replace(cached.principal, request_id=request_id_var.get())
        request.state.principal = principal
        self.refuse_other_roles(principal)
        return replace(cached, principal=principal)

    def caller(self, request: Request) -> Caller:
        factory = request.app.state.session_factory
        with factory() as session:
            session.info["read_only"] = True
            caller = self.check_caller(request, session)
            if not caller.time_zone:  # the full check ran (a SMART token)
                zone = org_clock.zone(session, caller.principal.organization_id)
                caller = replace(caller, time_zone=zone.key)
        return caller


def allow(*roles: str, read_only: bool = False) -> Any:
    """`user: Annotated[Principal, allow(Role.ADMIN)]` declares who may call a route.

    `read_only=True` for routes that take ReadSessionDep (reads that need no audit row).
    """
    guard = ReadRoleGuard if read_only else RoleGuard
    return Depends(guard(frozenset(roles)))


class PageParams:
    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
        sort: Annotated[
            str | None,
            Query(
                max_length=40,
                pattern=r"^-?[a-z_]+$",
                description="A key to sort by, `-` for descending (`-created_at`: newest "
                "first). Each list names its keys and default; an unknown key is 422.",
            ),
        ] = None,
    ) -> None:
        self.limit = limit
        self.cursor = cursor
        self.sort = sort


Paging = Annotated[PageParams, Depends()]


MAX_VERSION_DIGITS = 18  # every 18-digit number fits a signed 64-bit integer


def parse_if_match(value: str | None) -> int | None:
    """`If-Match: "3"` (or W/"3", as FHIR sends it) -> 3."""
    if value is None:
        return None
    tag = value.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    tag = tag.strip('"')
    # ASCII digits only ("²".isdigit() is true) and within a 64-bit integer: SQLite cannot
    # compare a larger one (OverflowError), PostgreSQL refuses it.
    if not (tag.isascii() and tag.isdigit()) or len(tag) > MAX_VERSION_DIGITS:
        raise InvalidInput('If-Match must be an ETag this service sent, like "3".')
    return int(tag)


def if_match(if_match: Annotated[str | None, Header()] = None) -> int | None:
    return parse_if_match(if_match)


IfMatch = Annotated[int | None, Depends(if_match)]


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline_refs(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inline_refs(value, defs) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline_refs(value, defs) for value in node]
    return node


def merge_patch_body(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI for a PATCH route whose body is a JSON merge patch of `model`.

    The route takes a plain dict (absent and null differ in a merge patch); this documents it.
    Nested models are inlined: FastAPI renames a component that reads and writes differently
    (`FeeItem-Input`), so a reference by the model's own name would point at nothing.
    """
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})
    schema["additionalProperties"] = False  # the patched record is validated: extras are 422
    content = {"schema": _inline_refs(schema, defs)}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/merge-patch+json": content, "application/json": content},
        }
    }


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'
