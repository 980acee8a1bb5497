"""Immutable files kept in the database as ~1 MB chunk rows (claim batch files, uploaded
remittance files): written and read as streams, so memory holds one chunk whatever the size,
and never on one replica's disk (DESIGN.md). Each owner has its chunk table, keyed by
(owner id, seq), with a `data` column; the owner row keeps the size and the SHA-256."""

import hashlib
from collections.abc import Iterator
from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from service.db import SessionFactory

CHUNK_BYTES = 1024 * 1024


class ChunkWriter:
    """Buffers what it is given into CHUNK_BYTES rows, hashing as it goes."""

    def __init__(self, session: Session, table: type[SQLModel], owner: str, owner_id: str) -> None:
        self._session, self._table = session, table
        self._owner, self._owner_id = owner, owner_id
        # Small writes (one X12 segment each) are kept as a list and joined once per chunk.
        self._pending: list[str | bytes] = []
        self._pending_size = 0
        self._pending_bytes = False  # any bytes among them: the join cannot be a str join
        self._seq = 0
        self._digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        for start in range(0, len(data), CHUNK_BYTES):  # a whole upload splits into chunks
            self._pending_bytes = True
            self._add(data[start : start + CHUNK_BYTES])

    def write_text(self, text: str) -> None:
        """X12 is ASCII once cleaned: a stray character is a bug, not something to re-encode.
        Called once per segment, so it does _add's work itself."""
        self._pending.append(text)
        self._pending_size += len(text)
        if self._pending_size >= CHUNK_BYTES:
            self.close()

    def _add(self, piece: str | bytes) -> None:
        self._pending.append(piece)
        self._pending_size += len(piece)
        if self._pending_size >= CHUNK_BYTES:
            self.close()

    def close(self) -> None:
        """Writes what is buffered; call after the last write."""
        if not self._pending:
            return
        pieces = self._pending
        if not self._pending_bytes:  # one join and one encode per chunk
            data = "".join(cast(list[str], pieces)).encode("ascii")
        else:
            data = b"".join(p.encode("ascii") if isinstance(p, str) else p for p in pieces)
        self._pending, self._pending_size, self._pending_bytes = [], 0, False
        self._digest.update(data)
        self.size += len(data)
        self._insert(data)

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def _insert(self, data: bytes) -> None:
        values: dict[str, Any] = {self._owner: self._owner_id, "seq": self._seq, "data": data}
        self._session.execute(sa.insert(self._table).values(**values))
        self._seq += 1


def chunks(session: Session, table: type[SQLModel], owner: str, owner_id: str) -> Iterator[bytes]:
    """The file, chunk by chunk: one row per query, so one chunk is in memory at a time."""
    owner_column, seq, data = (getattr(table, name) for name in (owner, "seq", "data"))
    last = -1
    while True:
        row = session.execute(
            sa.select(data, seq).where(owner_column == owner_id, seq > last).order_by(seq).limit(1)
        ).first()
        if row is None:
            return
        last = row[1]
        yield bytes(row[0])


def stream(
    factory: SessionFactory, table: type[SQLModel], owner: str, owner_id: str
) -> Iterator[bytes]:
    """chunks() in a session of its own: a request's session closes before its streamed body
    is sent."""
    with factory() as session:
        yield from chunks(session, table, owner, owner_id)


def etag(sha256: str) -> str:
    """A strong ETag: the bytes never change, so their digest names them."""
    return f'"{sha256}"'


def download_headers(filename: str, sha256: str, size: int) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "ETag": etag(sha256),
        "Content-Length": str(size),
    }
