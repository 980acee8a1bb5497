"""Specimen status moved by worklists and results: in analysis, resulted, verified."""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from service.auth.logic import Principal
from service.ids import new_id
from service.specimens import logic, repository
from service.specimens.logic import S
from service.specimens.models import Specimen
from service.specimens.states import check_transition


def start_analysis(
    session: Session, actor: Principal, specimen_ids: Sequence[str], at: datetime
) -> None:
    """Placing a test on a worklist moves a `ready` specimen to `in_analysis`. Worklists move
    hundreds at once, so this is one UPDATE … RETURNING per chunk and one bulk event insert."""
    check_transition("(worklist)", S.READY, S.IN_ANALYSIS)  # the table still decides
    moved: list[tuple[str, str, str | None]] = []
    table = Specimen.__table__  # type: ignore[attr-defined]
    ids = list(specimen_ids)
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        moved += session.execute(
            sa.update(table)
            .where(table.c.id.in_(chunk), table.c.status == S.READY.value)
            .values(status=S.IN_ANALYSIS.value, version=table.c.version + 1, updated_at=at)
            .returning(table.c.id, table.c.organization_id, table.c.location)
            .execution_options(synchronize_session=False)
        ).all()
    changed = {row[0] for row in moved}
    for obj in list(session.identity_map.values()):  # loaded copies are stale now
        if isinstance(obj, Specimen) and obj.id in changed:
            session.expire(obj)
    repository.add_events(
        session,
        [
            {
                "id": new_id(),
                "organization_id": org,
                "specimen_id": sid,
                "event": S.IN_ANALYSIS.value,
                "at": at,
                "user_id": actor.user_id,
                "location": location,
                "step": None,
                "deviation": False,
                "details": {"from": S.READY.value},
            }
            for sid, org, location in moved
        ],
    )


def result_entered(session: Session, actor: Principal, specimen: Specimen, at: datetime) -> None:
    """The first result moves the specimen to `resulted` (through in_analysis when entered by
    hand, without a worklist)."""
    if specimen.status == S.READY.value:
        logic.change_status(
            session, actor, specimen, S.IN_ANALYSIS, at, details={"reason": "manual entry"}
        )
    if specimen.status == S.IN_ANALYSIS.value:
        logic.change_status(session, actor, specimen, S.RESULTED, at)


def test_verified(session: Session, actor: Principal, specimen: Specimen, at: datetime) -> None:
    """All of a specimen's tests verified -> the specimen is `verified`."""
    rows = [t for t in repository.tests_of(session, [specimen.id]) if t.status != "cancelled"]
    if rows and all(t.status == "verified" for t in rows) and specimen.status == S.RESULTED.value:
        logic.change_status(session, actor, specimen, S.VERIFIED, at)
