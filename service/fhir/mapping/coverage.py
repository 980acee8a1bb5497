"""FHIR Coverage <-> coverages: beneficiary = the patient, payor = an Organization that is a
Payer, subscriberId = member id, class `group` = group number, order 1/2/3 = primary /
secondary / tertiary, relationship (subscriber-relationship) <-> X12 individual relationship
code, and a subscriber other than the patient as a contained RelatedPerson. A dependant whose
card carries their own member id (own_member_id: the 837 names them as the subscriber) has the
extension urn:backoffice:fhir:coverage-own-member-id (valueBoolean); FHIR R4 has no element
for it."""

from collections.abc import Sequence
from typing import Any, ClassVar

from sqlmodel import Session, col
from sqlmodel.sql.expression import SelectOfScalar

from service import crud
from service.auth.logic import Principal
from service.auth.roles import ALL_ROLES, Role
from service.fhir.mapping.base import (
    Criterion,
    Include,
    Mapped,
    Refs,
    SearchParam,
    TableMapping,
    id_param,
    identifier_param,
)
from service.fhir.mapping.datatypes import (
    GENDER_TO_SEX,
    SEX_TO_GENDER,
    incoming_address,
    incoming_name,
    render_address,
    render_name,
)
from service.fhir.mapping.organization import payers_by_id
from service.fhir.outcomes import invalid
from service.patients.coverages import COVERAGES
from service.patients.logic import PATIENTS
from service.patients.models import Coverage, Patient
from service.references import require_reference

RELATIONSHIP_SYSTEM = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
COVERAGE_CLASS_SYSTEM = "http://terminology.hl7.org/CodeSystem/coverage-class"
# subscriber-relationship -> X12 individual relationship code (SBR02/PAT01, 005010X222A1).
# X12 has no "parent" or "injured party" code the service keeps: both travel as G8 (other).
TO_X12 = {
    "self": "18",
    "spouse": "01",
    "child": "19",
    "common": "53",
    "parent": "G8",
    "injured": "G8",
    "other": "G8",
}
FROM_X12 = {"18": "self", "01": "spouse", "19": "child", "53": "common"}
PRIORITIES = {1: "primary", 2: "secondary", 3: "tertiary"}
ORDERS = {v: k for k, v in PRIORITIES.items()}
SUBSCRIBER_ID = "subscriber"  # id of the contained RelatedPerson
OWN_MEMBER_ID_URL = "urn:backoffice:fhir:coverage-own-member-id"


def reference_ids(values: Sequence[str], kind: str) -> list[str]:
    """`Patient/123`, an absolute URL ending in it, or a bare id."""
    ids = []
    for value in values:
        tail = value.rsplit(f"{kind}/", 1)[-1] if f"{kind}/" in value else value
        ids.append(tail.split("/")[0])
    return ids


def reference_filter(column: Any, kind: str) -> Any:
    def apply(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
        return query.where(col(column).in_(reference_ids(c.values, kind)))

    return apply


def _patients(session: Session, actor: Principal, rows: Sequence[Any]) -> Sequence[Any]:
    ids = sorted({row.patient_id for row in rows})
    if not ids:
        return []
    return session.exec(crud.base_query(PATIENTS, actor).where(col(Patient.id).in_(ids))).all()


def _payers(session: Session, actor: Principal, rows: Sequence[Any]) -> Sequence[Any]:
    return payers_by_id(session, actor, [row.payer_id for row in rows])


def _code(concept: Any, system: str) -> str | None:
    for coding in (concept or {}).get("coding") or []:
        if coding.get("system") in (system, None) and coding.get("code"):
            return str(coding["code"])
    return None


def _subscriber(
    session: Session,
    actor: Principal,
    resource: dict[str, Any],
    refs: Refs,
    fields: dict[str, str],
) -> dict[str, Any] | None:
    """The subscriber's demographics: a contained RelatedPerson/Patient, or a Patient row."""
    reference = resource.get("subscriber")
    if reference is None:
        raise invalid("Coverage.subscriber", "is required when the subscriber is not the patient")
    text = str(reference.get("reference") or "")
    if text.startswith("#"):
        contained = resource.get("contained") or []
        found = [(i, c) for i, c in enumerate(contained) if c.get("id") == text[1:]]
        if not found or found[0][1].get("resourceType") not in ("RelatedPerson", "Patient"):
            raise invalid(
                "Coverage.subscriber",
                f"{text} must name a contained RelatedPerson or Patient",
            )
        index, person = found[0]
        root = f"Coverage.contained[{index}]"
        gender = person.get("gender")
        if gender is not None and gender not in GENDER_TO_SEX:
            raise invalid(f"{root}.gender", "must be male, female, other or unknown")
        fields.update({"/subscriber/birth_date": f"{root}.birthDate", "/subscriber": root})
        name = incoming_name(person, root, fields, prefix="/subscriber/")
        return {
            **name,
            "birth_date": person.get("birthDate"),
            "sex": GENDER_TO_SEX[gender or "unknown"],
            "address": incoming_address(person, root, fields, pointer="/subscriber/address"),
        }
    patient_id = refs.resolve(reference, "Coverage.subscriber", ("Patient",))
    row = require_reference(session, actor, Patient, patient_id, "/subscriber")
    fields["/subscriber"] = "Coverage.subscriber"
    return {
        "family_name": row.family_name,
        "given_name": row.given_name,
        "middle_name": row.middle_name,
        "suffix": row.suffix,
        "birth_date": row.birth_date.isoformat(),
        "sex": row.sex,
        "address": row.address,
    }


def _own_member_id(resource: dict[str, Any], fields: dict[str, str]) -> bool:
    """The extension's valueBoolean; left out, false (an update replaces the whole resource)."""
    for index, extension in enumerate(resource.get("extension") or []):
        if not isinstance(extension, dict) or extension.get("url") != OWN_MEMBER_ID_URL:
            continue
        value = extension.get("valueBoolean")
        if not isinstance(value, bool):
            raise invalid(f"Coverage.extension[{index}].valueBoolean", "must be true or false")
        fields["/own_member_id"] = f"Coverage.extension[{index}]"
        return value
    return False


class CoverageType(TableMapping):
    type_name = "Coverage"
    resource = COVERAGES
    readers = ALL_ROLES
    writers = frozenset({Role.ADMIN, Role.FRONT_DESK, Role.INTEGRATION})
    keeps_identifiers = True
    keeps_history = True
    interactions = ("read", "vread", "update", "history-instance", "create", "search-type")
    search_params: ClassVar[dict[str, SearchParam]] = {
        "_id": id_param(Coverage),
        "identifier": identifier_param(Coverage, "Coverage", "The identifier the EHR sent"),
        "patient": SearchParam(
            "patient",
            "reference",
            "The beneficiary: Patient/<id>.",
            reference_filter(Coverage.patient_id, "Patient"),
        ),
        "beneficiary": SearchParam(
            "beneficiary",
            "reference",
            "The beneficiary: Patient/<id>.",
            reference_filter(Coverage.patient_id, "Patient"),
        ),
        "payor": SearchParam(
            "payor",
            "reference",
            "The payer: Organization/<id>.",
            reference_filter(Coverage.payer_id, "Organization"),
        ),
    }
    includes: ClassVar[dict[str, Include]] = {
        "Coverage:payor": Include("Organization", _payers),
        "Coverage:beneficiary": Include("Patient", _patients),
        "Coverage:patient": Include("Patient", _patients),
    }

    def incoming(
        self, session: Session, actor: Principal, resource: dict[str, Any], refs: Refs, row: Any
    ) -> Mapped:
        fields: dict[str, str] = {
            "/": "Coverage",
            "/patient_id": "Coverage.beneficiary",
            "/payer_id": "Coverage.payor[0]",
            "/member_id": "Coverage.subscriberId",
            "/priority": "Coverage.order",
            "/relationship": "Coverage.relationship",
            "/start_date": "Coverage.period.start",
            "/end_date": "Coverage.period.end",
        }
        status = resource.get("status")
        if status not in (None, "active"):
            raise invalid("Coverage.status", "only active coverages are accepted")
        patient_id = refs.resolve(resource.get("beneficiary"), "Coverage.beneficiary", ("Patient",))
        payors = resource.get("payor") or []
        if not payors:
            raise invalid("Coverage.payor", "needs the payer (an Organization that is an insurer)")
        payer_id = refs.resolve(payors[0], "Coverage.payor[0]", ("Organization",))
        group = None
        for index, cls in enumerate(resource.get("class") or []):
            if _code(cls.get("type"), COVERAGE_CLASS_SYSTEM) == "group":
                group = cls.get("value")
                fields["/group_number"] = f"Coverage.class[{index}].value"
        relationship_code = _code(resource.get("relationship"), RELATIONSHIP_SYSTEM)
        if relationship_code is not None and relationship_code not in TO_X12:
            raise invalid(
                "Coverage.relationship",
                f"must be a code of {RELATIONSHIP_SYSTEM}: " + ", ".join(TO_X12),
            )
        subscriber_ref = (resource.get("subscriber") or {}).get("reference")
        if relationship_code is not None:
            is_self = relationship_code == "self"
        elif subscriber_ref is None:
            is_self = True
        elif str(subscriber_ref).startswith("#"):
            is_self = False
        else:
            subscriber_id = refs.resolve(
                resource["subscriber"], "Coverage.subscriber", ("Patient",)
            )
            is_self = subscriber_id == patient_id
        order = resource.get("order")
        if order is not None and order not in PRIORITIES:
            raise invalid("Coverage.order", "must be 1 (primary), 2 (secondary) or 3 (tertiary)")
        period = resource.get("period") or {}
        document: dict[str, Any] = {
            "patient_id": patient_id,
            "payer_id": payer_id,
            "member_id": resource.get("subscriberId"),
            "group_number": group,
            "priority": PRIORITIES[order or 1],
            "relationship": "18" if is_self else TO_X12[relationship_code or "other"],
            "subscriber": None if is_self else _subscriber(session, actor, resource, refs, fields),
            "own_member_id": _own_member_id(resource, fields),
            "start_date": period.get("start"),
            "end_date": period.get("end"),
        }
        if document["start_date"] is None:
            raise invalid("Coverage.period.start", "is required (the date the coverage starts)")
        return Mapped(document, fields)

    def render(self, row: Any) -> dict[str, Any]:
        relationship = FROM_X12.get(row.relationship, "other")
        body: dict[str, Any] = {}
        subscriber: dict[str, Any] = {"reference": f"Patient/{row.patient_id}"}
        if row.subscriber:
            s = row.subscriber
            person: dict[str, Any] = {
                "resourceType": "RelatedPerson",
                "id": SUBSCRIBER_ID,
                "patient": {"reference": f"Patient/{row.patient_id}"},
                "relationship": [
                    {"coding": [{"system": RELATIONSHIP_SYSTEM, "code": relationship}]}
                ],
                "name": render_name(
                    s.get("family_name"),
                    s.get("given_name"),
                    s.get("middle_name"),
                    s.get("suffix"),
                ),
                "gender": SEX_TO_GENDER.get(s.get("sex", "U"), "unknown"),
                "birthDate": s.get("birth_date"),
            }
            if s.get("address"):
                person["address"] = render_address(s["address"])
            body["contained"] = [person]
            subscriber = {"reference": f"#{SUBSCRIBER_ID}"}
        period = {"start": row.start_date.isoformat()}
        if row.end_date:
            period["end"] = row.end_date.isoformat()
        body.update(
            {
                "status": "active",
                "subscriber": subscriber,
                "subscriberId": row.member_id,
                "beneficiary": {"reference": f"Patient/{row.patient_id}"},
                "relationship": {"coding": [{"system": RELATIONSHIP_SYSTEM, "code": relationship}]},
                "period": period,
                "payor": [{"reference": f"Organization/{row.payer_id}"}],
                "order": ORDERS[row.priority],
            }
        )
        if row.own_member_id:
            body["extension"] = [{"url": OWN_MEMBER_ID_URL, "valueBoolean": True}]
        if row.group_number:
            body["class"] = [
                {
                    "type": {"coding": [{"system": COVERAGE_CLASS_SYSTEM, "code": "group"}]},
                    "value": row.group_number,
                }
            ]
        return body
