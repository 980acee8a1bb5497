"""ISA13/GS06 and ST02 control numbers: strictly increasing per sender, never reused.

On PostgreSQL they are taken in a transaction of their own that commits before the batch is
written: a batch that fails, is killed mid-way or is cancelled later burns its numbers for good.
SQLite has one writer at a time and the request already holds it, so there they are taken in
the batch's own transaction: a failed batch then leaves no trace, its numbers included, and as
its file never existed they were never sent (no number that went out is ever used again)."""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from service.claims.models import ControlCounter
from service.db import SessionFactory, session_scope

MAX_CONTROL = 999_999_999  # ISA13 is 9 digits


@dataclass(frozen=True)
class ControlNumbers:
    interchange: int  # ISA13 = GS06
    first_transaction_set: int  # ST02 of the first set; the others follow


def take(
    session: Session,
    factory: SessionFactory,
    organization_id: str,
    sender_id: str,
    transaction_sets: int,
) -> ControlNumbers:
    if session.get_bind().dialect.name == "sqlite":
        return _take(session, organization_id, sender_id, transaction_sets)
    with session_scope(factory) as own:
        return _take(own, organization_id, sender_id, transaction_sets)


def _take(
    session: Session, organization_id: str, sender_id: str, transaction_sets: int
) -> ControlNumbers:
    _ensure_counter(session, organization_id, sender_id)
    table = ControlCounter.__table__  # type: ignore[attr-defined]
    # One UPDATE ... RETURNING: the row lock serialises concurrent batches on PostgreSQL.
    row = session.execute(
        sa.update(table)
        .where(table.c.organization_id == organization_id, table.c.sender_id == sender_id)
        .values(
            next_interchange=table.c.next_interchange + 1,
            next_transaction_set=table.c.next_transaction_set + transaction_sets,
        )
        .returning(table.c.next_interchange, table.c.next_transaction_set)
    ).one()
    interchange = row[0] - 1
    first_st = row[1] - transaction_sets
    if interchange > MAX_CONTROL or first_st + transaction_sets - 1 > MAX_CONTROL:
        raise OverflowError("control numbers exhausted for this sender")
    return ControlNumbers(interchange, first_st)


def _ensure_counter(session: Session, organization_id: str, sender_id: str) -> None:
    exists = session.exec(
        select(ControlCounter.id).where(
            ControlCounter.organization_id == organization_id,
            ControlCounter.sender_id == sender_id,
        )
    ).first()
    if exists is not None:
        return
    try:
        with session.begin_nested():
            session.add(ControlCounter(organization_id=organization_id, sender_id=sender_id))
            session.flush()
    except IntegrityError:
        pass  # a concurrent batch created it first
