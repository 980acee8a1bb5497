"""A merge-patch of one record, answered before routing (service/api/fast_writes.py): the same
answer and audit row as the route, committed; everything else (and every error) left to the
route, with nothing of the fast attempt written."""

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service import crud
from service.api import fast_writes
from service.audit.models import AuditEvent
from service.auth import logic as auth_logic
from service.auth.logic import Principal
from service.auth.models import ApiKey
from service.auth.roles import Role
from service.patients.logic import PATIENTS
from service.patients.models import Patient
from tests.api.fast_paths import Answered, spy_on_answers
from tests.factories import Tenant, make_practice, make_tenant, patient_payload


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> Answered:
    return spy_on_answers(monkeypatch, fast_writes)


def _updates(db: Session, record_id: str) -> list[tuple[str, str | None, str, str, str]]:
    db.commit()  # a fresh snapshot
    query = select(AuditEvent).where(AuditEvent.resource_id == record_id)
    events = db.exec(query.where(AuditEvent.action == "update").order_by(col(AuditEvent.at))).all()
    return [
        (e.resource_type, e.patient_id, e.detail or "", e.user_id or "", e.request_id or "")
        for e in events
    ]


def test_the_fast_patch_is_the_routes_patch_with_the_same_audit_row(
    client: TestClient,
    tenant: Tenant,
    db: Session,
    answered: Answered,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    patient_id = make_practice(db, tenant).patient_id
    path = f"/api/v1/patients/{patient_id}"
    headers = tenant.headers(Role.FRONT_DESK)

    fast = client.patch(path, json={"phone": "555-0101"}, headers={**headers, "X-Request-ID": "p1"})
    assert answered == [patient_id]
    with monkeypatch.context() as m:
        m.setattr(fast_writes, "answer", lambda *args: None)
        routed = client.patch(
            path, json={"phone": "555-0102"}, headers={**headers, "X-Request-ID": "p2"}
        )
    assert fast.status_code == routed.status_code == 200
    assert (fast.headers["etag"], routed.headers["etag"]) == ('"2"', '"3"')
    for name in ("content-type", "cache-control"):
        assert fast.headers[name] == routed.headers[name], name
    unchanged = {"updated_at", "version", "phone"}
    assert {k: v for k, v in fast.json().items() if k not in unchanged} == {
        k: v for k, v in routed.json().items() if k not in unchanged
    }
    assert (fast.json()["phone"], fast.json()["version"]) == ("555-0101", 2)
    assert client.get(path, headers=headers).json()["phone"] == "555-0102"

    user = tenant.user_ids[Role.FRONT_DESK]
    assert _updates(db, patient_id) == [
        ("patient", patient_id, "changed: phone", user, "p1"),
        ("patient", patient_id, "changed: phone", user, "p2"),
    ]


def test_if_match_is_honoured_and_a_stale_version_gets_the_routes_412(
    client: TestClient, tenant: Tenant, db: Session, answered: Answered
) -> None:
    patient_id = make_practice(db, tenant).patient_id
    path = f"/api/v1/patients/{patient_id}"
    ok = client.patch(
        path, json={"phone": "555-0103"}, headers={**tenant.headers(), "If-Match": '"1"'}
    )
    assert ok.status_code == 200
    assert answered == [patient_id]

    stale = client.patch(
        path, json={"phone": "555-0104"}, headers={**tenant.headers(), "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    bad = client.patch(
        path, json={"phone": "555-0105"}, headers={**tenant.headers(), "If-Match": "x"}
    )
    assert bad.status_code == 422  # InvalidInput, as the route says it
    assert answered == [patient_id]
    current = client.get(path, headers=tenant.headers()).json()
    assert (current["phone"], current["version"]) == ("555-0103", 2)


def test_errors_are_the_routes_and_leave_the_record_as_it_was(
    client: TestClient, tenant: Tenant, db: Session, answered: Answered
) -> None:
    practice = make_practice(db, tenant)
    other = make_tenant(db, "Other Clinic")
    db.commit()
    path = f"/api/v1/patients/{practice.patient_id}"
    taken = client.post(
        "/api/v1/patients", json=patient_payload(mrn="MRN-TAKEN"), headers=tenant.headers()
    )
    assert taken.status_code == 201
    before = client.get(path, headers=tenant.headers()).json()

    def patch(body: Any, headers: dict[str, str] | None = None, url: str = path) -> Any:
        sent = tenant.headers() if headers is None else headers
        return client.patch(url, json=body, headers=sent)

    assert patch({"mrn": "MRN-TAKEN", "phone": "555-0106"}).status_code == 409
    assert patch({"birth_date": "not a date", "phone": "555-0107"}).status_code == 422
    assert patch({"no_such_field": 1}).status_code == 422
    assert patch(["phone"]).status_code == 422
    assert patch({"phone": "555-0108"}, headers=other.headers()).status_code == 404
    assert patch({"phone": "555-0109"}, headers={}).status_code == 401
    assert patch({"phone": "555-0110"}, headers=tenant.headers(Role.BILLER)).status_code == 403
    assert patch({"phone": "555-0111"}, url="/api/v1/patients/" + "0" * 32).status_code == 404
    not_json = client.patch(
        path, content=b"{", headers={**tenant.headers(), "Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
    assert answered == []
    assert client.get(path, headers=tenant.headers()).json() == before
    # the route audited each refusal once (the fast attempt wrote nothing); nothing succeeded
    refusals = [detail for _type, _patient, detail, _user, _id in _updates(db, practice.patient_id)]
    assert refusals == [
        "409 patient-mrn-taken",
        "422 invalid-input",
        "422 invalid-input",
        "422 invalid-input",
        "404 patient-not-found",
        "403 forbidden",
        "400 malformed-json",
    ]  # fmt: skip (the 401 names no user or record)
    # a query string: the route judges it (a PATCH takes none and ignores what it does not know)
    assert patch({"phone": "555-0112"}, url=path + "?x=1").status_code == 200
    assert answered == []


def test_a_revoked_key_is_refused_at_once(
    client: TestClient, tenant: Tenant, db: Session, answered: Answered
) -> None:
    patient_id = make_practice(db, tenant).patient_id
    path = f"/api/v1/patients/{patient_id}"
    headers = tenant.headers(Role.FRONT_DESK)
    assert client.patch(path, json={"phone": "555-0113"}, headers=headers).status_code == 200

    key_id = headers["Authorization"].removeprefix("Bearer bo_")[:16]
    key = db.exec(select(ApiKey).where(ApiKey.key_id == key_id)).one()
    auth_logic.revoke_api_key(db, tenant.organization_id, key.id, at=datetime.now(UTC))
    db.commit()

    refused = client.patch(path, json={"phone": "555-0114"}, headers=headers)
    assert refused.status_code == 401
    assert answered == [patient_id]
    assert client.get(path, headers=tenant.headers()).json()["phone"] == "555-0113"


def test_every_crud_patch_is_taken_only_where_the_router_would_take_it(app: FastAPI) -> None:
    installed: list[Any] = [
        m.kwargs for m in app.user_middleware if m.cls is cast(Any, fast_writes.RecordPatchFastPath)
    ]
    assert len(installed) == 1
    assert {"/api/v1/patients", "/api/v1/coverages", "/api/v1/payers"} <= set(
        installed[0]["patches"]
    )


def test_fast_patches_commit_on_a_pooled_database(
    committing_app: FastAPI, committing_tenant: Tenant, answered: Answered
) -> None:
    """Without the tests' shared transaction: the patch is committed before its answer, and a
    refused one leaves nothing behind."""
    headers = committing_tenant.headers()
    with TestClient(committing_app) as client:
        created = client.post("/api/v1/patients", json=patient_payload(), headers=headers)
        path = f"/api/v1/patients/{created.json()['id']}"
        for n in range(3):
            patched = client.patch(path, json={"phone": f"555-012{n}"}, headers=headers)
            assert patched.status_code == 200
        stale = client.patch(
            path, json={"phone": "555-0199"}, headers={**headers, "If-Match": '"2"'}
        )
        assert stale.status_code == 412
    assert answered == [created.json()["id"]] * 3
    with TestClient(committing_app) as client:
        current = client.get(path, headers=headers).json()
    assert (current["phone"], current["version"]) == ("555-0122", 4)


def test_a_patch_starts_from_the_committed_row_even_if_the_session_held_an_older_one(
    committing_app: FastAPI, committing_tenant: Tenant
) -> None:
    """A patch without If-Match locks the row and bumps the version with its own UPDATE
    (records.bump_version, locked): the row it starts from must be the committed one, not an
    older copy the session kept, or a concurrent change would be written over."""
    headers = committing_tenant.headers()
    with TestClient(committing_app) as client:
        created = client.post("/api/v1/patients", json=patient_payload(), headers=headers).json()
    factory = committing_app.state.session_factory
    actor = Principal(
        user_id=committing_tenant.user_ids[Role.ADMIN],
        organization_id=committing_tenant.organization_id,
        roles=frozenset({Role.ADMIN}),
        key_id="test",
    )
    with factory() as session:
        held = session.get(Patient, created["id"])
        assert held is not None
        assert held.version == 1
        session.commit()  # the transaction ends; the session keeps its copy (version 1)
        with TestClient(committing_app) as client:
            path = f"/api/v1/patients/{created['id']}"
            assert (
                client.patch(path, json={"phone": "555-0130"}, headers=headers).status_code == 200
            )
        row = crud.update(session, actor, PATIENTS, created["id"], {"given_name": "Ana Maria"},
                          expected_version=None)  # fmt: skip
        session.commit()
        assert row.version == 3
    with factory() as session:
        current = session.get(Patient, created["id"])
        assert current is not None
        assert (current.phone, current.given_name, current.version) == ("555-0130", "Ana Maria", 3)
