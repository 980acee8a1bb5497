"""The typeahead's fast path: the same answers as the route, the same errors, and revocation
within the bound service/auth/verified_keys.py states."""

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.api.deps import CallerGuard
from service.auth.models import ApiKey
from service.auth.roles import Role
from service.auth.verified_keys import TTL_SECONDS, VerifiedKeys
from service.codesets import logic
from service.codesets.routes import TypeaheadFastPath
from service.codesets.warming import VersionCache
from service.db import SessionFactory
from service.main import create_app
from service.settings import Settings
from tests.codesets.test_warming import Clock
from tests.factories import Tenant

SEARCH = "/api/v1/codes/icd10cm"
PLAIN = {"q": "fever unspecified", "limit": "5"}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def served(app: FastAPI, db: Session, clock: Clock) -> FastAPI:
    """The app as `backoffice serve` runs it: versions published, keys kept for the TTL."""
    cache: VersionCache = app.state.code_versions
    cache.max_age = 60
    cache.publish(logic.list_versions(db))
    app.state.verified_keys = VerifiedKeys(ttl=TTL_SECONDS, clock=clock)
    return app


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The key checks that read the database."""
    done: list[str] = []
    full_check = CallerGuard.caller

    def counted(self: CallerGuard, request: Any) -> Any:
        done.append(request.url.path)
        return full_check(self, request)

    monkeypatch.setattr(CallerGuard, "caller", counted)
    return done


def coder_key_pk(db: Session, tenant: Tenant) -> str:
    key = db.exec(select(ApiKey).where(ApiKey.user_id == tenant.user_ids[Role.CODER])).one()
    return key.id


def test_a_verified_key_is_answered_from_memory_with_the_routes_answer(
    served: FastAPI,
    client: TestClient,
    tenant: Tenant,
    checks: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before_routing: list[int] = []
    fast = TypeaheadFastPath._answer

    def answer(scope: Any, system: str) -> Any:
        response = fast(scope, system)
        before_routing.append(0 if response is None else response.status_code)
        return response

    monkeypatch.setattr(TypeaheadFastPath, "_answer", staticmethod(answer))
    headers = tenant.headers(Role.CODER)
    first = client.get(SEARCH, params=PLAIN, headers=headers)  # the route: checks the key
    second = client.get(SEARCH, params=PLAIN, headers=headers)  # the fast path

    assert checks == [SEARCH]
    assert before_routing == [0, 200]
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second.json()["items"][0]["code"] == "R50.9"
    for name in ("content-type", "content-length", "cache-control"):
        assert second.headers[name] == first.headers[name]
    assert second.headers["content-type"] == "application/json"
    assert second.headers["x-request-id"] != first.headers["x-request-id"]


def test_without_the_served_lifespan_every_request_checks_its_key(
    app: FastAPI, client: TestClient, tenant: Tenant, checks: list[str]
) -> None:
    for _ in range(2):
        assert client.get(SEARCH, params=PLAIN, headers=tenant.headers()).status_code == 200
    assert checks == [SEARCH, SEARCH]
    assert len(app.state.verified_keys) == 0


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"q": "fever", "lang": "en"}, 400, "unknown-query-parameter"),
        ({"q": "fever", "limit": "0"}, 422, "invalid-input"),
        ({"q": "fever", "limit": "ten"}, 422, "invalid-input"),
        ({"q": "x" * 201}, 422, "invalid-input"),
        ({"q": "fever", "date": "10/01/2026"}, 422, "invalid-input"),
        ({"q": "fever", "date": "2026-02-30"}, 422, "invalid-input"),
        ({"q": "fever", "date": "1999-01-01"}, 422, "date-before-code-set"),
    ],
)
def test_what_the_fast_path_leaves_to_the_route_is_refused_as_before(
    served: FastAPI,
    client: TestClient,
    tenant: Tenant,
    params: dict[str, str],
    status: int,
    code: str,
) -> None:
    headers = tenant.headers(Role.CODER)
    assert client.get(SEARCH, params=PLAIN, headers=headers).status_code == 200  # kept

    answer = client.get(SEARCH, params=params, headers=headers)

    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith(code)


def test_an_unknown_system_and_a_wrong_key_are_refused_as_before(
    served: FastAPI, client: TestClient, tenant: Tenant
) -> None:
    headers = tenant.headers(Role.CODER)
    assert client.get(SEARCH, params=PLAIN, headers=headers).status_code == 200
    wrong = {"Authorization": headers["Authorization"][:-2] + "xx"}

    unknown = client.get("/api/v1/codes/icd9", params=PLAIN, headers=headers)
    refused = client.get(SEARCH, params=PLAIN, headers=wrong)

    assert unknown.status_code == 404
    assert unknown.json()["type"].endswith("unknown-code-system")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"


def test_a_date_and_the_default_limit_are_answered_from_memory_too(
    served: FastAPI, client: TestClient, tenant: Tenant, checks: list[str]
) -> None:
    headers = tenant.headers(Role.CODER)
    client.get(SEARCH, params=PLAIN, headers=headers)
    dated = client.get(SEARCH, params={"q": "gerd", "date": "2026-10-01"}, headers=headers)

    assert checks == [SEARCH]
    assert dated.status_code == 200
    assert dated.json()["version"] == "2027"
    assert len(dated.json()["items"]) <= 20


def test_a_revoked_key_is_refused_after_the_next_recheck(
    served: FastAPI,
    client: TestClient,
    tenant: Tenant,
    db: Session,
    session_factory: SessionFactory,
) -> None:
    headers = tenant.headers(Role.CODER)
    assert client.get(SEARCH, params=PLAIN, headers=headers).status_code == 200
    revoked = client.delete(
        f"/api/v1/api-keys/{coder_key_pk(db, tenant)}", headers=tenant.headers()
    )
    assert revoked.status_code == 204

    assert served.state.verified_keys.recheck(session_factory) == 0
    refused = client.get(SEARCH, params=PLAIN, headers=headers)

    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"


def test_a_deactivated_user_is_refused_after_the_next_recheck(
    served: FastAPI, client: TestClient, tenant: Tenant, session_factory: SessionFactory
) -> None:
    headers = tenant.headers(Role.CODER)
    assert client.get(SEARCH, params=PLAIN, headers=headers).status_code == 200
    user = tenant.user_ids[Role.CODER]
    off = client.patch(f"/api/v1/users/{user}", json={"active": False}, headers=tenant.headers())
    assert off.status_code == 200

    served.state.verified_keys.recheck(session_factory)

    assert client.get(SEARCH, params=PLAIN, headers=headers).status_code == 401


def test_a_key_no_recheck_confirmed_within_the_ttl_is_checked_again(
    served: FastAPI,
    client: TestClient,
    tenant: Tenant,
    db: Session,
    clock: Clock,
    checks: list[str],
) -> None:
    headers = tenant.headers(Role.CODER)
    assert client.get(SEARCH, params=PLAIN, headers=headers).status_code == 200
    revoked = client.delete(
        f"/api/v1/api-keys/{coder_key_pk(db, tenant)}", headers=tenant.headers()
    )
    assert revoked.status_code == 204

    clock.now += TTL_SECONDS + 0.1  # no recheck ran (the thread stopped, the database away)
    refused = client.get(SEARCH, params=PLAIN, headers=headers)

    assert refused.status_code == 401
    assert checks == [SEARCH, SEARCH]


def test_the_served_app_keeps_keys_only_while_it_runs(
    settings: Settings, engine: Engine, session_factory: SessionFactory
) -> None:
    app = create_app(
        settings, engine=engine, session_factory=session_factory, warm_code_indexes=True
    )
    keys: VerifiedKeys = app.state.verified_keys

    with TestClient(app):
        assert keys.ttl == TTL_SECONDS
    assert keys.ttl == 0
