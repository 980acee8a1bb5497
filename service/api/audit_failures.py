"""Audits every denied or failed request under /api and /fhir, after the request's rollback."""

import logging

from fastapi import Request
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from service.audit.logic import AuditWriter, FailedAccess
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
    writer: AuditWriter | None = getattr(request.app.state, "audit_writer", None)
    if writer is None:
        return
    principal = getattr(request.state, "principal", None)
    action, resource_type, resource_id = _describe(request)
    if status == 401:
        action = "login-denied"
    outcome = "denied" if status in (401, 403, 404) else "failed"
    failure = FailedAccess(
        principal=principal,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        outcome=outcome,
        detail=f"{status} {code}",
        client_address=request.client.host if request.client else "",
        request_id=request_id_var.get(),
    )
    try:
        writer.write(failure)
    except SQLAlchemyError:
        # The database is down (that is often why the request failed): say so, keep the answer.
        log.error("could not write the audit event for a %s %s", status, code)


async def audit_failure_async(request: Request, status: int, code: str) -> None:
    """From async code (exception handlers, middleware): the write may wait on a database lock,
    which must never block the event loop that the lock holder needs to finish its request."""
    await run_in_threadpool(audit_failure, request, status, code)
