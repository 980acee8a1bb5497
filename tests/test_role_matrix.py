"""Every route x every role, generated from the routes' own declarations.

A new route joins the matrix by itself; a route under /api without a declared guard fails here.
"""

import re

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from service.api.deps import RoleGuard
from service.auth.roles import Role
from service.main import ROUTERS
from tests.factories import Tenant

# SMART discovery and the token endpoint answer without a key (the assertion authenticates).
PUBLIC = {"/healthz", "/readyz", "/fhir/metadata", "/fhir/.well-known/smart-configuration",
          "/oauth/token"}  # fmt: skip


def _guards(dependant: Dependant) -> list[RoleGuard]:
    found = [dependant.call] if isinstance(dependant.call, RoleGuard) else []
    for sub in dependant.dependencies:
        found += _guards(sub)
    return found


def _api_routes() -> list[tuple[str, str, frozenset[str]]]:
    rows = []
    for route in (r for router in ROUTERS for r in router.routes):
        if not isinstance(route, APIRoute) or route.path in PUBLIC or not route.include_in_schema:
            continue
        guards = _guards(route.dependant)
        assert len(guards) == 1, f"{route.path} must declare its roles exactly once"
        for method in sorted(route.methods or ()):
            rows.append((method, route.path, guards[0].roles))
    return rows


ROUTES = _api_routes()


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "0000000000000000000000000000dead", path)


def _error_type(path: str) -> str:
    return "application/fhir+json" if path.startswith("/fhir") else "application/problem+json"


def test_every_api_route_declares_roles() -> None:
    assert len(ROUTES) >= 10
    assert all(path.startswith(("/api/", "/fhir")) for _, path, _ in ROUTES)


@pytest.mark.parametrize(
    ("method", "path", "roles"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES]
)
def test_each_role_is_allowed_or_forbidden_as_the_route_declares(
    client: TestClient, tenant: Tenant, method: str, path: str, roles: frozenset[str]
) -> None:
    for role in Role:
        body: dict[str, str] | None = {} if method in {"POST", "PUT", "PATCH"} else None
        response = client.request(method, _url(path), json=body, headers=tenant.headers(role))
        if role in roles:
            assert response.status_code not in (401, 403), f"{role}: {response.text}"
            assert response.status_code < 500, f"{role}: {response.text}"
        else:
            assert response.status_code == 403, f"{role} got {response.status_code}"
            assert response.headers["content-type"] == _error_type(path)


@pytest.mark.parametrize(
    ("method", "path", "roles"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES]
)
def test_every_route_answers_401_without_a_key(
    client: TestClient, method: str, path: str, roles: frozenset[str]
) -> None:
    response = client.request(method, _url(path), json={} if method != "GET" else None)
    assert response.status_code == 401
    if path.startswith("/fhir"):  # FHIR answers OperationOutcome, issue code security
        assert response.json()["issue"][0]["code"] == "security"
    else:
        assert response.json()["type"].endswith("/unauthenticated")
