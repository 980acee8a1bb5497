"""FHIR interactions on the registered types: read, create (conditional), update (versioned),
search (searchset Bundles with paging and _include), and the CapabilityStatement. No HTTP here:
`http.py`/`routes.py` hand these a `Context`."""

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlmodel import Session

from service.auth.logic import Principal
from service.errors import PermissionDenied
from service.fhir import resources
from service.fhir.mapping import REGISTRY
from service.fhir.mapping.base import Criterion, FhirType, Refs, iso_instant
from service.fhir.outcomes import MultipleMatches, NotSupported, invalid
from service.paging import DEFAULT_LIMIT, MAX_LIMIT
from service.records import utcnow

FHIR_VERSION = "4.0.1"
# Parameters every search accepts besides the type's own (and ones clients add that change
# nothing here: fhirpy's _totalMethod, _pretty).
_RESULT_PARAMS = {"_count", "_cursor", "_include", "_summary", "_format", "_pretty", "_totalMethod"}


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


def _check_body(mapping: FhirType, body: Any, root: str | None) -> dict[str, Any]:
    resources.validate(mapping.type_name, body, root=root)
    assert isinstance(body, dict)
    return body


def conditional_matches(ctx: Context, mapping: FhirType, query: str) -> list[Any]:
    """The rows an If-None-Exist query (`identifier=system|value`) matches (at most 2)."""
    pairs = parse_qsl(query.lstrip("?"), keep_blank_values=True)
    if not pairs:
        raise invalid(
            "If-None-Exist", "must be search parameters, like identifier=system|value", status=400
        )
    criteria, _ = parse_search(mapping, pairs)
    return list(mapping.search(ctx.session, ctx.actor, criteria, count=2, cursor=None).rows)


def create(
    ctx: Context,
    type_name: str,
    body: Any,
    *,
    if_none_exist: str | None = None,
    refs: Refs | None = None,
    root: str | None = None,
) -> Written:
    mapping = mapping_for(type_name)
    require_interaction(mapping, "create")
    resource = _check_body(mapping, body, root)
    if if_none_exist:
        found = conditional_matches(ctx, mapping, if_none_exist)
        if len(found) > 1:
            raise MultipleMatches(
                f"If-None-Exist matches more than one {type_name}; nothing was created."
            )
        if found:
            return Written(200, mapping, found[0], mapping.to_fhir(found[0]))
    row = mapping.create(ctx.session, ctx.actor, resource, refs or Refs(ctx.base_url))
    return Written(201, mapping, row, mapping.to_fhir(row))


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
    row = mapping.update(
        ctx.session,
        ctx.actor,
        record_id,
        resource,
        refs or Refs(ctx.base_url),
        expected_version,
    )
    return Written(200, mapping, row, mapping.to_fhir(row))


@dataclass
class SearchControls:
    count: int = DEFAULT_LIMIT
    cursor: str | None = None
    includes: list[str] = field(default_factory=list)
    summary_count: bool = False


def parse_search(
    mapping: FhirType, pairs: list[tuple[str, str]]
) -> tuple[list[Criterion], SearchControls]:
    criteria: list[Criterion] = []
    controls = SearchControls()
    for key, value in pairs:
        name, _, modifier = key.partition(":")
        if name == "_count":
            if not value.isdigit():
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
        elif name == "_summary":
            if value == "count":
                controls.summary_count = True
            elif value != "false":
                raise NotSupported("Only _summary=count and _summary=false are supported.")
        elif name in _RESULT_PARAMS:
            continue
        elif value == "":
            continue  # FHIR: an empty parameter value is ignored
        else:
            criteria.append(Criterion(name, modifier or None, tuple(value.split(","))))
    for c in criteria:
        if c.name not in mapping.search_params:
            raise NotSupported(
                f"{mapping.type_name} search does not support the parameter {c.name!r}; "
                "see /fhir/metadata."
            )
    return criteria, controls


def search(
    ctx: Context, type_name: str, pairs: list[tuple[str, str]], *, self_url: str
) -> dict[str, Any]:
    """A searchset Bundle: `total`, `self` and `next` links (the REST cursor), the matches and
    the `_include`d resources (search.mode include)."""
    mapping = mapping_for(type_name)
    criteria, controls = parse_search(mapping, pairs)
    result = mapping.search(
        ctx.session,
        ctx.actor,
        criteria,
        count=controls.count,
        cursor=controls.cursor,
        summary_count=controls.summary_count,
    )
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": result.total,
        "link": [{"relation": "self", "url": self_url}],
    }
    if result.next_cursor:
        kept = [(k, v) for k, v in pairs if k != "_cursor"]
        query = urlencode([*kept, ("_cursor", result.next_cursor)])
        bundle["link"].append({"relation": "next", "url": f"{ctx.base_url}/{type_name}?{query}"})
    entries = [
        {
            "fullUrl": f"{ctx.base_url}/{type_name}/{row.id}",
            "resource": mapping.to_fhir(row),
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
                    "resource": target.to_fhir(row),
                    "search": {"mode": "include"},
                }
            )
    if entries:
        bundle["entry"] = entries
    return bundle


def capability_statement(base_url: str, software_version: str) -> dict[str, Any]:
    """Exactly what this server does: types, interactions, search parameters, includes."""
    rest_resources = []
    for mapping in REGISTRY.values():
        entry: dict[str, Any] = {
            "type": mapping.type_name,
            "interaction": [{"code": code} for code in mapping.interactions],
            "versioning": "versioned-update" if "update" in mapping.interactions else "versioned",
            "readHistory": False,
            "updateCreate": False,
            "conditionalCreate": "create" in mapping.interactions,
            "conditionalRead": "not-supported",
            "conditionalUpdate": False,
            "conditionalDelete": "not-supported",
            "searchInclude": sorted(mapping.includes),
            "searchParam": [
                {"name": p.name, "type": p.type, "documentation": p.documentation}
                for p in mapping.search_params.values()
            ],
        }
        if mapping.documentation:
            entry["documentation"] = mapping.documentation
        rest_resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": iso_instant_now(),
        "kind": "instance",
        "software": {"name": "Back office service", "version": software_version},
        "implementation": {"description": "Back office FHIR R4 API", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json", "application/json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Scoped to the caller's organization. Searches accept _count (default "
                    f"{DEFAULT_LIMIT}, max {MAX_LIMIT}), _include, _summary=count; paging "
                    "follows the Bundle's next link."
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
