"""Queries for directory records that other capabilities read."""

from collections.abc import Iterable

from sqlmodel import Session, col, select

from service.directory.models import Payer


def payer_names(session: Session, organization_id: str, ids: Iterable[str]) -> dict[str, str]:
    """Payer id → name for `ids`, the organization's payers only."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    query = select(Payer).where(Payer.organization_id == organization_id, col(Payer.id).in_(wanted))
    return {p.id: p.name for p in session.exec(query)}
