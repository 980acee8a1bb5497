"""The test catalog as a record (local code unique per organization), and typed views of it."""

from typing import Any

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from service import crud
from service.auth.logic import Principal
from service.errors import Conflict, NotFound
from service.filters import Filter, apply_filters
from service.labtests.models import LabTest
from service.labtests.schemas import (
    ControlMaterial,
    LabTestCreate,
    LabTestFilters,
    ProtocolStep,
    ResultComponent,
)


class LabTestNotFound(NotFound):
    code = "lab-test-not-found"


class LabTestCodeTaken(Conflict):
    code = "lab-test-code-taken"


def _check(session: Session, actor: Principal, data: LabTestCreate, row: Any) -> None:
    other = session.exec(
        select(LabTest).where(
            LabTest.organization_id == actor.organization_id,
            LabTest.code == data.code,
            col(LabTest.deleted_at).is_(None),
        )
    ).first()
    if other is not None and (row is None or other.id != row.id):
        raise LabTestCodeTaken(f"Test code {data.code} belongs to lab test {other.id} already.")


LAB_TESTS: crud.Resource[LabTest, LabTestCreate] = crud.Resource(
    name="lab_test",
    model=LabTest,
    create_schema=LabTestCreate,
    check=_check,
    not_found=LabTestNotFound,
    json_fields=("protocol", "components", "controls"),
)


LAB_TEST_FILTERS = (Filter("code", LabTest.code), Filter("bench", LabTest.bench))


def filter_lab_tests(query: SelectOfScalar[Any], f: LabTestFilters) -> SelectOfScalar[Any]:
    return apply_filters(query, f, LAB_TEST_FILTERS)


def add_lab_test(session: Session, actor: Principal, data: LabTestCreate) -> LabTest:
    return crud.create(session, actor, LAB_TESTS, data)


def get_lab_tests(session: Session, organization_id: str, ids: list[str]) -> dict[str, LabTest]:
    """Live tests of the organization by id (others are simply absent)."""
    if not ids:
        return {}
    rows = session.exec(
        select(LabTest).where(
            LabTest.organization_id == organization_id,
            col(LabTest.id).in_(ids),
            col(LabTest.deleted_at).is_(None),
        )
    ).all()
    return {row.id: row for row in rows}


def get_lab_test(session: Session, organization_id: str, lab_test_id: str) -> LabTest | None:
    """The test by id, retired or not: a result keeps the test it was measured by."""
    row = session.get(LabTest, lab_test_id)
    return row if row is not None and row.organization_id == organization_id else None


def get_by_code(session: Session, organization_id: str, code: str) -> LabTest | None:
    return session.exec(
        select(LabTest).where(
            LabTest.organization_id == organization_id,
            LabTest.code == code,
            col(LabTest.deleted_at).is_(None),
        )
    ).first()


def protocol_of(test: LabTest) -> list[ProtocolStep]:
    return [ProtocolStep.model_validate(step) for step in test.protocol]


def components_of(test: LabTest) -> list[ResultComponent]:
    return [ResultComponent.model_validate(c) for c in test.components]


def controls_of(test: LabTest) -> list[ControlMaterial]:
    return [ControlMaterial.model_validate(c) for c in test.controls]
