"""FHIR Organization onto three record types (DESIGN.md): type `pay` (insurer) <-> Payer;
type `prov` with an NPI <-> Provider of kind organization (a billing provider); anything else
<-> Facility. The caller's own organization reads as an Organization too (read-only)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Session, col
from sqlmodel.sql.expression import SelectOfScalar

from service import crud
from service.auth.logic import Principal
from service.auth.models import Organization as Tenant
from service.auth.roles import ALL_ROLES
from service.directory.logic import FACILITIES, PAYERS, PROVIDERS
from service.directory.models import Facility, Payer, Provider
from service.errors import NotFound, PermissionDenied
from service.fhir.mapping.base import (
    Criterion,
    FhirType,
    Mapped,
    Refs,
    SearchParam,
    SearchResult,
    SortKey,
    TableMapping,
    count_union,
    like_prefix,
    next_offset,
    offset_of,
    page_union,
    split_token,
    unsupported_param,
)
from service.fhir.mapping.datatypes import (
    CLIA_SYSTEM,
    EIN_SYSTEM,
    NPI_SYSTEM,
    ORG_TYPE_SYSTEM,
    PAYER_ID_SYSTEM,
    extension_value,
    identifier_of,
    incoming_address,
    incoming_phone,
    render_address,
    render_phone,
)
from service.fhir.mapping.dates import date_filter
from service.fhir.mapping.practitioner import DIRECTORY_WRITERS, incoming_npi, npi_identifier
from service.fhir.outcomes import NotSupported, invalid
from service.paging import decode_cursor, encode_cursor

# Service-defined extensions for what FHIR Organization has no element for.
CLAIM_FILING_EXTENSION = "urn:backoffice:fhir:claim-filing-indicator"  # X12 SBR09, default CI
PLACE_OF_SERVICE_EXTENSION = "urn:backoffice:fhir:place-of-service"  # CMS POS, default 11


def _type_codes(resource: dict[str, Any]) -> set[str]:
    return {
        str(coding.get("code"))
        for concept in resource.get("type") or []
        for coding in concept.get("coding") or []
        if coding.get("system") in (ORG_TYPE_SYSTEM, None)
    }


def _org_type(code: str, display: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": ORG_TYPE_SYSTEM, "code": code, "display": display}]}]


def _name(resource: dict[str, Any], fields: dict[str, str], pointer: str) -> Any:
    fields[pointer] = "Organization.name"
    return resource.get("name")


class PayerOrganization(TableMapping):
    type_name = "Organization"
    resource = PAYERS
    readers = ALL_ROLES
    writers = DIRECTORY_WRITERS
    search_params: ClassVar[dict[str, SearchParam]] = {}

    def incoming(
        self, session: Session, actor: Principal, resource: dict[str, Any], refs: Refs, row: Any
    ) -> Mapped:
        fields: dict[str, str] = {"/": "Organization"}
        index, identifier = identifier_of(resource, PAYER_ID_SYSTEM)
        if identifier is None:
            raise invalid(
                "Organization.identifier",
                f"an insurer needs its EDI payer id as an identifier with system {PAYER_ID_SYSTEM}",
            )
        fields["/edi_payer_id"] = f"Organization.identifier[{index}].value"
        document: dict[str, Any] = {
            "name": _name(resource, fields, "/name"),
            "edi_payer_id": identifier["value"],
            "address": incoming_address(resource, "Organization", fields),
            "phone": incoming_phone(resource, "Organization", fields),
        }
        filing = extension_value(resource, CLAIM_FILING_EXTENSION)
        fields["/claim_filing_indicator"] = "Organization.extension"
        if filing is not None or row is None:
            document["claim_filing_indicator"] = filing or "CI"
        return Mapped(document, fields)

    def render(self, row: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "extension": [{"url": CLAIM_FILING_EXTENSION, "valueCode": row.claim_filing_indicator}],
            "identifier": [
                {"use": "official", "system": PAYER_ID_SYSTEM, "value": row.edi_payer_id}
            ],
            "active": True,
            "type": _org_type("pay", "Payer"),
            "name": row.name,
        }
        if row.phone:
            body["telecom"] = render_phone(row.phone, "work")
        if row.address:
            body["address"] = [a | {"use": "work"} for a in render_address(row.address)]
        return body


class ProviderOrganization(TableMapping):
    type_name = "Organization"
    resource = PROVIDERS
    readers = ALL_ROLES
    writers = DIRECTORY_WRITERS
    search_params: ClassVar[dict[str, SearchParam]] = {}

    def scope(self, query: SelectOfScalar[Any]) -> SelectOfScalar[Any]:
        return query.where(Provider.kind == "organization")

    def owns(self, row: Any) -> bool:
        return bool(row.kind == "organization")

    def incoming(
        self, session: Session, actor: Principal, resource: dict[str, Any], refs: Refs, row: Any
    ) -> Mapped:
        fields: dict[str, str] = {"/": "Organization"}
        npi = incoming_npi(resource, "Organization", fields)
        assert npi is not None  # chosen because it has one
        tax_index, tax = identifier_of(resource, EIN_SYSTEM)
        if tax is not None:
            fields["/tax_id"] = f"Organization.identifier[{tax_index}].value"
        document: dict[str, Any] = {
            "npi": npi,
            "kind": "organization",
            "organization_name": _name(resource, fields, "/organization_name"),
            "tax_id": str(tax["value"]).replace("-", "") if tax else None,
            "address": incoming_address(resource, "Organization", fields),
            "phone": incoming_phone(resource, "Organization", fields),
        }
        return Mapped(document, fields)

    def render(self, row: Any) -> dict[str, Any]:
        identifiers = [npi_identifier(row.npi)]
        if row.tax_id:
            identifiers.append({"use": "official", "system": EIN_SYSTEM, "value": row.tax_id})
        body: dict[str, Any] = {
            "identifier": identifiers,
            "active": True,
            "type": _org_type("prov", "Healthcare Provider"),
            "name": row.organization_name,
        }
        if row.phone:
            body["telecom"] = render_phone(row.phone, "work")
        if row.address:
            body["address"] = [a | {"use": "work"} for a in render_address(row.address)]
        return body


class FacilityOrganization(TableMapping):
    type_name = "Organization"
    resource = FACILITIES
    readers = ALL_ROLES
    writers = DIRECTORY_WRITERS
    search_params: ClassVar[dict[str, SearchParam]] = {}

    def incoming(
        self, session: Session, actor: Principal, resource: dict[str, Any], refs: Refs, row: Any
    ) -> Mapped:
        fields: dict[str, str] = {"/": "Organization", "/address": "Organization.address"}
        npi = incoming_npi(resource, "Organization", fields)
        clia_index, clia = identifier_of(resource, CLIA_SYSTEM)
        if clia is not None:
            fields["/clia_number"] = f"Organization.identifier[{clia_index}].value"
        document: dict[str, Any] = {
            "name": _name(resource, fields, "/name"),
            "npi": npi,
            "clia_number": clia["value"] if clia else None,
            "address": incoming_address(resource, "Organization", fields),
        }
        place = extension_value(resource, PLACE_OF_SERVICE_EXTENSION)
        fields["/place_of_service"] = "Organization.extension"
        if place is not None or row is None:
            document["place_of_service"] = place or "11"
        return Mapped(document, fields)

    def render(self, row: Any) -> dict[str, Any]:
        identifiers = []
        if row.npi:
            identifiers.append(npi_identifier(row.npi))
        if row.clia_number:
            identifiers.append({"use": "official", "system": CLIA_SYSTEM, "value": row.clia_number})
        body: dict[str, Any] = {
            "extension": [{"url": PLACE_OF_SERVICE_EXTENSION, "valueCode": row.place_of_service}],
            "active": True,
            "name": row.name,
            "address": [a | {"use": "work"} for a in render_address(row.address)],
        }
        if identifiers:
            body["identifier"] = identifiers
        return body


class OwnOrganization(NotFound):
    code = "organization-not-found"


PAYER_ORGS = PayerOrganization()
PROVIDER_ORGS = ProviderOrganization()
FACILITY_ORGS = FacilityOrganization()
SOURCES: tuple[TableMapping, ...] = (PAYER_ORGS, PROVIDER_ORGS, FACILITY_ORGS)


def _source_for(resource: dict[str, Any]) -> TableMapping:
    codes = _type_codes(resource)
    if "pay" in codes:
        return PAYER_ORGS
    if "prov" in codes and identifier_of(resource, NPI_SYSTEM)[1] is not None:
        return PROVIDER_ORGS
    return FACILITY_ORGS


class OrganizationType(FhirType):
    type_name = "Organization"
    readers = ALL_ROLES
    writers = DIRECTORY_WRITERS
    search_params: ClassVar[dict[str, SearchParam]] = {
        "_id": SearchParam("_id", "token", "The logical id of the resource."),
        "identifier": SearchParam(
            "identifier",
            "token",
            f"EDI payer id ({PAYER_ID_SYSTEM}), NPI ({NPI_SYSTEM}), CLIA ({CLIA_SYSTEM}).",
        ),
        "name": SearchParam("name", "string", "Start of the name, any case.", modifiers=("exact",)),
        "type": SearchParam(
            "type", "token", f"{ORG_TYPE_SYSTEM}: pay (payers), prov (billing providers)."
        ),
        "_lastUpdated": SearchParam(
            "_lastUpdated", "date", "When the payer, provider or facility last changed."
        ),
    }

    def _locate(self, session: Session, actor: Principal, record_id: str) -> TableMapping | None:
        for source in SOURCES:
            row = session.get(source.resource.model, record_id)
            if (
                row is not None
                and row.organization_id == actor.organization_id
                and source.owns(row)
            ):
                return source
        return None

    def exists(self, session: Session, actor: Principal, record_id: str) -> bool:
        return (
            record_id == actor.organization_id
            or self._locate(session, actor, record_id) is not None
        )

    def read(self, session: Session, actor: Principal, record_id: str) -> Any:
        if record_id == actor.organization_id:
            tenant = session.get(Tenant, record_id)
            if tenant is not None:
                return tenant
        source = self._locate(session, actor, record_id)
        if source is None:
            raise OwnOrganization(f"No organization {record_id}.")
        return source.read(session, actor, record_id)

    def version(self, row: Any) -> int:
        return 1 if isinstance(row, Tenant) else int(row.version)

    def last_updated(self, row: Any) -> datetime:
        return row.created_at if isinstance(row, Tenant) else row.updated_at

    def render(self, row: Any) -> dict[str, Any]:
        if isinstance(row, Tenant):
            return {
                "active": True,
                "type": _org_type("prov", "Healthcare Provider"),
                "name": row.name,
            }
        if isinstance(row, Payer):
            return PAYER_ORGS.render(row)
        if isinstance(row, Facility):
            return FACILITY_ORGS.render(row)
        return PROVIDER_ORGS.render(row)

    def create(
        self, session: Session, actor: Principal, resource: dict[str, Any], refs: Refs
    ) -> Any:
        return _source_for(resource).create(session, actor, resource, refs)

    def update(
        self,
        session: Session,
        actor: Principal,
        record_id: str,
        resource: dict[str, Any],
        refs: Refs,
        expected_version: int | None,
    ) -> Any:
        if record_id == actor.organization_id:
            raise PermissionDenied("Your own organization is read-only over FHIR.")
        source = self._locate(session, actor, record_id)
        if source is None:
            raise OwnOrganization(f"No organization {record_id}.")
        if _source_for(resource) is not source:
            raise invalid(
                "Organization.type",
                "cannot change what the organization is (insurer, billing provider, facility)",
            )
        return source.update(session, actor, record_id, resource, refs, expected_version)

    def _queries(
        self, actor: Principal, criteria: list[Criterion]
    ) -> tuple[list[SelectOfScalar[Any]], bool, Criterion | None]:
        """One query per source table, and whether the caller's own organization matches."""
        active = {
            source: source.scope(crud.base_query(source.resource, actor)) for source in SOURCES
        }
        own = True
        own_name = None
        for c in criteria:
            if c.name == "_id":
                own = own and actor.organization_id in c.values
                for source in SOURCES:
                    model = source.resource.model
                    active[source] = active[source].where(col(model.id).in_(c.values))
            elif c.name == "name" and c.modifier in (None, "exact"):
                own_name = c
                for source in SOURCES:
                    column = (
                        Provider.organization_name
                        if source is PROVIDER_ORGS
                        else source.resource.model.name
                    )
                    clause: Any
                    if c.modifier == "exact":
                        clause = col(column).in_(c.values)
                    else:
                        clause = sa.or_(*(like_prefix(column, v) for v in c.values))
                    active[source] = active[source].where(clause)
            elif c.name == "type" and c.modifier is None:
                codes = {split_token(v)[1] for v in c.values}
                own = own and "prov" in codes
                if "pay" not in codes:
                    active.pop(PAYER_ORGS, None)
                if "prov" not in codes:
                    active.pop(PROVIDER_ORGS, None)
                active.pop(FACILITY_ORGS, None)
            elif c.name == "identifier" and c.modifier is None:
                own = False
                tokens = [split_token(v) for v in c.values]
                wanted = {
                    PAYER_ORGS: (PAYER_ID_SYSTEM, Payer.edi_payer_id),
                    PROVIDER_ORGS: (NPI_SYSTEM, Provider.npi),
                    FACILITY_ORGS: (None, None),
                }
                for source, (system, column) in wanted.items():
                    if source not in active:
                        continue
                    if source is FACILITY_ORGS:
                        npis = [v for s, v in tokens if s in (None, NPI_SYSTEM)]
                        clias = [v for s, v in tokens if s in (None, CLIA_SYSTEM)]
                        active[source] = active[source].where(
                            sa.or_(
                                col(Facility.npi).in_(npis), col(Facility.clia_number).in_(clias)
                            )
                        )
                    else:
                        values = [v for s, v in tokens if s in (None, system)]
                        active[source] = active[source].where(col(column).in_(values))
            elif c.name == "_lastUpdated" and c.modifier is None:
                own = False  # the caller's own organization is not polled
                for source in active:
                    column = source.resource.model.updated_at
                    active[source] = date_filter(column)(active[source], c)
            else:
                raise unsupported_param(self.type_name, c)
        return list(active.values()), own, own_name

    def _own(self, session: Session, actor: Principal, own: bool, c: Criterion | None) -> list[Any]:
        if not own:
            return []
        tenant = session.get(Tenant, actor.organization_id)
        if tenant is None:
            return []
        if c is not None:
            name = tenant.name.lower()
            if c.modifier == "exact":
                if tenant.name not in c.values:
                    return []
            elif not any(name.startswith(v.lower()) for v in c.values):
                return []
        return [tenant]

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
        queries, own, own_name = self._queries(actor, criteria)
        own_rows = self._own(session, actor, own, own_name)
        total = count_union(session, queries) + len(own_rows)
        if summary_count or count == 0:
            return SearchResult([], total, None)
        if sort:  # directory tables are small: sorted in memory, paged by position
            everything = [*own_rows, *(r for q in queries for r in session.exec(q).all())]
            everything.sort(key=lambda r: r.id)
            for key in reversed(sort):
                if key.name not in ("_id", "_lastUpdated"):
                    raise NotSupported("Organization sorts by _id or _lastUpdated.")
                everything.sort(
                    key=(lambda r: r.id) if key.name == "_id" else self.last_updated,
                    reverse=key.descending,
                )
            start = offset_of(cursor)
            page = everything[start : start + count]
            return SearchResult(
                page, total, next_offset(start, count, start + count < len(everything))
            )
        after = decode_cursor(cursor) if cursor else None
        rows, more = page_union(session, queries, count=count, after=after)
        merged = sorted(
            [*rows, *(r for r in own_rows if after is None or r.id > after)], key=lambda r: r.id
        )
        more = more or len(merged) > count
        merged = merged[:count]
        return SearchResult(
            merged, total, encode_cursor(merged[-1].id) if more and merged else None
        )


def payers_by_id(session: Session, actor: Principal, ids: Sequence[str]) -> Sequence[Any]:
    if not ids:
        return []
    return session.exec(
        crud.base_query(PAYERS, actor).where(col(Payer.id).in_(sorted(set(ids))))
    ).all()
