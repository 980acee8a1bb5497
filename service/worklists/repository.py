"""Queries for worklists: the specimen-tests waiting, items with their specimens, controls."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.labtests.models import LabTest
from service.patients.models import Patient
from service.specimens.models import Specimen, SpecimenTest
from service.specimens.repository import insert_ignoring_conflicts
from service.worklists.models import ControlResult, Worklist, WorklistItem

# A specimen-test can be worked while its specimen is ready or in analysis (DESIGN.md); a
# specimen that already has a first result (resulted) may still have other tests waiting.
WORKABLE = ("ready", "in_analysis", "resulted")


@dataclass(frozen=True)
class Waiting:
    specimen_test_id: str
    specimen_id: str
    lab_test_id: str
    patient_id: str  # for the audit events of placing it


def waiting(
    session: Session, organization_id: str, test_ids: Sequence[str], limit: int
) -> list[Waiting]:
    """Specimen-tests not resulted and on no active worklist: STAT first, oldest collection."""
    if limit <= 0 or not test_ids:
        return []
    active = select(WorklistItem.active_specimen_test_id).where(
        col(WorklistItem.active_specimen_test_id) == col(SpecimenTest.id)
    )
    query = (
        select(
            SpecimenTest.id, SpecimenTest.specimen_id, SpecimenTest.lab_test_id, Specimen.patient_id
        )
        .join(Specimen, col(Specimen.id) == col(SpecimenTest.specimen_id))
        .where(
            SpecimenTest.organization_id == organization_id,
            SpecimenTest.status == "pending",
            col(SpecimenTest.lab_test_id).in_(test_ids),
            col(Specimen.status).in_(WORKABLE),
            ~sa.exists(active),
        )
        .order_by(
            sa.case((col(Specimen.priority) == "stat", 0), else_=1),
            col(Specimen.collected_at).asc().nulls_last(),
            col(Specimen.accession),
        )
        .limit(limit)
    )
    return [Waiting(*row) for row in session.exec(query).all()]


def place(session: Session, rows: list[dict[str, object]]) -> set[str]:
    """Inserts items of one worklist; a specimen-test already on an active worklist is skipped by
    the unique index (ON CONFLICT DO NOTHING). Returns the specimen-tests actually placed: those
    whose new item ids are on the worklist afterwards.

    A plain executemany and one read back rather than RETURNING: with RETURNING, SQLAlchemy sends
    multi-row INSERTs of 1,000 rows whose long text psycopg parses anew for each (half of a
    5,000-item build on PostgreSQL went there).
    """
    if not rows:
        return set()
    table: sa.Table = WorklistItem.__table__  # type: ignore[attr-defined]
    session.execute(insert_ignoring_conflicts(session, table), rows)
    on_worklist = sa.select(table.c.id).where(table.c.worklist_id == rows[0]["worklist_id"])
    inserted = set(session.execute(on_worklist).scalars())
    return {str(r["specimen_test_id"]) for r in rows if r["id"] in inserted}


@dataclass(frozen=True)
class ItemView:
    item: WorklistItem
    accession: str
    priority: str
    test_code: str
    loinc: str | None


def items_of(session: Session, worklist_id: str) -> list[ItemView]:
    rows = session.execute(
        sa.select(
            WorklistItem,
            col(Specimen.accession),
            col(Specimen.priority),
            col(LabTest.code),
            col(LabTest.loinc),
        )
        .join(Specimen, col(Specimen.id) == col(WorklistItem.specimen_id))
        .join(LabTest, col(LabTest.id) == col(WorklistItem.lab_test_id))
        .where(col(WorklistItem.worklist_id) == worklist_id)
    ).all()
    return [ItemView(*row) for row in rows]


def patients_of(session: Session, worklist_id: str) -> dict[str, tuple[str, date]]:
    """specimen id -> (patient name "Family, Given", birth date) for a worklist's printout."""
    rows = session.execute(
        sa.select(
            col(Specimen.id),
            col(Patient.family_name),
            col(Patient.given_name),
            col(Patient.birth_date),
        )
        .join(Patient, col(Patient.id) == col(Specimen.patient_id))
        .where(
            col(Specimen.id).in_(
                sa.select(col(WorklistItem.specimen_id)).where(
                    col(WorklistItem.worklist_id) == worklist_id
                )
            )
        )
    ).all()
    return {i: (", ".join(n for n in (f, g) if n), born) for i, f, g, born in rows}


def taken_positions(session: Session, worklist_id: str) -> set[str]:
    return set(
        session.exec(
            select(WorklistItem.position).where(WorklistItem.worklist_id == worklist_id)
        ).all()
    )


def release(session: Session, worklist_id: str) -> None:
    """A completed worklist no longer holds its specimen-tests."""
    session.execute(
        sa.update(WorklistItem.__table__)  # type: ignore[attr-defined]
        .where(sa.column("worklist_id") == worklist_id)
        .values(active_specimen_test_id=None)
    )


def controls_of(session: Session, worklist_id: str) -> list[ControlResult]:
    return list(
        session.exec(
            select(ControlResult)
            .where(ControlResult.worklist_id == worklist_id)
            .order_by(col(ControlResult.entered_at), col(ControlResult.id))
        ).all()
    )


def active_item_for(session: Session, specimen_test_id: str) -> WorklistItem | None:
    return session.exec(
        select(WorklistItem).where(WorklistItem.active_specimen_test_id == specimen_test_id)
    ).first()


def latest_item_for(session: Session, specimen_test_id: str) -> WorklistItem | None:
    return session.exec(
        select(WorklistItem)
        .where(WorklistItem.specimen_test_id == specimen_test_id)
        .order_by(col(WorklistItem.added_at).desc(), col(WorklistItem.id).desc())
    ).first()


def get_worklist(session: Session, organization_id: str, worklist_id: str) -> Worklist | None:
    row = session.get(Worklist, worklist_id)
    return row if row is not None and row.organization_id == organization_id else None
