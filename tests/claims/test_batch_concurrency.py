"""Clerks batching at the same moment: every claim lands in exactly one batch, and no control
number is handed out twice. Real commits, real parallel requests (`make stress`: 8 x 1,000)."""

import asyncio
import os
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import Session, select

from service.claims.models import Claim, ClaimBatch, ClaimBatchMember
from service.codesets.loader import load_bundled
from service.db import make_engine, session_factory_for, session_scope
from service.demo.synthetic_claims import seed_ready_claims
from service.directory.models import TradingPartner
from service.main import create_app
from service.settings import Settings
from tests.claims.conftest import held_claim_id

CLIENTS = int(os.environ.get("STRESS_CLIENTS", "4"))
CLAIMS = int(os.environ.get("STRESS_CLAIMS", "200"))


@pytest.fixture
def batching_app(migrated_database_url: str, settings: Settings) -> Iterator[FastAPI]:
    engine = make_engine(migrated_database_url)
    with session_scope(session_factory_for(engine)) as session:
        load_bundled(session)
    yield create_app(settings, engine=engine)
    engine.dispose()


async def _batch_together(app: FastAPI, body: dict[str, str], key: str) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=300) as c:
        return list(
            await asyncio.gather(
                *(
                    c.post("/api/v1/claim-batches", json=body, headers=headers)
                    for _ in range(CLIENTS)
                )
            )
        )


def test_parallel_batches_put_each_claim_in_exactly_one_batch(batching_app: FastAPI) -> None:
    factory = batching_app.state.session_factory
    with session_scope(factory) as session:
        _, key = seed_ready_claims(session, CLAIMS)
    with factory() as session:
        partner = session.exec(select(TradingPartner.id)).one()
    body = {"trading_partner_id": partner, "claim_type": "professional"}

    responses = asyncio.run(_batch_together(batching_app, body, key))

    assert {r.status_code for r in responses} <= {201, 409}, [r.text for r in responses]
    made = [r.json() for r in responses if r.status_code == 201]
    assert made
    with factory() as session:
        session: Session  # type: ignore[no-redef]
        members = session.exec(select(ClaimBatchMember.claim_id)).all()
        batches = session.exec(select(ClaimBatch)).all()
        statuses = set(
            session.exec(
                select(Claim.status).where(
                    Claim.claim_type == "professional", Claim.id != held_claim_id(session)
                )
            )
        )
    assert len(members) == len(set(members))  # no claim in two batches
    assert sum(b["claim_count"] for b in made) == len(members)
    assert len(members) >= CLAIMS  # the demo's own ready claims come along
    assert statuses == {"batched"}
    numbers = [b.interchange_control_number for b in batches]
    assert len(numbers) == len(set(numbers))
    st_ranges = [
        range(b.first_st_control_number, b.first_st_control_number + b.transaction_set_count)
        for b in batches
    ]
    st_numbers = [n for r in st_ranges for n in r]
    assert len(st_numbers) == len(set(st_numbers))
