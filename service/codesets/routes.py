"""REST routes for code search, lookup and validation under /api/v1/codes (every role reads).

Code sets are not patient data, so these reads are not audited.
"""

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response
from sqlmodel import Session
from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from service import org_clock
from service.api import tags
from service.api.deps import CallerGuard, allow
from service.api.problems import problem_responses
from service.auth.logic import Caller, Principal
from service.auth.roles import Role
from service.auth.verified_keys import VerifiedKeys
from service.codesets import logic
from service.codesets.schemas import (
    CodeRead,
    CodeSearchRead,
    CodeValidateRead,
    CodeValidateRequest,
    code_read,
    search_read,
    validate_read,
)
from service.codesets.search import MAX_LIMIT
from service.codesets.warming import IndexWarmer, VersionCache
from service.db import ReadSessionDep, open_read_session, run_read
from service.errors import DomainError
from service.request_context import authorization
from service.schemas_common import IsoDate

router = APIRouter(prefix="/api/v1/codes", tags=[tags.CODE_SETS])

# Code sets are not patient data: no audit row, so a read-only session (no write lock). The
# routes are async and do their work in one worker thread (run_read): fewer thread hops.
Reader = Annotated[Principal, allow(*Role, read_only=True)]
Typeahead = Annotated[Caller, Depends(CallerGuard(frozenset(Role)))]
JSON = "application/json"
_DATE_HELP = "Date of service (YYYY-MM-DD); default today in the organization's time zone"
log = logging.getLogger(__name__)


async def _version_cache(request: Request) -> VersionCache:
    # async: a plain def dependency would cost a worker-thread hop per keystroke
    cache: VersionCache = request.app.state.code_versions
    return cache


Versions = Annotated[VersionCache, Depends(_version_cache)]


@asynccontextmanager
async def warm_code_indexes(app: FastAPI) -> AsyncIterator[None]:
    """Lifespan: the indexes of the versions in force are built before the first request
    (seconds of CPU a user would otherwise wait for), then kept current by a thread."""
    warmer = IndexWarmer(app.state.session_factory, app.state.code_versions)
    try:
        built = await anyio.to_thread.run_sync(warmer.refresh)
        log.info("code search indexes ready: %d", built)
    except Exception:  # no database yet: the warmer's next pass, or the first search, builds
        log.warning("code search indexes not built at start-up", exc_info=True)
    warmer.start()
    # Keys verified a moment ago answer the typeahead without a database read (rechecked every
    # second, trusted for at most five: service/auth/verified_keys.py).
    app.state.verified_keys.start(app.state.session_factory)
    try:
        yield
    finally:
        app.state.verified_keys.stop()
        warmer.stop()


def _on(session: Session, user: Principal, on: date | None) -> date:
    return on or org_clock.local_date(session, user.organization_id, datetime.now(UTC))


def _validate(session: Session, user: Principal, data: CodeValidateRequest) -> CodeValidateRead:
    on = _on(session, user, data.date)
    checks = [logic.CodeCheck(item.system, item.code) for item in data.codes]
    return validate_read(on, logic.validate_codes(session, checks, on))


def _search(
    session: Session, versions: VersionCache, system: str, q: str, day: date, limit: int
) -> Response:
    known = versions.versions(session, system)
    found = logic.search_codes(session, system, q, day, limit, known)
    return Response(search_read(found).model_dump_json(), media_type=JSON)


def _read(
    session: Session,
    user: Principal,
    versions: VersionCache,
    system: str,
    code: str,
    on: date | None,
) -> CodeRead:
    day = _on(session, user, on)
    known = versions.versions(session, system)
    return code_read(logic.get_code(session, system, code, day, known))


@router.post(
    "/validate",
    summary="Validate codes on a date of service",
    responses=problem_responses(400, 401, 403, 415, 422),
)
async def validate(
    data: CodeValidateRequest, session: ReadSessionDep, user: Reader
) -> CodeValidateRead:
    return await run_read(session, _validate, user, data)


@router.get(
    "/{system}",
    summary="Search a code system (typeahead)",
    response_model=CodeSearchRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def search(
    system: str,
    request: Request,
    caller: Typeahead,
    q: Annotated[str, Query(max_length=200)] = "",
    on: Annotated[IsoDate | None, Query(alias="date", description=_DATE_HELP)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
) -> Response:
    """Typeahead: a code (with or without the dot) and the codes below it; else titles with
    every word (abbreviations, synonyms and one-letter typos included), the billable code
    that the words explain best first, "unspecified" before rarer specific codes."""
    # The versions in force and their index are in memory: the search runs here, on the event
    # loop (tens of microseconds, less than a worker-thread hop), and is encoded once.
    # The plain case is answered before routing (TypeaheadFastPath below); here
    # the rest: a key not verified a moment ago, parameters it leaves to FastAPI, errors.
    versions: VersionCache = request.app.state.code_versions
    answered = answer(versions, caller, system, q, on, limit)
    if answered is None:  # no fresh versions or no index yet: read them (and build it) now
        day = on or org_clock.local_date_in(caller.time_zone, datetime.now(UTC))
        session = open_read_session(request)
        return await run_read(session, _search, versions, system, q, day, limit)
    return answered


@router.get(
    "/{system}/{code}",
    summary="Read a code and the codes below it",
    responses=problem_responses(401, 403, 404, 422),
)
async def read(
    system: str,
    code: Annotated[str, Path(max_length=40)],
    session: ReadSessionDep,
    user: Reader,
    versions: Versions,
    on: Annotated[IsoDate | None, Query(alias="date", description=_DATE_HELP)] = None,
) -> CodeRead:
    return await run_read(session, _read, user, versions, system, code, on)


# --- the typeahead's fast path ----------------------------------------------------------------
# Issue 21: `GET /api/v1/codes/{system}` answered before routing
# when everything it needs is in memory, for a keystroke costs little more than a bare route.
#
# The search route above stays the definition: its parameters, its OpenAPI
# entry and every error. This ASGI layer sits inside the request guards (request id, body and
# NUL checks, access log, Cache-Control) and answers only the plain case: GET, one path segment,
# no query parameter but `q` (at most 200 characters), `limit` (1 to MAX_LIMIT, digits) and
# `date` (YYYY-MM-DD), each at most once; an API key verified a moment ago
# (service/auth/verified_keys.py: checked against the database within the last five seconds, so
# a revoked key is refused within that bound); the versions in force cached and their index
# built. Anything else goes on to the route, which answers as it always did (the same 200, or
# the problem+json of a 400, 401, 403, 404 or 422). Codes are not patient data: no audit row.

PREFIX = "/api/v1/codes/"
MAX_QUERY = 200  # the route's Query(max_length=200)
ROLES = frozenset(Role)  # every role reads codes
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
        caller = state.verified_keys.get(authorization(scope), client[0] if client else "")
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


def install_fast_path(app: FastAPI) -> None:
    """Call before any other middleware is added: it must run inside them all."""
    app.state.verified_keys = VerifiedKeys()
    app.add_middleware(TypeaheadFastPath)
