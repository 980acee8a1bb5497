"""Fault injection against the real service (`backoffice serve` on a loopback port, a database of
its own): SIGKILL in the middle of a claim batch and of a results import, and PostgreSQL
restarted under a running service. Every wait is bounded.

FAULT_CLAIMS sets the ready claims batched while the server is killed (default 2,000: the 5,000
of the brief take minutes to seed and batch on two cores; the kill lands mid-generation either
way). FAULT_SPECIMENS sets the rows of the CSV import that is killed.
"""

import os
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from service.auth.roles import Role
from service.claims.models import (
    Claim,
    ClaimBatch,
    ClaimBatchChunk,
    ClaimBatchMember,
    ControlCounter,
)
from service.db import SessionFactory, make_engine, session_factory_for
from service.demo import synthetic_claims as synthetic
from service.directory.models import TradingPartner
from service.results.models import Result
from tests.conftest import ON_POSTGRES
from tests.factories import make_lab_setup, make_ready_specimen, make_tenant
from tests.hardening.servers import migrate, running, start_server, throwaway_postgres

CLAIMS = int(os.environ.get("FAULT_CLAIMS", "2000"))
SPECIMENS = int(os.environ.get("FAULT_SPECIMENS", "300"))


def _post_in_background(url: str, **kwargs: Any) -> tuple[threading.Thread, dict[str, Any]]:
    """The request the kill interrupts; its outcome (a dropped connection) is kept for a look."""
    outcome: dict[str, Any] = {}

    def send() -> None:
        try:
            outcome["response"] = httpx.post(url, timeout=120, **kwargs)
        except httpx.HTTPError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread, outcome


@pytest.fixture
def database(migrated_database_url: str, tmp_path: Path) -> str:
    """The test's own database, migrated with the code sets loaded (`backoffice migrate`)."""
    migrate(migrated_database_url, tmp_path)
    return migrated_database_url


def _next_interchange(factory: SessionFactory, organization_id: str) -> int:
    with factory() as session:
        counter = session.exec(
            select(ControlCounter).where(ControlCounter.organization_id == organization_id)
        ).first()
        return counter.next_interchange if counter else 1


def _batch_invariants(session: Session) -> None:
    chunkless = session.exec(
        select(ClaimBatch.id).where(
            ~sa.exists().where(col(ClaimBatchChunk.batch_id) == col(ClaimBatch.id))
        )
    ).all()
    assert chunkless == [], "a claim_batch row without its file"
    orphans = session.exec(
        select(Claim.id).where(
            Claim.status == "batched",
            ~sa.exists().where(
                col(ClaimBatchMember.claim_id) == col(Claim.id), col(ClaimBatchMember.pending)
            ),
        )
    ).all()
    assert orphans == [], "a batched claim in no pending batch"


def test_sigkill_mid_batch_leaves_no_half_batch_and_burns_no_number_twice(
    database: str, tmp_path: Path
) -> None:
    engine = make_engine(database)
    factory = session_factory_for(engine)
    with factory() as session:
        organization_id, key = synthetic.seed_ready_claims(session, CLAIMS, lines_per_claim=1)
        session.commit()
        partner = session.exec(
            select(TradingPartner.id).where(TradingPartner.organization_id == organization_id)
        ).one()
        ready = session.exec(
            select(func.count())
            .select_from(Claim)
            .where(
                Claim.organization_id == organization_id,
                Claim.status == "ready",
                Claim.claim_type == "professional",
            )
        ).one()
    headers = {"Authorization": f"Bearer {key}"}
    body = {"trading_partner_id": partner, "claim_type": "professional"}

    server = start_server(database, tmp_path)
    try:
        thread, outcome = _post_in_background(
            f"{server.base_url}/api/v1/claim-batches", json=body, headers=headers
        )
        if ON_POSTGRES:
            # Wait until the control numbers are taken (committed on their own), so that the
            # kill lands while the file is being written.
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and _next_interchange(factory, organization_id) == 1:
                time.sleep(0.05)
        time.sleep(0.05 if ON_POSTGRES else 0.3)  # the batch is being written by now
        assert thread.is_alive(), f"the batch finished before the kill: {outcome}"
        server.kill()
        thread.join(timeout=30)
        assert "error" in outcome, outcome  # the connection died with the process
    finally:
        if server.process.poll() is None:
            server.kill()

    with factory() as session:
        _batch_invariants(session)
        assert session.exec(select(func.count()).select_from(ClaimBatch)).one() == 0
    next_before = _next_interchange(factory, organization_id)

    with running(database, tmp_path) as server:
        response = httpx.post(f"{server.base_url}/api/v1/claim-batches", json=body,
                              headers=headers, timeout=300)  # fmt: skip
        assert response.status_code == 201, response.text
        batch = response.json()
        assert batch["claim_count"] == ready
        download = httpx.get(f"{server.base_url}/api/v1/claim-batches/{batch['id']}/file",
                             headers=headers, timeout=120)  # fmt: skip
        assert download.status_code == 200
    with factory() as session:
        _batch_invariants(session)
        stored = session.get(ClaimBatch, batch["id"])
        assert stored is not None
        # PostgreSQL: numbers the killed request took are burned (the counter committed before
        # the file was written), so the new batch comes after them. SQLite: the killed
        # transaction took them and died whole, so the new batch may use them (never sent).
        assert stored.interchange_control_number >= next_before
        if ON_POSTGRES:
            assert next_before > 1, "the killed batch burned its numbers"
            assert stored.interchange_control_number > 1
        assert f"*{stored.interchange_control_number:09d}*" in download.text.split("~")[0]
    engine.dispose()


def test_sigkill_mid_import_leaves_no_half_imported_results(database: str, tmp_path: Path) -> None:
    engine = make_engine(database)
    factory = session_factory_for(engine)
    with factory() as session:
        tenant = make_tenant(session, "Fault Lab")
        setup = make_lab_setup(session, tenant)
        accessions = [
            make_ready_specimen(session, tenant, setup).accession for _ in range(SPECIMENS)
        ]
    rows = "".join(f"{a},A1C,4548-4,5.{n % 10},%\r\n" for n, a in enumerate(accessions))
    csv = ("accession,test_code,component_code,value,unit\r\n" + rows).encode()
    headers = {**tenant.headers(Role.LAB), "Content-Type": "text/csv"}

    server = start_server(database, tmp_path)
    try:
        thread, _ = _post_in_background(
            f"{server.base_url}/api/v1/result-imports", content=csv, headers=headers
        )
        time.sleep(0.3)
        in_flight = thread.is_alive()
        server.kill()
        thread.join(timeout=30)
    finally:
        if server.process.poll() is None:
            server.kill()
    with factory() as session:
        imported = session.exec(select(func.count()).select_from(Result)).one()
    # All or nothing: a kill mid-import leaves no result; one that lost the race left them all.
    assert imported in (0, SPECIMENS), imported
    if in_flight:
        assert imported == 0

    with running(database, tmp_path) as server:
        again = httpx.post(f"{server.base_url}/api/v1/result-imports", content=csv,
                           headers=headers, timeout=300)  # fmt: skip
        if imported == 0:
            assert again.status_code == 201, again.text
    with factory() as session:
        assert session.exec(select(func.count()).select_from(Result)).one() == SPECIMENS
    engine.dispose()


@pytest.mark.skipif(not ON_POSTGRES, reason="restarts a PostgreSQL server")
def test_postgres_restart_answers_503_then_recovers_without_a_service_restart(
    tmp_path: Path,
) -> None:
    with throwaway_postgres() as postgres:
        migrate(postgres.url, tmp_path)
        engine = make_engine(postgres.url)
        with session_factory_for(engine)() as session:
            tenant = make_tenant(session, "Restart Clinic")
        engine.dispose()
        headers = tenant.headers()
        with running(postgres.url, tmp_path) as server:
            url = f"{server.base_url}/api/v1/patients"
            assert httpx.get(url, headers=headers, timeout=30).status_code == 200

            postgres.stop()
            for _ in range(3):  # pooled connections are dead now: each request finds out
                down = httpx.get(url, headers=headers, timeout=60)
                assert down.status_code == 503, down.text
                assert down.headers["content-type"] == "application/problem+json"
                assert down.headers["retry-after"].isdigit()
            fhir = httpx.get(f"{server.base_url}/fhir/Patient", headers=headers, timeout=60)
            assert fhir.status_code == 503, fhir.text
            assert fhir.json()["resourceType"] == "OperationOutcome"
            ready = httpx.get(f"{server.base_url}/readyz", timeout=60)
            assert ready.status_code == 503

            postgres.start()
            deadline = time.monotonic() + 30
            status = 0
            while time.monotonic() < deadline and status != 200:
                status = httpx.get(url, headers=headers, timeout=60).status_code
                time.sleep(0.2)
            assert status == 200
            created = httpx.post(url, headers=headers, timeout=60, json={
                "mrn": "R-1", "family_name": "Back", "given_name": "Again",
                "birth_date": "1990-01-01", "sex": "U"})  # fmt: skip
            assert created.status_code == 201, created.text
