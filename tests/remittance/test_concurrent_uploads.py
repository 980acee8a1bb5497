"""The same remittance file uploaded by several requests at once is posted once; the requests
that lose the race answer like a later duplicate upload (200, `duplicate: true`), never 500.

On PostgreSQL the uploads race for real: an uncommitted upload of the same bytes holds them
all at the unique (organization, SHA-256) index, then goes away, so one of them inserts and the
others hit the index. On SQLite writers queue at BEGIN IMMEDIATE: the same answers must come out.
"""

import asyncio
import hashlib
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlmodel import Session, func, select

from service.auth.roles import Role
from service.db import make_engine
from service.demo.x12_835 import ClaimPaymentInput, LinePaymentInput
from service.main import create_app
from service.remittance import files
from service.remittance.errors import RemittanceFileBeingUploaded
from service.remittance.models import ClaimPosting, RemittanceFile, RemittancePayment
from service.settings import Settings
from tests.factories import Tenant, make_tenant
from tests.remittance.helpers import X12, remit_835

UPLOADS = 4
URL = "/api/v1/remittance-files"


def _lock_timeout(dbapi_connection: Any, _record: Any) -> None:
    # A request stuck behind a lock fails instead of hanging the test (and the event loop).
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '10s'")


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


def _unmatched_835() -> bytes:
    """A balanced 835 for a claim we never sent: it posts to the unmatched queue."""
    line = LinePaymentInput("99213", Decimal("120.00"), service_date=date(2026, 11, 2))
    claim = ClaimPaymentInput("RACE-1", "PCC-RACE-1", "DOE", "JANE", "M1", lines=(line,))
    return remit_835([claim], trace="EFT-RACE").encode()


@contextmanager
def _same_file_in_flight(app: FastAPI, tenant: Tenant, raw: bytes) -> Iterator[None]:
    """An upload of the same bytes that has not committed yet (its row, held until the block
    ends, then rolled back): the requests pass their duplicate check and wait behind it."""
    with app.state.session_factory() as session:
        session.add(
            RemittanceFile(
                organization_id=tenant.organization_id,
                kind="835",
                sha256=hashlib.sha256(raw).hexdigest(),
                size_bytes=len(raw),
                sender_id="HOLDER",
                interchange_control_number="1",
                uploaded_by=tenant.user_ids[Role.ADMIN],
            )
        )
        session.flush()
        try:
            yield
        finally:
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


def test_identical_uploads_at_the_same_instant_post_once_and_the_others_answer_duplicate(
    racing_app: FastAPI, racing_tenant: Tenant
) -> None:
    raw = _unmatched_835()
    headers = {**racing_tenant.headers(), **X12}

    with ThreadPoolExecutor(max_workers=1) as pool:
        with _same_file_in_flight(racing_app, racing_tenant, raw):
            pending = pool.submit(asyncio.run, _upload_together(racing_app, headers, raw))
            _wait_for_lock_waiters(racing_app, UPLOADS)
        responses = pending.result(timeout=120)

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


def test_a_lost_race_whose_winner_cannot_be_read_is_a_conflict_to_retry(
    racing_app: FastAPI, racing_tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """E.g. under REPEATABLE READ the winner's row stays invisible: 409, not a 500."""
    raw = _unmatched_835()
    headers = {**racing_tenant.headers(), **X12}
    [first] = asyncio.run(_upload_together(racing_app, headers, raw, 1))
    assert first.status_code == 201
    monkeypatch.setattr(files, "find_by_digest", lambda *_: None)

    [again] = asyncio.run(_upload_together(racing_app, headers, raw, 1))

    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["type"].endswith(f"/{RemittanceFileBeingUploaded.code}")
    assert "retry" in again.json()["detail"]
