"""The same remittance file uploaded by several requests at once is posted once; the requests
that lose the race answer like a later duplicate upload (200, `duplicate: true`), never 500.

On PostgreSQL the uploads race for real: a real upload of the same bytes, in flight in a
transaction of its own, holds them all at the unique (organization, SHA-256) index, then rolls
back (one of them inserts, the others hit the index) or commits (they all read it). Two files
carrying the same payment race the same way at the unique payment (TRN) index. On SQLite writers
queue at BEGIN IMMEDIATE: the same answers must come out. Nothing in the code is replaced.
"""

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlmodel import Session, func, select

from service import uploads
from service.db import make_engine
from service.demo.x12_835 import ClaimPaymentInput, LinePaymentInput
from service.main import create_app
from service.remittance import files
from service.remittance.errors import PaymentAlreadyPosted, RemittanceFileBeingUploaded
from service.remittance.models import ClaimPosting, RemittanceFile, RemittancePayment
from service.settings import Settings
from tests.factories import Tenant, make_tenant, principal
from tests.remittance.helpers import X12, remit_835

UPLOADS = 4
URL = "/api/v1/remittance-files"


def _lock_timeout(dbapi_connection: Any, _record: Any) -> None:
    # A request stuck behind a lock fails instead of hanging the test (and the event loop).
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '10s'")
    dbapi_connection.commit()  # the SET stays for the connection's life


def _repeatable_read(dbapi_connection: Any, _record: Any) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    dbapi_connection.commit()


@pytest.fixture
def racing_app(migrated_database_url: str, settings: Settings) -> Iterator[FastAPI]:
    """Like `committing_app` (requests really commit), plus a lock timeout on PostgreSQL."""
    engine = make_engine(migrated_database_url)
    if engine.dialect.name == "postgresql":
        sa.event.listen(engine, "connect", _lock_timeout)
    yield create_app(settings, engine=engine)
    engine.dispose()


@pytest.fixture
def racing_tenant(racing_app: FastAPI) -> Tenant:
    with racing_app.state.session_factory() as session:
        return make_tenant(session, "Racing Clinic")


def _unmatched_835(control: int = 7201) -> bytes:
    """A balanced 835 for a claim we never sent: it posts to the unmatched queue. Another
    control number: another file (other bytes) carrying the same payment (TRN02)."""
    line = LinePaymentInput("99213", Decimal("120.00"), service_date=date(2026, 11, 2))
    claim = ClaimPaymentInput("RACE-1", "PCC-RACE-1", "DOE", "JANE", "M1", lines=(line,))
    return remit_835([claim], trace="EFT-RACE", control=control).encode()


@contextmanager
def _upload_in_flight(app: FastAPI, tenant: Tenant, raw: bytes, *, commit: bool) -> Iterator[str]:
    """A real upload of `raw` (the route's own logic) whose transaction stays open until the
    block ends, then commits or rolls back; yields the file's id. Uploads started meanwhile
    pass their lookups (its rows are not committed) and wait behind its rows."""
    with app.state.session_factory() as session, uploads.from_bytes(raw) as received:
        if session.get_bind().dialect.name == "sqlite":  # as a request does (service/db.py)
            session.connection(execution_options={"sqlite_immediate": True})
        stored = files.upload(
            session, principal(tenant), received, filename="holder.835", at=datetime.now(UTC)
        )
        assert stored.created
        try:
            yield stored.file.id
        except BaseException:
            session.rollback()
            raise
        if commit:
            session.commit()
        else:
            session.rollback()


def _wait_for_lock_waiters(app: FastAPI, count: int) -> None:
    """PostgreSQL: until `count` sessions wait on a lock, i.e. every upload passed its duplicate
    check and waits at the unique index. SQLite: they queue at BEGIN, nothing to wait for."""
    engine: sa.Engine = app.state.engine
    if engine.dialect.name != "postgresql":
        return
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline, waiting = time.monotonic() + 15, 0
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            waiting = connection.execute(query).scalar_one()
        if waiting >= count:
            return
        time.sleep(0.05)
    pytest.fail(f"only {waiting} of {count} uploads reached the unique index at the same time")


async def _upload_together(
    app: FastAPI, headers: dict[str, str], raw: bytes, count: int = UPLOADS
) -> list[httpx.Response]:
    # raise_app_exceptions=False: an unhandled error must show as the 500 a client would get.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        uploads = (client.post(URL, content=raw, headers=headers) for _ in range(count))
        return list(await asyncio.gather(*uploads))


def _count(session: Session, table: type[RemittanceFile | RemittancePayment | ClaimPosting]) -> int:
    return session.exec(select(func.count()).select_from(table)).one()


def _race(
    app: FastAPI, tenant: Tenant, holder: bytes, raw: bytes, *, commit: bool, count: int = UPLOADS
) -> tuple[str, list[httpx.Response]]:
    """`count` uploads of `raw` sent while an upload of `holder` is in flight; on PostgreSQL
    the holder ends only once every one of them waits on its rows."""
    headers = {**tenant.headers(), **X12}
    with ThreadPoolExecutor(max_workers=1) as pool:
        with _upload_in_flight(app, tenant, holder, commit=commit) as holder_id:
            pending = pool.submit(asyncio.run, _upload_together(app, headers, raw, count))
            _wait_for_lock_waiters(app, count)
        return holder_id, pending.result(timeout=120)


def test_identical_uploads_at_the_same_instant_post_once_and_the_others_answer_duplicate(
    racing_app: FastAPI, racing_tenant: Tenant
) -> None:
    raw = _unmatched_835()

    # The upload in flight fails (rolls back): one of the waiting ones must post the file.
    _, responses = _race(racing_app, racing_tenant, raw, raw, commit=False)

    assert sorted(r.status_code for r in responses) == [200] * (UPLOADS - 1) + [201], [
        r.text for r in responses
    ]
    bodies = [r.json() for r in responses]
    (first,) = [b for b in bodies if not b["duplicate"]]
    assert all(b["id"] == first["id"] and b["result"] == first["result"] for b in bodies)
    with racing_app.state.session_factory() as session:
        assert _count(session, RemittanceFile) == 1
        assert _count(session, RemittancePayment) == 1
        assert _count(session, ClaimPosting) == 1


@pytest.mark.parametrize("isolation", ["READ COMMITTED", "REPEATABLE READ"])
def test_uploads_that_wait_for_the_same_file_to_commit_answer_with_its_result(
    migrated_database_url: str, settings: Settings, isolation: str
) -> None:
    """They wait at the unique (organization, SHA-256) index on PostgreSQL, at BEGIN on SQLite;
    once it commits, each reads it and answers duplicate with its result (200). Under
    REPEATABLE READ (PostgreSQL) their snapshot cannot see the winner: 409, to retry."""
    engine = make_engine(migrated_database_url)
    if engine.dialect.name != "postgresql" and isolation != "READ COMMITTED":
        engine.dispose()
        pytest.skip("SQLite serializes writers: a waiting upload always reads the winner")
    if engine.dialect.name == "postgresql":
        sa.event.listen(engine, "connect", _lock_timeout)
        if isolation == "REPEATABLE READ":  # every session of the app, the requests' too
            sa.event.listen(engine, "connect", _repeatable_read)
    app = create_app(settings, engine=engine)
    with app.state.session_factory() as session:
        tenant = make_tenant(session, "Racing Clinic")
    raw = _unmatched_835()

    holder_id, responses = _race(app, tenant, raw, raw, commit=True)

    if isolation == "REPEATABLE READ":
        assert [r.status_code for r in responses] == [409] * UPLOADS, [r.text for r in responses]
        for again in responses:
            assert again.headers["content-type"] == "application/problem+json"
            assert again.json()["type"].endswith(f"/{RemittanceFileBeingUploaded.code}")
            assert "retry" in again.json()["detail"]
    else:
        assert [r.status_code for r in responses] == [200] * UPLOADS, [r.text for r in responses]
        assert {r.json()["id"] for r in responses} == {holder_id}
        assert all(r.json()["duplicate"] for r in responses)
    with app.state.session_factory() as session:
        assert _count(session, RemittanceFile) == 1
        assert _count(session, RemittancePayment) == 1
        assert _count(session, ClaimPosting) == 1
    engine.dispose()


def test_the_same_payment_in_two_files_uploaded_at_once_posts_once(
    racing_app: FastAPI, racing_tenant: Tenant
) -> None:
    """Two files (other envelopes, other bytes) with one payment: on PostgreSQL the second
    passes the lookup while the first is in flight, and the unique (organization, TRN02,
    TRN03) index refuses it once the first commits; on SQLite it queues at BEGIN and the
    lookup finds it. Either way 409, and nothing is posted twice."""
    first, second = _unmatched_835(control=7201), _unmatched_835(control=7202)

    _, [response] = _race(racing_app, racing_tenant, first, second, commit=True, count=1)

    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith(f"/{PaymentAlreadyPosted.code}")
    assert "EFT-RACE" in response.json()["detail"]
    with racing_app.state.session_factory() as session:
        assert _count(session, RemittancePayment) == 1
        assert _count(session, RemittanceFile) == 1
        assert _count(session, ClaimPosting) == 1
