"""The HTTP edge: problem+json for every error, size and content-type limits, probes, docs."""

from fastapi.testclient import TestClient

from tests.factories import Tenant, patient_payload


def _is_problem(response: object, status: int) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["detail"]


def test_an_unknown_route_is_a_404_problem(client: TestClient) -> None:
    _is_problem(client.get("/api/v1/nothing-here"), 404)


def test_a_wrong_method_is_a_405_problem(client: TestClient, tenant: Tenant) -> None:
    _is_problem(client.put("/api/v1/patients", headers=tenant.headers()), 405)


def test_malformed_json_is_a_400_problem(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/api/v1/patients",
        content=b'{"mrn": "1",',
        headers={**tenant.headers(), "Content-Type": "application/json"},
    )
    _is_problem(response, 400)


def test_a_body_that_is_not_json_is_a_415_problem(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/api/v1/patients",
        content=b"mrn=1",
        headers={**tenant.headers(), "Content-Type": "application/x-www-form-urlencoded"},
    )
    _is_problem(response, 415)


def test_a_body_over_the_limit_is_a_413_problem(client: TestClient, tenant: Tenant) -> None:
    huge = patient_payload(family_name="x" * 70_000)  # the test app's limit is 64 KiB
    _is_problem(client.post("/api/v1/patients", json=huge, headers=tenant.headers()), 413)


def test_a_json_array_where_an_object_belongs_is_a_422_problem(
    client: TestClient, tenant: Tenant
) -> None:
    _is_problem(client.post("/api/v1/patients", json=[1, 2], headers=tenant.headers()), 422)


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    assert client.get("/healthz").headers["x-request-id"]
    echoed = client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert echoed.headers["x-request-id"] == "abc123"


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


def test_the_docs_page_is_served_with_its_assets_and_no_cdn(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn.jsdelivr" not in page.text
    assert "/static-offline-docs/swagger-ui-bundle.js" in page.text
    asset = client.get("/static-offline-docs/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert len(asset.content) > 100_000
    schema = client.get("/openapi.json").json()
    assert "/api/v1/patients" in schema["paths"]
