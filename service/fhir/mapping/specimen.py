"""FHIR Specimen <-> specimens: a create accessions a specimen for `Specimen.request[0]` (a
ServiceRequest, i.e. a lab order) through the specimens capability, which assigns the accession
number (`accessionIdentifier`, system urn:backoffice:accession; the EHR's own accession is not
kept, its `identifier`s are). `collection.collectedDateTime` collects it at once,
`collection.quantity` is its volume, `container[0].type.text` its container. No update: the
lab moves specimens through their status machine (REST); FHIR status is available /
unavailable (ordered, disposed) / unsatisfactory (rejected), the lab status is the extension
urn:backoffice:fhir:specimen-status.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from service.auth.logic import Principal
from service.errors import InvalidInput, NotFound
from service.fhir import kept
from service.fhir.mapping.base import (
    Criterion,
    Include,
    Refs,
    SearchParam,
    id_param,
    split_token,
    translated,
    validated,
)
from service.fhir.mapping.common import (
    ACCESSION_SYSTEM,
    V2_0487,
    QueryType,
    codings,
    instant,
    number,
)
from service.fhir.mapping.coverage import _patients, reference_filter
from service.fhir.outcomes import invalid
from service.labtests.roles import SPECIMEN_READERS, SPECIMEN_WRITERS
from service.specimens import logic as specimen_logic
from service.specimens.models import Specimen
from service.specimens.schemas import SpecimenCreate
from service.specimens.states import SpecimenStatus

STATUS_EXTENSION = "urn:backoffice:fhir:specimen-status"
_UNAVAILABLE = {SpecimenStatus.ORDERED.value, SpecimenStatus.DISPOSED.value}
FHIR_STATUSES: dict[str, tuple[str, ...]] = {
    "available": tuple(
        s.value
        for s in SpecimenStatus
        if s.value not in _UNAVAILABLE and s is not SpecimenStatus.REJECTED
    ),
    "unavailable": tuple(sorted(_UNAVAILABLE)),
    "unsatisfactory": (SpecimenStatus.REJECTED.value,),
}


def fhir_status(status: str) -> str:
    return next(name for name, members in FHIR_STATUSES.items() if status in members)


def _status(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
    wanted: list[str] = []
    for value in c.values:
        code = split_token(value)[1]
        wanted += FHIR_STATUSES.get(code, (code,))  # lab statuses (received, …) are accepted too
    return query.where(col(Specimen.status).in_(wanted))


def _accession(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
    if f"{ACCESSION_SYSTEM}|" in c.values:
        return query  # `system|`: every specimen has an accession number
    values = [v for s, v in map(split_token, c.values) if s in (None, "", ACCESSION_SYSTEM)]
    return query.where(col(Specimen.accession).in_(values))


def _identifier(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
    """The accession number, or an identifier the EHR sent (its own specimen id)."""
    if f"{ACCESSION_SYSTEM}|" in c.values:
        return query
    accessions = [v for s, v in map(split_token, c.values) if s in (None, "", ACCESSION_SYSTEM)]
    return query.where(
        sa.or_(
            col(Specimen.accession).in_(accessions),
            col(Specimen.id).in_(kept.matching_ids("Specimen", "identifier", c.values)),
        )
    )


def specimens_of_orders(session: Session, actor: Principal, rows: Sequence[Any]) -> list[Any]:
    ids = sorted({row.id for row in rows})
    if not ids:
        return []
    return list(
        session.exec(
            select(Specimen)
            .where(
                Specimen.organization_id == actor.organization_id,
                col(Specimen.order_id).in_(ids),
            )
            .order_by(col(Specimen.id))
        ).all()
    )


class SpecimenType(QueryType):
    type_name = "Specimen"
    model = Specimen
    audit_name = "specimen"
    readers = SPECIMEN_READERS
    writers = SPECIMEN_WRITERS
    interactions: ClassVar[tuple[str, ...]] = ("read", "create", "search-type")
    keeps_identifiers = True
    documentation = (
        "Create accessions a specimen for Specimen.request[0] (a ServiceRequest); the service "
        f"assigns the accession number ({ACCESSION_SYSTEM})."
    )
    search_params: ClassVar[dict[str, SearchParam]] = {
        "_id": id_param(Specimen),
        "accession": SearchParam(
            "accession", "token", f"The accession number ({ACCESSION_SYSTEM}).", _accession
        ),
        "identifier": SearchParam(
            "identifier",
            "token",
            f"The accession number ({ACCESSION_SYSTEM}), or an identifier the EHR sent.",
            _identifier,
        ),
        "patient": SearchParam(
            "patient",
            "reference",
            "The patient: Patient/<id>.",
            reference_filter(Specimen.patient_id, "Patient"),
        ),
        "subject": SearchParam(
            "subject",
            "reference",
            "The patient: Patient/<id>.",
            reference_filter(Specimen.patient_id, "Patient"),
        ),
        "status": SearchParam(
            "status",
            "token",
            "available, unavailable, unsatisfactory; or a lab status (received, verified…).",
            _status,
        ),
    }
    includes: ClassVar[dict[str, Include]] = {
        "Specimen:patient": Include("Patient", _patients),
        "Specimen:subject": Include("Patient", _patients),
    }

    def create(
        self, session: Session, actor: Principal, resource: dict[str, Any], refs: Refs
    ) -> Any:
        fields = {
            "/": "Specimen",
            "/order_id": "Specimen.request[0]",
            "/test_ids": "Specimen.request[0]",
            "/collected_at": "Specimen.collection.collectedDateTime",
            "/volume": "Specimen.collection.quantity.value",
            "/volume_unit": "Specimen.collection.quantity.unit",
            "/container": "Specimen.container[0].type.text",
        }
        requests = resource.get("request") or []
        if not requests:
            raise invalid("Specimen.request", "needs the ServiceRequest the specimen is for")
        order_id = refs.resolve(requests[0], "Specimen.request[0]", ("ServiceRequest",))
        collection = resource.get("collection") or {}
        quantity = collection.get("quantity") or {}
        containers = resource.get("container") or [{}]
        document = {
            "order_id": order_id,
            "collected_at": collection.get("collectedDateTime"),
            "volume": quantity.get("value"),
            "volume_unit": quantity.get("unit") or quantity.get("code"),
            "container": ((containers[0] or {}).get("type") or {}).get("text"),
        }
        data = validated(SpecimenCreate, document, fields, self.type_name)
        try:
            specimen = specimen_logic.accession_specimen(session, actor, data, at=datetime.now(UTC))
        except NotFound:
            raise invalid(
                "Specimen.request[0]", "no such ServiceRequest in your organization"
            ) from None
        except InvalidInput as exc:
            raise translated(exc, fields, self.type_name) from None
        subject = resource.get("subject")
        if subject is not None:
            patient_id = refs.resolve(subject, "Specimen.subject", ("Patient",))
            if patient_id != specimen.patient_id:
                raise invalid("Specimen.subject", "must be the patient of the ServiceRequest")
        for index, coding in codings(resource.get("type")):
            if coding.get("system") == V2_0487 and coding.get("code") != specimen.specimen_type:
                raise invalid(
                    f"Specimen.type.coding[{index}].code",
                    f"the ordered tests need {specimen.specimen_type}",
                )
        return specimen

    def render(self, row: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "extension": [{"url": STATUS_EXTENSION, "valueCode": row.status}],
            "accessionIdentifier": {"system": ACCESSION_SYSTEM, "value": row.accession},
            "status": fhir_status(row.status),
            "type": {"coding": [{"system": V2_0487, "code": row.specimen_type}]},
            "subject": {"reference": f"Patient/{row.patient_id}"},
        }
        if row.received_at:
            body["receivedTime"] = instant(row.received_at)
        if row.parent_id:
            body["parent"] = [{"reference": f"Specimen/{row.parent_id}"}]
        body["request"] = [{"reference": f"ServiceRequest/{row.order_id}"}]
        collection: dict[str, Any] = {}
        if row.collected_at:
            collection["collectedDateTime"] = instant(row.collected_at)
        if row.volume is not None:
            collection["quantity"] = {"value": number(row.volume), "unit": row.volume_unit}
        if collection:
            body["collection"] = collection
        if row.container:
            body["container"] = [{"type": {"text": row.container}}]
        if row.rejection_reason:
            body["condition"] = [{"text": row.rejection_reason}]
        return body
