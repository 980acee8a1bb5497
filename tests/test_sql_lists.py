"""service/sql_lists.py: one_of selects the same rows whether the ids go as one comma-joined
string (PostgreSQL, ids without commas) or as a list (values with commas, SQLite)."""

import sqlalchemy as sa
from sqlmodel import Session

from service.sql_lists import one_of

_METADATA = sa.MetaData()
_PROBE = sa.Table("one_of_probe", _METADATA, sa.Column("id", sa.String(32), primary_key=True))


def _selected(db: Session, values: list[str]) -> list[str]:
    query = sa.select(_PROBE.c.id).where(one_of(db, _PROBE.c.id, values)).order_by(_PROBE.c.id)
    return list(db.execute(query).scalars())


def test_one_of_selects_the_given_ids_with_or_without_commas(db: Session) -> None:
    _METADATA.create_all(db.connection())
    db.execute(sa.insert(_PROBE), [{"id": i} for i in ("a", "b", "c,d", "e", "")])

    assert _selected(db, ["e", "a", "zz"]) == ["a", "e"]
    assert _selected(db, ["c,d", "b"]) == ["b", "c,d"]  # a comma: never split
    assert _selected(db, ["c", "d"]) == []
    assert _selected(db, ["", "b"]) == ["", "b"]
    assert _selected(db, [""]) == [""]
    assert _selected(db, []) == []
