"""POST /fhir with a Bundle: `transaction` (all or nothing in the request's one database
transaction; urn:uuid: fullUrls resolved across entries, also inside search criteria
(`ifNoneExist`, conditional references and updates); conditional references `Type?criteria`
resolved to their one match; writes (POST, then PUT) in an order where every entry runs after
those it names, then GETs, as FHIR R4 3.1.0.11.2 orders them) and `batch` (each entry on its
own, in a savepoint)."""

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, quote

import sqlalchemy as sa

from service.audit import logic as audit
from service.audit.models import AuditEvent
from service.errors import DomainError, FieldError, InvalidInput
from service.fhir import history, interactions, kept, resources
from service.fhir.interactions import (
    Context,
    Written,
    conditional_locks,
    etag,
    mapping_for,
    require_interaction,
    require_role,
)
from service.fhir.mapping import REGISTRY
from service.fhir.mapping.base import Refs, TableMapping, iso_instant
from service.fhir.outcomes import MultipleMatches, NotSupported, invalid, outcome_for
from service.records import utcnow

_STATUS_TEXT = {200: "200 OK", 201: "201 Created"}
# A urn:uuid: placeholder in search criteria, as typed or percent-encoded.
_URN = re.compile(r"urn(?::|%3A)uuid(?::|%3A)[0-9a-f\-]{36}", re.IGNORECASE)
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


def _names(entry: _Entry) -> set[str]:
    """The urn: placeholders an entry uses: in references, in `ifNoneExist` and in its url."""
    found = set(_references(entry.resource))
    for text in (entry.if_none_exist or "", entry.query):
        found.update(u.replace("%3A", ":").replace("%3a", ":") for u in _URN.findall(text))
    return found


def _conditional_types(entry: _Entry) -> set[str]:
    """Types named by conditional references (`Patient?identifier=…`) in the entry."""
    return {r.split("?")[0] for r in _references(entry.resource) if "?" in r}


def _order(entries: list[_Entry]) -> list[_Entry]:
    """Writes (POST before PUT unless one names the other) in an order where every entry runs
    after the entries whose fullUrl it names, and after the writes of the types its conditional
    references search; then the GETs."""
    rank = {"POST": 0, "PUT": 1}
    writes = sorted((e for e in entries if e.method in rank), key=lambda e: rank[e.method])
    by_url = {e.full_url: e.index for e in writes if e.full_url}
    pending = {}
    for e in writes:
        needs = {by_url[r] for r in _names(e) if r in by_url}
        kinds = _conditional_types(e)
        needs |= {o.index for o in writes if o.type_name in kinds}
        needs.discard(e.index)
        pending[e.index] = needs
    done: set[int] = set()
    ordered: list[_Entry] = []
    while pending:
        ready = [e for e in writes if e.index in pending and pending[e.index] <= done]
        if not ready:
            raise invalid("Bundle.entry", "references between entries form a cycle", status=400)
        for entry in ready:
            ordered.append(entry)
            pending.pop(entry.index)
            done.add(entry.index)
    others = [e for e in entries if e.method not in rank]
    return ordered + others


def _resolved(text: str, local: dict[str, tuple[str, str]], where: str) -> str:
    """Search criteria with each urn: placeholder replaced by `Type/id` of the entry it names;
    a placeholder that names no entry processed before is refused, never matched literally
    (it would match nothing, and the retry would create a twin)."""

    def substitute(match: re.Match[str]) -> str:
        urn = match.group(0).replace("%3A", ":").replace("%3a", ":")
        if match.start() > 0 and text[match.start() - 1] == "|" and urn not in local:
            return match.group(0)  # an identifier value that is a uuid (system urn:ietf:rfc:3986)
        if urn not in local:
            raise invalid(
                where,
                f"{urn} is not the fullUrl of an entry of this Bundle that is written before it",
                status=400,
            )
        kind, record_id = local[urn]
        return quote(f"{kind}/{record_id}", safe="/")

    return _URN.sub(substitute, text)


def _lookup(ctx: Context, local: dict[str, tuple[str, str]]) -> Any:
    def lookup(kind: str, query: str, where: str) -> str:
        mapping = mapping_for(kind)
        require_role(mapping, ctx.actor, write=False)
        found = interactions.conditional_matches(
            ctx, mapping, _resolved(query, local, where), where
        )
        if len(found) > 1:
            raise MultipleMatches(
                f"{where}: {kind}?{query} matches more than one {kind}; a conditional reference "
                "must match exactly one."
            )
        if not found:
            raise invalid(where, f"{kind}?{query} matches no {kind}", status=400)
        return str(found[0].id)

    return lookup


# Types whose `identifier` search matches only values their own resources carry as identifiers
# (the MRN, the NPI, identifiers kept as sent): a row written by the Bundle can start matching
# a criterion only if its entry's resource carries one of the criterion's values.
_PREFETCHED = frozenset({"Patient", "Coverage", "Encounter", "ServiceRequest", "Practitioner"})
_UNION = 100  # criteria per prefetch statement


def _token_key(value: str) -> str:
    """Identifier values compared loosely (case, spaces, punctuation): a false likeness only
    sends an entry back to its own search."""
    return "".join(c for c in value if c.isalnum()).upper()


def _identifier_keys(query: str) -> frozenset[str] | None:
    """The values of criteria made only of `identifier=[system]|value` (else None)."""
    pairs = _pairs(query)
    keys = set()
    for name, value in pairs:
        if name != "identifier":
            return None
        for token in value.split(","):
            code = token.partition("|")[2] if "|" in token else token
            if not code:
                return None
            keys.add(_token_key(code))
    return frozenset(keys) if keys else None


class _Absent:
    """The conditional creates (If-None-Exist) of a transaction Bundle whose criteria matched
    nothing when it began, found with one query per type (after the conditional locks are
    held) instead of one search per entry. An entry written since whose resource carries one
    of a criterion's identifier values voids that answer: that entry then searches itself."""

    def __init__(self, ctx: Context, entries: list[_Entry]) -> None:
        self._criteria: dict[tuple[str, str], frozenset[str]] = {}
        self._written: set[str] = set()
        wanted: dict[str, dict[str, frozenset[str]]] = {}
        for entry in entries:
            if entry.method != "POST" or not entry.if_none_exist:
                continue
            query = str(entry.if_none_exist)
            keys = _identifier_keys(query) if entry.type_name in _PREFETCHED else None
            if keys is not None and not _URN.search(query):
                wanted.setdefault(entry.type_name, {})[query] = keys
        for type_name, queries in wanted.items():
            mapping = REGISTRY.get(type_name)
            if not isinstance(mapping, TableMapping) or (
                type(mapping).matches is not TableMapping.matches
            ):
                continue
            for query in _unmatched(ctx, mapping, list(queries)):
                self._criteria[(type_name, query)] = queries[query]

    def holds(self, entry: _Entry) -> bool:
        keys = self._criteria.get((entry.type_name, str(entry.if_none_exist)))
        return keys is not None and not keys & self._written

    def wrote(self, entry: _Entry) -> None:
        resource = entry.resource if isinstance(entry.resource, dict) else {}
        self._written.update(
            _token_key(value)
            for _, _, value, _ in kept.identifier_tokens(resource.get("identifier"))
        )


def _unmatched(ctx: Context, mapping: TableMapping, queries: list[str]) -> list[str]:
    """The criteria that match no row, in one statement per _UNION of them: `SELECT k WHERE
    EXISTS (the search k)` for each, as a UNION ALL. Criteria the search refuses are left out
    (their entry searches, and fails, on its own)."""
    searches: list[tuple[str, Any]] = []
    for query in queries:
        try:
            criteria, _ = interactions.parse_search(mapping, _pairs(query))
            search = mapping.query(ctx.actor, criteria) if criteria else None
        except DomainError:
            continue
        if search is not None:
            searches.append((query, search))
    unmatched = []
    for start in range(0, len(searches), _UNION):
        page = searches[start : start + _UNION]
        union = sa.union_all(
            *(sa.select(sa.literal(k)).where(search.exists()) for k, (_, search) in enumerate(page))
        )
        matched = set(ctx.session.execute(union).scalars())
        unmatched += [query for k, (query, _) in enumerate(page) if k not in matched]
    return unmatched


def _run(
    ctx: Context,
    entry: _Entry,
    local: dict[str, tuple[str, str]],
    rows: list[Any] | None = None,
    absent: _Absent | None = None,
) -> dict[str, Any]:
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
    refs = Refs(ctx.base_url, local, _lookup(ctx, local))
    written: Written
    if entry.method == "POST":
        if len(parts) != 1:
            raise invalid(
                f"{entry.where}.request.url", "a create goes to the type: Patient", status=400
            )
        if_none_exist = entry.if_none_exist
        if if_none_exist:
            if_none_exist = _resolved(
                str(if_none_exist), local, f"{entry.where}.request.ifNoneExist"
            )
        written = interactions.create(
            ctx,
            entry.type_name,
            entry.resource,
            if_none_exist=if_none_exist,
            refs=refs,
            root=f"{entry.where}.resource",
            absent=absent is not None and absent.holds(entry),
        )
    elif entry.method == "PUT" and len(parts) == 1 and entry.query:
        written = interactions.conditional_update(
            ctx,
            entry.type_name,
            _resolved(entry.query, local, f"{entry.where}.request.url"),
            entry.resource,
            refs=refs,
            root=f"{entry.where}.resource",
            where=f"{entry.where}.request.url",
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
            _pairs(_resolved(entry.query, local, f"{entry.where}.request.url")),
        )
        return {"resource": bundle, "response": {"status": "200 OK"}}
    if absent is not None:
        absent.wrote(entry)
    if entry.full_url:
        local[entry.full_url] = (entry.type_name, written.row.id)
    if rows is not None:
        rows.append(written.row)
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


def _conditionals(entries: list[_Entry]) -> list[tuple[str, str]]:
    """(type, criteria) of the conditional creates and updates whose criteria name no other
    entry (those are known only once that entry is written)."""
    found = []
    for entry in entries:
        if entry.method == "POST" and entry.if_none_exist:
            query = str(entry.if_none_exist)
        elif entry.method == "PUT" and "/" not in entry.path and entry.query:
            query = entry.query
        else:
            continue
        if not _URN.search(query):
            found.append((entry.type_name, query))
    return found


def _pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def process(ctx: Context, body: Any) -> dict[str, Any]:
    kind, raw_entries = _envelope(body)
    entries = [_Entry(i, raw, ctx.base_url) for i, raw in enumerate(raw_entries)]
    results: dict[int, dict[str, Any]] = {}
    local: dict[str, tuple[str, str]] = {}
    if kind == "transaction":
        ordered = _order(entries)
        # The rows written stay referenced until the end: the session's identity map holds them
        # weakly, and a later entry's reference to one is then found there, not read back.
        rows: list[Any] = []
        with (
            audit.batched(ctx.session),
            history.batched(ctx.session),
            conditional_locks(ctx, _conditionals(ordered)),
        ):
            absent = _Absent(ctx, ordered)
            for entry in ordered:
                try:
                    results[entry.index] = _run(ctx, entry, local, rows, absent)
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
                kept.forget_written(ctx.session)
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
