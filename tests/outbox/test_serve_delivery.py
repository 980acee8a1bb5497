"""The outbox across real `backoffice serve` processes: an event survives a SIGKILL between the
change and its delivery, and two servers sharing a database send each event once."""

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.auth.roles import Role
from service.db import make_engine, session_factory_for
from service.outbox import events
from service.outbox.models import OutboxEvent, Subscription, SubscriptionDelivery
from service.results import logic as results_logic
from service.results.schemas import ResultCreate
from tests.factories import Tenant, make_lab_setup, make_ready_specimen, make_tenant, principal
from tests.hardening.servers import Server, start_server
from tests.outbox.receiver import Receiver, receiving

ALLOW_LOOPBACK = {"BACKOFFICE_ALLOW_PRIVATE_WEBHOOK_ADDRESSES": "true"}


@dataclass
class World:
    engine: Engine
    tenant: Tenant
    result_id: str


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


@pytest.fixture
def world(migrated_database_url: str, receiver: Receiver) -> Iterator[World]:
    """A committed tenant, a result entered by the lab (not yet verified) and a webhook."""
    engine = make_engine(migrated_database_url)
    with session_factory_for(engine)() as session:
        tenant = make_tenant(session, "Clinic A")
        setup = make_lab_setup(session, tenant)
        sample = make_ready_specimen(session, tenant, setup)
        row = results_logic.enter_result(
            session, principal(tenant, Role.LAB),
            ResultCreate(specimen_id=sample.id, lab_test_id=setup.tests["A1C"],
                         component_code="4548-4", value="6.1"),
            at=datetime.now(UTC),
        )  # fmt: skip
        session.add(
            Subscription(
                organization_id=tenant.organization_id, kind="webhook", url=receiver.url,
                events="result.verified,specimen.rejected", secret="test-secret-0123456789",
            )
        )  # fmt: skip
        session.commit()
        result_id = row.id
    yield World(engine, tenant, result_id)
    engine.dispose()


def verify(server: Server, world: World) -> None:
    response = httpx.post(
        f"{server.base_url}/api/v1/results/verification",
        json={"result_ids": [world.result_id]},
        headers=world.tenant.headers(Role.ADMIN),
        timeout=30,
    )
    assert response.status_code == 200, response.text


def wait_for(receiver: Receiver, count: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(receiver.requests) < count:
        time.sleep(0.1)
    time.sleep(1.5)  # and nothing more arrives after


def stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        server.process.wait(timeout=30)


def test_an_event_survives_a_kill_between_the_change_and_its_delivery(
    world: World, receiver: Receiver, migrated_database_url: str, tmp_path: Path
) -> None:
    # The first server's worker looks once at start, then not for 10 minutes: the kill lands
    # after the verification committed and before any delivery.
    first = start_server(
        migrated_database_url, tmp_path,
        env={**ALLOW_LOOPBACK, "BACKOFFICE_OUTBOX_POLL_SECONDS": "600"},
    )  # fmt: skip
    try:
        verify(first, world)
    finally:
        first.kill()
    assert receiver.requests == []
    with Session(world.engine) as session:
        [event] = session.exec(select(OutboxEvent)).all()
        assert event.fanned_out_at is None

    second = start_server(
        migrated_database_url, tmp_path,
        env={**ALLOW_LOOPBACK, "BACKOFFICE_OUTBOX_POLL_SECONDS": "0.2"},
    )  # fmt: skip
    try:
        wait_for(receiver, 1)
    finally:
        stop(second)

    assert len(receiver.requests) == 1
    body = json.loads(receiver.requests[0].body)
    assert (body["type"], body["id"]) == ("result.verified", event.id)
    with Session(world.engine) as session:
        [row] = session.exec(select(SubscriptionDelivery)).all()
        assert (row.status, row.attempts) == ("delivered", 1)


def test_two_servers_sharing_the_database_send_each_event_once(
    world: World, receiver: Receiver, migrated_database_url: str, tmp_path: Path
) -> None:
    env = {**ALLOW_LOOPBACK, "BACKOFFICE_OUTBOX_POLL_SECONDS": "0.05"}
    servers = [start_server(migrated_database_url, tmp_path, env=env) for _ in range(2)]
    try:
        verify(servers[0], world)
        with Session(world.engine) as session:  # more events, so that the workers race
            for n in range(40):
                events.emit(session, world.tenant.organization_id, "specimen.rejected",
                            f"{n:032d}", reason="hemolyzed")  # fmt: skip
                session.commit()
        wait_for(receiver, 41, seconds=60)
    finally:
        for server in servers:
            stop(server)

    ids = [json.loads(r.body)["id"] for r in receiver.requests]
    assert len(ids) == 41
    assert len(set(ids)) == 41
    types = [json.loads(r.body)["type"] for r in receiver.requests]
    assert types.count("result.verified") == 1
