"""The audit trail: reads, writes, denials and failures; append-only; no PHI in logs."""

import logging

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.audit.models import AuditEvent
from tests.factories import Tenant, make_patient, patient_payload


def _events(db: Session, **where: str) -> list[AuditEvent]:
    db.commit()  # a fresh snapshot: see what the requests committed
    query = select(AuditEvent)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return list(db.exec(query.order_by(AuditEvent.id)).all())


def test_reading_a_patient_is_audited_with_who_what_and_where(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    patient = make_patient(db, tenant)
    response = client.get(
        f"/api/v1/patients/{patient.id}",
        headers={**tenant.headers("front_desk"), "X-Request-ID": "req-77"},
    )
    assert response.status_code == 200
    [event] = _events(db, action="read", patient_id=patient.id)
    assert event.user_id == tenant.user_ids["front_desk"]
    assert event.role == "front_desk"
    assert event.organization_id == tenant.organization_id
    assert (event.resource_type, event.resource_id, event.outcome) == (
        "patient",
        patient.id,
        "success",
    )
    assert event.request_id == "req-77"
    assert event.client_address


def test_a_list_audits_every_patient_it_shows(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    ids = {make_patient(db, tenant, mrn=f"L{i}").id for i in range(3)}
    client.get("/api/v1/patients", headers=tenant.headers())
    assert {e.patient_id for e in _events(db, action="query")} == ids


def test_writes_are_audited_with_the_fields_changed_not_their_values(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    created = client.post("/api/v1/patients", json=patient_payload(), headers=tenant.headers())
    patient_id = created.json()["id"]
    client.patch(
        f"/api/v1/patients/{patient_id}", json={"family_name": "Castillo"}, headers=tenant.headers()
    )
    client.delete(f"/api/v1/patients/{patient_id}", headers=tenant.headers())
    actions = [e.action for e in _events(db, patient_id=patient_id)]
    assert actions == ["create", "update", "delete"]
    [update] = _events(db, action="update")
    assert update.detail == "changed: family_name"
    assert "Castillo" not in update.detail


def test_denials_are_audited_after_the_rollback(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, db: Session
) -> None:
    patient = make_patient(db, tenant)
    client.get("/api/v1/patients", headers={"Authorization": "Bearer bo_0000000000000000_nope"})
    client.get("/api/v1/audit-events", headers=tenant.headers("lab"))
    client.get(f"/api/v1/patients/{patient.id}", headers=other_tenant.headers())

    [unknown] = _events(db, action="login-denied")
    assert unknown.outcome == "denied"
    assert unknown.user_id is None
    [forbidden] = _events(db, user_id=tenant.user_ids["lab"])
    assert (forbidden.outcome, forbidden.resource_type, forbidden.detail) == (
        "denied",
        "audit-events",
        "403 forbidden",
    )
    [foreign] = _events(db, user_id=other_tenant.user_ids["admin"])
    assert (foreign.outcome, foreign.resource_id, foreign.action) == ("denied", patient.id, "read")
    assert foreign.organization_id == other_tenant.organization_id


def test_failures_are_audited_and_leave_no_half_written_rows(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    response = client.post(
        "/api/v1/patients", json=patient_payload(sex="Q"), headers=tenant.headers()
    )
    assert response.status_code == 422
    [failed] = _events(db, outcome="failed")
    assert (failed.action, failed.resource_type, failed.detail) == (
        "create",
        "patients",
        "422 invalid-input",
    )
    assert _events(db, action="create", outcome="success") == []


def test_auditors_read_the_trail_filtered_and_reading_it_is_audited(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    patient = make_patient(db, tenant)
    other = make_patient(db, tenant, mrn="OTHER")
    client.get(f"/api/v1/patients/{patient.id}", headers=tenant.headers("coder"))
    client.get(f"/api/v1/patients/{other.id}", headers=tenant.headers("coder"))
    response = client.get(
        f"/api/v1/audit-events?patient_id={patient.id}&action=read",
        headers=tenant.headers("auditor"),
    )
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(e["patient_id"], e["role"]) for e in items] == [(patient.id, "coder")]
    [reading] = _events(db, resource_type="audit_event")
    assert reading.user_id == tenant.user_ids["auditor"]
    assert reading.patient_id == patient.id


def test_user_and_key_changes_are_audited(client: TestClient, tenant: Tenant, db: Session) -> None:
    user = client.post(
        "/api/v1/users", json={"name": "New", "roles": ["lab"]}, headers=tenant.headers()
    )
    key = client.post(
        f"/api/v1/users/{user.json()['id']}/api-keys", json={}, headers=tenant.headers()
    )
    client.delete(f"/api/v1/api-keys/{key.json()['id']}", headers=tenant.headers())
    kinds = [(e.action, e.resource_type) for e in _events(db, user_id=tenant.user_ids["admin"])]
    assert kinds == [("create", "user"), ("create", "api_key"), ("revoke", "api_key")]


def test_the_database_refuses_to_change_or_delete_audit_rows(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    make_patient(db, tenant)
    client.get("/api/v1/patients", headers=tenant.headers())
    for statement in ("UPDATE audit_event SET outcome = 'failed'", "DELETE FROM audit_event"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.begin_nested():
            db.execute(sa.text(statement))
    assert _events(db)


def test_logs_carry_request_ids_but_no_patient_data(
    client: TestClient, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = patient_payload(
        family_name="Zyxwvutsson", given_name="Quentessa", birth_date="1961-07-19"
    )
    body["phone"] = "555-8812"
    created = client.post("/api/v1/patients", json=body, headers=tenant.headers())
    client.get("/api/v1/patients?family_name=Zyxw&birth_date=1961-07-19", headers=tenant.headers())
    client.get(f"/api/v1/patients/{created.json()['id']}", headers=tenant.headers())
    client.post("/api/v1/patients", json={**body, "sex": "Q"}, headers=tenant.headers())
    # The service's own log lines (the test client's request log is the caller's, not ours).
    ours = [r for r in caplog.records if r.name.startswith(("service", "uvicorn", "sqlalchemy"))]
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in ours)
    assert "request_id=" in logged
    for phi in ("Zyxw", "Quentessa", "1961-07-19", "19610719", "555-8812", "MRN-0001"):
        assert phi not in logged
