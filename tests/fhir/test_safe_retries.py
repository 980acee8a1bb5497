"""An EHR's integration engine retries: the same order Bundle posted again (or twice at once)
creates nothing new, because every entry is conditional on the identifiers the service keeps,
urn:uuid placeholders in criteria name the Bundle's own entries, and Idempotency-Key replays."""

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from service.codesets.loader import load_bundled
from service.coding.models import Encounter
from service.db import make_engine, session_factory_for, session_scope
from service.main import create_app
from service.orders.models import LabOrder
from service.patients.models import Coverage, Patient
from service.settings import Settings
from tests import fhir_conformance
from tests.factories import Tenant, make_tenant
from tests.fhir.clinical_examples import EHR_ORDER_SYSTEM, EHR_VISIT_SYSTEM
from tests.fhir.examples import FHIR_JSON, created, expressions, outcome, send, valid
from tests.fhir.order_bundles import (
    COVERAGE_SYSTEM,
    DIRECTORY_RESOURCES,
    Directory,
    add_lab_tests,
    order_bundle,
)


@pytest.fixture
def engine(codesets_engine: Engine) -> Engine:
    """Conditions are checked against ICD-10-CM."""
    return codesets_engine


@pytest.fixture
def directory(client: TestClient, tenant: Tenant, db: Session) -> Directory:
    add_lab_tests(db, tenant)
    payer, billing, practitioner = (created(client, tenant, r)["id"] for r in DIRECTORY_RESOURCES)
    return Directory(payer, billing, practitioner)


def _counts(session: Session) -> dict[str, Any]:
    def count(model: Any) -> int:
        return int(session.exec(select(func.count()).select_from(model)).one())

    diagnoses = [e.diagnoses for e in session.exec(select(Encounter)).all()]
    return {
        "patients": count(Patient),
        "coverages": count(Coverage),
        "encounters": count(Encounter),
        "orders": count(LabOrder),
        "diagnoses": diagnoses,
    }


ONE_OF_EACH = {
    "patients": 1,
    "coverages": 1,
    "encounters": 1,
    "orders": 1,
    "diagnoses": [["E119"]],
}


def test_replaying_an_order_bundle_three_times_creates_one_of_each(
    client: TestClient, tenant: Tenant, directory: Directory, db: Session
) -> None:
    bundle = order_bundle(directory)
    answers = []
    for _ in range(3):
        response = send(client, "POST", "/fhir", tenant, bundle)
        assert response.status_code == 200, response.text
        answers.append(valid(response.json()))

    first, *retries = answers
    assert [e["response"]["status"] for e in first["entry"]] == ["201 Created"] * 5
    for retry in retries:
        assert [e["response"]["status"] for e in retry["entry"]] == ["200 OK"] * 5
        assert [e["fullUrl"] for e in retry["entry"]] == [e["fullUrl"] for e in first["entry"]]
    assert _counts(db) == ONE_OF_EACH
    order, _, visit, cover, patient = first["entry"]
    # The conditional reference found the patient the same Bundle created.
    assert order["resource"]["subject"]["reference"] == f"Patient/{patient['resource']['id']}"
    assert order["resource"]["encounter"]["reference"] == f"Encounter/{visit['resource']['id']}"
    # The EHR's identifiers come back as sent.
    assert order["resource"]["identifier"][0]["value"] == "ORD-000123"
    assert order["resource"]["identifier"][0]["type"]["coding"][0]["code"] == "PLAC"
    assert visit["resource"]["identifier"] == [
        {"use": "usual", "system": EHR_VISIT_SYSTEM, "value": "V-2026-000123"}
    ]
    assert cover["resource"]["identifier"] == [{"system": COVERAGE_SYSTEM, "value": "COV-778"}]


def test_a_second_visit_of_the_same_patient_is_a_new_encounter(
    client: TestClient, tenant: Tenant, directory: Directory, db: Session
) -> None:
    assert send(client, "POST", "/fhir", tenant, order_bundle(directory)).status_code == 200
    second = order_bundle(directory, visit="V-2026-000999")
    second["entry"][0]["request"]["ifNoneExist"] = f"identifier={EHR_ORDER_SYSTEM}|ORD-000999"
    second["entry"][0]["resource"]["identifier"][0]["value"] = "ORD-000999"
    response = send(client, "POST", "/fhir", tenant, second)
    assert response.status_code == 200, response.text
    statuses = [e["response"]["status"] for e in response.json()["entry"]]
    assert statuses == ["201 Created", "201 Created", "201 Created", "200 OK", "200 OK"]
    counts = _counts(db)
    assert (counts["patients"], counts["encounters"], counts["orders"]) == (1, 2, 2)


def test_a_placeholder_that_names_no_entry_is_refused_not_matched_against_nothing(
    client: TestClient, tenant: Tenant, directory: Directory, db: Session
) -> None:
    bundle = order_bundle(directory)
    cover = bundle["entry"][3]["request"]
    cover["ifNoneExist"] = "beneficiary=urn:uuid:0b0c3bd4-3f2a-4d8e-9a53-1b9f3c7e2d10"
    body = outcome(send(client, "POST", "/fhir", tenant, bundle), 400)
    assert expressions(body) == ["Bundle.entry[3].request.ifNoneExist"]
    assert "urn:uuid:0b0c3bd4" in body["issue"][0]["diagnostics"]
    assert _counts(db)["patients"] == 0  # all or nothing


def test_a_conditional_reference_must_match_exactly_one(
    client: TestClient, tenant: Tenant, directory: Directory, db: Session
) -> None:
    bundle = order_bundle(directory)
    order = bundle["entry"][0]["resource"]
    order["subject"] = {"reference": "Patient?identifier=urn:oid:9.9|nobody"}
    body = outcome(send(client, "POST", "/fhir", tenant, bundle), 400)
    assert expressions(body) == ["Bundle.entry[0].resource.subject.reference"]
    assert _counts(db)["orders"] == 0


def test_a_conditional_update_in_a_transaction_updates_the_match_or_creates(
    client: TestClient, tenant: Tenant, directory: Directory, db: Session
) -> None:
    assert send(client, "POST", "/fhir", tenant, order_bundle(directory)).status_code == 200
    visit = send(
        client, "GET", f"/fhir/Encounter?identifier={EHR_VISIT_SYSTEM}|V-2026-000123", tenant
    ).json()["entry"][0]["resource"]
    changed = {k: v for k, v in visit.items() if k not in ("id", "meta")}
    changed["period"] = {"start": "2026-10-16"}
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": changed,
                "request": {
                    "method": "PUT",
                    "url": f"Encounter?identifier={EHR_VISIT_SYSTEM}|V-2026-000123",
                },
            }
        ],
    }
    response = send(client, "POST", "/fhir", tenant, bundle)
    assert response.status_code == 200, response.text
    entry = response.json()["entry"][0]
    assert entry["response"]["status"] == "200 OK"
    assert entry["resource"]["id"] == visit["id"]
    assert entry["resource"]["period"]["start"] == "2026-10-16"
    assert entry["resource"]["meta"]["versionId"] == str(int(visit["meta"]["versionId"]) + 1)
    assert _counts(db)["encounters"] == 1


def test_idempotency_key_on_a_bundle_replays_the_first_answer(
    client: TestClient, tenant: Tenant, directory: Directory, db: Session
) -> None:
    bundle = order_bundle(directory)
    first = send(client, "POST", "/fhir", tenant, bundle, **{"Idempotency-Key": "msg-1"})
    again = send(client, "POST", "/fhir", tenant, bundle, **{"Idempotency-Key": "msg-1"})
    assert first.status_code == again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"].startswith(FHIR_JSON)
    assert again.json() == first.json()  # the first answer (201s), not a second run (200s)
    assert [e["response"]["status"] for e in again.json()["entry"]] == ["201 Created"] * 5
    other = order_bundle(directory, visit="V-OTHER")
    reused = send(client, "POST", "/fhir", tenant, other, **{"Idempotency-Key": "msg-1"})
    assert outcome(reused, 422)["issue"][0]["diagnostics"].startswith("This Idempotency-Key")
    assert _counts(db) == ONE_OF_EACH


@pytest.mark.parametrize(
    ("kind", "query"),
    [
        ("Encounter", f"identifier={EHR_VISIT_SYSTEM}|V-2026-000123"),
        ("Encounter", "identifier=V-2026-000123"),
        ("Encounter", f"identifier={EHR_VISIT_SYSTEM}|"),
        ("ServiceRequest", f"identifier={EHR_ORDER_SYSTEM}|ORD-000123"),
        ("Coverage", f"identifier={COVERAGE_SYSTEM}|COV-778"),
    ],
)
def test_identifiers_are_searchable(
    client: TestClient, tenant: Tenant, directory: Directory, kind: str, query: str
) -> None:
    assert send(client, "POST", "/fhir", tenant, order_bundle(directory)).status_code == 200
    found = send(client, "GET", f"/fhir/{kind}?{query}", tenant).json()
    assert found["total"] == 1
    other_system = query.replace("identifier=", "identifier=urn:oid:9.9.9|").split("|")[0]
    assert send(client, "GET", f"/fhir/{kind}?{other_system}|x", tenant).json()["total"] == 0


# --- two copies at once: real commits, real parallel requests on PostgreSQL -------------------


@pytest.fixture
def ordering_app(migrated_database_url: str, settings: Settings) -> Iterator[FastAPI]:
    engine = make_engine(migrated_database_url)
    with session_scope(session_factory_for(engine)) as session:
        load_bundled(session)
    yield create_app(settings, engine=engine)
    engine.dispose()


async def _post_together(
    app: FastAPI, requests: list[tuple[str, Any]], headers: dict[str, str]
) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    hooks = {"response": [fhir_conformance.check_response_async]}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", timeout=120, event_hooks=hooks
    ) as c:
        return list(
            await asyncio.gather(
                *(c.post(url, content=json.dumps(body), headers=headers) for url, body in requests)
            )
        )


def test_two_copies_of_an_order_bundle_at_once_create_one_of_each(ordering_app: FastAPI) -> None:
    factory = ordering_app.state.session_factory
    with factory() as session:
        tenant = make_tenant(session, "Parallel Clinic")
        add_lab_tests(session, tenant)
    headers = {**tenant.headers("integration"), "Content-Type": FHIR_JSON}
    made = asyncio.run(
        _post_together(
            ordering_app, [("/fhir/" + r["resourceType"], r) for r in DIRECTORY_RESOURCES], headers
        )
    )
    assert [r.status_code for r in made] == [201, 201, 201], [r.text for r in made]
    directory = Directory(*(r.json()["id"] for r in made))
    bundle = order_bundle(directory)

    answers = asyncio.run(_post_together(ordering_app, [("/fhir", bundle)] * 2, headers))

    assert [r.status_code for r in answers] == [200, 200], [r.text for r in answers]
    statuses = sorted(tuple(e["response"]["status"] for e in r.json()["entry"]) for r in answers)
    assert statuses == [("200 OK",) * 5, ("201 Created",) * 5]
    with factory() as session:
        assert _counts(session) == ONE_OF_EACH
