"""FHIR Encounter <-> encounters (opened and changed through the coding capability's logic, so
its edits run as they do for REST).

- `class` AMB only (clinic visits); `subject` = the patient; `period.start` = the date of
  service (a dateTime is taken in the organization's time zone).
- `serviceProvider` = the billing provider (an Organization that is a billing provider); a
  billing provider who is a person travels in the extension `urn:backoffice:fhir:billing-provider`
  (valueReference Practitioner); without either, the rendering provider bills.
- `participant` typed PPRF/ATND (or untyped) = the rendering Practitioner, REF = the referring one.
- Coverages are the extension `urn:backoffice:fhir:coverage` (valueReference Coverage, in payer
  order, at most 3): R4 `Encounter.account` points at an Account, not at a Coverage. Without it a
  new encounter takes the patient's coverages in force on the date of service.
- Extensions `urn:backoffice:fhir:encounter-kind` (medical | dental, default medical),
  `urn:backoffice:fhir:place-of-service` (CMS POS, default the facility's, else 11) and
  `urn:backoffice:fhir:facility` (valueReference Organization, a facility).
- `status` is read-only information from the coding status: open -> planned, coded ->
  in-progress, ready and billed -> finished (the exact one in `urn:backoffice:fhir:coding-status`);
  an incoming status is accepted and not stored, except cancelled/entered-in-error (refused).
- `diagnosis` lists the encounter's Conditions (ICD-10-CM, rank 1 = principal); they are written
  through Condition, not here.
"""

from collections.abc import Sequence
from typing import Any, ClassVar

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from service.auth.logic import Principal
from service.auth.roles import Role
from service.codesets.search import display_code
from service.coding import logic as coding_logic
from service.coding.logic import ENCOUNTERS
from service.coding.models import Encounter
from service.coding.schemas import EncounterCreate
from service.directory.models import Facility, Provider
from service.errors import InvalidInput
from service.fhir import kept
from service.fhir.mapping.base import (
    Criterion,
    Include,
    Mapped,
    Refs,
    SearchParam,
    TableMapping,
    id_param,
    identifier_param,
    split_token,
    translated,
    validated,
)
from service.fhir.mapping.common import (
    V3_ACT_CODE,
    codings,
    extensions,
    local_day,
    session_of,
)
from service.fhir.mapping.coverage import _patients, reference_filter
from service.fhir.mapping.dates import date_filter
from service.fhir.mapping.organization import PLACE_OF_SERVICE_EXTENSION
from service.fhir.outcomes import invalid
from service.patients import coverages as coverage_logic

KIND_EXTENSION = "urn:backoffice:fhir:encounter-kind"
COVERAGE_EXTENSION = "urn:backoffice:fhir:coverage"
FACILITY_EXTENSION = "urn:backoffice:fhir:facility"
BILLING_PROVIDER_EXTENSION = "urn:backoffice:fhir:billing-provider"
CODING_STATUS_EXTENSION = "urn:backoffice:fhir:coding-status"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
DIAGNOSIS_ROLE = "http://terminology.hl7.org/CodeSystem/diagnosis-role"

STATUS = {"open": "planned", "coded": "in-progress", "ready": "finished", "billed": "finished"}
CODING_STATUSES: dict[str, tuple[str, ...]] = {
    "planned": ("open",),
    "in-progress": ("coded",),
    "finished": ("ready", "billed"),
}
REFUSED_STATUSES = {"cancelled", "entered-in-error"}
RENDERING_TYPES = {"PPRF", "ATND", "PART", "SPRF"}
READERS = frozenset(
    {Role.ADMIN, Role.CODER, Role.INTEGRATION, Role.FRONT_DESK, Role.BILLER, Role.AUDITOR}
)
WRITERS = frozenset({Role.ADMIN, Role.CODER, Role.INTEGRATION})


def condition_id(encounter_id: str, code: str) -> str:
    """A Condition is one diagnosis of one encounter: `<encounter id>-<ICD-10-CM without dot>`."""
    return f"{encounter_id}-{code}"


def _status(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
    wanted: list[str] = []
    for value in c.values:
        code = split_token(value)[1]
        wanted += CODING_STATUSES.get(code, (code,))  # the coding statuses are accepted too
    return query.where(col(Encounter.status).in_(wanted))


def _reference_extension(
    resource: dict[str, Any], url: str, kinds: tuple[str, ...], refs: Refs
) -> list[tuple[str, str]]:
    """(FHIRPath, id) of each valueReference extension with this url."""
    found = []
    for index, extension in extensions(resource, url):
        where = f"Encounter.extension[{index}]"
        found.append(
            (where, refs.resolve(extension.get("valueReference"), f"{where}.valueReference", kinds))
        )
    return found


def _code_extension(resource: dict[str, Any], url: str) -> tuple[str, Any] | None:
    for index, extension in extensions(resource, url):
        return f"Encounter.extension[{index}].valueCode", extension.get("valueCode")
    return None


def _type(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
    return query.where(col(Encounter.id).in_(kept.matching_ids("Encounter", "type", c.values)))


class EncounterType(TableMapping):
    type_name = "Encounter"
    resource = ENCOUNTERS
    readers = READERS
    writers = WRITERS
    documentation = (
        "Coverages: extension urn:backoffice:fhir:coverage (valueReference Coverage); kind, "
        "place of service and facility: extensions; status is read-only (from the coding status)."
    )
    keeps_identifiers = True
    keeps_history = True
    interactions = ("read", "vread", "update", "history-instance", "create", "search-type")
    search_params: ClassVar[dict[str, SearchParam]] = {
        "_id": id_param(Encounter),
        "identifier": identifier_param(Encounter, "Encounter", "The EHR's visit number"),
        "patient": SearchParam(
            "patient",
            "reference",
            "The patient: Patient/<id>.",
            reference_filter(Encounter.patient_id, "Patient"),
        ),
        "subject": SearchParam(
            "subject",
            "reference",
            "The patient: Patient/<id>.",
            reference_filter(Encounter.patient_id, "Patient"),
        ),
        "date": SearchParam(
            "date",
            "date",
            "The date of service, YYYY-MM-DD, prefixes eq, ne, lt, le, gt, ge.",
            date_filter(Encounter.date_of_service),
            column=Encounter.date_of_service,
        ),
        "status": SearchParam(
            "status",
            "token",
            "planned (open), in-progress (coded), finished (ready, billed); or a coding status.",
            _status,
        ),
        "type": SearchParam(
            "type",
            "token",
            "A coding of Encounter.type, as the EHR sent it (e.g. CPT 99213).",
            _type,
        ),
    }
    includes: ClassVar[dict[str, Include]] = {
        "Encounter:patient": Include("Patient", _patients),
        "Encounter:subject": Include("Patient", _patients),
    }

    def incoming(
        self, session: Session, actor: Principal, resource: dict[str, Any], refs: Refs, row: Any
    ) -> Mapped:
        fields: dict[str, str] = {
            "/": "Encounter",
            "/patient_id": "Encounter.subject",
            "/date_of_service": "Encounter.period.start",
            "/billing_provider_id": "Encounter.serviceProvider",
        }
        if resource.get("status") in REFUSED_STATUSES:
            raise invalid(
                "Encounter.status", "a cancelled encounter is not billed; send it to the coder"
            )
        visit_class = resource.get("class") or {}
        if visit_class.get("code") != "AMB" or visit_class.get("system") not in (V3_ACT_CODE, None):
            raise invalid(
                "Encounter.class", f"only ambulatory visits (AMB of {V3_ACT_CODE}) are billed here"
            )
        patient_id = refs.resolve(resource.get("subject"), "Encounter.subject", ("Patient",))
        start = (resource.get("period") or {}).get("start")
        if start is None:
            raise invalid("Encounter.period.start", "is required (the date of service)")
        day = local_day(session, actor.organization_id, start, "Encounter.period.start")
        rendering, referring = self._participants(resource, refs, fields)
        billing = self._billing(resource, refs, fields) or rendering
        if billing is None:
            raise invalid(
                "Encounter.serviceProvider",
                "needs the billing provider (an Organization with an NPI), or a rendering "
                "Practitioner who bills",
            )
        document: dict[str, Any] = {
            "patient_id": patient_id,
            "date_of_service": day.isoformat(),
            "billing_provider_id": billing,
            "rendering_provider_id": rendering,
            "referring_provider_id": referring,
        }
        facilities = _reference_extension(resource, FACILITY_EXTENSION, ("Organization",), refs)
        if facilities:
            fields["/facility_id"] = facilities[0][0]
            document["facility_id"] = facilities[0][1]
        kind = _code_extension(resource, KIND_EXTENSION)
        if kind is not None:
            fields["/kind"] = kind[0]
            document["kind"] = kind[1]
        elif row is None:
            document["kind"] = "medical"
        place = _code_extension(resource, PLACE_OF_SERVICE_EXTENSION)
        if place is not None:
            fields["/place_of_service"] = place[0]
            document["place_of_service"] = place[1]
        elif row is None:
            facility = session.get(Facility, document.get("facility_id") or "")
            document["place_of_service"] = facility.place_of_service if facility else "11"
        coverages = _reference_extension(resource, COVERAGE_EXTENSION, ("Coverage",), refs)
        for i, (where, _) in enumerate(coverages):
            fields[f"/coverage_ids/{i}"] = where
        fields["/coverage_ids"] = "Encounter.extension"
        if coverages:
            document["coverage_ids"] = [coverage_id for _, coverage_id in coverages]
        elif row is None:
            document["coverage_ids"] = coverage_logic.coverages_in_force(
                session, actor.organization_id, patient_id, day
            )
        return Mapped(document, fields)

    def _participants(
        self, resource: dict[str, Any], refs: Refs, fields: dict[str, str]
    ) -> tuple[str | None, str | None]:
        rendering = referring = None
        for index, participant in enumerate(resource.get("participant") or []):
            codes = {
                coding.get("code")
                for concept in participant.get("type") or []
                for _, coding in codings(concept)
                if coding.get("system") in (PARTICIPATION_TYPE, None)
            }
            where = f"Encounter.participant[{index}].individual"
            if "REF" in codes and referring is None:
                referring = refs.resolve(participant.get("individual"), where, ("Practitioner",))
                fields["/referring_provider_id"] = where
            elif (not codes or codes & RENDERING_TYPES) and rendering is None:
                rendering = refs.resolve(participant.get("individual"), where, ("Practitioner",))
                fields["/rendering_provider_id"] = where
        return rendering, referring

    def _billing(self, resource: dict[str, Any], refs: Refs, fields: dict[str, str]) -> str | None:
        if resource.get("serviceProvider") is not None:
            return refs.resolve(
                resource["serviceProvider"], "Encounter.serviceProvider", ("Organization",)
            )
        found = _reference_extension(
            resource, BILLING_PROVIDER_EXTENSION, ("Practitioner", "Organization"), refs
        )
        if found:
            fields["/billing_provider_id"] = found[0][0]
            return found[0][1]
        return None

    def create(
        self, session: Session, actor: Principal, resource: dict[str, Any], refs: Refs
    ) -> Any:
        mapped = self.incoming(session, actor, resource, refs, None)
        data = validated(EncounterCreate, mapped.document, mapped.fields, self.type_name)
        try:
            return coding_logic.open_encounter(session, actor, data)
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
            return coding_logic.update_encounter(
                session, actor, record_id, mapped.document, expected_version=expected_version
            )
        except InvalidInput as exc:
            raise translated(exc, mapped.fields, self.type_name) from None

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
        """Encounter.type has no column: kept as sent, its codings searchable."""
        super().keep(session, organization_id, row, resource, root, fresh=fresh)
        types = resource.get("type")
        kept.keep(session, organization_id, "Encounter", row.id, {"type": types}, fresh=fresh)
        kept.store_tokens(
            session,
            organization_id,
            "Encounter",
            row.id,
            "type",
            kept.concept_tokens(types),
            root,
            fresh=fresh,
        )

    def render(self, row: Any) -> dict[str, Any]:
        session = session_of(row)
        billing = session.get(Provider, row.billing_provider_id)
        extension: list[dict[str, Any]] = [
            {"url": KIND_EXTENSION, "valueCode": row.kind},
            {"url": PLACE_OF_SERVICE_EXTENSION, "valueCode": row.place_of_service},
            {"url": CODING_STATUS_EXTENSION, "valueCode": row.status},
        ]
        if row.facility_id:
            extension.append(
                {"url": FACILITY_EXTENSION, "valueReference": _ref("Organization", row.facility_id)}
            )
        extension += [
            {"url": COVERAGE_EXTENSION, "valueReference": _ref("Coverage", coverage_id)}
            for coverage_id in row.coverage_ids
        ]
        body: dict[str, Any] = {
            "extension": extension,
            "status": STATUS[row.status],
            "class": {"system": V3_ACT_CODE, "code": "AMB", "display": "ambulatory"},
        }
        types = kept.kept(row, "Encounter").get("type")
        if types:
            body["type"] = types
        body["subject"] = _ref("Patient", row.patient_id)
        participants = []
        if row.rendering_provider_id:
            participants.append(
                _participant("PPRF", "primary performer", row.rendering_provider_id)
            )
        if row.referring_provider_id:
            participants.append(_participant("REF", "referrer", row.referring_provider_id))
        if participants:
            body["participant"] = participants
        body["period"] = {"start": row.date_of_service.isoformat()}
        if row.diagnoses:
            body["diagnosis"] = [
                {
                    "condition": _ref("Condition", condition_id(row.id, code)),
                    "use": {
                        "coding": [{"system": DIAGNOSIS_ROLE, "code": "billing"}],
                        "text": display_code(code),
                    },
                    "rank": rank,
                }
                for rank, code in enumerate(row.diagnoses, start=1)
            ]
        if billing is not None and billing.kind == "organization":
            body["serviceProvider"] = _ref("Organization", row.billing_provider_id)
        elif row.billing_provider_id != row.rendering_provider_id:
            extension.append(
                {
                    "url": BILLING_PROVIDER_EXTENSION,
                    "valueReference": _ref("Practitioner", row.billing_provider_id),
                }
            )
        return body


def _ref(kind: str, record_id: str) -> dict[str, str]:
    return {"reference": f"{kind}/{record_id}"}


def _participant(code: str, display: str, provider_id: str) -> dict[str, Any]:
    return {
        "type": [{"coding": [{"system": PARTICIPATION_TYPE, "code": code, "display": display}]}],
        "individual": _ref("Practitioner", provider_id),
    }


def encounters_by_id(session: Session, actor: Principal, ids: Sequence[str]) -> list[Encounter]:
    if not ids:
        return []
    return list(
        session.exec(
            select(Encounter).where(
                Encounter.organization_id == actor.organization_id,
                col(Encounter.id).in_(sorted(set(ids))),
                col(Encounter.deleted_at).is_(None),
            )
        ).all()
    )
