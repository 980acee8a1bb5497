"""A merge-patch of one record, answered before routing (issue 20).

Through FastAPI a `PATCH /api/v1/patients/{id}` spent twice as much of a core on routing,
solving its dependencies and three worker-thread hops as on its own work. On PostgreSQL all
patches of one record queue on its row lock, and the lock was held across the hop between the
route and the commit of its session dependency, so every waiting patch paid for the event loop's
other work too.

This layer, inside the request guards (which have checked the body's size and media type),
runs the plain case in one worker-thread hop: the same write transaction as the route
(`db.write_session`: SQLite's write turn, then BEGIN IMMEDIATE), the same single-statement key
check, the route's own `crud.update` and render, and the commit, in that order. The row lock is
held for the work alone.

Anything else goes on to the route, which answers as it always did, with the transaction here
rolled back and the body handed on unread: a query string, a body that is not a JSON object,
an If-Match that is not one of our ETags, another caller than a plain API key, a role that may
not write, and every error of the update itself (404, 409, 412, 422: the route finds the same
and answers with its own problem document and audit).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.deps import parse_if_match
from service.api.fast_reads import MAX_ID, literal_siblings, picks, plain_caller, tell_once
from service.auth.logic import Principal
from service.db import write_session
from service.errors import DomainError
from service.request_context import authorization, header

# (session, caller, record id, merge patch, If-Match version) -> the route's 200 response.
Update = Callable[[Session, Principal, str, dict[str, Any], int | None], Response]


@dataclass(frozen=True)
class FastPatch:
    """A `PATCH {prefix}/{id}` route this layer may answer for."""

    prefix: str  # "/api/v1/patients"
    route_name: str  # the route it stands in for ("update_patient"): install checks the router
    writers: frozenset[str]
    update: Update


# Filled as the route modules are imported (service/api/crud_routes.py).
REGISTRY: list[FastPatch] = []


def register(patch: FastPatch) -> None:
    REGISTRY[:] = [p for p in REGISTRY if p.prefix != patch.prefix] + [patch]


class _ToRoute(Exception):
    """Not the plain case: roll back and let the route answer."""


def answer(state: State, patch: FastPatch, record_id: str, body: bytes, credentials: str | None,
           address: str, if_match: str | None) -> Response | None:  # fmt: skip
    """The route's 200 response, committed; None for the route to answer."""
    try:
        document = json.loads(body)
        expected = parse_if_match(if_match)
    except (ValueError, DomainError):  # the route's 400 or 422
        return None
    if not isinstance(document, dict):
        return None
    try:
        with write_session(state) as session:  # commits the update as it leaves
            actor = plain_caller(session.connection(), credentials, address, patch.writers)
            if actor is None:
                raise _ToRoute
            return patch.update(session, actor, record_id, document, expected)
    except (_ToRoute, DomainError):  # rolled back: the route finds the same and says so
        return None


def _answer_or_none(state: State, patch: FastPatch, *args: Any) -> Response | None:
    try:
        return answer(state, patch, *args)
    except Exception as exc:  # rolled back: the route answers, with its own error handling
        tell_once(patch.prefix, "patch", exc)
        return None


async def _body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The request body (buffered by the request guards: one message) and what was read."""
    chunks: list[bytes] = []
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages


class RecordPatchFastPath:
    def __init__(self, app: ASGIApp, patches: dict[str, FastPatch], taken: frozenset[str]) -> None:
        self.app = app
        self.patches = patches  # by prefix
        self.taken = taken  # paths another PATCH route answers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "PATCH" and not scope["query_string"]:
            path: str = scope["path"]
            prefix, _, record_id = path.rpartition("/")
            patch = self.patches.get(prefix)
            if patch is not None and 0 < len(record_id) <= MAX_ID and path not in self.taken:
                body, messages = await _body(receive)
                if messages[-1]["type"] == "http.request":  # not a client gone away
                    client = scope.get("client")
                    response = await run_in_threadpool(
                        _answer_or_none,
                        scope["app"].state,
                        patch,
                        record_id,
                        body,
                        authorization(scope),
                        client[0] if client else "",
                        header(scope, b"if-match"),
                    )
                    if response is not None:
                        await response(scope, receive, send)
                        return
                receive = _replayed(messages, receive)
        await self.app(scope, receive, send)


def _replayed(messages: list[Message], upstream: Receive) -> Receive:
    """Hands what was read over again, then the real channel."""
    pending = list(messages)

    async def receive() -> Message:
        return pending.pop(0) if pending else await upstream()

    return receive


def install(app: FastAPI, routes: list[Any]) -> None:
    """Call after the routers are included and before the request guards are added. A patch
    whose route is not the one the router picks for `PATCH {prefix}/{id}` is left to it.
    `routes`: as fast_reads.install takes them."""
    patches = {p.prefix: p for p in REGISTRY if picks(routes, p.prefix, "PATCH", p.route_name)}
    taken = frozenset(s for p in patches for s in literal_siblings(routes, p, "PATCH"))
    app.add_middleware(RecordPatchFastPath, patches=patches, taken=taken)
