"""Audits every denied or failed request under /api and /fhir, after the request's rollback."""

import logging
from dataclasses import replace

from fastapi import Request
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from service.audit.logic import AuditWriter, FailedAccess
from service.auth.logic import LoginDenied
from service.auth.throttle import FailedLoginCounter
from service.records import utcnow
from service.request_context import request_id_var

log = logging.getLogger("service.audit")

_ACTIONS = {"POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete"}


def _describe(request: Request) -> tuple[str, str, str | None]:
    """(action, resource type, resource id) from the matched route, e.g. GET /patients/{id}."""
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    parts = [p for p in template.split("/") if p and p not in ("api", "v1", "fhir")]
    resource_type = next((p for p in parts if not p.startswith("{")), "unknown")
    path_params = request.path_params
    resource_id = next(iter(path_params.values()), None) if path_params else None
    if request.method == "GET":
        action = "read" if resource_id else "query"
    else:
        action = _ACTIONS.get(request.method, request.method.lower())
    return action, resource_type[:60], str(resource_id)[:64] if resource_id else None


def audit_failure(request: Request, status: int, code: str) -> None:
    path = request.url.path
    if not (path.startswith("/api/") or path.startswith("/fhir")):
        return
    if status == 429:
        return  # a throttled attempt: the block itself was audited when it began
    writer: AuditWriter | None = getattr(request.app.state, "audit_writer", None)
    if writer is None:
        return
    principal = getattr(request.state, "principal", None)
    action, resource_type, resource_id = _describe(request)
    denied: LoginDenied | None = getattr(request.state, "login_denied", None)
    detail = f"{status} {code}"
    if status == 401:
        action = "login-denied"
        if denied is not None:
            detail += f": {denied.reason}" + (f" (key {denied.key_id})" if denied.key_id else "")
    outcome = "denied" if status in (401, 403, 404) else "failed"
    address = request.client.host if request.client else ""
    failure = FailedAccess(
        principal=principal,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        outcome=outcome,
        detail=detail,
        client_address=address,
        request_id=request_id_var.get(),
        organization_id=denied.organization_id if denied else None,
        user_id=denied.user_id if denied else None,
    )
    try:
        writer.write(failure)
        if status == 401:
            _count_failed_login(request, writer, failure, denied, address)
    except SQLAlchemyError:
        # The database is down (that is often why the request failed): say so, keep the answer.
        log.error("could not write the audit event for a %s %s", status, code)


def _count_failed_login(
    request: Request,
    writer: AuditWriter,
    failure: FailedAccess,
    denied: LoginDenied | None,
    address: str,
) -> None:
    counter: FailedLoginCounter | None = getattr(request.app.state, "login_failures", None)
    if counter is None or denied is None or denied.key_id is None:
        return  # only well-formed keys count: nothing else can ever succeed, or be a guess
    for scope in counter.failed(denied.key_id, address, utcnow()):
        # Once per block, not per refused request: a flood writes one row, not thousands.
        writer.write(
            replace(
                failure,
                action="login-throttled",
                detail=f"{scope.partition(':')[0]} blocked after repeated failures",
            )
        )


async def audit_failure_async(request: Request, status: int, code: str) -> None:
    """From async code (exception handlers, middleware): the write may wait on a database lock,
    which must never block the event loop that the lock holder needs to finish its request."""
    await run_in_threadpool(audit_failure, request, status, code)
