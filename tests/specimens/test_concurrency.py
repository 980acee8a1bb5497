"""Accession numbers under real concurrent requests (a database whose transactions commit)."""

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI
from sqlmodel import select

from service.auth.roles import Role
from service.specimens.models import Specimen
from tests.factories import Tenant, make_lab_setup, make_order


async def together(
    app: FastAPI, requests: list[tuple[str, str, dict[str, Any] | None, dict[str, str]]]
) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return list(
            await asyncio.gather(
                *(client.request(m, url, json=body, headers=h) for m, url, body, h in requests)
            )
        )


def test_concurrent_accessioning_hands_out_every_number_once(
    committing_app: FastAPI, committing_tenant: Tenant
) -> None:
    with committing_app.state.session_factory() as session:
        setup = make_lab_setup(session, committing_tenant)
        order = make_order(session, committing_tenant, setup, ["A1C"])
    headers = committing_tenant.headers(Role.FRONT_DESK)
    responses = asyncio.run(
        together(committing_app, [("POST", "/api/v1/specimens", {"order_id": order}, headers)] * 12)
    )
    assert [r.status_code for r in responses] == [201] * 12, [r.text for r in responses]
    numbers = sorted(int(r.json()["accession"][3:]) for r in responses)
    assert numbers == list(range(1, 13))
    with committing_app.state.session_factory() as session:
        stored = session.exec(select(Specimen.accession)).all()
    assert len(set(stored)) == 12
