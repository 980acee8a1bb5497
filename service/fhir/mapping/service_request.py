"""FHIR ServiceRequest <-> lab orders.

`code` names the test: a LOINC coding (http://loinc.org) or the catalog's local code
(urn:backoffice:lab-test); codings of other systems (the EHR's own orderables) are ignored.
Further tests of the same order travel in the extension urn:backoffice:fhir:additional-test
(valueCodeableConcept, same rules). `requester` = the ordering Practitioner; `priority` routine
-> routine, urgent/asap/stat -> stat (the lab has two queues); `reasonCode` ICD-10-CM codings ->
reason codes (validated; other systems ignored); `encounter` -> the encounter charge capture
bills; status active / completed / revoked <-> active / completed / cancelled. `specimen` lists
the order's specimens (read-only: a Specimen names its ServiceRequest in `request`).
"""

from collections.abc import Sequence
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from service import crud
from service.auth.logic import Principal
from service.directory.logic import PROVIDERS
from service.directory.models import Provider
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
)
from service.fhir.mapping.common import (
    ICD10CM_SYSTEM,
    LAB_TEST_SYSTEM,
    LOINC_SYSTEM,
    codings,
    extensions,
    instant,
    session_of,
)
from service.fhir.mapping.coverage import _patients, reference_filter
from service.fhir.mapping.dates import date_filter
from service.fhir.mapping.specimen import specimens_of_orders
from service.fhir.outcomes import invalid
from service.labtests import logic as labtest_logic
from service.labtests.models import LabTest
from service.labtests.roles import SPECIMEN_READERS, SPECIMEN_WRITERS
from service.orders.logic import LAB_ORDERS
from service.orders.models import LabOrder
from service.specimens.models import Specimen

ADDITIONAL_TEST_EXTENSION = "urn:backoffice:fhir:additional-test"
SNOMED = "http://snomed.info/sct"
TO_STATUS = {"active": "active", "completed": "completed", "revoked": "cancelled"}
FROM_STATUS = {v: k for k, v in TO_STATUS.items()}
TO_PRIORITY = {"routine": "routine", "urgent": "stat", "asap": "stat", "stat": "stat"}
ORDER_INTENTS = {"order", "original-order", "reflex-order", "filler-order", "instance-order"}


def _status(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
    wanted = [TO_STATUS.get(split_token(v)[1], "?") for v in c.values]
    return query.where(col(LabOrder.status).in_(wanted))


def _test_for(session: Session, actor: Principal, coding: dict[str, Any]) -> LabTest | None:
    system, code = coding.get("system"), coding.get("code")
    if system == LAB_TEST_SYSTEM:
        return labtest_logic.get_by_code(session, actor.organization_id, str(code))
    return session.exec(
        select(LabTest).where(
            LabTest.organization_id == actor.organization_id,
            LabTest.loinc == code,
            col(LabTest.deleted_at).is_(None),
        )
    ).first()


def _tests_in(
    session: Session, actor: Principal, concept: Any, where: str, found: list[str]
) -> None:
    """Adds the catalog tests a CodeableConcept names; a LOINC or local code the catalog does
    not hold is refused, a coding of another system is ignored."""
    named = False
    for index, coding in codings(concept):
        if coding.get("system") not in (LOINC_SYSTEM, LAB_TEST_SYSTEM):
            continue
        test = _test_for(session, actor, coding)
        if test is None:
            raise invalid(
                f"{where}.coding[{index}]",
                f"{coding.get('code')} is not a test of your catalog",
            )
        named = True
        if test.id not in found:
            found.append(test.id)
    if not named:
        raise invalid(
            where, f"names no test: send a LOINC ({LOINC_SYSTEM}) or local ({LAB_TEST_SYSTEM}) code"
        )


def _providers(session: Session, actor: Principal, rows: Sequence[Any]) -> Sequence[Any]:
    ids = sorted({row.ordering_provider_id for row in rows})
    if not ids:
        return []
    return session.exec(crud.base_query(PROVIDERS, actor).where(col(Provider.id).in_(ids))).all()


def test_concept(test: LabTest) -> dict[str, Any]:
    coding = [{"system": LAB_TEST_SYSTEM, "code": test.code, "display": test.name}]
    if test.loinc:
        coding.append({"system": LOINC_SYSTEM, "code": test.loinc, "display": test.name})
    return {"coding": coding, "text": test.name}


def _code(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
    """Orders with a test whose LOINC or local code is asked for. The order keeps its test ids
    as a JSON list: a test matches when its quoted id is in that list's text."""
    loincs = [v for s, v in map(split_token, c.values) if s in (None, "", LOINC_SYSTEM)]
    locals_ = [v for s, v in map(split_token, c.values) if s in (None, "", LAB_TEST_SYSTEM)]
    quoted = sa.literal('%"') + col(LabTest.id) + sa.literal('"%')
    has_test = (
        select(LabTest.id)
        .where(
            col(LabTest.organization_id) == col(LabOrder.organization_id),
            sa.or_(col(LabTest.loinc).in_(loincs), col(LabTest.code).in_(locals_)),
            sa.cast(LabOrder.test_ids, sa.Text).like(quoted),
        )
        .exists()
    )
    return query.where(has_test)


class ServiceRequestType(TableMapping):
    type_name = "ServiceRequest"
    resource = LAB_ORDERS
    readers = SPECIMEN_READERS
    writers = SPECIMEN_WRITERS
    documentation = (
        "Lab orders: code = a LOINC or local test code; more tests of the order in the "
        "extension urn:backoffice:fhir:additional-test."
    )
    keeps_identifiers = True
    keeps_history = True
    interactions = ("read", "vread", "update", "history-instance", "create", "search-type")
    search_params: ClassVar[dict[str, SearchParam]] = {
        "_id": id_param(LabOrder),
        "identifier": identifier_param(
            LabOrder, "ServiceRequest", "The placer order number (or any identifier sent)"
        ),
        "patient": SearchParam(
            "patient",
            "reference",
            "The patient: Patient/<id>.",
            reference_filter(LabOrder.patient_id, "Patient"),
        ),
        "subject": SearchParam(
            "subject",
            "reference",
            "The patient: Patient/<id>.",
            reference_filter(LabOrder.patient_id, "Patient"),
        ),
        "encounter": SearchParam(
            "encounter",
            "reference",
            "The encounter: Encounter/<id>.",
            reference_filter(LabOrder.encounter_id, "Encounter"),
        ),
        "requester": SearchParam(
            "requester",
            "reference",
            "The ordering provider: Practitioner/<id>.",
            reference_filter(LabOrder.ordering_provider_id, "Practitioner"),
        ),
        "status": SearchParam("status", "token", "active, completed or revoked.", _status),
        "code": SearchParam(
            "code",
            "token",
            f"A test of the order: LOINC ({LOINC_SYSTEM}) or local code ({LAB_TEST_SYSTEM}).",
            _code,
        ),
        "authored": SearchParam(
            "authored",
            "date",
            "authoredOn (when the order was placed here).",
            date_filter(LabOrder.created_at),
            column=LabOrder.created_at,
        ),
    }
    includes: ClassVar[dict[str, Include]] = {
        "ServiceRequest:specimen": Include("Specimen", specimens_of_orders),
        "ServiceRequest:patient": Include("Patient", _patients),
        "ServiceRequest:subject": Include("Patient", _patients),
        "ServiceRequest:requester": Include("Practitioner", _providers),
    }

    def incoming(
        self, session: Session, actor: Principal, resource: dict[str, Any], refs: Refs, row: Any
    ) -> Mapped:
        fields: dict[str, str] = {
            "/": "ServiceRequest",
            "/patient_id": "ServiceRequest.subject",
            "/ordering_provider_id": "ServiceRequest.requester",
            "/test_ids": "ServiceRequest.code",
            "/priority": "ServiceRequest.priority",
            "/status": "ServiceRequest.status",
        }
        status = resource.get("status")
        if status not in TO_STATUS:
            raise invalid("ServiceRequest.status", "must be active, completed or revoked")
        if resource.get("intent") not in ORDER_INTENTS:
            raise invalid("ServiceRequest.intent", "only orders are placed (intent order)")
        patient_id = refs.resolve(resource.get("subject"), "ServiceRequest.subject", ("Patient",))
        if resource.get("requester") is None:
            raise invalid("ServiceRequest.requester", "needs the ordering Practitioner")
        requester = refs.resolve(
            resource["requester"], "ServiceRequest.requester", ("Practitioner",)
        )
        priority = resource.get("priority") or "routine"
        if priority not in TO_PRIORITY:
            raise invalid("ServiceRequest.priority", "must be routine, urgent, asap or stat")
        tests: list[str] = []
        _tests_in(session, actor, resource.get("code"), "ServiceRequest.code", tests)
        for index, extension in extensions(resource, ADDITIONAL_TEST_EXTENSION):
            where = f"ServiceRequest.extension[{index}].valueCodeableConcept"
            _tests_in(session, actor, extension.get("valueCodeableConcept"), where, tests)
        reasons: list[str] = []
        for r_index, reason in enumerate(resource.get("reasonCode") or []):
            for c_index, coding in codings(reason):
                if coding.get("system") == ICD10CM_SYSTEM and coding.get("code"):
                    fields[f"/reason_codes/{len(reasons)}"] = (
                        f"ServiceRequest.reasonCode[{r_index}].coding[{c_index}].code"
                    )
                    reasons.append(str(coding["code"]))
        document: dict[str, Any] = {
            "patient_id": patient_id,
            "ordering_provider_id": requester,
            "test_ids": tests,
            "priority": TO_PRIORITY[priority],
            "reason_codes": reasons,
            "status": TO_STATUS[str(status)],
            "encounter_id": None,
        }
        if resource.get("encounter") is not None:
            # Same organization and same patient: checked by the lab order's own rules
            # (service.references), as for REST.
            document["encounter_id"] = refs.resolve(
                resource["encounter"], "ServiceRequest.encounter", ("Encounter",)
            )
            fields["/encounter_id"] = "ServiceRequest.encounter"
        return Mapped(document, fields)

    def render(self, row: Any) -> dict[str, Any]:
        session = session_of(row)
        tests = labtest_logic.get_lab_tests(session, row.organization_id, list(row.test_ids))
        concepts = [test_concept(tests[t]) for t in row.test_ids if t in tests]
        body: dict[str, Any] = {}
        if len(concepts) > 1:
            body["extension"] = [
                {"url": ADDITIONAL_TEST_EXTENSION, "valueCodeableConcept": concept}
                for concept in concepts[1:]
            ]
        body.update(
            {
                "status": FROM_STATUS[row.status],
                "intent": "order",
                "category": [
                    {
                        "coding": [
                            {
                                "system": SNOMED,
                                "code": "108252007",
                                "display": "Laboratory procedure",
                            }
                        ]
                    }
                ],
                "priority": row.priority,
            }
        )
        if concepts:
            body["code"] = concepts[0]
        body["subject"] = {"reference": f"Patient/{row.patient_id}"}
        if row.encounter_id:
            body["encounter"] = {"reference": f"Encounter/{row.encounter_id}"}
        body["authoredOn"] = instant(row.created_at)
        body["requester"] = {"reference": f"Practitioner/{row.ordering_provider_id}"}
        if row.reason_codes:
            body["reasonCode"] = [
                {"coding": [{"system": ICD10CM_SYSTEM, "code": code}]} for code in row.reason_codes
            ]
        specimens = session.exec(
            select(Specimen.id).where(Specimen.order_id == row.id).order_by(col(Specimen.id))
        ).all()
        if specimens:
            body["specimen"] = [{"reference": f"Specimen/{s}"} for s in specimens]
        return body
