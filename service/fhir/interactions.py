"""FHIR interactions on the registered types: read, create (conditional), update (versioned),
search (searchset Bundles with paging and _include), and the CapabilityStatement. No HTTP here:
`http.py`/`routes.py` hand these a `Context`."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa
from sqlmodel import Session

from service.auth.logic import Principal
from service.errors import NotFound, PermissionDenied
from service.fhir import history, resources, subsetting
from service.fhir.mapping import REGISTRY
from service.fhir.mapping.base import Criterion, FhirType, Refs, SortKey, iso_instant
from service.fhir.outcomes import MultipleMatches, NotSupported, UpdateCreateNotSupported, invalid
from service.outbox import fhir as subscription_fhir
from service.paging import DEFAULT_LIMIT, MAX_LIMIT
from service.records import utcnow

FHIR_VERSION = "4.0.1"
# Parameters every search accepts besides the type's own (and ones clients add that change
# nothing here: fhirpy's _totalMethod, _pretty).
_RESULT_PARAMS = {"_format", "_pretty", "_totalMethod"}
_TOTALS = ("none", "estimate", "accurate")


@dataclass
class Context:
    session: Session
    actor: Principal
    base_url: str  # e.g. https://host/fhir


@dataclass
class Written:
    """The outcome of a write: 201 created, 200 updated or found by If-None-Exist."""

    status: int
    mapping: FhirType
    row: Any
    resource: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> int:
        return self.mapping.version(self.row)

    def location(self, base_url: str) -> str:
        return f"{base_url}/{self.mapping.type_name}/{self.row.id}/_history/{self.version}"


def mapping_for(type_name: str) -> FhirType:
    mapping = REGISTRY.get(type_name)
    if mapping is None:
        raise NotSupported(f"This server does not serve {type_name} resources; see /fhir/metadata.")
    return mapping


def require_interaction(mapping: FhirType, interaction: str) -> None:
    """A transaction entry may ask for what the type's routes do not offer (read-only types)."""
    if interaction not in mapping.interactions:
        error = NotSupported(
            f"{mapping.type_name} does not support {interaction}; it offers "
            + ", ".join(mapping.interactions)
            + " (see /fhir/metadata)."
        )
        error.status = 405
        raise error


def require_role(mapping: FhirType, actor: Principal, *, write: bool) -> None:
    allowed = mapping.writers if write else mapping.readers
    if not actor.roles & allowed:
        verb = "write" if write else "read"
        raise PermissionDenied(
            f"Your role may not {verb} {mapping.type_name}. Allowed: "
            + ", ".join(sorted(allowed))
            + "."
        )


def etag(version: int) -> str:
    return f'W/"{version}"'


def parse_etag(value: str | None, where: str = "If-Match") -> int | None:
    """`W/"3"` (or `"3"`, `3`) -> 3."""
    if value is None:
        return None
    tag = value.strip().removeprefix("W/").strip('"')
    if not (tag.isascii() and tag.isdigit()) or len(tag) > 18:  # a 64-bit version at most
        raise invalid(where, 'must be an ETag this server sent, like W/"3"', status=400)
    return int(tag)


def read(ctx: Context, type_name: str, record_id: str) -> Written:
    mapping = mapping_for(type_name)
    row = mapping.read(ctx.session, ctx.actor, record_id)
    return Written(200, mapping, row, mapping.to_fhir(row))


def vread(ctx: Context, type_name: str, record_id: str, version_id: str) -> dict[str, Any]:
    """[type]/[id]/_history/[vid]: the current version from the record, older ones from the
    snapshots FHIR writes left (a version written through REST was not kept: 404 says so)."""
    mapping = mapping_for(type_name)
    require_interaction(mapping, "vread")
    current = read(ctx, type_name, record_id)
    # ASCII digits only: str.isdigit() also takes "³", which int() refuses (a 500 found by fuzzing).
    if not (version_id.isascii() and version_id.isdigit()) or len(version_id) > 18:
        raise NotFound(f"{type_name}/{record_id} has no version {version_id!r}.")
    if int(version_id) == current.version:
        return current.resource
    kept = history.get(
        ctx.session, ctx.actor.organization_id, type_name, record_id, int(version_id)
    )
    if kept is None:
        raise NotFound(
            f"Version {version_id} of {type_name}/{record_id} is not kept: versions are kept "
            f"when written through FHIR; the current version is {current.version}."
        )
    return dict(kept.body)


def instance_history(ctx: Context, type_name: str, record_id: str) -> dict[str, Any]:
    """[type]/[id]/_history: a history Bundle, newest first (FHIR 3.1.0.9)."""
    mapping = mapping_for(type_name)
    require_interaction(mapping, "history-instance")
    current = read(ctx, type_name, record_id)
    kept = history.versions(ctx.session, ctx.actor.organization_id, type_name, record_id)
    bodies = [current.resource] + [dict(v.body) for v in kept if v.version != current.version]
    methods = {v.version: v.method for v in kept}
    url = f"{ctx.base_url}/{type_name}/{record_id}"
    entries = []
    for body in bodies:
        version = int(body["meta"]["versionId"])
        method = methods.get(version, "PUT" if version > 1 else "POST")
        entries.append(
            {
                "fullUrl": url,
                "resource": body,
                "request": {
                    "method": method,
                    "url": type_name if method == "POST" else f"{type_name}/{record_id}",
                },
                "response": {
                    "status": "201 Created" if method == "POST" else "200 OK",
                    "etag": etag(version),
                    "lastModified": body["meta"]["lastUpdated"],
                },
            }
        )
    return {
        "resourceType": "Bundle",
        "type": "history",
        "total": len(entries),
        "link": [{"relation": "self", "url": f"{url}/_history"}],
        "entry": entries,
    }


def _check_body(mapping: FhirType, body: Any, root: str | None) -> dict[str, Any]:
    resources.validate(mapping.type_name, body, root=root)
    assert isinstance(body, dict)
    return body


# pg_advisory_xact_lock namespace of conditional writes (any fixed number no other lock uses).
_CONDITIONAL_LOCK = 72_054


def serialize_conditional(ctx: Context, type_name: str, query: str) -> None:
    """PostgreSQL: two requests with the same conditional create/update take turns, so that the
    second one's search sees what the first committed (READ COMMITTED: each statement reads the
    latest commit) and finds it instead of creating a twin. SQLite serializes writers already."""
    if ctx.session.get_bind().dialect.name == "postgresql":
        key = _conditional_key(ctx, type_name, query)
        if key in ctx.session.info.get(_LOCKED, ()):
            return  # taken with the transaction Bundle's others (conditional_locks)
        ctx.session.execute(
            sa.text("SELECT pg_advisory_xact_lock(:ns, hashtext(:key))"),
            {"ns": _CONDITIONAL_LOCK, "key": key},
        )


def _conditional_key(ctx: Context, type_name: str, query: str) -> str:
    return f"{ctx.actor.organization_id}:{type_name}:{sorted(parse_qsl(query.lstrip('?')))}"


# session.info key: the conditional locks a transaction Bundle took up front.
_LOCKED = "fhir_conditional_locks"


@contextmanager
def conditional_locks(ctx: Context, conditionals: list[tuple[str, str]]) -> Iterator[None]:
    """PostgreSQL: the locks of a transaction Bundle's conditional writes (type, criteria) in
    one statement instead of one round trip each, in sorted order (two Bundles wanting the same
    ones queue instead of deadlocking); serialize_conditional then skips them. They are held
    until the transaction ends, as serialize_conditional's are."""
    keys = sorted({_conditional_key(ctx, kind, query) for kind, query in conditionals})
    if not keys or ctx.session.get_bind().dialect.name != "postgresql":
        yield
        return
    ctx.session.execute(
        sa.text(
            "SELECT pg_advisory_xact_lock(:ns, hashtext(k)) FROM unnest(CAST(:keys AS text[])) k"
        ),
        {"ns": _CONDITIONAL_LOCK, "keys": keys},
    )
    ctx.session.info[_LOCKED] = set(keys)
    try:
        yield
    finally:
        ctx.session.info.pop(_LOCKED, None)


def conditional_matches(
    ctx: Context, mapping: FhirType, query: str, where: str = "If-None-Exist"
) -> list[Any]:
    """The rows a conditional query (`identifier=system|value`) matches (at most 2)."""
    pairs = parse_qsl(query.lstrip("?"), keep_blank_values=True)
    if not pairs:
        raise invalid(where, "must be search parameters, like identifier=system|value", status=400)
    criteria, _ = parse_search(mapping, pairs)
    if not criteria:
        raise invalid(where, "names no search criteria the server can match on", status=400)
    return list(mapping.matches(ctx.session, ctx.actor, criteria, limit=2))


def _written(
    ctx: Context,
    mapping: FhirType,
    status: int,
    row: Any,
    resource: dict[str, Any],
    root: str | None,
    method: str,
) -> Written:
    """A stored create or update: its identifiers kept, its version snapshotted for vread."""
    mapping.keep(
        ctx.session,
        ctx.actor.organization_id,
        row,
        resource,
        root or mapping.type_name,
        fresh=status == 201,
    )
    written = Written(status, mapping, row, mapping.to_fhir(row))
    if mapping.keeps_history:
        history.record(
            ctx.session, ctx.actor.organization_id, written.resource, method, fresh=status == 201
        )
    return written


def create(
    ctx: Context,
    type_name: str,
    body: Any,
    *,
    if_none_exist: str | None = None,
    refs: Refs | None = None,
    root: str | None = None,
    absent: bool = False,
) -> Written:
    """`absent`: the caller knows `if_none_exist` matches nothing (under its lock), so it is
    not searched again (a transaction Bundle searches all of its conditional creates at once)."""
    mapping = mapping_for(type_name)
    require_interaction(mapping, "create")
    resource = _check_body(mapping, body, root)
    if if_none_exist and not absent:
        serialize_conditional(ctx, type_name, if_none_exist)
        found = conditional_matches(ctx, mapping, if_none_exist)
        if len(found) > 1:
            raise MultipleMatches(
                f"If-None-Exist matches more than one {type_name}; nothing was created."
            )
        if found:
            return Written(200, mapping, found[0], mapping.to_fhir(found[0]))
    row = mapping.create(ctx.session, ctx.actor, resource, refs or Refs(ctx.base_url))
    return _written(ctx, mapping, 201, row, resource, root, "POST")


def update(
    ctx: Context,
    type_name: str,
    record_id: str,
    body: Any,
    *,
    expected_version: int | None,
    refs: Refs | None = None,
    root: str | None = None,
) -> Written:
    mapping = mapping_for(type_name)
    require_interaction(mapping, "update")
    resource = _check_body(mapping, body, root)
    if resource.get("id") != record_id:
        raise invalid(
            f"{root or type_name}.id",
            f"must be present and equal the id in the URL ({record_id})",
            status=400,
        )
    if not mapping.exists(ctx.session, ctx.actor, record_id):
        raise UpdateCreateNotSupported(
            f"There is no {type_name}/{record_id} to update, and this server does not create "
            f"resources with a client-chosen id: POST to /fhir/{type_name} (If-None-Exist makes "
            "it safe to retry), or PUT with search criteria (conditional update)."
        )
    if mapping.keeps_history:
        # The version being replaced, if no FHIR write left it (REST, or a Condition's coding).
        before = mapping.current(ctx.session, ctx.actor, record_id)
        method = "PUT" if int(before["meta"]["versionId"]) > 1 else "POST"
        history.record(ctx.session, ctx.actor.organization_id, before, method)
    row = mapping.update(
        ctx.session,
        ctx.actor,
        record_id,
        resource,
        refs or Refs(ctx.base_url),
        expected_version,
    )
    return _written(ctx, mapping, 200, row, resource, root, "PUT")


def conditional_update(
    ctx: Context,
    type_name: str,
    query: str,
    body: Any,
    *,
    refs: Refs | None = None,
    root: str | None = None,
    where: str = "url",
) -> Written:
    """PUT [type]?criteria (FHIR 3.1.0.4.3): no match creates, one match is updated, several
    are 412. The criteria should be an identifier, as with If-None-Exist."""
    mapping = mapping_for(type_name)
    require_interaction(mapping, "update")
    resource = _check_body(mapping, body, root)
    serialize_conditional(ctx, type_name, query)
    found = conditional_matches(ctx, mapping, query, where)
    if len(found) > 1:
        raise MultipleMatches(
            f"The conditional update matches more than one {type_name}; nothing was changed."
        )
    if not found:  # a create: the server assigns the id (one in the body is ignored, as on POST)
        return create(ctx, type_name, resource, refs=refs, root=root)
    record_id = found[0].id
    if resource.get("id") not in (None, record_id):
        raise invalid(
            f"{root or type_name}.id",
            f"must be absent or the matching id ({record_id})",
            status=400,
        )
    return update(
        ctx,
        type_name,
        record_id,
        {**resource, "id": record_id},
        expected_version=None,
        refs=refs,
        root=root,
    )


@dataclass
class SearchControls:
    count: int = DEFAULT_LIMIT
    cursor: str | None = None
    includes: list[str] = field(default_factory=list)
    shape: subsetting.Shape = field(default_factory=subsetting.Shape)
    sort: tuple[SortKey, ...] = ()
    total: str = "accurate"
    ignored: list[str] = field(default_factory=list)  # handling=lenient: left out of `self`

    @property
    def summary_count(self) -> bool:
        return self.shape.summary == "count"


def parse_search(
    mapping: FhirType, pairs: list[tuple[str, str]], *, lenient: bool = False
) -> tuple[list[Criterion], SearchControls]:
    """Criteria and result controls. An unknown parameter is 400, or with `Prefer:
    handling=lenient` left out (FHIR 3.1.1.5.5) and not shown in the Bundle's self link."""
    criteria: list[Criterion] = []
    controls = SearchControls(shape=subsetting.parse(pairs, search=True))
    for key, value in pairs:
        name, _, modifier = key.partition(":")
        if name in ("_summary", "_elements"):
            continue
        if name == "_sort":
            keys = [k.strip() for k in value.split(",") if k.strip()]
            controls.sort = tuple(SortKey(k.lstrip("-"), k.startswith("-")) for k in keys)
            for sort_key in controls.sort:
                mapping.check_sort(sort_key)
        elif name == "_total":
            if value not in _TOTALS:
                raise invalid("_total", "must be none, estimate or accurate", status=400)
            controls.total = value
        elif name == "_count":
            if not (value.isascii() and value.isdigit()):  # "³".isdigit() is true
                raise invalid("_count", "must be a whole number", status=400)
            controls.count = min(int(value), MAX_LIMIT)
        elif name == "_cursor":
            controls.cursor = value or None
        elif name == "_include":
            parts = value.split(":")
            include = ":".join(parts[:2])
            if include not in mapping.includes or (
                len(parts) == 3 and parts[2] != mapping.includes[include].target
            ):
                raise NotSupported(
                    f"_include={value} is not supported for {mapping.type_name}; supported: "
                    + (", ".join(mapping.includes) or "none")
                    + "."
                )
            controls.includes.append(include)
        elif name in _RESULT_PARAMS:
            continue
        elif value == "":
            continue  # FHIR: an empty parameter value is ignored
        elif name not in mapping.search_params:
            if not lenient:
                raise NotSupported(
                    f"{mapping.type_name} search does not support the parameter {name!r}; "
                    "see /fhir/metadata (or send Prefer: handling=lenient to have it ignored)."
                )
            controls.ignored.append(key)
        else:
            criteria.append(Criterion(name, modifier or None, tuple(value.split(","))))
    return criteria, controls


def search(
    ctx: Context,
    type_name: str,
    pairs: list[tuple[str, str]],
    *,
    lenient: bool = False,
) -> dict[str, Any]:
    """A searchset Bundle: `total`, `self` and `next` links (the REST cursor), the matches and
    the `_include`d resources (search.mode include). The self link shows the parameters used."""
    mapping = mapping_for(type_name)
    criteria, controls = parse_search(mapping, pairs, lenient=lenient)
    result = mapping.search(
        ctx.session,
        ctx.actor,
        criteria,
        count=controls.count,
        cursor=controls.cursor,
        summary_count=controls.summary_count,
        sort=controls.sort,
    )
    used = [(k, v) for k, v in pairs if k not in controls.ignored]
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if controls.total != "none" or controls.summary_count:
        bundle["total"] = result.total
    base = f"{ctx.base_url}/{type_name}"
    bundle["link"] = [{"relation": "self", "url": f"{base}?{urlencode(used)}" if used else base}]
    if result.next_cursor:
        kept = [(k, v) for k, v in used if k != "_cursor"]
        query = urlencode([*kept, ("_cursor", result.next_cursor)])
        bundle["link"].append({"relation": "next", "url": f"{base}?{query}"})
    entries = [
        {
            "fullUrl": f"{ctx.base_url}/{type_name}/{row.id}",
            "resource": subsetting.apply(mapping.to_fhir(row), controls.shape),
            "search": {"mode": "match"},
        }
        for row in result.rows
    ]
    seen: set[tuple[str, str]] = set()
    for include_name in controls.includes:
        include = mapping.includes[include_name]
        target = REGISTRY[include.target]
        included = include.rows(ctx.session, ctx.actor, result.rows)
        target.audit_included(ctx.session, ctx.actor, included)
        for row in included:
            if (include.target, row.id) in seen:
                continue
            seen.add((include.target, row.id))
            entries.append(
                {
                    "fullUrl": f"{ctx.base_url}/{include.target}/{row.id}",
                    "resource": subsetting.apply(target.to_fhir(row), controls.shape),
                    "search": {"mode": "include"},
                }
            )
    if entries:
        bundle["entry"] = entries
    return bundle


def capability_statement(base_url: str, software_version: str) -> dict[str, Any]:
    """Exactly what this server does: types, interactions, search parameters, includes, sorts.
    No empty arrays (ele-1): an element with nothing to say is left out."""
    rest_resources = []
    for mapping in REGISTRY.values():
        entry: dict[str, Any] = {"type": mapping.type_name}
        if mapping.profiles:
            entry["supportedProfile"] = list(mapping.profiles)
        if mapping.documentation:
            entry["documentation"] = mapping.documentation
        entry.update(
            {
                "interaction": [{"code": code} for code in mapping.interactions],
                "versioning": "versioned-update"
                if "update" in mapping.interactions
                else "versioned",
                "readHistory": "vread" in mapping.interactions,
                "updateCreate": False,
                "conditionalCreate": "create" in mapping.interactions,
                "conditionalRead": "not-supported",
                "conditionalUpdate": "update" in mapping.interactions,
                "conditionalDelete": "not-supported",
            }
        )
        if mapping.includes:
            entry["searchInclude"] = sorted(mapping.includes)
        if mapping.search_params:
            entry["searchParam"] = [
                {"name": p.name, "type": p.type, "documentation": p.documentation}
                for p in mapping.search_params.values()
            ]
        rest_resources.append(entry)
    rest_resources.append(subscription_fhir.CAPABILITY)  # fed by the outbox (service/outbox)
    return {
        "resourceType": "CapabilityStatement",
        "name": "BackOfficeFhirServer",
        "title": "Back office FHIR R4 server",
        "status": "active",
        "date": iso_instant_now(),
        "publisher": "Back office service",
        "kind": "instance",
        "software": {"name": "Back office service", "version": software_version},
        "implementation": {"description": "Back office FHIR R4 API", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json", "application/json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Scoped to the caller's organization. Searches (GET, or POST [type]/_search "
                    f"with a form body) accept _count (default {DEFAULT_LIMIT}, max {MAX_LIMIT}), "
                    "_include, _sort (_id, _lastUpdated, and the types' date parameters; - for "
                    "descending), _summary=true|data|count, _elements, _total=none|accurate; "
                    "paging follows the Bundle's next link. Unknown parameters are 400 unless "
                    "Prefer: handling=lenient. Writes honour Prefer: return=minimal|"
                    "representation|OperationOutcome; POST /fhir honours Idempotency-Key. "
                    "Conditional references (Type?identifier=system|value) and urn:uuid: "
                    "placeholders inside search criteria are resolved in transactions."
                ),
                "security": {
                    "cors": False,
                    "description": "Send `Authorization: Bearer <api key>`; roles as in the "
                    "REST API (integration is the EHR role).",
                },
                "resource": rest_resources,
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
            }
        ],
    }


def iso_instant_now() -> str:
    return iso_instant(utcnow())
