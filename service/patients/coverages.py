"""Coverages: a patient's insurance with one payer; patient data, so reads are audited."""

from typing import Any

from sqlmodel import Session, col, or_
from sqlmodel.sql.expression import SelectOfScalar

from service import crud, references
from service.auth.logic import Principal
from service.directory.models import Payer
from service.patients.coverage_schemas import CoverageCreate, CoverageFilters
from service.patients.models import Coverage, Patient
from service.references import resolve_reference


def _check(session: Session, actor: Principal, data: CoverageCreate, row: Any) -> None:
    resolve_reference(session, actor, Patient, data, "patient_id")
    resolve_reference(session, actor, Payer, data, "payer_id")
    # A claim copies the coverage's patient: moving the coverage would bill one patient's
    # claim under another's card.
    references.refuse_reparenting(
        session, row, data.patient_id, references.COVERAGE_DEPENDANTS, kind="coverage"
    )


COVERAGES: crud.Resource[Coverage, CoverageCreate] = crud.Resource(
    name="coverage",
    model=Coverage,
    create_schema=CoverageCreate,
    check=_check,
    patient_id=lambda row: row.patient_id,
    phi=True,
    json_fields=("subscriber",),
)


def filter_coverages(query: SelectOfScalar[Any], f: CoverageFilters) -> SelectOfScalar[Any]:
    if f.patient_id:
        query = query.where(Coverage.patient_id == f.patient_id)
    if f.payer_id:
        query = query.where(Coverage.payer_id == f.payer_id)
    if f.priority:
        query = query.where(Coverage.priority == f.priority)
    if f.active_on:
        query = query.where(
            col(Coverage.start_date) <= f.active_on,
            or_(col(Coverage.end_date).is_(None), col(Coverage.end_date) >= f.active_on),
        )
    return query
