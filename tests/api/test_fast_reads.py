"""One record read by id, answered before routing (service/api/fast_reads.py): the same answer
and audit row as the route, the key checked on every request, everything else left to the route."""

from datetime import UTC, datetime
from typing import Any, cast

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.api import fast_reads
from service.audit.models import AuditEvent
from service.auth import logic as auth_logic
from service.auth.models import ApiKey
from service.auth.roles import Role
from tests.api.fast_paths import Answered, spy_on_answers
from tests.factories import Tenant, make_practice, make_tenant, patient_payload
from tests.fhir import examples as fhir


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> Answered:
    """Records which reads the fast path answered itself (and which it left to the route)."""
    return spy_on_answers(monkeypatch, fast_reads)


def _routed(client: TestClient, monkeypatch: pytest.MonkeyPatch, path: str,
            headers: dict[str, str]) -> Any:  # fmt: skip
    """The same request answered by the route alone."""
    with monkeypatch.context() as m:
        m.setattr(fast_reads, "answer", lambda *args: None)
        return client.get(path, headers=headers)


def _reads(db: Session, record_id: str) -> list[tuple[str, str | None, str, str]]:
    db.commit()  # a fresh snapshot
    query = select(AuditEvent).where(AuditEvent.resource_id == record_id)
    events = db.exec(query.where(AuditEvent.action == "read").order_by(col(AuditEvent.at))).all()
    return [(e.resource_type, e.patient_id, e.outcome, e.user_id or "") for e in events]


@pytest.mark.parametrize(
    ("prefix", "attribute", "audited"),
    [
        ("/api/v1/patients", "patient_id", "patient"),
        ("/api/v1/coverages", "coverage_id", "coverage"),
        ("/api/v1/payers", "payer_id", None),
        ("/api/v1/providers", "billing_provider_id", None),
        ("/api/v1/facilities", "facility_id", None),
    ],
)
def test_the_fast_answer_is_the_routes_answer_with_the_same_audit_row(
    client: TestClient,
    tenant: Tenant,
    db: Session,
    answered: Answered,
    monkeypatch: pytest.MonkeyPatch,
    prefix: str,
    attribute: str,
    audited: str | None,
) -> None:
    practice = make_practice(db, tenant)
    record_id = getattr(practice, attribute)
    path = f"{prefix}/{record_id}"
    headers = tenant.headers(Role.FRONT_DESK)

    fast = client.get(path, headers=headers)
    assert answered == [record_id]
    routed = _routed(client, monkeypatch, path, headers)
    assert answered == [record_id]  # the second one went to the route
    assert fast.status_code == routed.status_code == 200
    assert fast.content == routed.content
    assert fast.json()["id"] == record_id
    for name in ("content-type", "etag", "cache-control"):
        assert fast.headers[name] == routed.headers[name], name
    assert fast.headers["x-request-id"] != routed.headers["x-request-id"]

    reads = _reads(db, record_id)
    if audited is None:
        assert reads == []
    else:
        patient = practice.patient_id
        user = tenant.user_ids[Role.FRONT_DESK]
        assert reads == [(audited, patient, "success", user)] * 2


def test_the_audit_row_carries_the_request_id(
    client: TestClient, tenant: Tenant, db: Session, answered: Answered
) -> None:
    patient_id = make_practice(db, tenant).patient_id
    headers = {**tenant.headers(), "X-Request-ID": "fast-read-1"}
    assert client.get(f"/api/v1/patients/{patient_id}", headers=headers).status_code == 200
    assert answered == [patient_id]
    db.commit()
    event = db.exec(select(AuditEvent).where(AuditEvent.request_id == "fast-read-1")).one()
    assert (event.action, event.resource_id, event.outcome) == ("read", patient_id, "success")


def test_a_revoked_key_is_refused_at_once(
    client: TestClient, tenant: Tenant, db: Session, answered: Answered
) -> None:
    patient_id = make_practice(db, tenant).patient_id
    path = f"/api/v1/patients/{patient_id}"
    headers = tenant.headers(Role.BILLER)
    assert client.get(path, headers=headers).status_code == 200

    key_id = headers["Authorization"].removeprefix("Bearer bo_")[:16]
    key = db.exec(select(ApiKey).where(ApiKey.key_id == key_id)).one()
    auth_logic.revoke_api_key(db, tenant.organization_id, key.id, at=datetime.now(UTC))
    db.commit()

    refused = client.get(path, headers=headers)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert answered == [patient_id]  # the refusal came from the route, audited there
    db.commit()
    denied = db.exec(
        select(AuditEvent).where(AuditEvent.outcome != "success", AuditEvent.user_id == key.user_id)
    ).all()
    assert denied


def test_what_the_fast_path_does_not_answer_the_route_does(
    client: TestClient, tenant: Tenant, db: Session, answered: Answered
) -> None:
    practice = make_practice(db, tenant)
    other = make_tenant(db, "Other Clinic")
    db.commit()
    path = f"/api/v1/patients/{practice.patient_id}"

    # another organization's record: the route's 404, not another clinic's patient
    assert client.get(path, headers=other.headers()).status_code == 404
    # no key, a key that is not one, a missing record
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer bo_nope"}).status_code == 401
    missing = client.get("/api/v1/patients/" + "0" * 32, headers=tenant.headers())
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    # a query string: the route judges its parameters
    assert client.get(path + "?x=1", headers=tenant.headers()).status_code == 400
    # a path another route answers
    duplicates = client.get("/api/v1/patients/duplicates", headers=tenant.headers())
    assert duplicates.status_code == 200
    assert "items" in duplicates.json()
    assert answered == []

    # a deleted record
    assert client.delete(path, headers=tenant.headers()).status_code == 204
    assert client.get(path, headers=tenant.headers()).status_code == 404
    assert answered == []


def test_a_role_that_may_not_read_a_record_gets_the_routes_403(
    app: FastAPI, client: TestClient, tenant: Tenant, db: Session, answered: Answered
) -> None:
    practice = make_practice(db, tenant)
    readers = {r.prefix: r.readers for r in fast_reads.REGISTRY}
    outsiders = [
        (prefix, role) for prefix, roles in readers.items() for role in Role if role not in roles
    ]
    if not outsiders:
        pytest.skip("every role reads every record")
    prefix, role = outsiders[0]
    answer = client.get(f"{prefix}/{practice.patient_id}", headers=tenant.headers(role))
    assert answer.status_code == 403
    assert answered == []


def test_every_crud_read_is_taken_only_where_the_router_would_take_it(app: FastAPI) -> None:
    installed: list[Any] = [
        m.kwargs for m in app.user_middleware if m.cls is cast(Any, fast_reads.RecordReadFastPath)
    ]
    assert len(installed) == 1
    assert {"/api/v1/patients", "/api/v1/coverages", "/api/v1/payers"} <= set(installed[0]["reads"])
    assert "/api/v1/patients/duplicates" in installed[0]["taken"]


def test_a_fhir_read_is_the_routes_answer_with_kept_elements_and_identifiers(
    client: TestClient,
    tenant: Tenant,
    db: Session,
    answered: Answered,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    patient = fhir.created(client, tenant, fhir.PATIENT)  # race, ethnicity, EHR identifiers
    path = f"/fhir/Patient/{patient['id']}"
    headers = tenant.headers(Role.INTEGRATION)

    fast = client.get(path, headers={**headers, "Accept": fhir.FHIR_JSON})
    assert answered == [patient["id"]]
    routed = _routed(client, monkeypatch, path, {**headers, "Accept": fhir.FHIR_JSON})
    assert fast.status_code == routed.status_code == 200
    assert fast.content == routed.content
    for name in ("content-type", "etag", "last-modified", "cache-control"):
        assert fast.headers[name] == routed.headers[name], name
    body = fhir.valid(fast.json())
    assert {e["url"] for e in body["extension"]} == {e["url"] for e in fhir.PATIENT["extension"]}
    user = tenant.user_ids[Role.INTEGRATION]
    assert _reads(db, patient["id"]) == [("patient", patient["id"], "success", user)] * 2

    # A Coverage keeps the identifiers it was sent (kept.py) and its subscriber.
    payer = fhir.created(client, tenant, fhir.PAYER)
    sent = fhir.coverage(f"Patient/{patient['id']}", f"Organization/{payer['id']}")
    sent["identifier"] = [{"system": "urn:example:member", "value": "M-123"}]
    coverage = fhir.created(client, tenant, sent)
    path = f"/fhir/Coverage/{coverage['id']}"
    fast = client.get(path, headers=headers)
    assert answered[-1] == coverage["id"]
    routed = _routed(client, monkeypatch, path, headers)
    assert fast.status_code == routed.status_code == 200
    assert fast.content == routed.content
    assert {"system": "urn:example:member", "value": "M-123"} in fhir.valid(fast.json())[
        "identifier"
    ]


def test_a_fhir_read_the_fast_path_does_not_negotiate_goes_to_the_route(
    client: TestClient, tenant: Tenant, answered: Answered
) -> None:
    patient = fhir.created(client, tenant, fhir.PATIENT)
    path = f"/fhir/Patient/{patient['id']}"
    xml = client.get(path, headers={**tenant.headers(), "Accept": "application/fhir+xml"})
    assert xml.status_code == 406
    summary = client.get(path + "?_summary=true", headers=tenant.headers())
    assert summary.status_code == 200
    missing = client.get("/fhir/Patient/nope", headers=tenant.headers())
    assert missing.status_code == 404
    assert missing.json()["resourceType"] == "OperationOutcome"
    assert answered == []
    assert client.get(path, headers=tenant.headers()).status_code == 200
    assert answered == [patient["id"]]


def test_fast_reads_on_a_pooled_database_leave_its_connections_as_they_were_lent(
    committing_app: FastAPI, committing_tenant: Tenant, answered: Answered
) -> None:
    """Without the tests' shared transaction: the reads run each statement on its own
    (autocommit on PostgreSQL) and hand the connection back transactional, as the pool lent it."""
    headers = committing_tenant.headers()
    with TestClient(committing_app) as client:
        created = client.post("/api/v1/patients", json=patient_payload(), headers=headers)
        path = f"/api/v1/patients/{created.json()['id']}"
        for _ in range(3):
            assert client.get(path, headers=headers).status_code == 200
        assert client.get(f"/fhir/Patient/{created.json()['id']}").status_code == 401
    assert answered == [created.json()["id"]] * 3
    engine = committing_app.state.engine
    lent = [engine.raw_connection() for _ in range(3)]
    try:
        if engine.dialect.name == "postgresql":
            assert [c.driver_connection.autocommit for c in lent] == [False] * 3
    finally:
        for connection in lent:
            connection.close()
    # A write transaction after the reads still rolls back as a whole.
    with engine.connect() as connection:
        transaction = connection.begin()
        connection.execute(
            sa.text("UPDATE patient SET phone = '555-0199' WHERE id = :id"),
            {"id": created.json()["id"]},
        )
        transaction.rollback()
    with TestClient(committing_app) as client:
        assert client.get(path, headers=headers).json()["phone"] != "555-0199"
