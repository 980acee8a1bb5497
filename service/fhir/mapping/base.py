"""What a FHIR resource type must provide (`FhirType`), and `TableMapping`, the usual case: one
FHIR type onto one record type of `service.crud`, so that FHIR writes are the same audited rows
the REST API shows."""

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from service import crud
from service.audit import logic as audit
from service.auth.logic import Principal
from service.errors import DomainError, FieldError, InvalidInput, NotFound
from service.fhir import kept
from service.fhir.outcomes import NotSupported, invalid
from service.paging import decode_cursor, encode_cursor


@dataclass(frozen=True)
class Criterion:
    """One search parameter occurrence: `name:modifier=v1,v2` (values are ORed)."""

    name: str
    modifier: str | None
    values: tuple[str, ...]


Apply = Callable[[SelectOfScalar[Any], Criterion], SelectOfScalar[Any]]


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str  # FHIR SearchParamType: token, string, date, reference
    documentation: str
    apply: Apply | None = None  # for TableMapping; other types interpret criteria themselves
    modifiers: tuple[str, ...] = ()
    column: Any = None  # what `_sort=<name>` orders by, where the parameter is one column


@dataclass(frozen=True)
class SortKey:
    """One `_sort` key: `_id`, `_lastUpdated` or a search parameter with a column."""

    name: str
    descending: bool = False


@dataclass
class SearchResult:
    rows: Sequence[Any]
    total: int
    next_cursor: str | None


@dataclass(frozen=True)
class Include:
    """`_include=Coverage:payor`: the referenced rows, rendered by `target`."""

    target: str
    rows: Callable[[Session, Principal, Sequence[Any]], Sequence[Any]]


# Conditional reference (transactions only): `Patient?identifier=…` -> the one matching id.
Lookup = Callable[[str, str, str], str]


class Refs:
    """Resolves references in an incoming resource to (type, id): `Patient/123`, an absolute URL
    on this server, a transaction's `urn:uuid:` fullUrl already created in it, or (with
    `lookup`, in transactions) a conditional reference `Patient?identifier=system|value`."""

    def __init__(
        self,
        base_url: str = "",
        local: dict[str, tuple[str, str]] | None = None,
        lookup: Lookup | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.local = local if local is not None else {}
        self.lookup = lookup

    def resolve(self, reference: Any, expression: str, expected: tuple[str, ...]) -> str:
        if not isinstance(reference, dict) or not isinstance(reference.get("reference"), str):
            raise invalid(expression, "must be a reference with a `reference` element")
        text: str = reference["reference"]
        if self.base_url and text.startswith(self.base_url + "/"):
            text = text[len(self.base_url) + 1 :]
        if text in self.local:
            kind, record_id = self.local[text]
        elif "?" in text and self.lookup is not None and not text.startswith("urn:"):
            kind, _, query = text.partition("?")
            if kind not in expected:
                raise invalid(f"{expression}.reference", f"must reference {' or '.join(expected)}")
            record_id = self.lookup(kind, query, f"{expression}.reference")
        elif text.startswith(("urn:uuid:", "urn:oid:")):
            raise invalid(
                f"{expression}.reference",
                f"{text} is not the fullUrl of an entry created earlier in this Bundle",
            )
        else:
            parts = text.split("/")
            if len(parts) == 4 and parts[2] == "_history":
                parts = parts[:2]
            if len(parts) != 2 or "://" in text or not parts[1]:
                raise invalid(
                    f"{expression}.reference",
                    "must be a relative reference like Patient/<id> to a resource on this server",
                )
            kind, record_id = parts
        if kind not in expected:
            raise invalid(f"{expression}.reference", f"must reference {' or '.join(expected)}")
        return record_id


def iso_instant(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def translated(exc: DomainError, fields: dict[str, str], root: str) -> DomainError:
    """Rewrites the JSON Pointers of shared code's errors (`/birth_date`) into the FHIRPath of
    the element they came from (`Patient.birthDate`)."""
    if not exc.errors:
        return exc
    errors = []
    for error in exc.errors:
        pointer = error.pointer
        expression = fields.get(pointer)
        while expression is None and pointer.count("/") > 1:
            pointer = pointer.rsplit("/", 1)[0]
            expression = fields.get(pointer)
        errors.append(FieldError(expression or root, error.detail))
    exc.errors = errors
    return exc


def validated(
    schema: type[BaseModel], document: dict[str, Any], fields: dict[str, str], root: str
) -> Any:
    try:
        return schema.model_validate({k: v for k, v in document.items() if v is not None})
    except ValidationError as exc:
        raise translated(crud.validation_error(exc), fields, root) from None


@dataclass
class Mapped:
    """An incoming resource as the record's create document, and where each field came from.

    In `document`, None means "clear this field" on update; an absent key means "keep it".
    """

    document: dict[str, Any]
    fields: dict[str, str] = field(default_factory=dict)


class FhirType(ABC):
    """One FHIR resource type served under /fhir/<type_name> (register it in mapping.REGISTRY)."""

    type_name: ClassVar[str]
    readers: ClassVar[frozenset[str]]
    writers: ClassVar[frozenset[str]]
    search_params: ClassVar[dict[str, SearchParam]]
    includes: ClassVar[dict[str, Include]] = {}
    # Identifier searches that make a conditional create safe (documented in the capability).
    documentation: ClassVar[str] = ""
    # The type-level interactions served (CapabilityStatement codes); routes follow this list.
    interactions: ClassVar[tuple[str, ...]] = ("read", "update", "create", "search-type")
    # `identifier` kept in fhir_identifier (the record has no column for it) and searchable.
    keeps_identifiers: ClassVar[bool] = False
    # US Core profiles claimed (CapabilityStatement supportedProfile, meta.profile): only those
    # whose required and must-support elements tests/fhir/test_us_core.py asserts.
    profiles: ClassVar[tuple[str, ...]] = ()
    # Versions written through FHIR are snapshotted (vread, _history).
    keeps_history: ClassVar[bool] = False

    def audit_included(self, session: Session, actor: Principal, rows: Sequence[Any]) -> None:
        """Rows shown through another type's `_include`: audited as a query if they are PHI."""
        return None  # types over PHI override this

    @abstractmethod
    def read(self, session: Session, actor: Principal, record_id: str) -> Any: ...

    def current(self, session: Session, actor: Principal, record_id: str) -> dict[str, Any]:
        return self.to_fhir(self.read(session, actor, record_id))

    def keep(
        self,
        session: Session,
        organization_id: str,
        row: Any,
        resource: dict[str, Any],
        root: str,
        *,
        fresh: bool,
    ) -> None:
        """After a create (`fresh`) or update: what the record has no column for (kept.py)."""
        if self.keeps_identifiers:
            tokens = kept.identifier_tokens(resource.get("identifier"))
            kept.store_tokens(
                session,
                organization_id,
                self.type_name,
                row.id,
                "identifier",
                tokens,
                root,
                fresh=fresh,
            )

    def exists(self, session: Session, actor: Principal, record_id: str) -> bool:
        """Whether an update has something to update (else 405: no update-as-create)."""
        return True  # types that override `update` answer their own 404

    @abstractmethod
    def render(self, row: Any) -> dict[str, Any]:
        """The resource without id/meta (added by `to_fhir`)."""

    @abstractmethod
    def create(
        self, session: Session, actor: Principal, resource: dict[str, Any], refs: Refs
    ) -> Any: ...

    @abstractmethod
    def update(
        self,
        session: Session,
        actor: Principal,
        record_id: str,
        resource: dict[str, Any],
        refs: Refs,
        expected_version: int | None,
    ) -> Any: ...

    @abstractmethod
    def search(
        self,
        session: Session,
        actor: Principal,
        criteria: list[Criterion],
        *,
        count: int,
        cursor: str | None,
        summary_count: bool = False,
        sort: tuple[SortKey, ...] = (),
    ) -> SearchResult: ...

    def matches(
        self, session: Session, actor: Principal, criteria: list[Criterion], *, limit: int
    ) -> Sequence[Any]:
        """The first `limit` matches in id order, audited as a search's are (conditional
        create, update and references: no total, no cursor)."""
        return self.search(session, actor, criteria, count=limit, cursor=None).rows

    def updated_column(self) -> Any:
        """The column behind meta.lastUpdated (`_lastUpdated`, `_sort=_lastUpdated`)."""
        return None

    def sortable(self) -> list[str]:
        """What `_sort` takes: _id, _lastUpdated and the parameters that are one column."""
        names = ["_id", "_lastUpdated"]
        return names + [
            p.name
            for p in self.search_params.values()
            if p.column is not None and p.name not in names
        ]

    def check_sort(self, key: SortKey) -> None:
        if key.name not in self.sortable():
            raise NotSupported(
                f"{self.type_name} cannot be sorted by {key.name!r}; it sorts by "
                + ", ".join(self.sortable())
                + "."
            )

    def sort_column(self, key: SortKey, model: Any) -> Any:
        self.check_sort(key)
        if key.name == "_id":
            return model.id
        if key.name == "_lastUpdated":
            return self.updated_column()
        return self.search_params[key.name].column

    def version(self, row: Any) -> int:
        return int(row.version)

    def last_updated(self, row: Any) -> datetime:
        return row.updated_at  # type: ignore[no-any-return]

    def to_fhir(self, row: Any) -> dict[str, Any]:
        body = {
            "resourceType": self.type_name,
            "id": row.id,
            "meta": {
                "versionId": str(self.version(row)),
                "lastUpdated": iso_instant(self.last_updated(row)),
            },
        }
        if self.profiles:
            body["meta"]["profile"] = list(self.profiles)
        body.update(self.render(row))
        if self.keeps_identifiers:
            identifiers = kept.identifiers_of(row, self.type_name)
            if identifiers:
                body["identifier"] = identifiers + body.get("identifier", [])
        return body


def _id_filter(model: Any) -> Apply:
    def apply(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
        return query.where(col(model.id).in_(c.values))

    return apply


def identifier_filter(model: Any, type_name: str) -> Apply:
    def apply(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
        return query.where(col(model.id).in_(kept.matching_ids(type_name, "identifier", c.values)))

    return apply


def identifier_param(model: Any, type_name: str, what: str) -> SearchParam:
    return SearchParam(
        "identifier",
        "token",
        f"{what}: `system|value`, `|value`, `value` or `system|`, as the client sent it.",
        identifier_filter(model, type_name),
    )


def id_param(model: Any) -> SearchParam:
    return SearchParam("_id", "token", "The logical id of the resource.", _id_filter(model))


def unsupported_param(type_name: str, c: Criterion) -> NotSupported:
    return NotSupported(
        f"{type_name} search does not support the parameter {c.name!r}"
        + (f" with the modifier :{c.modifier}" if c.modifier else "")
        + "; see /fhir/metadata."
    )


def apply_criteria(
    type_name: str,
    params: dict[str, SearchParam],
    query: SelectOfScalar[Any],
    criteria: list[Criterion],
) -> SelectOfScalar[Any]:
    """Each criterion's filter on the query; a parameter or modifier not offered is refused."""
    for c in criteria:
        param = params.get(c.name)
        if (
            param is None
            or param.apply is None
            or (c.modifier is not None and c.modifier not in param.modifiers)
        ):
            raise unsupported_param(type_name, c)
        query = param.apply(query, c)
    return query


class TableMapping(FhirType):
    """A FHIR type stored as one `crud.Resource` (optionally a subset of its rows)."""

    resource: ClassVar[crud.Resource[Any, Any]]

    @abstractmethod
    def incoming(
        self, session: Session, actor: Principal, resource: dict[str, Any], refs: Refs, row: Any
    ) -> Mapped:
        """The create document for `resource`; `row` is the stored row on update."""

    def scope(self, query: SelectOfScalar[Any]) -> SelectOfScalar[Any]:
        """Narrows the record's rows to those this FHIR type shows (e.g. individual providers)."""
        return query

    def owns(self, row: Any) -> bool:
        return True

    def audit_included(self, session: Session, actor: Principal, rows: Sequence[Any]) -> None:
        if self.resource.phi:
            audit.record_many(
                session,
                actor,
                action="query",
                resource_type=self.resource.name,
                rows=[(row.id, self.resource.patient_id(row)) for row in rows],
            )

    def read(
        self, session: Session, actor: Principal, record_id: str, *, audit_read: bool = True
    ) -> Any:
        row = crud.get(session, actor, self.resource, record_id, audit_read=audit_read)
        if not self.owns(row):
            raise self.resource.missing(record_id)
        return row

    def current(self, session: Session, actor: Principal, record_id: str) -> dict[str, Any]:
        """The resource as it stands (not audited: the write that follows is)."""
        return self.to_fhir(self.read(session, actor, record_id, audit_read=False))

    def exists(self, session: Session, actor: Principal, record_id: str) -> bool:
        try:
            self.read(session, actor, record_id, audit_read=False)
        except NotFound:
            return False
        return True

    def create(
        self, session: Session, actor: Principal, resource: dict[str, Any], refs: Refs
    ) -> Any:
        mapped = self.incoming(session, actor, resource, refs, None)
        data = validated(
            self.resource.create_schema, mapped.document, mapped.fields, self.type_name
        )
        try:
            return crud.create(session, actor, self.resource, data)
        except InvalidInput as exc:
            raise translated(exc, mapped.fields, self.type_name) from None

    def update(
        self,
        session: Session,
        actor: Principal,
        record_id: str,
        resource: dict[str, Any],
        refs: Refs,
        expected_version: int | None,
    ) -> Any:
        row = self.read(session, actor, record_id, audit_read=False)
        mapped = self.incoming(session, actor, resource, refs, row)
        try:
            return crud.update(
                session,
                actor,
                self.resource,
                record_id,
                mapped.document,
                expected_version=expected_version,
            )
        except InvalidInput as exc:
            raise translated(exc, mapped.fields, self.type_name) from None

    def query(self, actor: Principal, criteria: list[Criterion]) -> SelectOfScalar[Any]:
        query = self.scope(crud.base_query(self.resource, actor))
        return apply_criteria(self.type_name, self.search_params, query, criteria)

    def updated_column(self) -> Any:
        return self.resource.model.updated_at

    def matches(
        self, session: Session, actor: Principal, criteria: list[Criterion], *, limit: int
    ) -> Sequence[Any]:
        """As `search` without its count query: one SELECT, the rows audited as list_page does."""
        model = self.resource.model
        query = self.query(actor, criteria).order_by(col(model.id)).limit(limit)
        rows = list(session.exec(query).all())
        self.audit_included(session, actor, rows)
        return rows

    def search(
        self,
        session: Session,
        actor: Principal,
        criteria: list[Criterion],
        *,
        count: int,
        cursor: str | None,
        summary_count: bool = False,
        sort: tuple[SortKey, ...] = (),
    ) -> SearchResult:
        query = self.query(actor, criteria)
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
        if summary_count or count == 0:
            return SearchResult([], int(total), None)
        if sort:
            rows, next_cursor = sorted_page(
                session, self, query, self.resource.model, sort, count=count, cursor=cursor
            )
            self.audit_included(session, actor, rows)
            return SearchResult(rows, int(total), next_cursor)
        page = crud.list_page(session, actor, self.resource, query, limit=count, cursor=cursor)
        return SearchResult(page.items, int(total), page.next_cursor)


def offset_of(cursor: str | None) -> int:
    """A sorted search pages by position (its order is not the id order the cursor keeps)."""
    if not cursor:
        return 0
    raw = decode_cursor(cursor)
    if not raw.startswith("o") or not (raw[1:].isascii() and raw[1:].isdigit()):
        raise InvalidInput("The cursor is not one this service issued for this sort.")
    return int(raw[1:])


def next_offset(offset: int, count: int, more: bool) -> str | None:
    return encode_cursor(f"o{offset + count}") if more else None


def sorted_page(
    session: Session,
    mapping: FhirType,
    query: SelectOfScalar[Any],
    model: Any,
    sort: tuple[SortKey, ...],
    *,
    count: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    order = []
    for key in sort:
        column = mapping.sort_column(key, model)
        if not isinstance(column, sa.ColumnElement):
            column = col(column)
        order.append(column.desc() if key.descending else column.asc())
    offset = offset_of(cursor)
    rows = list(
        session.exec(query.order_by(*order, col(model.id)).offset(offset).limit(count + 1)).all()
    )
    return rows[:count], next_offset(offset, count, len(rows) > count)


def page_union(
    session: Session,
    queries: Sequence[SelectOfScalar[Any]],
    *,
    count: int,
    after: str | None,
) -> tuple[list[Any], bool]:
    """Pages several tables as one id-ordered list (ids are time-ordered across tables)."""
    rows: list[Any] = []
    for query in queries:
        model = query.column_descriptions[0]["entity"]
        if after:
            query = query.where(col(model.id) > after)
        rows += session.exec(query.order_by(col(model.id)).limit(count + 1)).all()
    rows.sort(key=lambda r: r.id)
    return rows[:count], len(rows) > count


def count_union(session: Session, queries: Sequence[SelectOfScalar[Any]]) -> int:
    return sum(
        int(session.exec(select(func.count()).select_from(q.subquery())).one()) for q in queries
    )


def like_prefix(column: Any, value: str) -> Any:
    """FHIR string search: case-insensitive, matches the start of the value."""
    pattern = value.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
    return col(column).ilike(pattern + "%", escape="\\")


def string_filter(*columns: Any) -> Apply:
    def apply(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
        alternatives = []
        for value in c.values:
            for column in columns:
                if c.modifier == "exact":
                    alternatives.append(col(column) == value)
                else:
                    alternatives.append(like_prefix(column, value))
        return query.where(sa.or_(*alternatives))

    return apply


def split_token(value: str) -> tuple[str | None, str]:
    """`system|code` -> (system, code); `|code` -> ("", code); `code` -> (None, code)."""
    if "|" in value:
        system, _, code = value.partition("|")
        return system, code
    return None, value
