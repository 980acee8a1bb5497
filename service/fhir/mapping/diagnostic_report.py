"""FHIR DiagnosticReport (read and search) <-> a specimen's verified results: one report per
specimen (its id is the specimen's) once at least one of its results is verified; `partial`
until all of its tests are verified, then `final` (`corrected` if a shown value was corrected).
`result` lists the Observations; `_include=DiagnosticReport:result` returns them with it."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from service.auth.logic import Principal
from service.fhir.mapping.base import Criterion, Include, SearchParam, split_token
from service.fhir.mapping.common import (
    ACCESSION_SYSTEM,
    LAB_TEST_SYSTEM,
    LOINC_SYSTEM,
    QueryType,
    concept,
    instant,
    session_of,
)
from service.fhir.mapping.coverage import _patients, reference_filter
from service.fhir.mapping.dates import date_filter
from service.fhir.mapping.fixed import fixed_token
from service.fhir.mapping.service_request import test_concept
from service.fhir.mapping.specimen import _accession
from service.labtests.models import LabTest
from service.labtests.roles import RESULT_READERS
from service.results.models import Result
from service.specimens import logic as specimen_logic
from service.specimens.models import Specimen, SpecimenTest

V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
FINAL = {"verified", "stored", "disposed"}


def _verified(specimen_ids: Sequence[str]) -> Any:
    return (
        select(Result)
        .where(
            col(Result.specimen_id).in_(specimen_ids),
            col(Result.verified_at).is_not(None),
            col(Result.current_key).is_not(None),
        )
        .order_by(col(Result.id))
    )


def verified_results(session: Session, specimen_ids: Sequence[str]) -> list[Result]:
    return list(session.exec(_verified(specimen_ids)).all()) if specimen_ids else []


def _results(session: Session, actor: Principal, rows: Sequence[Any]) -> Sequence[Any]:
    return verified_results(session, [row.id for row in rows])


def _specimens(session: Session, actor: Principal, rows: Sequence[Any]) -> Sequence[Any]:
    return rows


def _id(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
    return query.where(col(Specimen.id).in_(c.values))


def _code(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
    """A test of the report: its LOINC, or its local code (urn:backoffice:lab-test)."""
    loincs = [v for s, v in map(split_token, c.values) if s in (None, "", LOINC_SYSTEM)]
    locals_ = [v for s, v in map(split_token, c.values) if s in (None, "", LAB_TEST_SYSTEM)]
    tests = (
        select(SpecimenTest.specimen_id)
        .join(LabTest, col(LabTest.id) == col(SpecimenTest.lab_test_id))
        .where(sa.or_(col(LabTest.loinc).in_(loincs), col(LabTest.code).in_(locals_)))
    )
    return query.where(col(Specimen.id).in_(tests))


class DiagnosticReportType(QueryType):
    type_name = "DiagnosticReport"
    model = Specimen
    audit_name = "diagnostic_report"
    readers = RESULT_READERS
    documentation = "A specimen's verified results (read-only); the id is the specimen's."
    search_params: ClassVar[dict[str, SearchParam]] = {
        "_id": SearchParam("_id", "token", "The logical id (the specimen's id).", _id),
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
        "specimen": SearchParam(
            "specimen",
            "reference",
            "The specimen: Specimen/<id>.",
            reference_filter(Specimen.id, "Specimen"),
        ),
        "based-on": SearchParam(
            "based-on",
            "reference",
            "The order: ServiceRequest/<id>.",
            reference_filter(Specimen.order_id, "ServiceRequest"),
        ),
        "identifier": SearchParam(
            "identifier", "token", f"The accession number ({ACCESSION_SYSTEM}).", _accession
        ),
        "category": SearchParam(
            "category",
            "token",
            f"{V2_0074}|LAB (every report here is one).",
            fixed_token(V2_0074, "LAB"),
        ),
        "code": SearchParam(
            "code",
            "token",
            "A test of the report: LOINC or local code.",
            _code,
        ),
        "date": SearchParam(
            "date",
            "date",
            "effectiveDateTime (collection): partial dates, dateTimes, prefixes.",
            date_filter(Specimen.collected_at),
            column=Specimen.collected_at,
        ),
    }
    includes: ClassVar[dict[str, Include]] = {
        "DiagnosticReport:result": Include("Observation", _results),
        "DiagnosticReport:specimen": Include("Specimen", _specimens),
        "DiagnosticReport:patient": Include("Patient", _patients),
    }

    def base_query(self, actor: Principal) -> SelectOfScalar[Any]:
        verified = (
            select(Result.id)
            .where(
                Result.specimen_id == Specimen.id,
                col(Result.verified_at).is_not(None),
                col(Result.current_key).is_not(None),
            )
            .exists()
        )
        return super().base_query(actor).where(sa.and_(verified))

    def last_updated(self, row: Any) -> datetime:
        return row.updated_at  # type: ignore[no-any-return]

    def render(self, row: Any) -> dict[str, Any]:
        session = session_of(row)
        results = verified_results(session, [row.id])
        tests = [test for _, test in specimen_logic.tests_for(session, row)]
        if len(tests) == 1:
            code = test_concept(tests[0])
        else:
            code = concept(LOINC_SYSTEM, "11502-2", "Laboratory report")
        status = "partial"
        if row.status in FINAL:
            corrected = any(r.status == "corrected" for r in results)
            status = "corrected" if corrected else "final"
        issued = max((r.verified_at for r in results if r.verified_at), default=None)
        body: dict[str, Any] = {
            "identifier": [{"system": ACCESSION_SYSTEM, "value": row.accession}],
            "basedOn": [{"reference": f"ServiceRequest/{row.order_id}"}],
            "status": status,
            "category": [concept(V2_0074, "LAB", "Laboratory")],
            "code": code,
            "subject": {"reference": f"Patient/{row.patient_id}"},
        }
        if row.collected_at:
            body["effectiveDateTime"] = instant(row.collected_at)
        if issued is not None:
            body["issued"] = instant(issued)
        body["specimen"] = [{"reference": f"Specimen/{row.id}"}]
        body["result"] = [{"reference": f"Observation/{r.id}"} for r in results]
        return body
