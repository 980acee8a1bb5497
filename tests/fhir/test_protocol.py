"""The FHIR RESTful protocol as the spec writes it: POST _search, Prefer, lenient handling,
partial dates, `system|` tokens, _summary/_elements/_total, fhirVersion, update-as-create off,
vread and _history, and a CapabilityStatement that lists exactly what is served."""

from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from service.fhir.routes import router as fhir_router
from service.outbox.routes import fhir_router as subscription_router
from service.patients.models import Patient
from tests.factories import Tenant
from tests.fhir.clinical_examples import EHR_ORDER_SYSTEM, EHR_VISIT_SYSTEM
from tests.fhir.examples import (
    EHR_MRN_SYSTEM,
    FHIR_JSON,
    PATIENT,
    created,
    example,
    headers,
    outcome,
    send,
)
from tests.fhir.order_bundles import DIRECTORY_RESOURCES, Directory, add_lab_tests, order_bundle

SUBSETTED = "SUBSETTED"
MR = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}


@pytest.fixture
def engine(codesets_engine: Engine) -> Engine:
    return codesets_engine


def _patients(client: TestClient, tenant: Tenant) -> list[dict[str, Any]]:
    born = [("P-1", "1985-03-02"), ("P-2", "1985-11-30"), ("P-3", "1990-01-01")]
    return [
        created(
            client,
            tenant,
            example(
                PATIENT,
                identifier=[{"type": MR, "system": EHR_MRN_SYSTEM, "value": mrn}],
                birthDate=birth,
            ),
        )
        for mrn, birth in born
    ]


def _mrns(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["identifier"][0]["value"] for e in bundle.get("entry", [])]


def test_post_search_takes_a_form_body(client: TestClient, tenant: Tenant) -> None:
    _patients(client, tenant)
    response = client.post(
        "/fhir/Patient/_search",
        content="birthdate=1985&_sort=-birthdate",
        headers={**tenant.headers("integration"),
                 "Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert _mrns(response.json()) == ["P-2", "P-1"]
    json_body = client.post(
        "/fhir/Patient/_search", content="{}", headers=headers(tenant)
    )  # a JSON body is not how _search takes its parameters
    outcome(json_body, 415)


def test_prefer_return(client: TestClient, tenant: Tenant) -> None:
    minimal = send(client, "POST", "/fhir/Patient", tenant, PATIENT, Prefer="return=minimal")
    assert minimal.status_code == 201
    assert minimal.content == b""
    assert "/fhir/Patient/" in minimal.headers["location"]
    assert minimal.headers["etag"] == 'W/"1"'
    patient_id = minimal.headers["location"].split("/")[-3]
    current = send(client, "GET", f"/fhir/Patient/{patient_id}", tenant).json()
    changed = {**current, "birthDate": "1974-12-24"}
    told = send(client, "PUT", f"/fhir/Patient/{patient_id}", tenant, changed,
                Prefer="return=OperationOutcome")  # fmt: skip
    assert told.status_code == 200
    body = told.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["severity"] == "information"
    again = {**changed, "birthDate": "1974-12-23"}
    url = f"/fhir/Patient/{patient_id}"
    shown = send(client, "PUT", url, tenant, again, Prefer="return=representation")
    assert shown.json()["birthDate"] == "1974-12-23"


def test_unknown_parameters_are_400_unless_lenient(client: TestClient, tenant: Tenant) -> None:
    _patients(client, tenant)
    strict = send(client, "GET", "/fhir/Patient?eye-colour=blue&birthdate=1990", tenant)
    assert outcome(strict, 400)["issue"][0]["code"] == "not-supported"
    lenient = send(client, "GET", "/fhir/Patient?eye-colour=blue&birthdate=1990", tenant,
                   Prefer="handling=lenient")  # fmt: skip
    assert lenient.status_code == 200
    bundle = lenient.json()
    assert _mrns(bundle) == ["P-3"]
    self_link = next(link["url"] for link in bundle["link"] if link["relation"] == "self")
    assert "birthdate=1990" in self_link
    assert "eye-colour" not in self_link


@pytest.mark.parametrize(
    ("query", "mrns"),
    [
        ("birthdate=1985", ["P-1", "P-2"]),
        ("birthdate=1985-11", ["P-2"]),
        ("birthdate=1985-03-02", ["P-1"]),
        ("birthdate=ge1985-06", ["P-2", "P-3"]),
        ("birthdate=lt1986", ["P-1", "P-2"]),
        ("birthdate=gt1985", ["P-3"]),
        ("birthdate=le1985-03", ["P-1"]),
        ("birthdate=ne1985", ["P-3"]),
        ("birthdate=1985-03-02T10:00:00Z", ["P-1"]),
        ("birthdate=lt1985-11-30T00:00:00%2B00:00", ["P-1"]),
    ],
)
def test_partial_dates_and_date_times(
    client: TestClient, tenant: Tenant, query: str, mrns: list[str]
) -> None:
    _patients(client, tenant)
    assert sorted(_mrns(send(client, "GET", f"/fhir/Patient?{query}", tenant).json())) == mrns


def test_a_date_that_is_no_date_is_400(client: TestClient, tenant: Tenant) -> None:
    outcome(send(client, "GET", "/fhir/Patient?birthdate=1985-13", tenant), 400)
    outcome(send(client, "GET", "/fhir/Patient?birthdate=yesterday", tenant), 400)


def test_system_bar_token_finds_every_identifier_of_the_system(
    client: TestClient, tenant: Tenant
) -> None:
    _patients(client, tenant)
    found = send(client, "GET", f"/fhir/Patient?identifier={EHR_MRN_SYSTEM}|", tenant).json()
    assert found["total"] == 3
    ssn = send(client, "GET", "/fhir/Patient?identifier=http://hl7.org/fhir/sid/us-ssn|", tenant)
    assert ssn.json()["total"] == 0


def test_summary_elements_and_total(client: TestClient, tenant: Tenant) -> None:
    first, *_ = _patients(client, tenant)
    summary = send(client, "GET", "/fhir/Patient?_summary=true", tenant).json()
    resource = summary["entry"][0]["resource"]
    assert [t["code"] for t in resource["meta"]["tag"]] == [SUBSETTED]
    assert "birthDate" in resource
    assert "communication" not in resource
    data = send(client, "GET", f"/fhir/Patient/{first['id']}?_summary=data", tenant).json()
    assert "text" not in data
    assert data["birthDate"] == "1985-03-02"
    assert [t["code"] for t in data["meta"]["tag"]] == [SUBSETTED]
    count = send(client, "GET", "/fhir/Patient?_summary=count", tenant).json()
    assert count["total"] == 3
    assert "entry" not in count
    elements = send(client, "GET", "/fhir/Patient?_elements=birthDate", tenant).json()
    assert set(elements["entry"][0]["resource"]) == {"resourceType", "id", "meta", "birthDate"}
    read = send(client, "GET", f"/fhir/Patient/{first['id']}?_elements=gender", tenant).json()
    assert set(read) == {"resourceType", "id", "meta", "gender"}
    no_total = send(client, "GET", "/fhir/Patient?_total=none", tenant).json()
    assert "total" not in no_total
    assert len(no_total["entry"]) == 3
    assert send(client, "GET", "/fhir/Patient?_total=accurate", tenant).json()["total"] == 3
    outcome(send(client, "GET", "/fhir/Patient?_total=maybe", tenant), 400)
    outcome(send(client, "GET", "/fhir/Patient?_summary=text", tenant), 400)


def test_other_fhir_versions_are_not_acceptable(client: TestClient, tenant: Tenant) -> None:
    old = send(client, "GET", "/fhir/Patient", tenant, Accept=f"{FHIR_JSON}; fhirVersion=3.0")
    assert outcome(old, 406)["issue"][0]["code"] == "not-supported"
    outcome(send(client, "GET", "/fhir/metadata?_format=json;fhirVersion=3.0", tenant), 406)
    r4 = send(client, "GET", "/fhir/Patient", tenant, Accept=f"{FHIR_JSON}; fhirVersion=4.0")
    assert r4.status_code == 200


def test_put_to_a_missing_id_is_405_and_creates_nothing(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    missing = "0000000000000000000000000000beef"
    body = example(PATIENT, id=missing)
    refused = outcome(send(client, "PUT", f"/fhir/Patient/{missing}", tenant, body), 405)
    assert "update" in refused["issue"][0]["diagnostics"]
    assert db.exec(select(func.count()).select_from(Patient)).one() == 0


def test_conditional_update_by_identifier(client: TestClient, tenant: Tenant) -> None:
    url = f"/fhir/Patient?identifier={EHR_MRN_SYSTEM}|12345"
    made = send(client, "PUT", url, tenant, PATIENT)  # no match: created (its id is ignored)
    assert made.status_code == 201, made.text
    body = {k: v for k, v in PATIENT.items() if k != "id"}
    again = send(client, "PUT", url, tenant, {**body, "birthDate": "1974-12-26"})
    assert again.status_code == 200
    assert again.json()["id"] == made.json()["id"]
    assert again.json()["meta"]["versionId"] == "2"
    # One match but another id in the body: 400 (FHIR 3.1.0.4.3).
    outcome(send(client, "PUT", url, tenant, PATIENT), 400)


@pytest.fixture
def directory(client: TestClient, tenant: Tenant, db: Session) -> Directory:
    add_lab_tests(db, tenant)
    payer, billing, practitioner = (created(client, tenant, r)["id"] for r in DIRECTORY_RESOURCES)
    return Directory(payer, billing, practitioner)


@pytest.mark.parametrize(
    ("kind", "query", "change"),
    [
        ("Patient", f"identifier={EHR_MRN_SYSTEM}|12345", {"birthDate": "1974-12-26"}),
        ("Encounter", f"identifier={EHR_VISIT_SYSTEM}|V-2026-000123",
         {"period": {"start": "2026-10-16"}}),
        ("ServiceRequest", f"identifier={EHR_ORDER_SYSTEM}|ORD-000123", {"priority": "stat"}),
    ],
)  # fmt: skip
def test_vread_and_history(
    client: TestClient,
    tenant: Tenant,
    directory: Directory,
    kind: str,
    query: str,
    change: dict[str, Any],
) -> None:
    assert send(client, "POST", "/fhir", tenant, order_bundle(directory)).status_code == 200
    first = send(client, "GET", f"/fhir/{kind}?{query}", tenant).json()["entry"][0]["resource"]
    # The Encounter is at version 2 already: the Bundle's Condition coded it.
    version = int(first["meta"]["versionId"])
    url = f"/fhir/{kind}/{first['id']}"
    updated = send(client, "PUT", url, tenant, {**first, **change})
    assert updated.status_code == 200, updated.text
    assert updated.json()["meta"]["versionId"] == str(version + 1)

    old = send(client, "GET", f"{url}/_history/{version}", tenant)
    assert old.status_code == 200
    assert old.headers["etag"] == f'W/"{version}"'
    assert old.json() == first
    newest = send(client, "GET", f"{url}/_history/{version + 1}", tenant)
    assert newest.json() == updated.json()
    outcome(send(client, "GET", f"{url}/_history/7", tenant), 404)

    history = send(client, "GET", f"{url}/_history", tenant).json()
    assert history["type"] == "history"
    versions = [int(e["resource"]["meta"]["versionId"]) for e in history["entry"]]
    assert versions == list(range(version + 1, 0, -1))
    assert history["entry"][-1]["request"]["method"] == "POST"
    assert history["entry"][0]["request"]["method"] == "PUT"


def test_capability_statement_lists_exactly_what_is_served(client: TestClient) -> None:
    capability = client.get("/fhir/metadata").json()
    assert capability["name"] == "BackOfficeFhirServer"
    assert capability["publisher"]
    served: dict[str, set[str]] = {}
    for route in [*fhir_router.routes, *subscription_router.routes]:
        if not isinstance(route, APIRoute) or not route.path.startswith("/fhir/"):
            continue
        parts = route.path.split("/")[2:]
        if parts[0] == "metadata":
            continue
        kind, rest = parts[0], parts[1:]
        methods = route.methods or set()
        codes = served.setdefault(kind, set())
        if not rest and "GET" in methods:
            codes.add("search-type")
        elif not rest and "POST" in methods:
            codes.add("create")
        elif rest == ["_search"]:
            codes.add("search-type")
        elif rest == ["{record_id}"] and "GET" in methods:
            codes.add("read")
        elif rest == ["{record_id}"] and "PUT" in methods:
            codes.add("update")
        elif rest and rest[0].startswith("{") and "DELETE" in methods:
            codes.add("delete")
        elif rest == ["{record_id}", "_history"]:
            codes.add("history-instance")
        elif rest == ["{record_id}", "_history", "{version_id}"]:
            codes.add("vread")
    listed = {
        r["type"]: {i["code"] for i in r["interaction"]} for r in capability["rest"][0]["resource"]
    }
    assert listed == served
    for resource in capability["rest"][0]["resource"]:
        assert resource["readHistory"] == ("vread" in listed[resource["type"]])
        assert resource["updateCreate"] is False
    # Polling works on every type (a Subscription is not data: it is listed whole).
    for resource in capability["rest"][0]["resource"]:
        if resource["type"] == "Subscription":
            continue
        names = {p["name"] for p in resource["searchParam"]}
        assert "_lastUpdated" in names, resource["type"]
