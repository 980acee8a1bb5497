"""RFC 9457 problem+json for every error under /api (and everywhere outside /fhir)."""

import logging
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from service.api.audit_failures import audit_failure_async
from service.errors import DomainError
from service.settings import get_settings

log = logging.getLogger("service.errors")

PROBLEM_JSON = "application/problem+json"

_HTTP_CODES = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "invalid-input",
    428: "precondition-required",
    429: "too-many-requests",
    503: "service-unavailable",
}


class ProblemFieldError(BaseModel):
    pointer: str | None = None
    parameter: str | None = None
    detail: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[ProblemFieldError] | None = None


def problem_response(
    request: Request,
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    problem = Problem(
        type=f"{get_settings().problem_type_base}/{code}",
        title=code.replace("-", " ").capitalize(),
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=[ProblemFieldError(**e) for e in errors] if errors else None,
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


async def problem(
    request: Request,
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A failed request: audited (in its own transaction, off the event loop), then answered."""
    await audit_failure_async(request, status, code)
    return problem_response(request, status, code, detail, errors, headers)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the problems a route can answer."""
    return {
        status: {
            "model": Problem,
            "content": {PROBLEM_JSON: {}},
            "description": _HTTP_CODES[status],
        }
        for status in statuses
    }


def validation_errors(exc: RequestValidationError) -> tuple[int, str, str, list[dict[str, str]]]:
    """Pydantic's errors as JSON Pointers (body) or parameter names (query, path, header)."""
    errors: list[dict[str, str]] = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        if err.get("type") == "json_invalid":
            return 400, "malformed-json", "The request body is not valid JSON.", []
        message = str(err.get("msg", "invalid"))
        if loc and loc[0] == "body":
            errors.append(
                {
                    "pointer": "/"
                    + "/".join(p.replace("~", "~0").replace("/", "~1") for p in loc[1:]),
                    "detail": message,
                }
            )
        else:
            errors.append({"parameter": loc[-1] if loc else "", "detail": message})
    return 422, "invalid-input", "The request has invalid fields.", errors


def retry_after(exc: DomainError) -> dict[str, str] | None:
    """`Retry-After` for errors that carry one (429 after repeated failed logins)."""
    seconds = getattr(exc, "retry_after", None)
    return {"Retry-After": str(seconds)} if isinstance(seconds, int) else None


async def domain_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    # A pointer "?name" names a query parameter (RFC 9457 examples use `parameter` for those).
    errors = [
        {"parameter": e.pointer[1:], "detail": e.detail}
        if e.pointer.startswith("?")
        else {"pointer": e.pointer, "detail": e.detail}
        for e in exc.errors
    ]
    return await problem(request, exc.status, exc.code, exc.detail, errors, retry_after(exc))


async def request_validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    status, code, detail, errors = validation_errors(exc)
    return await problem(request, status, code, detail, errors)


def allowed_methods(request: Request) -> str:
    """`Allow` for a 405: every method the path's routes take (RFC 9110 section 10.2.1).

    Starlette names only the methods of the first route that matched the path, and a path here
    often has one route per method (GET and POST /api/v1/users). Routes of another template that
    also match (GET /api/v1/codes/{system} for /api/v1/codes/validate) are not counted: the
    route with the fewest parameters is the resource the path names."""
    leaves: list[Any] = []
    pending = list(reversed(request.app.router.routes))
    while pending:
        route = pending.pop()
        included = getattr(route, "original_router", None)  # FastAPI's include_router wrapper
        if included is not None:
            pending.extend(reversed(included.routes))
        else:
            leaves.append(route)
    scope = {**request.scope, "method": "\x00"}
    matched = [r for r in leaves if r.matches(scope)[0] is Match.PARTIAL]
    # The most specific template is the resource: /results/verification, not /results/{id}.
    fewest = min((r.path.count("{") for r in matched), default=0)
    matched = [r for r in matched if r.path.count("{") == fewest]
    template = matched[0].path if matched else None
    methods = {m for r in matched if r.path == template for m in (r.methods or ())}
    return ", ".join(sorted(methods))


async def http_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http-error")
    detail = exc.detail if isinstance(exc.detail, str) else code
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"There is no resource at {request.url.path}."
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": allowed_methods(request)}
    return await problem(request, exc.status_code, code, detail, headers=headers)


async def database_unavailable_handler(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unreachable: %s", type(exc).__name__)
    return await problem(
        request,
        503,
        "service-unavailable",
        "The database cannot be reached right now; try again shortly.",
        headers={"Retry-After": "5"},
    )


async def unstorable_value_handler(request: Request, exc: Exception) -> JSONResponse:
    """A value the database refuses to store: bad input, not a bug (PostgreSQL text cannot hold
    a NUL character, which SQLite stores)."""
    log.info("value refused by the database: %s", type(exc).__name__)
    return await problem(
        request,
        422,
        "invalid-input",
        "A value in the request cannot be stored (text may not contain NUL characters).",
    )


async def unexpected_error_handler(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error")
    return await problem(request, 500, "internal-error", "An unexpected error occurred.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, request_validation_handler)
    app.add_exception_handler(StarletteHTTPException, http_exception_handler)
    app.add_exception_handler(sqlalchemy.exc.OperationalError, database_unavailable_handler)
    app.add_exception_handler(sqlalchemy.exc.InterfaceError, database_unavailable_handler)
    app.add_exception_handler(sqlalchemy.exc.DataError, unstorable_value_handler)
    app.add_exception_handler(Exception, unexpected_error_handler)
