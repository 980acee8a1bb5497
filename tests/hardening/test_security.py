"""Security properties across the API: tenant isolation of the lab and billing records, no mass
assignment on any create route, hostile strings stored faithfully (SQL metacharacters, X12
delimiters in a claim file pyx12 accepts), the body limit, and constant-time key checks.

Already covered elsewhere and not repeated: every route answers 401 without a key and 403 to a
role it does not allow (tests/test_role_matrix.py); another organization's key gets 404 on the
directory and patient records (tests/test_tenant_isolation.py); a revoked key stops working on
the next request (tests/auth/test_routes.py::test_a_revoked_key_stops_working_at_once).
"""

import contextlib
import hmac
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.auth import logic as auth_logic
from service.auth.roles import Role
from service.claims.models import Claim
from service.coding.models import Encounter
from service.db import SessionFactory
from service.demo import clinic as demo
from service.directory.models import TradingPartner
from service.errors import DomainError
from service.main import ROUTERS, create_app
from service.patients.models import Patient
from service.settings import Settings
from tests.claims.x12_check import assert_valid_837, segments
from tests.factories import (
    Tenant,
    glucose_test_payload,
    make_lab_setup,
    make_practice,
    make_ready_specimen,
    patient_payload,
)

OWNERSHIP_FIELDS = ("organization_id", "id", "status", "created_at", "verified_by")
# Fields a client legitimately sets: a coder moves an encounter's coding status
# (POST /encounters/{id}/status), and an EHR sends a ServiceRequest's status with the order
# (the same field PATCH changes); neither grants anything a PATCH would not.
CLIENT_SET = {
    ("/api/v1/encounters/{encounter_id}/status", "status"),
    ("/api/v1/lab-orders", "status"),
}
STORES_NOTHING = {"/api/v1/codes/validate"}  # a query with a body: extra fields change nothing

HOSTILE = [
    "O'Brien",
    "Robert'); DROP TABLE patient;--",
    'a" OR "1"="1',
    "100% _match_ \\ back",
    "Star*Tilde~Colon:Caret^",
    "Null\x00byte",
]


@pytest.fixture
def engine(codesets_engine: Engine) -> Engine:
    """The demo's claims need the bundled code sets."""
    return codesets_engine


def _body_model(route: APIRoute) -> type[BaseModel] | None:
    if route.body_field is None:
        return None
    annotation = route.body_field.field_info.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _write_routes() -> list[tuple[str, str, type[BaseModel]]]:
    rows = []
    for route in (r for router in ROUTERS for r in router.routes):
        if not isinstance(route, APIRoute) or not (route.methods or set()) & {"POST", "PUT"}:
            continue
        model = _body_model(route)
        if model is not None:
            rows.append((sorted(route.methods or ())[0], route.path, model))
    return rows


WRITES = _write_routes()


def test_there_are_json_create_routes_to_check() -> None:
    assert len(WRITES) >= 30


@pytest.mark.parametrize(
    ("method", "path", "model"), WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES]
)
def test_no_body_model_takes_ownership_fields(
    method: str, path: str, model: type[BaseModel]
) -> None:
    """Every JSON body refuses unknown fields, and none declares who owns a row, its id, its
    audit times or who verified it: a client cannot set them on any create (or action) route."""
    if path not in STORES_NOTHING:
        assert model.model_config.get("extra") == "forbid", f"{model.__name__} drops extra fields"
    declared = {f for f in OWNERSHIP_FIELDS if f in model.model_fields}
    assert declared <= {f for p, f in CLIENT_SET if p == path}, declared


def _lab(client: TestClient, db: Session, tenant: Tenant) -> dict[str, str]:
    """An order, a specimen on a worklist, and an entered result: the lab's records."""
    setup = make_lab_setup(db, tenant)
    specimen = make_ready_specimen(db, tenant, setup)
    lab = tenant.headers(Role.LAB)
    template = client.post("/api/v1/worklist-templates", headers=lab, json={
        "name": "Rack", "bench": "chemistry", "test_ids": [setup.tests["A1C"]],
        "layout": "rack", "capacity": 4})  # fmt: skip
    assert template.status_code == 201, template.text
    worklist = client.post("/api/v1/worklists", json={"template_id": template.json()["id"]},
                           headers=lab)  # fmt: skip
    assert worklist.status_code == 201, worklist.text
    result = client.post("/api/v1/results", headers=lab, json={
        "specimen_id": specimen.id, "lab_test_id": setup.tests["A1C"],
        "component_code": "4548-4", "value": "5.1"})  # fmt: skip
    assert result.status_code == 201, result.text
    return {
        "lab-orders": specimen.order_id,
        "specimens": specimen.id,
        "worklist-templates": template.json()["id"],
        "worklists": worklist.json()["id"],
        "results": result.json()["id"],
        "lab-tests": setup.tests["A1C"],
    }


def test_another_organization_gets_404_on_lab_and_billing_records(
    client: TestClient, db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    ids = _lab(client, db, tenant)
    demo_org = demo.seed(db)
    db.commit()
    encounter = db.exec(
        select(Encounter.id).where(Encounter.organization_id == demo_org.organization_id)
    ).first()
    claim = db.exec(
        select(Claim.id).where(Claim.organization_id == demo_org.organization_id)
    ).first()
    partner = db.exec(
        select(TradingPartner.id).where(TradingPartner.organization_id == demo_org.organization_id)
    ).one()
    owner = {"Authorization": f"Bearer {demo_org.admin_key}"}
    batch = client.post(
        "/api/v1/claim-batches",
        headers=owner,
        json={"trading_partner_id": partner, "claim_type": "professional"},
    )
    assert batch.status_code == 201, batch.text
    assert encounter
    assert claim

    foreign = other_tenant.headers()
    urls = [f"/api/v1/{kind}/{record_id}" for kind, record_id in ids.items()] + [
        f"/api/v1/specimens/{ids['specimens']}/events",
        f"/api/v1/worklists/{ids['worklists']}/export",
        f"/api/v1/results/{ids['results']}/history",
        f"/api/v1/encounters/{encounter}",
        f"/api/v1/claims/{claim}",
        f"/api/v1/claim-batches/{batch.json()['id']}",
        f"/api/v1/claim-batches/{batch.json()['id']}/file",
    ]
    for url in urls:
        assert client.get(url, headers=foreign).status_code == 404, url
    # Writes on foreign ids are 404 too, and change nothing.
    writes = [
        ("POST", f"/api/v1/specimens/{ids['specimens']}/location", {"location": "Elsewhere"}),
        ("POST", f"/api/v1/worklists/{ids['worklists']}/start", None),
        ("POST", "/api/v1/results/verification", {"result_ids": [ids["results"]]}),
        ("POST", f"/api/v1/claim-batches/{batch.json()['id']}/cancellation", None),
        ("POST", f"/api/v1/claims/{claim}/scrub", None),
        ("PATCH", f"/api/v1/encounters/{encounter}", {"prior_authorization": "X"}),
    ]
    for method, url, body in writes:
        response = client.request(method, url, json=body, headers=foreign)
        assert response.status_code == 404, (url, response.text)
    for kind in ("lab-orders", "specimens", "worklists", "results", "encounters", "claims"):
        listed = client.get(f"/api/v1/{kind}", headers=foreign)
        assert listed.status_code == 200, kind
        assert listed.json()["items"] == [], kind
    assert client.get(f"/api/v1/claim-batches/{batch.json()['id']}", headers=owner).json()[
        "status"] == "generated"  # fmt: skip


CREATES: dict[str, Callable[[TestClient, Session, Tenant], dict[str, Any]]] = {
    "/api/v1/users": lambda c, d, t: {"name": "New", "roles": ["lab"]},
    "/api/v1/lab-tests": lambda c, d, t: glucose_test_payload(code="GLU2"),
    "/api/v1/encounters": lambda c, d, t: _encounter(d, t),
    "/api/v1/specimens": lambda c, d, t: _specimen(c, d, t),
}


def _encounter(db: Session, tenant: Tenant) -> dict[str, Any]:
    practice = make_practice(db, tenant)
    return {
        "patient_id": practice.patient_id, "date_of_service": "2026-10-15",
        "place_of_service": "11", "kind": "medical",
        "billing_provider_id": practice.billing_provider_id,
        "rendering_provider_id": practice.rendering_provider_id,
        "coverage_ids": [practice.coverage_id],
    }  # fmt: skip


def _specimen(client: TestClient, db: Session, tenant: Tenant) -> dict[str, Any]:
    setup = make_lab_setup(db, tenant)
    order = client.post("/api/v1/lab-orders", headers=tenant.headers(), json={
        "patient_id": setup.patient_id, "ordering_provider_id": setup.provider_id,
        "test_ids": [setup.tests["A1C"]]})  # fmt: skip
    assert order.status_code == 201, order.text
    return {"order_id": order.json()["id"], "collected_at": "2026-10-15T08:00:00Z"}


@pytest.mark.parametrize("path", CREATES)
def test_posting_ownership_fields_is_refused_and_the_plain_create_works(
    client: TestClient, db: Session, tenant: Tenant, other_tenant: Tenant, path: str
) -> None:
    body = CREATES[path](client, db, tenant)
    hostile = {"organization_id": other_tenant.organization_id, "id": "mine",
               "status": "verified", "created_at": "2020-01-01T00:00:00Z",
               "verified_by": tenant.user_ids[Role.LAB]}  # fmt: skip
    for field, value in hostile.items():
        response = client.post(path, json={**body, field: value}, headers=tenant.headers())
        assert response.status_code == 422, (field, response.text)
        assert f"/{field}" in [e["pointer"] for e in response.json()["errors"]]
    created = client.post(path, json=body, headers=tenant.headers())
    assert created.status_code == 201, created.text
    assert created.json()["id"] != "mine"
    assert created.json().get("organization_id", tenant.organization_id) == tenant.organization_id


def test_sql_metacharacters_are_stored_faithfully_and_search_literally(
    client: TestClient, tenant: Tenant
) -> None:
    stored = {}
    for n, name in enumerate(HOSTILE):
        response = client.post("/api/v1/patients", headers=tenant.headers(), json=patient_payload(
            mrn=f"H-{n}", family_name=name, given_name=name[::-1], phone=name[:20]))  # fmt: skip
        if "\x00" in name and response.status_code == 422:  # PostgreSQL text cannot hold NUL
            assert response.json()["type"].endswith("/invalid-input"), response.text
            continue
        assert response.status_code == 201, response.text
        stored[response.json()["id"]] = name
    for patient_id, name in stored.items():
        read = client.get(f"/api/v1/patients/{patient_id}", headers=tenant.headers()).json()
        assert (read["family_name"], read["given_name"]) == (name, name[::-1])
        found = client.get("/api/v1/patients", params={"family_name": name},
                           headers=tenant.headers()).json()["items"]  # fmt: skip
        assert [p["id"] for p in found] == [patient_id], name
    # The same through FHIR and in a query string: stored or refused as bad input, never a 500.
    fhir = client.post("/fhir/Patient", headers={**tenant.headers(), "Content-Type":
                       "application/fhir+json"}, json={"resourceType": "Patient",
                       "identifier": [{"system": "urn:backoffice:mrn", "value": "N\x00UL"}],
                       "name": [{"family": "Nul\x00", "given": ["A"]}], "gender": "female",
                       "birthDate": "1980-01-01"})  # fmt: skip
    assert fhir.status_code in (201, 422), fhir.text
    queried = client.get("/api/v1/patients", params={"mrn": "x\x00"}, headers=tenant.headers())
    assert queried.status_code in (200, 422), queried.text
    # LIKE wildcards match themselves only: "100%" finds the one name that starts with it.
    wild = client.get("/api/v1/patients", params={"family_name": "%"}, headers=tenant.headers())
    assert [p["family_name"] for p in wild.json()["items"]] == []
    assert client.get("/api/v1/patients", headers=tenant.headers()).json()["items"]  # table intact


def test_x12_delimiters_in_names_never_break_a_claim_file(client: TestClient, db: Session) -> None:
    demo_org = demo.seed(db)
    patients = db.exec(
        select(Patient).where(col(Patient.organization_id) == demo_org.organization_id)
    ).all()
    for patient in patients:
        patient.family_name = f"O'Ha*ra~{patient.family_name}:X^Y"
        patient.given_name = "Robert'); DROP TABLE claim;--"
        db.add(patient)
    db.commit()
    partner = db.exec(
        select(TradingPartner.id).where(TradingPartner.organization_id == demo_org.organization_id)
    ).one()
    owner = {"Authorization": f"Bearer {demo_org.admin_key}"}
    batch = client.post(
        "/api/v1/claim-batches",
        headers=owner,
        json={"trading_partner_id": partner, "claim_type": "professional"},
    )
    assert batch.status_code == 201, batch.text
    text = client.get(f"/api/v1/claim-batches/{batch.json()['id']}/file", headers=owner).text
    assert_valid_837(text)
    names = [s for s in segments(text) if s[0] == "NM1" and s[4].startswith("ROBERT")]
    assert len(names) >= 4  # subscribers and patients (a dependant's subscriber has own name)
    # The delimiters are gone from the values (replaced), the rest kept: the apostrophe, the SQL.
    for segment in names:
        assert segment[3].startswith("O'HA"), segment
        assert segment[4] == "ROBERT'); DROP TABLE CLAIM;--", segment


@pytest.fixture
def limited_client(
    engine: Engine, session_factory: SessionFactory, tmp_path: Path
) -> Iterator[TestClient]:
    """64 KiB for JSON bodies, 128 KiB for uploads (CSV, X12)."""
    settings = Settings(database_url="sqlite://", data_dir=tmp_path, max_body_bytes=64 * 1024,
                        max_upload_bytes=128 * 1024)  # fmt: skip
    app = create_app(settings, engine=engine, session_factory=session_factory)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("path", "content_type", "limit"),
    [("/api/v1/patients", "application/json", 64), ("/fhir/Patient", "application/fhir+json", 64),
     ("/api/v1/result-imports", "text/csv", 128)],
)  # fmt: skip
def test_a_body_over_the_limit_is_413_before_any_work(
    limited_client: TestClient, tenant: Tenant, path: str, content_type: str, limit: int
) -> None:
    headers = {**tenant.headers(), "Content-Type": content_type}
    over = b"x" * (limit * 1024 + 1)
    response = limited_client.post(path, content=over, headers=headers)
    assert response.status_code == 413, response.text[:200]
    if path.startswith("/fhir"):  # FHIR answers every error as an OperationOutcome
        assert response.headers["content-type"] == "application/fhir+json"
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["code"] == "too-costly"
    else:
        assert response.headers["content-type"] == "application/problem+json"
    # Chunked (no Content-Length): cut off while reading, same answer.
    chunks = iter([b"x" * 1024] * (limit + 1))
    assert limited_client.post(path, content=chunks, headers=headers).status_code == 413


def test_key_checks_compare_in_constant_time_even_for_unknown_keys(
    db: Session, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown key id still costs one hmac.compare_digest, against a dummy hash, so response
    time does not tell which key ids exist."""
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def counting(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    good = tenant.keys[Role.ADMIN]
    unknown = "bo_" + "0" * 16 + "_" + "x" * 40
    for header in (f"Bearer {good}", f"Bearer {unknown}", f"Bearer {good[:-1]}y", "Bearer junk"):
        with contextlib.suppress(DomainError):
            auth_logic.authenticate(db, header)
    assert len(calls) == 4, calls
