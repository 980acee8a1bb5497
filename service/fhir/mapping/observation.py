"""FHIR Observation (read and search) <-> verified results: only a verified current value is
shown (a corrected value shows again, under its new id and status `corrected`, once verified).
code = the component (LOINC when it is one, else urn:backoffice:lab-component), valueQuantity
for numeric results (valueString for coded ones), interpretation = the flag (L, H, LL, HH, A, N
are v3-ObservationInterpretation codes), referenceRange, specimen, basedOn the order."""

import re
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from service.auth.logic import Principal
from service.columns import UTCDateTime
from service.fhir.mapping.base import Criterion, Include, SearchParam, id_param, split_token
from service.fhir.mapping.common import (
    LAB_COMPONENT_SYSTEM,
    LOINC_SYSTEM,
    QueryType,
    concept,
    instant,
    number,
    session_of,
)
from service.fhir.mapping.coverage import _patients, reference_filter
from service.fhir.mapping.dates import date_filter
from service.fhir.mapping.fixed import fixed_token
from service.labtests.roles import RESULT_READERS
from service.results.models import Result
from service.specimens.models import Specimen

OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
_LOINC = re.compile(r"^\d{1,7}-\d$")


def component_concept(code: str, name: str) -> dict[str, Any]:
    return concept(LOINC_SYSTEM if _LOINC.match(code) else LAB_COMPONENT_SYSTEM, code, name)


def _code(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
    return query.where(col(Result.component_code).in_([split_token(v)[1] for v in c.values]))


# effectiveDateTime: the specimen's collection, else when the result was entered (as rendered).
_COLLECTED = (
    select(Specimen.collected_at)
    .where(Specimen.id == Result.specimen_id)
    .correlate(Result)
    .scalar_subquery()
)
EFFECTIVE = sa.type_coerce(sa.func.coalesce(_COLLECTED, Result.entered_at), UTCDateTime)


def _quantity(value: Decimal | None, unit: str | None) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": number(value) if value is not None else None}
    if unit:
        quantity["unit"] = unit
    return quantity


class ObservationType(QueryType):
    type_name = "Observation"
    model = Result
    audit_name = "result"
    readers = RESULT_READERS
    documentation = "Verified lab results (read-only)."
    search_params: ClassVar[dict[str, SearchParam]] = {
        "_id": id_param(Result),
        "patient": SearchParam(
            "patient",
            "reference",
            "The patient: Patient/<id>.",
            reference_filter(Result.patient_id, "Patient"),
        ),
        "subject": SearchParam(
            "subject",
            "reference",
            "The patient: Patient/<id>.",
            reference_filter(Result.patient_id, "Patient"),
        ),
        "specimen": SearchParam(
            "specimen",
            "reference",
            "The specimen: Specimen/<id>.",
            reference_filter(Result.specimen_id, "Specimen"),
        ),
        "code": SearchParam("code", "token", "The component code (LOINC or local).", _code),
        "category": SearchParam(
            "category",
            "token",
            f"{OBSERVATION_CATEGORY}|laboratory (every result is one).",
            fixed_token(OBSERVATION_CATEGORY, "laboratory"),
        ),
        "date": SearchParam(
            "date",
            "date",
            "effectiveDateTime (collection): partial dates, dateTimes, prefixes.",
            date_filter(EFFECTIVE),
            column=EFFECTIVE,
        ),
    }
    includes: ClassVar[dict[str, Include]] = {"Observation:patient": Include("Patient", _patients)}

    def base_query(self, actor: Principal) -> SelectOfScalar[Any]:
        return (
            super()
            .base_query(actor)
            .where(col(Result.verified_at).is_not(None), col(Result.current_key).is_not(None))
        )

    def render(self, row: Any) -> dict[str, Any]:
        specimen = session_of(row).get(Specimen, row.specimen_id)
        body: dict[str, Any] = {
            "status": "corrected" if row.status == "corrected" else "final",
            "category": [concept(OBSERVATION_CATEGORY, "laboratory", "Laboratory")],
            "code": component_concept(row.component_code, row.component_name),
            "subject": {"reference": f"Patient/{row.patient_id}"},
        }
        if specimen is not None:
            body["basedOn"] = [{"reference": f"ServiceRequest/{specimen.order_id}"}]
            body["effectiveDateTime"] = instant(specimen.collected_at or row.entered_at)
        body["issued"] = instant(row.verified_at)
        try:
            value = Decimal(row.value) if row.kind == "numeric" else None
        except InvalidOperation:
            value = None
        if value is not None and value.is_finite():
            body["valueQuantity"] = _quantity(value, row.unit)
        else:
            body["valueString"] = row.value
        if row.flag:
            body["interpretation"] = [concept(INTERPRETATION, row.flag)]
        body["specimen"] = {"reference": f"Specimen/{row.specimen_id}"}
        if row.ref_low is not None or row.ref_high is not None:
            reference: dict[str, Any] = {}
            if row.ref_low is not None:
                reference["low"] = _quantity(row.ref_low, row.unit)
            if row.ref_high is not None:
                reference["high"] = _quantity(row.ref_high, row.unit)
            body["referenceRange"] = [reference]
        return body
