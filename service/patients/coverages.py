"""Coverages: a patient's insurance with one payer; patient data, so reads are audited."""

from datetime import date
from typing import Any

from sqlmodel import Session, col, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from service import crud, references
from service.auth.logic import Principal
from service.directory.models import Payer
from service.filters import Filter, apply_filters
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


COVERAGE_FILTERS = (
    Filter("patient_id", Coverage.patient_id),
    Filter("payer_id", Coverage.payer_id),
    Filter("priority", Coverage.priority),
)


def filter_coverages(query: SelectOfScalar[Any], f: CoverageFilters) -> SelectOfScalar[Any]:
    query = apply_filters(query, f, COVERAGE_FILTERS)
    if f.active_on:
        query = query.where(
            col(Coverage.start_date) <= f.active_on,
            or_(col(Coverage.end_date).is_(None), col(Coverage.end_date) >= f.active_on),
        )
    return query


PRIORITY_ORDER = {"primary": 1, "secondary": 2, "tertiary": 3}


def coverages_in_force(
    session: Session, organization_id: str, patient_id: str, on: date
) -> list[str]:
    """The patient's live coverages in force on `on`, primary first (at most three): what an
    encounter bills when its sender names none (REST and FHIR alike)."""
    rows = session.exec(
        select(Coverage).where(
            Coverage.organization_id == organization_id,
            Coverage.patient_id == patient_id,
            col(Coverage.deleted_at).is_(None),
            col(Coverage.start_date) <= on,
            or_(col(Coverage.end_date).is_(None), col(Coverage.end_date) >= on),
        )
    ).all()
    ordered = sorted(rows, key=lambda c: (PRIORITY_ORDER.get(c.priority, 9), c.id))
    return [c.id for c in ordered][:3]
