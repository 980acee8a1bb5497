"""HTTP edge of /fhir: FhirRoute (every error as an OperationOutcome, audited like REST
failures), content negotiation (application/fhir+json or application/json in and out,
`_format`), and the response shape (ETag W/"n", Location, Last-Modified)."""

import inspect
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.api.audit_failures import audit_failure_async
from service.api.problems import allowed_methods, retry_after, validation_errors
from service.errors import DomainError, FieldError, InvalidInput
from service.fhir.interactions import FHIR_VERSION, Written, etag
from service.fhir.mapping.base import iso_instant
from service.fhir.outcomes import invalid, operation_outcome, outcome_for

log = logging.getLogger("service.fhir")

FHIR_JSON = "application/fhir+json"
_JSON_TYPES = {"application/fhir+json", "application/json", "application/json+fhir"}
_FORMATS = {
    "json",
    "application/json",
    "application/fhir+json",
    "fhir+json",
    "application/json+fhir",
}


class NotAcceptable(DomainError):
    code = "not-acceptable"
    status = 406


class UnsupportedMediaType(DomainError):
    code = "unsupported-media-type"
    status = 415


class FhirResponse(Response):
    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


def is_fhir_path(path: str) -> bool:
    return path == "/fhir" or path.startswith("/fhir/")


async def outcome_response(
    request: Request, status: int, body: dict[str, Any], code: str
) -> FhirResponse:
    """Audits the failure (off the event loop: the write may wait on a lock) and answers."""
    await audit_failure_async(request, status, code)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return FhirResponse(body, status_code=status, headers=headers)


async def _validation_outcome(request: Request, exc: RequestValidationError) -> FhirResponse:
    _, code, detail, errors = validation_errors(exc)
    field_errors = [
        FieldError(e.get("parameter") or e.get("pointer") or "", e["detail"]) for e in errors
    ]
    return await outcome_response(
        request, 400, operation_outcome(400, detail, field_errors, code="invalid"), code
    )


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    status, body = outcome_for(exc)
    response = await outcome_response(request, status, body, exc.code)
    response.headers.update(retry_after(exc) or {})
    return response


async def _request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return await _validation_outcome(request, exc)


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    log.warning("database unreachable: %s", type(exc).__name__)
    body = operation_outcome(503, "The database cannot be reached right now; try again shortly.")
    response = await outcome_response(request, 503, body, "service-unavailable")
    response.headers["Retry-After"] = "5"
    return response


async def _unstorable_value(request: Request, exc: Exception) -> Response:
    """PostgreSQL refuses text with a NUL character (SQLite stores it): bad input, not a bug."""
    body = operation_outcome(422, "A value cannot be stored (text may not contain NUL characters).")
    return await outcome_response(request, 422, body, "invalid-input")


async def _write_conflict(request: Request, exc: Exception) -> Response:
    """A unique index refused a row another request committed meanwhile (two creates of one
    MRN at once): the request changed nothing, and a retry (conditional) finds the winner."""
    body = operation_outcome(
        409,
        "Another request stored the same record at the same time; nothing was written. "
        "Retry (with If-None-Exist, the retry finds it).",
    )
    return await outcome_response(request, 409, body, "conflict")


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    body = operation_outcome(500, "An unexpected error occurred.")
    return await outcome_response(request, 500, body, "internal-error")


_HANDLERS: dict[type[Exception], Callable[[Request, Exception], Coroutine[Any, Any, Response]]] = {
    DomainError: _domain_error,
    RequestValidationError: _request_validation,
    sqlalchemy.exc.OperationalError: _database_unavailable,
    sqlalchemy.exc.InterfaceError: _database_unavailable,
    sqlalchemy.exc.DataError: _unstorable_value,
    sqlalchemy.exc.IntegrityError: _write_conflict,
}


class FhirFailure(Exception):
    """Carries a /fhir route's exception past its dependencies to `_render_failure`."""

    def __init__(self, original: Exception) -> None:
        super().__init__(str(original))
        self.original = original


async def _render_failure(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FhirFailure)
    original = exc.original
    for kind, handler in _HANDLERS.items():
        if isinstance(original, kind):
            return await handler(request, original)
    return await _unexpected(request, original)


class FhirRoute(APIRoute):
    """Renders DomainErrors, validation errors and surprises of /fhir routes as OperationOutcome
    (the app-wide handlers answer problem+json).

    The error is re-raised wrapped, so that it still unwinds the request's dependencies (the
    session rolls back) before `_render_failure`, registered by `install`, audits it in a
    transaction of its own. Rendering inside the endpoint would be too early: the session would
    commit what the failed request had written, and would still hold its write lock.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def fhir_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except FhirFailure:
                raise
            except Exception as exc:
                raise FhirFailure(exc) from exc

        return fhir_handler


def _fhir_version(media: str) -> str | None:
    """The `fhirVersion` parameter of a media type (FHIR 3.1.0.1.11.1), e.g. 4.0."""
    for parameter in media.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "fhirversion":
            return value.strip().strip('"')
    return None


def _check_version(media: str) -> None:
    version = _fhir_version(media)
    if version is not None and not FHIR_VERSION.startswith(version) and version != FHIR_VERSION:
        raise NotAcceptable(
            f"fhirVersion={version} is not served: this server speaks FHIR {FHIR_VERSION} (4.0)."
        )


def check_format(request: Request) -> None:
    """`_format` wins over Accept (FHIR 3.1.0.1.10); only JSON of FHIR R4 is served."""
    requested = request.query_params.get("_format")
    if requested is not None:
        if requested.split(";")[0].strip().lower() not in _FORMATS:
            raise NotAcceptable(f"_format={requested} is not served: this server speaks JSON.")
        _check_version(requested)
        return
    accept = request.headers.get("accept", "")
    if accept and "json" not in accept and "*/*" not in accept and "application/*" not in accept:
        raise NotAcceptable("This server answers application/fhir+json (or application/json).")
    for media in accept.split(","):
        if "json" in media:
            _check_version(media)


def prefer(request: Request, name: str) -> str | None:
    """One preference of the `Prefer` header (RFC 7240): return, handling."""
    for header in request.headers.getlist("prefer"):
        for token in header.split(","):
            key, _, value = token.strip().partition("=")
            if key.strip().lower() == name:
                return value.strip().strip('"').lower()
    return None


async def read_json(request: Request) -> Any:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in _JSON_TYPES:
        raise UnsupportedMediaType(
            "Send the resource as application/fhir+json (application/json is accepted too)."
        )
    raw = await request.body()
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        error = InvalidInput(
            f"The request body is not valid JSON ({exc.__class__.__name__}).",
            errors=[FieldError("", "not valid JSON")],
        )
        error.status = 400  # FHIR 3.1.0.4: a body that does not parse is 400
        raise error from None
    except RecursionError:
        body = _TOO_DEEP  # nested past the parser's stack: too deep by far
    if body is _TOO_DEEP or _too_deep(body):
        raise invalid("", f"the body nests deeper than {MAX_JSON_DEPTH} levels", status=400)
    return body


# Real resources nest a dozen levels (a transaction Bundle of Questionnaire-like items a few
# dozen); the models' validators recurse per level and would hit Python's stack long before
# a 5 MB body ends (issue 14: RecursionError answered 500).
MAX_JSON_DEPTH = 64
_TOO_DEEP = object()


def _too_deep(body: Any) -> bool:
    """Walks the parsed document without recursion."""
    pending: list[tuple[Any, int]] = [(body, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        if isinstance(node, dict):
            pending.extend((value, depth + 1) for value in node.values())
        elif isinstance(node, list):
            pending.extend((value, depth + 1) for value in node)
    return False


def written_response(
    written: Written, base_url: str, returned: str | None = None, body: Any = None
) -> Response:
    """The resource, or what `Prefer: return=` asked for: minimal (no body) or an
    OperationOutcome (FHIR 3.1.0.1.8); `body` replaces the resource (_summary, _elements)."""
    headers = {
        "ETag": etag(written.version),
        "Last-Modified": iso_instant(written.mapping.last_updated(written.row)),
    }
    if written.status == 201:
        headers["Location"] = written.location(base_url)
    if returned == "minimal":
        return Response(status_code=written.status, headers=headers)
    if returned == "operationoutcome":
        verb = "created" if written.status == 201 else "stored"
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "information",
                    "code": "informational",
                    "diagnostics": f"{written.mapping.type_name}/{written.row.id} {verb} "
                    f"(version {written.version}).",
                }
            ],
        }
        return FhirResponse(outcome, status_code=written.status, headers=headers)
    content = written.resource if body is None else body
    return FhirResponse(content, status_code=written.status, headers=headers)


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir"


def install(app: FastAPI) -> None:
    """Routing errors under /fhir (unknown type, wrong method) as OperationOutcome too; the
    app's problem+json handler keeps everything else."""
    previous = app.exception_handlers.get(StarletteHTTPException)

    async def http_exception(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not is_fhir_path(request.url.path) or previous is None:
            assert previous is not None
            response = previous(request, exc)
            return await response if inspect.isawaitable(response) else response
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404:
            detail = f"There is nothing at {request.url.path}; see /fhir/metadata."
        code = "not-found" if exc.status_code == 404 else "http-error"
        response = await outcome_response(
            request, exc.status_code, operation_outcome(exc.status_code, detail), code
        )
        if exc.status_code == 405:  # RFC 9110: a 405 lists what the resource supports
            response.headers["Allow"] = allowed_methods(request)
        return response

    app.add_exception_handler(StarletteHTTPException, http_exception)
    app.add_exception_handler(FhirFailure, _render_failure)
