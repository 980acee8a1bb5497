"""Real concurrent requests against a database whose transactions commit.

On PostgreSQL these race for real; on SQLite writers queue on the database lock, and the same
answers must come out.
"""

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI
from sqlmodel import func, select

from service.patients.models import Patient
from tests.factories import Tenant, patient_payload


async def _together(
    app: FastAPI, requests: list[tuple[str, str, dict[str, Any], dict[str, str]]]
) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return list(
            await asyncio.gather(
                *(client.request(m, url, json=body, headers=h) for m, url, body, h in requests)
            )
        )


def _new_patient(app: FastAPI, headers: dict[str, str]) -> str:
    [created] = asyncio.run(
        _together(app, [("POST", "/api/v1/patients", patient_payload(), headers)])
    )
    return f"/api/v1/patients/{created.json()['id']}"


def test_two_updates_from_the_same_version_one_wins_the_other_gets_412(
    committing_app: FastAPI, committing_tenant: Tenant
) -> None:
    headers = committing_tenant.headers()
    url = _new_patient(committing_app, headers)
    stale = {**headers, "If-Match": '"1"'}
    for _ in range(3):
        version = asyncio.run(_together(committing_app, [("GET", url, {}, headers)]))[0].headers[
            "etag"
        ]
        match = {**headers, "If-Match": version}
        results = asyncio.run(
            _together(
                committing_app,
                [("PATCH", url, {"phone": f"555-01{i:02d}"}, match) for i in range(4)],
            )
        )
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200, 412, 412, 412]
    assert (
        asyncio.run(_together(committing_app, [("PATCH", url, {"phone": "1"}, stale)]))[
            0
        ].status_code
        == 412
    )


def test_concurrent_patches_without_if_match_all_apply_one_after_another(
    committing_app: FastAPI, committing_tenant: Tenant
) -> None:
    headers = committing_tenant.headers()
    url = _new_patient(committing_app, headers)
    results = asyncio.run(
        _together(
            committing_app,
            [("PATCH", url, {"phone": f"555-02{i:02d}"}, headers) for i in range(4)],
        )
    )
    assert sorted(r.status_code for r in results) == [200] * 4
    assert sorted(r.headers["etag"] for r in results) == ['"2"', '"3"', '"4"', '"5"']


def test_concurrent_retries_with_one_idempotency_key_create_one_patient(
    committing_app: FastAPI, committing_tenant: Tenant
) -> None:
    headers = {**committing_tenant.headers(), "Idempotency-Key": "ehr-msg-42"}
    body = patient_payload(mrn="IDEMP-1")
    results = asyncio.run(
        _together(committing_app, [("POST", "/api/v1/patients", body, headers)] * 4)
    )
    assert [r.status_code for r in results] == [201] * 4
    assert len({r.json()["id"] for r in results}) == 1
    with committing_app.state.session_factory() as session:
        count = session.exec(select(func.count()).select_from(Patient)).one()
    assert count == 1


def test_sixteen_concurrent_patches_of_one_patient_all_succeed_in_turn(
    committing_app: FastAPI, committing_tenant: Tenant
) -> None:
    headers = committing_tenant.headers()
    url = _new_patient(committing_app, headers)
    patches = [("PATCH", url, {"phone": f"555-01{n:02d}"}, headers) for n in range(16)]
    answers = asyncio.run(_together(committing_app, patches))
    assert [a.status_code for a in answers] == [200] * 16
    assert sorted(a.json()["version"] for a in answers) == list(range(2, 18))
