"""No body, header or query string answers 500, and both databases answer the same: NUL
characters, oversized versions, nested FHIR bodies, forged request ids, unknown parameters."""

import json

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from tests.factories import Tenant, make_patient, patient_payload

NESTED = 5000  # deeper than Python's recursion limit


def _raw(tenant: Tenant, name: bytes, value: str) -> list[tuple[bytes, bytes]]:
    """Headers as bytes: a value outside ASCII goes on the wire as UTF-8."""
    auth = [(k.encode(), v.encode()) for k, v in tenant.headers().items()]
    return [*auth, (name, value.encode())]


def _problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    return body


def test_a_nul_character_in_a_body_is_refused_and_nothing_is_stored(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    response = client.post(
        "/api/v1/patients", json=patient_payload(given_name="An\x00a"), headers=tenant.headers()
    )
    assert "NUL" in str(_problem(response, 422)["detail"])
    listed = client.get("/api/v1/patients", headers=tenant.headers()).json()["items"]
    assert listed == []


def test_an_escaped_backslash_before_u0000_is_ordinary_text(
    client: TestClient, tenant: Tenant
) -> None:
    body = json.dumps(patient_payload(given_name="A\\u0000"))  # the six characters \u0000
    response = client.post(
        "/api/v1/patients",
        content=body,
        headers={**tenant.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["given_name"] == "A\\u0000"


@pytest.mark.parametrize(
    "url", ["/api/v1/patients?mrn=A%00B", "/api/v1/patients/abc%00def", "/fhir/Patient?name=%00"]
)
def test_a_nul_character_in_a_path_or_query_is_refused(
    client: TestClient, tenant: Tenant, url: str
) -> None:
    response = client.get(url, headers=tenant.headers())
    assert response.status_code == 422, response.text
    if url.startswith("/fhir"):
        assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    "tag", ['"99999999999999999999999"', 'W/"18446744073709551616"', '"²"', '"9' + "9" * 40 + '"']
)
def test_an_if_match_out_of_range_is_422_on_both_databases(
    client: TestClient, tenant: Tenant, db: Session, tag: str
) -> None:
    patient = make_patient(db, tenant)
    response = client.patch(
        f"/api/v1/patients/{patient.id}",
        json={"phone": "555-0199"},
        headers=_raw(tenant, b"If-Match", tag),
    )
    _problem(response, 422)


def test_an_if_match_out_of_range_on_fhir_is_an_outcome(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    patient = make_patient(db, tenant)
    read = client.get(f"/fhir/Patient/{patient.id}", headers=tenant.headers()).json()
    response = client.put(
        f"/fhir/Patient/{patient.id}",
        content=json.dumps(read),
        headers={
            **tenant.headers(),
            "Content-Type": "application/fhir+json",
            "If-Match": 'W/"99999999999999999999999"',
        },
    )
    assert response.status_code == 400, response.text
    assert response.json()["resourceType"] == "OperationOutcome"


def test_a_deeply_nested_fhir_body_is_a_400_outcome(client: TestClient, tenant: Tenant) -> None:
    body = '{"resourceType": "Patient", "extension": ' + "[" * NESTED + "]" * NESTED + "}"
    response = client.post(
        "/fhir/Patient",
        content=body,
        headers={**tenant.headers(), "Content-Type": "application/fhir+json"},
    )
    assert response.status_code == 400, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "deeper" in outcome["issue"][0]["diagnostics"]


def test_a_fhir_body_nested_past_the_limit_but_parseable_is_refused_too(
    client: TestClient, tenant: Tenant
) -> None:
    inner: object = {}
    for _ in range(200):
        inner = {"extension": [inner]}
    body = json.dumps({"resourceType": "Patient", "name": [inner]})
    response = client.post(
        "/fhir/Patient",
        content=body,
        headers={**tenant.headers(), "Content-Type": "application/fhir+json"},
    )
    assert response.status_code == 400, response.text


@pytest.mark.parametrize(
    "forged",
    ["abc\r\nFAKE LOG LINE", "x" * 65, "a b", "ok;drop", "é-accent", "line\u2028break"],
)
def test_a_request_id_that_is_not_a_plain_token_is_replaced(
    client: TestClient, tenant: Tenant, db: Session, forged: str
) -> None:
    response = client.get(
        "/api/v1/patients",
        headers=_raw(tenant, b"X-Request-ID", forged),
    )
    assert response.status_code == 200
    assigned = response.headers["x-request-id"]
    assert assigned != forged
    assert len(assigned) == 32
    assert assigned.isalnum()


@pytest.mark.parametrize("token", ["abc-123", "2f1c9a4e-8d7b-4e1a-9c3b-5a6d7e8f9a0b", "svc.v1_7"])
def test_a_uuid_or_short_token_request_id_is_kept_and_audited(
    client: TestClient, tenant: Tenant, db: Session, token: str
) -> None:
    patient = make_patient(db, tenant)
    response = client.get(
        f"/api/v1/patients/{patient.id}", headers={**tenant.headers(), "X-Request-ID": token}
    )
    assert response.headers["x-request-id"] == token
    db.expire_all()
    ids = db.exec(select(AuditEvent.request_id).where(col(AuditEvent.action) == "read")).all()
    assert ids == [token]


@pytest.mark.parametrize(
    "url", ["/api/v1/patients", "/api/v1/patients/{id}", "/fhir/Patient/{id}", "/api/v1/claims"]
)
def test_patient_data_is_never_cached(
    client: TestClient, tenant: Tenant, db: Session, url: str
) -> None:
    patient = make_patient(db, tenant)
    response = client.get(url.format(id=patient.id), headers=tenant.headers())
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("url", "unknown"),
    [
        ("/api/v1/patients?q=zzzz", ["q"]),
        ("/api/v1/claims?payer=nonexistent", ["payer"]),
        ("/api/v1/coverages?patient=1&limit=5&bogus=2", ["bogus", "patient"]),
        ("/api/v1/audit-events?patient=1", ["patient"]),
    ],
)
def test_an_unknown_query_parameter_is_a_400_naming_it(
    client: TestClient, tenant: Tenant, db: Session, url: str, unknown: list[str]
) -> None:
    make_patient(db, tenant)
    problem = _problem(client.get(url, headers=tenant.headers()), 400)
    assert problem["type"] == "https://backoffice.example/problems/unknown-query-parameter"
    assert [e["parameter"] for e in problem["errors"]] == unknown  # type: ignore[attr-defined]


def test_declared_filters_and_paging_still_work(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    make_patient(db, tenant, mrn="M-1")
    response = client.get(
        "/api/v1/patients?mrn=M-1&limit=10&birth_date=1980-04-02", headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == 1
