"""POST /fhir with a Bundle: `transaction` (all or nothing in the request's one database
transaction; urn:uuid: fullUrls resolved across entries; entries run POST, then PUT, then GET,
as FHIR R4 3.1.0.11.2 orders them) and `batch` (each entry on its own, in a savepoint)."""

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from service.audit.models import AuditEvent
from service.errors import DomainError, FieldError, InvalidInput
from service.fhir import interactions, resources
from service.fhir.interactions import (
    Context,
    Written,
    etag,
    mapping_for,
    require_interaction,
    require_role,
)
from service.fhir.mapping.base import Refs, iso_instant
from service.fhir.outcomes import NotSupported, invalid, outcome_for
from service.records import utcnow

_STATUS_TEXT = {200: "200 OK", 201: "201 Created"}
_ACTIONS = {"POST": "create", "PUT": "update", "GET": "read"}


class _Entry:
    def __init__(self, index: int, raw: dict[str, Any], base_url: str) -> None:
        self.index = index
        self.raw = raw
        request = raw.get("request") or {}
        self.method = str(request.get("method", "")).upper()
        url = str(request.get("url", ""))
        if url.startswith(base_url + "/"):
            url = url[len(base_url) + 1 :]
        self.path, _, self.query = url.partition("?")
        self.type_name = self.path.split("/")[0]
        self.full_url = raw.get("fullUrl")
        self.resource = raw.get("resource")
        self.if_none_exist = request.get("ifNoneExist")
        self.if_match = request.get("ifMatch")
        self.where = f"Bundle.entry[{index}]"


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                yield item
            else:
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _envelope(body: Any) -> tuple[str, list[dict[str, Any]]]:
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise InvalidInput(
            "POST /fhir takes a Bundle of type transaction or batch.",
            errors=[FieldError("Bundle", "not a Bundle")],
        )
    entries = body.get("entry") or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise invalid("Bundle.entry", "must be a list of entries", status=400)
    # The envelope is checked here, each entry's resource with its own model below.
    shell = {**body, "entry": [{k: v for k, v in e.items() if k != "resource"} for e in entries]}
    resources.validate("Bundle", shell)
    kind = body.get("type")
    if kind not in ("transaction", "batch"):
        raise invalid("Bundle.type", "must be transaction or batch", status=400)
    return str(kind), entries


def _prefixed(exc: DomainError, entry: _Entry) -> DomainError:
    """Names the entry in the error: `Patient.birthDate` -> `Bundle.entry[2].resource.birthDate`."""
    errors = []
    for error in exc.errors:
        pointer = error.pointer
        if pointer.startswith(entry.type_name + ".") or pointer == entry.type_name:
            pointer = f"{entry.where}.resource" + pointer[len(entry.type_name) :]
        elif not pointer.startswith("Bundle") and not pointer.startswith("/"):
            pointer = f"{entry.where}.request.{pointer}" if pointer[:1].islower() else pointer
        errors.append(FieldError(pointer, error.detail))
    exc.errors = errors or [FieldError(entry.where, exc.detail)]
    exc.detail = f"{entry.where} ({entry.method} {entry.path}): {exc.detail}"
    return exc


def _order(entries: list[_Entry]) -> list[_Entry]:
    """POSTs in an order where every urn:uuid: reference is created before it is used."""
    posts = [e for e in entries if e.method == "POST"]
    by_url = {e.full_url: e for e in posts if e.full_url}
    pending = {
        e.index: {r for r in _references(e.resource) if r in by_url and r != e.full_url}
        for e in posts
    }
    done: set[str] = set()
    ordered: list[_Entry] = []
    while pending:
        ready = [e for e in posts if e.index in pending and pending[e.index] <= done]
        if not ready:
            raise invalid(
                "Bundle.entry", "urn:uuid: references between entries form a cycle", status=400
            )
        for entry in ready:
            ordered.append(entry)
            pending.pop(entry.index)
            if entry.full_url:
                done.add(entry.full_url)
    rank = {"PUT": 1, "GET": 2}
    others = sorted((e for e in entries if e.method != "POST"), key=lambda e: rank.get(e.method, 0))
    return ordered + others


def _run(ctx: Context, entry: _Entry, local: dict[str, tuple[str, str]]) -> dict[str, Any]:
    if entry.method not in _ACTIONS:
        raise NotSupported(
            f"{entry.where}.request.method {entry.method or '(none)'} is not supported here."
        )
    mapping = mapping_for(entry.type_name)
    parts = entry.path.split("/")
    interaction = {"POST": "create", "PUT": "update"}.get(
        entry.method, "read" if len(parts) == 2 else "search-type"
    )
    require_interaction(mapping, interaction)
    require_role(mapping, ctx.actor, write=entry.method != "GET")
    refs = Refs(ctx.base_url, local)
    written: Written
    if entry.method == "POST":
        if len(parts) != 1:
            raise invalid(
                f"{entry.where}.request.url", "a create goes to the type: Patient", status=400
            )
        written = interactions.create(
            ctx,
            entry.type_name,
            entry.resource,
            if_none_exist=entry.if_none_exist,
            refs=refs,
            root=f"{entry.where}.resource",
        )
    elif entry.method == "PUT":
        if len(parts) != 2:
            raise invalid(f"{entry.where}.request.url", "an update goes to Type/id", status=400)
        written = interactions.update(
            ctx,
            entry.type_name,
            parts[1],
            entry.resource,
            expected_version=interactions.parse_etag(
                entry.if_match, f"{entry.where}.request.ifMatch"
            ),
            refs=refs,
            root=f"{entry.where}.resource",
        )
    elif len(parts) == 2:
        written = interactions.read(ctx, entry.type_name, parts[1])
    else:
        bundle = interactions.search(
            ctx,
            entry.type_name,
            _pairs(entry.query),
            self_url=f"{ctx.base_url}/{entry.path}" + (f"?{entry.query}" if entry.query else ""),
        )
        return {"resource": bundle, "response": {"status": "200 OK"}}
    if entry.full_url:
        local[entry.full_url] = (entry.type_name, written.row.id)
    return {
        "fullUrl": f"{ctx.base_url}/{entry.type_name}/{written.row.id}",
        "resource": written.resource,
        "response": {
            "status": _STATUS_TEXT[written.status],
            "location": written.location(ctx.base_url),
            "etag": etag(written.version),
            "lastModified": iso_instant(written.mapping.last_updated(written.row)),
        },
    }


def _pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def process(ctx: Context, body: Any) -> dict[str, Any]:
    kind, raw_entries = _envelope(body)
    entries = [_Entry(i, raw, ctx.base_url) for i, raw in enumerate(raw_entries)]
    results: dict[int, dict[str, Any]] = {}
    local: dict[str, tuple[str, str]] = {}
    if kind == "transaction":
        for entry in _order(entries):
            try:
                results[entry.index] = _run(ctx, entry, local)
            except DomainError as exc:
                raise _prefixed(exc, entry) from None
    else:
        for entry in entries:
            savepoint = ctx.session.begin_nested()
            try:
                results[entry.index] = _run(ctx, entry, {})
                savepoint.commit()
            except DomainError as exc:
                savepoint.rollback()
                status, outcome = outcome_for(_prefixed(exc, entry))
                _audit_failure(ctx, entry, status, exc.code)
                results[entry.index] = {
                    "response": {"status": str(status), "outcome": outcome},
                }
    return {
        "resourceType": "Bundle",
        "type": f"{kind}-response",
        "link": [{"relation": "self", "url": ctx.base_url}],
        "entry": [results[i] for i in range(len(entries))],
    }


def _audit_failure(ctx: Context, entry: _Entry, status: int, code: str) -> None:
    """A failed batch entry is audited in the request's transaction (the batch goes on)."""
    actor = ctx.actor
    ctx.session.add(
        AuditEvent(
            organization_id=actor.organization_id,
            user_id=actor.user_id,
            role=actor.role,
            action=_ACTIONS.get(entry.method, entry.method.lower() or "unknown"),
            resource_type=(entry.type_name or "unknown").lower()[:60],
            resource_id=entry.path.split("/")[1] if "/" in entry.path else None,
            outcome="denied" if status in (401, 403, 404) else "failed",
            at=utcnow(),
            client_address=actor.client_address,
            request_id=actor.request_id,
            detail=f"{status} {code} (batch entry {entry.index})",
        )
    )
