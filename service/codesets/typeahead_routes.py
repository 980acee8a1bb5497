"""The typeahead's fast path (issue 21): `GET /api/v1/codes/{system}` answered before routing
when everything it needs is in memory, for a keystroke costs little more than a bare route.

The route in service/codesets/routes.py stays the definition: its parameters, its OpenAPI
entry and every error. This ASGI layer sits inside the request guards (request id, body and
NUL checks, access log, Cache-Control) and answers only the plain case: GET, one path segment,
no query parameter but `q` (at most 200 characters), `limit` (1 to MAX_LIMIT, digits) and
`date` (YYYY-MM-DD), each at most once; an API key verified a moment ago
(service/auth/verified_keys.py: checked against the database within the last five seconds, so
a revoked key is refused within that bound); the versions in force cached and their index
built. Anything else goes on to the route, which answers as it always did (the same 200, or
the problem+json of a 400, 401, 403, 404 or 422). Codes are not patient data: no audit row.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from fastapi import FastAPI
from starlette.datastructures import QueryParams
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from service import org_clock
from service.auth.logic import Caller
from service.auth.roles import Role
from service.auth.verified_keys import VerifiedKeys
from service.codesets import logic
from service.codesets.schemas import search_read
from service.codesets.search import MAX_LIMIT
from service.codesets.warming import VersionCache
from service.errors import DomainError

PREFIX = "/api/v1/codes/"
MAX_QUERY = 200  # the route's Query(max_length=200)
ROLES = frozenset(Role)  # every role reads codes
JSON = "application/json"
_ACCEPTED = frozenset({"q", "limit", "date"})
_LIMIT = re.compile(r"[0-9]{1,4}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def answer(
    versions: VersionCache, caller: Caller, system: str, q: str, on: date | None, limit: int
) -> Response | None:
    """The search from memory: None when the versions or the index are not at hand yet (the
    route then reads them, and builds the index, with a session)."""
    known = versions.cached(system)
    if known is None:
        return None
    day = on or org_clock.local_date_in(caller.time_zone, datetime.now(UTC))
    found = logic.search_built(system, q, day, limit, known)
    if found is None:
        return None
    return Response(search_read(found).model_dump_json(), media_type=JSON)


def _parameters(query_string: bytes) -> tuple[str, int, date | None] | None:
    """q, limit and date as the route would read them, or None for anything the route should
    judge itself (unknown or repeated parameters, values out of range or of another form)."""
    params = QueryParams(query_string)
    names = params.keys()
    if len(params.multi_items()) != len(names) or not _ACCEPTED.issuperset(names):
        return None
    q = params.get("q", "")
    limit_text = params.get("limit", "20")
    if len(q) > MAX_QUERY or not _LIMIT.fullmatch(limit_text):
        return None
    limit = int(limit_text)
    if not 1 <= limit <= MAX_LIMIT:
        return None
    on = None
    if "date" in params:
        if not _DATE.fullmatch(params["date"]):
            return None
        try:
            on = date.fromisoformat(params["date"])
        except ValueError:
            return None
    return q, limit, on


def _authorization(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            text: str = value.decode("latin-1")  # as Starlette's Headers reads it
            return text
    return None


class TypeaheadFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            if path.startswith(PREFIX) and "/" not in path[len(PREFIX) :]:
                response = self._answer(scope, path[len(PREFIX) :])
                if response is not None:
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    @staticmethod
    def _answer(scope: Scope, system: str) -> Response | None:
        parameters = _parameters(scope["query_string"]) if system else None
        if parameters is None:
            return None
        state = scope["app"].state
        client = scope.get("client")
        caller = state.verified_keys.get(_authorization(scope), client[0] if client else "")
        if (
            caller is None
            or caller.principal.scopes is not None
            or not caller.principal.roles & ROLES
        ):
            return None
        q, limit, on = parameters
        try:
            return answer(state.code_versions, caller, system, q, on, limit)
        except DomainError:  # an unknown system, no version in force...: the route says which
            return None


def install(app: FastAPI) -> None:
    """Call before any other middleware is added: it must run inside them all."""
    app.state.verified_keys = VerifiedKeys()
    app.add_middleware(TypeaheadFastPath)
