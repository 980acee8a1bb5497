"""Regression tests for what the fuzzing (tests/hardening/test_fuzz.py) found."""

import json
import re
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from service.api.openapi import DECIMAL_TEXT
from tests.conftest import ON_POSTGRES
from tests.factories import Tenant, patient_payload, provider_payload


@pytest.mark.parametrize(
    "url",
    ["/api/v1/patients?birth_date=0", "/api/v1/coverages?active_on=20260101",
     "/api/v1/encounters?date_to=0", "/api/v1/claims?date_from=1.5",
     "/api/v1/audit-events?to=0.5", "/api/v1/codes/icd10cm?q=E11&date=0"],
)  # fmt: skip
def test_a_number_is_not_a_date(client: TestClient, tenant: Tenant, url: str) -> None:
    """Pydantic read 0 as 1970-01-01 (a Unix time): dates are YYYY-MM-DD only."""
    response = client.get(url, headers=tenant.headers())
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_dates_as_text_still_work(client: TestClient, tenant: Tenant) -> None:
    for url in ("/api/v1/patients?birth_date=1980-04-02", "/api/v1/claims?date_from=2026-01-01",
                "/api/v1/audit-events?to=2026-01-01T00:00:00Z"):  # fmt: skip
        assert client.get(url, headers=tenant.headers()).status_code == 200, url
    body = {"date": 0, "codes": [{"system": "icd10cm", "code": "E11.9"}]}
    refused = client.post("/api/v1/codes/validate", json=body, headers=tenant.headers())
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "/date"


def test_a_number_is_not_an_instant_in_a_body(client: TestClient, tenant: Tenant) -> None:
    body = {"location": "Fridge 2", "at": 8.3e-66}
    response = client.post("/api/v1/specimens/x/location", json=body, headers=tenant.headers())
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/at"


def test_a_405_lists_every_method_of_the_path(client: TestClient, tenant: Tenant) -> None:
    """Starlette named only the first route's methods (Allow: POST on /api/v1/users)."""
    rest = client.request("OPTIONS", "/api/v1/users", headers=tenant.headers())
    assert rest.status_code == 405
    assert rest.headers["allow"] == "GET, POST"
    # /api/v1/codes/validate also matches GET /api/v1/codes/{system}: not its method.
    validate = client.request("OPTIONS", "/api/v1/codes/validate", headers=tenant.headers())
    assert validate.headers["allow"] == "POST"
    verification = client.request("PUT", "/api/v1/results/verification", headers=tenant.headers())
    assert verification.headers["allow"] == "POST"
    fhir = client.request("TRACE", "/fhir/metadata")
    assert fhir.status_code == 405
    assert fhir.headers["allow"] == "GET"
    assert fhir.json()["resourceType"] == "OperationOutcome"


def test_the_openapi_document_is_whole_and_says_what_is_accepted(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    text = json.dumps(document)
    # Merge-patch bodies referred to components FastAPI had renamed (`FeeItem-Input`).
    refs = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text))
    assert refs <= set(document["components"]["schemas"])
    patch = document["paths"]["/api/v1/fee-schedules/{record_id}"]["patch"]["requestBody"]
    schema = patch["content"]["application/json"]["schema"]
    assert schema["additionalProperties"] is False
    assert "$ref" not in json.dumps(schema)
    # Decimal text is a number written out, not any string.
    assert json.dumps(DECIMAL_TEXT) in text
    # Declared statuses: malformed JSON (400) on lab actions, 422 on deletes (a bad If-Match),
    # OperationOutcome errors on FHIR routes.
    paths = document["paths"]
    assert {"400", "415"} <= set(
        paths["/api/v1/specimens/{specimen_id}/receipt"]["post"]["responses"]
    )
    delete = paths["/api/v1/patients/{record_id}"]["delete"]["responses"]["422"]
    assert "application/problem+json" in delete["content"]
    read = paths["/fhir/Patient/{record_id}"]["get"]["responses"]
    assert {"401", "403", "404"} <= set(read)
    assert "application/fhir+json" in read["404"]["content"]


def test_a_delete_with_a_malformed_if_match_is_a_problem(
    client: TestClient, tenant: Tenant
) -> None:
    response = client.delete("/api/v1/patients/x", headers={**tenant.headers(), "If-Match": "null"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's locking")
def test_sqlite_reads_take_the_write_lock_up_front(
    client: TestClient, tenant: Tenant, engine: Engine
) -> None:
    """A patient read writes its audit row: begun deferred, its upgrade to a writer got
    SQLITE_BUSY at once whenever another process had committed meanwhile (503 under load).
    The audit row goes in on the driver's cursor (service/raw_sql.py), so the statements are
    traced by SQLite itself, on connections made after the listener."""
    patient = client.post("/api/v1/patients", json=patient_payload(), headers=tenant.headers())
    begins: list[str] = []

    def record(statement: str) -> None:
        if statement.startswith("BEGIN"):
            begins.append(statement)

    def trace(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_trace_callback(record)

    sa.event.listen(engine, "connect", trace)
    engine.dispose()  # the pooled connections are made again, traced
    try:
        read = client.get(f"/api/v1/patients/{patient.json()['id']}", headers=tenant.headers())
    finally:
        sa.event.remove(engine, "connect", trace)
        engine.dispose()
    assert read.status_code == 200
    assert "BEGIN IMMEDIATE" in begins, begins


def test_a_null_for_a_field_the_record_lacks_is_refused_in_a_merge_patch(
    client: TestClient, tenant: Tenant
) -> None:
    # Found by FUZZ_MAX_EXAMPLES=200: `{"8": null}` vanished in the merge and answered 200.
    created = client.post("/api/v1/providers", json=provider_payload(), headers=tenant.headers())
    assert created.status_code == 201, created.text
    response = client.patch(
        f"/api/v1/providers/{created.json()['id']}",
        content=json.dumps({"8": None, "a/b": None}),
        headers={**tenant.headers(), "Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 422, response.text
    assert [e["pointer"] for e in response.json()["errors"]] == ["/8", "/a~1b"]


def test_a_version_id_of_unicode_digits_is_a_404_outcome_not_a_500(
    client: TestClient, tenant: Tenant
) -> None:
    # Found by FUZZ_MAX_EXAMPLES=200: "³".isdigit() is true and int("³") raises.
    patient = client.post("/api/v1/patients", json=patient_payload(), headers=tenant.headers())
    assert patient.status_code == 201, patient.text
    response = client.get(
        f"/fhir/Patient/{patient.json()['id']}/_history/%C2%B3", headers=tenant.headers()
    )
    assert response.status_code == 404, response.text
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    ("sent", "status"), [(0.0, 201), (7, 201), (True, 422), ("7", 422), (1.5, 422)]
)
def test_a_whole_number_is_json_schemas_integer(
    client: TestClient, tenant: Tenant, sent: Any, status: int
) -> None:
    # Found by FUZZ_MAX_EXAMPLES=200: strict=True (to refuse `true`) also refused 0.0, which the
    # document's "integer" allows.
    response = client.post(
        "/api/v1/statement-runs", json={"quiet_days": sent}, headers=tenant.headers()
    )
    assert response.status_code == status, response.text
    if status == 201:
        assert response.json()["quiet_days"] == int(sent)
    else:
        assert response.json()["errors"][0]["pointer"] == "/quiet_days"
