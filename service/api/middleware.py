"""ASGI middleware: request ids, body size limit, JSON-only request bodies, access log."""

import logging
import re
import time
import uuid
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.audit_failures import audit_failure_async
from service.api.problems import problem
from service.fhir.outcomes import operation_outcome
from service.request_context import request_id_var

access_log = logging.getLogger("service.access")

_BODY_METHODS = {"POST", "PUT", "PATCH"}


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class RequestGuards:
    """Runs before routing, so that oversized or non-JSON bodies never reach a handler."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        raw_body_paths: tuple[str, ...] = (),
        max_upload_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.raw_body_paths = raw_body_paths  # uploads (X12, CSV) take their own content types
        # Uploads under raw_body_paths may be larger (a 10,000-claim 835 is ~10 MB).
        self.max_upload_bytes = max_upload_bytes or max_body_bytes

    def _is_upload(self, scope: Scope) -> bool:
        return bool(self.raw_body_paths) and scope["path"].startswith(self.raw_body_paths)

    def _limit(self, scope: Scope) -> int:
        if self._is_upload(scope):
            return max(self.max_upload_bytes, self.max_body_bytes)
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = accepted_request_id(headers.get("x-request-id", ""))
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status_holder: dict[str, int] = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                extra = [(b"x-request-id", request_id.encode())]
                if _holds_records(scope["path"]) and not any(
                    name.lower() == b"cache-control" for name, _ in message["headers"]
                ):
                    # Patient data must not stay in a browser's or a proxy's cache.
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = [*message["headers"], *extra]
            await send(message)

        try:
            rejection = await self._reject(scope, headers)
            if rejection is not None:
                await rejection(scope, receive, send_with_id)
                return
            if self._is_upload(scope):
                # Uploads stream to their route (service/uploads.py), which counts, limits and
                # checks them as they arrive: buffering them here would hold the whole file.
                if _has_nul(scope, b""):
                    response = await nul_refusal(Request(scope))
                    await response(scope, receive, send_with_id)
                    return
                await self.app(scope, receive, send_with_id)
                return
            body = await self._read_body(receive, self._limit(scope))
            if body is None:
                response = await too_large(Request(scope), self._limit(scope))
                await response(scope, receive, send_with_id)
                return
            if _has_nul(scope, body):
                response = await nul_refusal(Request(scope))
                await response(scope, receive, send_with_id)
                return
            await self.app(scope, _replay(body, receive), send_with_id)
        finally:
            # The path only: query strings may carry names or birth dates (no PHI in logs).
            access_log.info(
                "%s %s %s %.1fms request_id=%s",
                scope["method"],
                scope["path"],
                status_holder["status"],
                (time.perf_counter() - started) * 1000,
                request_id,
            )
            request_id_var.reset(token)

    async def _reject(self, scope: Scope, headers: Headers) -> Any:
        request = Request(scope)
        length = headers.get("content-length")
        limit = self._limit(scope)
        if length is not None and (not _digits(length) or int(length) > limit):
            return await too_large(request, limit)
        if scope["method"] in _BODY_METHODS and scope["path"].startswith("/api/"):
            has_body = (length is not None and length != "0") or "transfer-encoding" in headers
            json_body = _is_json(headers.get("content-type", ""))
            if has_body and not self._is_upload(scope) and not json_body:
                return await problem(
                    request,
                    415,
                    "unsupported-media-type",
                    "Send the request body as application/json.",
                )
        return None

    async def _read_body(self, receive: Receive, limit: int) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


# A client's request id is written to logs and audit rows: only a UUID or a short plain token,
# so that it cannot forge a log line or an audit entry (issue 14).
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)
# A JSON \u0000 escape (not an escaped backslash followed by "u0000").
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def accepted_request_id(incoming: str) -> str:
    return incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit()  # "³".isdigit() is true and int() refuses it


def _holds_records(path: str) -> bool:
    return path.startswith("/api/") or path == "/fhir" or path.startswith("/fhir/")


def _has_nul(scope: Scope, body: bytes) -> bool:
    """NUL in a path, query or body. PostgreSQL text cannot hold it and SQLite would store it:
    refused before either sees it, so both databases answer alike."""
    if not _holds_records(scope["path"]):
        return False
    query: bytes = scope.get("query_string", b"")
    return (
        "\x00" in scope["path"]
        or b"%00" in query
        or b"\x00" in query
        or b"\x00" in body
        or _JSON_NUL.search(body) is not None
    )


async def too_large(request: Request, limit: int) -> Any:
    """413: an OperationOutcome under /fhir (as every FHIR answer), problem+json elsewhere."""
    detail = f"The request body is over the limit of {limit} bytes."
    if request.url.path.startswith("/fhir"):
        await audit_failure_async(request, 413, "payload-too-large")
        return JSONResponse(
            operation_outcome(413, detail), status_code=413, media_type="application/fhir+json"
        )
    return await problem(request, 413, "payload-too-large", detail)


async def nul_refusal(request: Request) -> Any:
    detail = "Text may not contain NUL characters (\\u0000)."
    if request.url.path.startswith("/fhir"):
        await audit_failure_async(request, 422, "invalid-input")
        return JSONResponse(
            operation_outcome(422, detail), status_code=422, media_type="application/fhir+json"
        )
    return await problem(request, 422, "invalid-input", detail)


def _replay(body: bytes, upstream: Receive) -> Receive:
    """Hands the buffered body over once, then the real channel (a streaming response listens
    on it for the client going away)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await upstream()

    return receive


class RequestIdFilter(logging.Filter):
    """Adds the request id to every log record, so that log lines can be tied to audit events."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True
