"""Put code set versions into the database: the bundled ones (at `backoffice migrate`) and imports.

The database is the source of truth for every replica; a version's rows are written once, in
bulk (COPY on PostgreSQL, executemany in chunks elsewhere), and never updated afterwards.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.codesets.bundle import BUNDLE_DIR, BundleEntry, CodeRow, iter_rows, load_manifest
from service.codesets.models import CodeEntry, CodeSetVersion
from service.errors import Conflict

log = logging.getLogger("service.codesets")

# Any fixed number (not the migration lock's): serialises replicas loading the bundle at start-up.
LOAD_LOCK_KEY = 7_205_310_002
_CHUNK = 5_000
_ENTRY_COLUMNS = ("version_id", "code", "billable", "title", "parent", "excludes1", "seventh")


class CodeSetVersionExists(Conflict):
    code = "code-set-version-exists"


@dataclass(frozen=True)
class VersionMeta:
    system: str
    version: str
    effective_from: date
    effective_to: date | None
    source: str
    sha256: str
    origin: str


def lock(session: Session) -> None:
    """On PostgreSQL, one loader at a time (held to the end of the transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOAD_LOCK_KEY})


def get_version(session: Session, system: str, version: str) -> CodeSetVersion | None:
    return session.exec(
        select(CodeSetVersion).where(
            CodeSetVersion.system == system, CodeSetVersion.version == version
        )
    ).first()


def bulk_insert(
    session: Session, table: sa.Table, columns: Sequence[str], rows: Iterable[Any]
) -> None:
    """Rows as tuples in `columns` order; COPY on PostgreSQL, chunked executemany elsewhere."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
        return
    insert = table.insert()
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(dict(zip(columns, row, strict=True)))
        if len(chunk) >= _CHUNK:
            connection.execute(insert, chunk)
            chunk = []
    if chunk:
        connection.execute(insert, chunk)


def add_version(session: Session, meta: VersionMeta, rows: Sequence[CodeRow]) -> CodeSetVersion:
    """A new version with its codes. The caller holds `lock()` and owns the transaction."""
    if get_version(session, meta.system, meta.version) is not None:
        raise CodeSetVersionExists(f"{meta.system} version {meta.version} is loaded already.")
    version = CodeSetVersion(
        system=meta.system,
        version=meta.version,
        effective_from=meta.effective_from,
        effective_to=meta.effective_to,
        source=meta.source,
        sha256=meta.sha256,
        row_count=len(rows),
        origin=meta.origin,
    )
    session.add(version)
    session.flush()
    bulk_insert(
        session,
        CodeEntry.__table__,  # type: ignore[attr-defined]
        _ENTRY_COLUMNS,
        (
            (
                version.id,
                row.code,
                row.billable,
                row.title,
                row.parent,
                "|".join(row.excludes1) or None,
                "|".join(f"{char}={meaning}" for char, meaning in row.seventh) or None,
            )
            for row in rows
        ),
    )
    return version


def close_previous(session: Session, system: str, starts: date) -> None:
    """A new version ends the open-ended (or overlapping) versions that began before it."""
    for older in session.exec(
        select(CodeSetVersion).where(
            CodeSetVersion.system == system, col(CodeSetVersion.effective_from) < starts
        )
    ):
        if older.effective_to is None or older.effective_to >= starts:
            older.effective_to = starts - timedelta(days=1)
            session.add(older)


def _meta(entry: BundleEntry) -> VersionMeta:
    return VersionMeta(
        system=entry.set,
        version=entry.version,
        effective_from=entry.effective_from,
        effective_to=entry.effective_to,
        source=entry.source,
        sha256=entry.content_sha256,
        origin="bundled",
    )


def load_bundled(session: Session, root: Path = BUNDLE_DIR) -> list[CodeSetVersion]:
    """Loads every manifest entry not loaded yet; the loaded versions are returned.

    Idempotent: a version already loaded with the same content hash is skipped. A bundled
    version whose content changed (a rebuilt file) is replaced by a new row with a new id, so
    that every replica's index cache, keyed by version id, picks up the new content.
    """
    lock(session)
    loaded: list[CodeSetVersion] = []
    for entry in load_manifest(root):
        existing = get_version(session, entry.set, entry.version)
        if existing is not None:
            if existing.sha256 == entry.content_sha256 or existing.origin != "bundled":
                continue
            log.warning("replacing %s %s: bundled content changed", entry.set, entry.version)
            session.execute(sa.delete(CodeEntry).where(col(CodeEntry.version_id) == existing.id))
            session.delete(existing)
            session.flush()
        loaded.append(add_version(session, _meta(entry), list(iter_rows(entry, root))))
    session.flush()
    return loaded
