"""Queries for results."""

from sqlmodel import Session, col, select

from service.results.models import Result


def current_key(specimen_test_id: str, component_code: str) -> str:
    return f"{specimen_test_id}:{component_code}"


def get_result(session: Session, organization_id: str, result_id: str) -> Result | None:
    row = session.get(Result, result_id)
    return row if row is not None and row.organization_id == organization_id else None


def get_current(session: Session, specimen_test_id: str, component_code: str) -> Result | None:
    return session.exec(
        select(Result).where(Result.current_key == current_key(specimen_test_id, component_code))
    ).first()


def current_of_test(session: Session, specimen_test_id: str) -> list[Result]:
    return list(
        session.exec(
            select(Result).where(
                Result.specimen_test_id == specimen_test_id, col(Result.current_key).is_not(None)
            )
        ).all()
    )


def history(session: Session, specimen_test_id: str, component_code: str) -> list[Result]:
    return list(
        session.exec(
            select(Result)
            .where(
                Result.specimen_test_id == specimen_test_id,
                Result.component_code == component_code,
            )
            .order_by(col(Result.entered_at), col(Result.id))
        ).all()
    )
