"""Queries for specimens: accession numbers, lineage, tests and events; all scoped to an org."""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, func, select

from service.ids import new_id
from service.specimens.models import AccessionCounter, Specimen, SpecimenEvent, SpecimenTest


def insert_ignoring_conflicts(session: Session, table: sa.Table) -> Any:
    """`INSERT … ON CONFLICT DO NOTHING` in the dialect of the session's database."""
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()


_COUNTER: sa.Table = AccessionCounter.__table__  # type: ignore[attr-defined]
# Built once: accessioning runs it for every specimen. (Bind names differ from the columns, which
# would otherwise be taken for values to SET.)
_BUMP = (
    sa.update(_COUNTER)
    .where(
        _COUNTER.c.organization_id == sa.bindparam("counter_org"),
        _COUNTER.c.year == sa.bindparam("counter_year"),
    )
    .values(last_number=_COUNTER.c.last_number + 1)
    .returning(_COUNTER.c.last_number)
)


def next_accession_number(session: Session, organization_id: str, year: int) -> int:
    """Claims the next number of the year with one conditional UPDATE … RETURNING.

    The UPDATE takes the counter row's lock, so concurrent accessioning queues on it (PostgreSQL
    row lock; SQLite write transactions are serialized already) and no number is handed twice.
    """
    key = {"counter_org": organization_id, "counter_year": year}
    number = session.execute(_BUMP, key).scalar()
    if number is None:  # first of the year: create the row (a racing creator wins harmlessly)
        session.execute(
            insert_ignoring_conflicts(session, _COUNTER).values(
                organization_id=organization_id, year=year, last_number=0
            )
        )
        number = session.execute(_BUMP, key).scalar_one()
    return int(number)


def get_specimen(session: Session, organization_id: str, specimen_id: str) -> Specimen | None:
    row = session.get(Specimen, specimen_id)
    return row if row is not None and row.organization_id == organization_id else None


def get_by_accession(session: Session, organization_id: str, accession: str) -> Specimen | None:
    return session.exec(
        select(Specimen).where(
            Specimen.organization_id == organization_id, Specimen.accession == accession
        )
    ).first()


def tests_of(session: Session, specimen_ids: Sequence[str]) -> list[SpecimenTest]:
    if not specimen_ids:
        return []
    return list(
        session.exec(
            select(SpecimenTest)
            .where(col(SpecimenTest.specimen_id).in_(specimen_ids))
            .order_by(col(SpecimenTest.id))
        ).all()
    )


def get_specimen_test(
    session: Session, organization_id: str, specimen_test_id: str
) -> SpecimenTest | None:
    row = session.get(SpecimenTest, specimen_test_id)
    return row if row is not None and row.organization_id == organization_id else None


def find_specimen_test(session: Session, specimen_id: str, lab_test_id: str) -> SpecimenTest | None:
    return session.exec(
        select(SpecimenTest).where(
            SpecimenTest.specimen_id == specimen_id, SpecimenTest.lab_test_id == lab_test_id
        )
    ).first()


def children_of(session: Session, specimen_id: str) -> list[Specimen]:
    return list(
        session.exec(
            select(Specimen)
            .where(Specimen.parent_id == specimen_id)
            .order_by(col(Specimen.accession))
        ).all()
    )


def count_children(session: Session, specimen_id: str, kind: str) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(Specimen)
            .where(Specimen.parent_id == specimen_id, Specimen.kind == kind)
        ).one()
    )


def step_events(session: Session, specimen_ids: Sequence[str]) -> list[SpecimenEvent]:
    return list(
        session.exec(
            select(SpecimenEvent)
            .where(col(SpecimenEvent.specimen_id).in_(specimen_ids), SpecimenEvent.event == "step")
            .order_by(col(SpecimenEvent.at), col(SpecimenEvent.id))
        ).all()
    )


def add_specimen(session: Session, specimen: Specimen) -> None:
    """A new specimen with one plain INSERT, then attached to the session as a loaded row: the
    unit of work of a flush costs several times the INSERT itself (accessioning is hot)."""
    table: sa.Table = Specimen.__table__  # type: ignore[attr-defined]
    session.execute(sa.insert(table), {c.key: getattr(specimen, c.key) for c in table.columns})
    make_transient_to_detached(specimen)
    session.add(specimen)


def add_tests(
    session: Session, organization_id: str, specimen_id: str, lab_test_ids: Sequence[str]
) -> None:
    """A new specimen's tests in one statement, without an ORM object per row."""
    session.execute(
        sa.insert(SpecimenTest.__table__),  # type: ignore[attr-defined]
        [
            {
                "id": new_id(),
                "organization_id": organization_id,
                "specimen_id": specimen_id,
                "lab_test_id": lab_test_id,
                "status": "pending",
            }
            for lab_test_id in lab_test_ids
        ],
    )


def add_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Many events in one statement (worklist building moves hundreds of specimens at once)."""
    if rows:
        session.execute(sa.insert(SpecimenEvent.__table__), rows)  # type: ignore[attr-defined]
