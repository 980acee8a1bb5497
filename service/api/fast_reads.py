"""One record read by id, answered before routing (issue 20).

`GET /api/v1/patients/{id}` is what an EHR or a clerk's screen calls most, and through FastAPI
it spent more of a core on routing past some 300 routes, solving the route's dependencies, two
worker-thread hops and the ORM than on its three statements (key check, the row, the audit row).
This layer, inside the request guards, answers the plain case of such a read itself, in one
worker-thread hop, with Core statements:

- the caller is checked against the database on every request, with the same single statement
  as every route (`authenticate_quickly`): a revoked key is refused at once, nothing is cached;
- the row is read on the same connection and rendered by the route's own function
  (`FastRead.render`: the same body and ETag, byte for byte);
- a read of patient data commits its audit row before the response leaves, through the same
  group-committing writer as the routes (`app.state.read_audit`).

Anything else goes on to the route, which answers as it always did: a query string, another
caller than a plain API key (a SMART token), a role that may not read it, a key refused or
blocked, a record missing, deleted or of another organization (the route's 401, 403 and 404,
audited as before). A path the router would give to another route is never taken here (install
checks the order of the routes).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from service.audit import logic as audit
from service.auth import logic as auth_logic
from service.auth.logic import Principal
from service.raw_sql import Statements
from service.records import utcnow
from service.request_context import authorization, header, request_id_var

log = logging.getLogger(__name__)

MAX_ID = 64  # audit_event.resource_id: no record id is longer


# Runs a SELECT on the read's cursor and returns its rows: what a render needs besides the row.
Query = Callable[[sa.Select[Any] | sa.CompoundSelect[Any], dict[str, Any]], list[Any]]
# The Accept headers a FHIR read answers without the route's content negotiation.
PLAIN_ACCEPT = frozenset({"", "*/*", "application/json", "application/fhir+json"})


@dataclass(frozen=True)
class FastRead:
    """A `GET {prefix}/{id}` route this layer may answer for."""

    prefix: str  # "/api/v1/patients"
    route_name: str  # the route it stands in for ("read_patient"): install checks the router
    table: sa.Table
    readers: frozenset[str]
    audit_type: str | None  # the audit resource type when reads are audited (patient data)
    patient_id: Callable[[Any], str | None]
    # The row as the route answers it; None leaves the answer to the route.
    render: Callable[[Any, Query], Response | None]
    accept: frozenset[str] | None = None  # the Accept headers taken (None: any)
    select: sa.Select[Any] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        by_id = sa.select(self.table).where(self.table.c.id == sa.bindparam("id"))
        object.__setattr__(self, "select", by_id)


# Filled as the route modules are imported (service/api/crud_routes.py).
REGISTRY: list[FastRead] = []


def register(read: FastRead) -> None:
    REGISTRY[:] = [r for r in REGISTRY if r.prefix != read.prefix] + [read]


def plain_caller(
    first: Any, credentials: str | None, address: str, roles: frozenset[str]
) -> Principal | None:
    """The caller a fast path answers: an API key (not a SMART token) with one of `roles`,
    checked by the routes' own single statement (`first` runs it); None leaves the request to
    the route, which says why."""
    caller = auth_logic.authenticate_quickly(first, credentials, address, utcnow())
    if caller is None:
        return None
    principal = caller.principal
    if principal.scopes is not None or not principal.roles & roles:
        return None
    return replace(principal, request_id=request_id_var.get())


def answer(state: State, read: FastRead, record_id: str, credentials: str | None,
           address: str) -> Response | None:  # fmt: skip
    """The route's 200 response, its audit row committed; None for the route to answer."""
    statements: Statements = state.raw_statements
    with statements.cursor() as cursor:  # the key check, then the row

        def first(statement: sa.Select[Any], values: dict[str, Any]) -> Any:
            return statements[statement].first(cursor, values)

        def query(
            statement: sa.Select[Any] | sa.CompoundSelect[Any], values: dict[str, Any]
        ) -> list[Any]:
            return statements[statement].all(cursor, values)

        principal = plain_caller(first, credentials, address, read.readers)
        if principal is None:
            return None
        row = first(read.select, {"id": record_id})
        if (
            row is None
            or row.organization_id != principal.organization_id
            or row.deleted_at is not None
        ):
            return None
        response = read.render(row, query)
        if response is None:
            return None
    # The read transaction is over; the audit row commits in its own, before the answer leaves.
    if read.audit_type is not None:
        values = audit.event_values(
            principal, "read", read.audit_type, row.id, read.patient_id(row)
        )
        state.read_audit.write([values])
    return response


def _accept(scope: Scope) -> str:
    return (header(scope, b"accept") or "").strip().lower()


_told: set[tuple[str, str]] = set()  # (prefix, error class) already logged


def tell_once(prefix: str, what: str, exc: Exception) -> None:
    """A fast path that failed (the route answers instead), logged once per prefix and error
    class: a lost database would say so on every request."""
    told = (prefix, type(exc).__name__)
    if told not in _told:
        _told.add(told)
        log.warning("%s fast %s failed (%s); the route answers", prefix, what, told[1])


def _answer_or_none(state: State, read: FastRead, *args: Any) -> Response | None:
    try:
        return answer(state, read, *args)
    except Exception as exc:  # the route answers, with its own error handling (503, 500)
        tell_once(read.prefix, "read", exc)
        return None


class RecordReadFastPath:
    def __init__(self, app: ASGIApp, reads: dict[str, FastRead], taken: frozenset[str]) -> None:
        self.app = app
        self.reads = reads  # by prefix
        self.taken = taken  # paths another route answers (`/api/v1/patients/duplicates`)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]:
            path: str = scope["path"]
            prefix, _, record_id = path.rpartition("/")
            read = self.reads.get(prefix)
            if (
                read is not None
                and 0 < len(record_id) <= MAX_ID
                and path not in self.taken
                and (read.accept is None or _accept(scope) in read.accept)
            ):
                client = scope.get("client")
                response = await run_in_threadpool(
                    _answer_or_none,
                    scope["app"].state,
                    read,
                    record_id,
                    authorization(scope),
                    client[0] if client else "",
                )
                if response is not None:
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def routes_in_order(routes: list[Any]) -> list[Any]:
    """The app's routes in the order the router tries them (FastAPI nests included routers)."""
    found: list[Any] = []
    for route in routes:
        candidates = getattr(route, "effective_candidates", None)
        found += routes_in_order(candidates()) if callable(candidates) else [route]
    return found


def picks(routes: list[Any], prefix: str, method: str, route_name: str) -> bool:
    """Whether the router gives `{method} {prefix}/{id}` to the route named `route_name`."""
    scope = {"type": "http", "method": method, "path": f"{prefix}/{'0' * 32}", "root_path": ""}
    for route in routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return getattr(route, "name", None) == route_name
    return False


def literal_siblings(routes: list[Any], prefix: str, method: str) -> set[str]:
    """The paths `{prefix}/word` another `method` route answers (`/api/v1/patients/duplicates`):
    never taken for an id."""
    taken: set[str] = set()
    for route in routes:
        path = getattr(route, "path", "")
        parent, _, last = path.rpartition("/")
        if parent == prefix and "{" not in last and method in getattr(route, "methods", ()):
            taken.add(path)
    return taken


def install(app: FastAPI, routes: list[Any]) -> None:
    """Call after the routers are included and before the request guards are added, with
    `routes_in_order(app.router.routes)`. A read whose route is not the one the router picks
    for `{prefix}/{id}` is left to the router."""
    reads = {r.prefix: r for r in REGISTRY if picks(routes, r.prefix, "GET", r.route_name)}
    taken = frozenset(s for r in reads for s in literal_siblings(routes, r, "GET"))
    with app.state.session_factory() as session:  # the sessions' own database (tests: theirs)
        app.state.raw_statements = Statements(session.get_bind())
    app.add_middleware(RecordReadFastPath, reads=reads, taken=taken)
