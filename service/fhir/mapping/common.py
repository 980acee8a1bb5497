"""What the clinical and billing mappings share: code system URIs, CodeableConcept and Money
helpers, and `QueryType`, a FHIR type read from one table that is not a `crud.Resource`
(specimens, results, claims): tenant-scoped reads and searches, audited like their REST twins."""

from abc import abstractmethod
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy.orm import object_session
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from service import org_clock
from service.audit import logic as audit
from service.auth.logic import Principal
from service.errors import NotFound
from service.fhir.mapping.base import (
    Criterion,
    FhirType,
    Refs,
    SearchResult,
    SortKey,
    apply_criteria,
    iso_instant,
    sorted_page,
)
from service.fhir.outcomes import NotSupported, invalid
from service.paging import fetch_page

ICD10CM_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC_SYSTEM = "http://loinc.org"
CPT_SYSTEM = "http://www.ama-assn.org/go/cpt"
HCPCS_SYSTEM = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
CDT_SYSTEM = "http://www.ada.org/cdt"
TOOTH_SYSTEM = "http://terminology.hl7.org/CodeSystem/ADAUniversalToothDesignationSystem"
SURFACE_SYSTEM = "http://terminology.hl7.org/CodeSystem/FDI-surface"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V2_0487 = "http://terminology.hl7.org/CodeSystem/v2-0487"  # specimen type
# The catalog's local test codes and the service's accession numbers.
LAB_TEST_SYSTEM = "urn:backoffice:lab-test"
LAB_COMPONENT_SYSTEM = "urn:backoffice:lab-component"
ACCESSION_SYSTEM = "urn:backoffice:accession"
PATIENT_CONTROL_NUMBER_SYSTEM = "urn:backoffice:patient-control-number"
PRODUCT_SYSTEMS = {"CPT": CPT_SYSTEM, "HCPCS": HCPCS_SYSTEM, "CDT": CDT_SYSTEM}


def session_of(row: Any) -> Session:
    """The session a row was loaded in: renderers look up what a reference needs (a provider's
    kind, a specimen's order) through it, from the identity map when already loaded."""
    session = object_session(row)
    assert isinstance(session, Session), "render rows loaded by a session"
    return session


def extensions(resource: dict[str, Any], url: str) -> list[tuple[int, dict[str, Any]]]:
    return [(i, e) for i, e in enumerate(resource.get("extension") or []) if e.get("url") == url]


def codings(concept: Any) -> list[tuple[int, dict[str, Any]]]:
    return list(enumerate((concept or {}).get("coding") or []))


def concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def money(value: Decimal) -> dict[str, Any]:
    """FHIR Money: a JSON number (decimals keep their cents as far as a float shows them)."""
    return {"value": float(value), "currency": "USD"}


def number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def instant(value: datetime | None) -> str | None:
    return iso_instant(value) if value is not None else None


def local_day(session: Session, organization_id: str, value: Any, expression: str) -> date:
    """A FHIR date or dateTime as a date of service: a dateTime (which carries its offset) is
    taken in the organization's time zone; partial dates (YYYY, YYYY-MM) are too vague."""
    text = str(value or "")
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        if "T" in text:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is not None:
                return org_clock.local_date(session, organization_id, moment)
    except ValueError:
        pass
    raise invalid(expression, "must be a full date (YYYY-MM-DD) or a dateTime with its offset")


def not_found(type_name: str, record_id: str) -> NotFound:
    error = NotFound(f"No {type_name} {record_id}.")
    error.code = f"{type_name.lower()}-not-found"
    return error


class QueryType(FhirType):
    """A read-only FHIR type over one tenant table: `base_query` says which rows it shows."""

    model: ClassVar[type[Any]]
    audit_name: ClassVar[str]  # the audit trail's resource type (the REST twin's)
    writers: ClassVar[frozenset[str]] = frozenset()
    interactions: ClassVar[tuple[str, ...]] = ("read", "search-type")

    def base_query(self, actor: Principal) -> SelectOfScalar[Any]:
        return select(self.model).where(col(self.model.organization_id) == actor.organization_id)

    def updated_column(self) -> Any:
        return self.model.updated_at

    def patient_of(self, row: Any) -> str | None:
        return row.patient_id  # type: ignore[no-any-return]

    def load(self, session: Session, actor: Principal, record_id: str) -> Any:
        row = session.exec(self.base_query(actor).where(col(self.model.id) == record_id)).first()
        if row is None:
            raise not_found(self.type_name, record_id)
        return row

    def read(self, session: Session, actor: Principal, record_id: str) -> Any:
        row = self.load(session, actor, record_id)
        audit.record(
            session,
            actor,
            action="read",
            resource_type=self.audit_name,
            resource_id=row.id,
            patient_id=self.patient_of(row),
        )
        return row

    def audit_included(self, session: Session, actor: Principal, rows: Sequence[Any]) -> None:
        audit.record_many(
            session,
            actor,
            action="query",
            resource_type=self.audit_name,
            rows=[(row.id, self.patient_of(row)) for row in rows],
        )

    def query(self, actor: Principal, criteria: list[Criterion]) -> SelectOfScalar[Any]:
        query = self.base_query(actor)
        return apply_criteria(self.type_name, self.search_params, query, criteria)

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
        total = int(session.exec(select(func.count()).select_from(query.subquery())).one())
        if summary_count or count == 0:
            return SearchResult([], total, None)
        if sort:
            rows, next_cursor = sorted_page(
                session, self, query, self.model, sort, count=count, cursor=cursor
            )
            self.audit_included(session, actor, rows)
            return SearchResult(rows, total, next_cursor)
        page = fetch_page(session, query, col(self.model.id), limit=count, cursor=cursor)
        self.audit_included(session, actor, page.items)
        return SearchResult(page.items, total, page.next_cursor)

    def create(
        self, session: Session, actor: Principal, resource: dict[str, Any], refs: Refs
    ) -> Any:
        raise NotSupported(f"{self.type_name} is read-only here.")

    def update(
        self,
        session: Session,
        actor: Principal,
        record_id: str,
        resource: dict[str, Any],
        refs: Refs,
        expected_version: int | None,
    ) -> Any:
        raise NotSupported(f"{self.type_name} is read-only here.")

    @abstractmethod
    def render(self, row: Any) -> dict[str, Any]: ...
