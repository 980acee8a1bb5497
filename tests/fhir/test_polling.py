"""An EHR polls for what changed and searches like US Core asks: `_lastUpdated` and `_sort`
on every type; Observation and DiagnosticReport by category, code and date; ServiceRequest by
code; Encounter by type and date; Condition by category and clinical status."""

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.fhir.mapping import REGISTRY
from tests.factories import LabSetup, Tenant, make_lab_setup, make_ready_specimen
from tests.fhir.clinical_examples import condition, encounter, push_chart
from tests.fhir.examples import PATIENT, created, example, outcome, send
from tests.fhir.test_diagnostic_reports import enter_and_verify

LOINC = "http://loinc.org"
CPT = "http://www.ama-assn.org/go/cpt"


@pytest.fixture
def engine(codesets_engine: Engine) -> Engine:
    return codesets_engine


@pytest.fixture
def lab(db: Session, tenant: Tenant) -> tuple[LabSetup, list[str]]:
    """Two verified HbA1c results: collected on October 1st and October 20th."""
    setup = make_lab_setup(db, tenant)
    specimens = []
    for day in (1, 20):
        at = datetime(2026, 10, day, 14, 30, tzinfo=UTC)
        sample = make_ready_specimen(db, tenant, setup, collected_at=at)
        enter_and_verify(db, tenant, sample.id, setup.tests["A1C"])
        specimens.append(sample.id)
    return setup, specimens


def _ids(client: TestClient, tenant: Tenant, url: str) -> list[str]:
    response = send(client, "GET", url, tenant)
    assert response.status_code == 200, response.text
    return [e["resource"]["id"] for e in response.json().get("entry", [])]


@pytest.mark.parametrize(
    ("query", "which"),
    [
        ("category=laboratory", [0, 1]),
        ("category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
         [0, 1]),
        ("category=vital-signs", []),
        (f"code={LOINC}|4548-4", [0, 1]),
        ("code=2345-7", []),
        ("date=2026-10", [0, 1]),
        ("date=2026-10-20", [1]),
        ("date=ge2026-10-15", [1]),
        ("date=lt2026-10-01T14:31:00Z", [0]),
        ("date=gt2026-10-01T14:30:00Z", [1]),
        ("date=2026-09", []),
    ],
)  # fmt: skip
def test_observation_by_category_code_and_date(
    client: TestClient, tenant: Tenant, lab: tuple[LabSetup, list[str]], query: str,
    which: list[int],
) -> None:  # fmt: skip
    _, specimens = lab
    found = send(client, "GET", f"/fhir/Observation?{query}", tenant).json()
    assert sorted(e["resource"]["specimen"]["reference"] for e in found.get("entry", [])) == [
        f"Specimen/{specimens[i]}" for i in which
    ]


@pytest.mark.parametrize(
    ("query", "which"),
    [
        ("category=LAB", [0, 1]),
        ("category=http://terminology.hl7.org/CodeSystem/v2-0074|LAB", [0, 1]),
        ("category=RAD", []),
        (f"code={LOINC}|4548-4", [0, 1]),
        ("code=urn:backoffice:lab-test|A1C", [0, 1]),
        ("code=2345-7", []),
        ("date=2026-10-20", [1]),
        ("date=le2026-10-01", [0]),
    ],
)
def test_diagnostic_report_by_category_code_and_date(
    client: TestClient, tenant: Tenant, lab: tuple[LabSetup, list[str]], query: str,
    which: list[int],
) -> None:  # fmt: skip
    _, specimens = lab
    assert sorted(_ids(client, tenant, f"/fhir/DiagnosticReport?{query}")) == sorted(
        specimens[i] for i in which
    )


def test_sorting_by_date_newest_first(
    client: TestClient, tenant: Tenant, lab: tuple[LabSetup, list[str]]
) -> None:
    _, specimens = lab
    assert _ids(client, tenant, "/fhir/DiagnosticReport?_sort=-date") == specimens[::-1]
    assert _ids(client, tenant, "/fhir/DiagnosticReport?_sort=date") == specimens
    paged = send(client, "GET", "/fhir/Observation?_sort=-date&_count=1", tenant).json()
    assert paged["entry"][0]["resource"]["specimen"]["reference"] == f"Specimen/{specimens[1]}"
    following = next(link["url"] for link in paged["link"] if link["relation"] == "next")
    second = send(client, "GET", following.replace("http://testserver", ""), tenant).json()
    assert second["entry"][0]["resource"]["specimen"]["reference"] == f"Specimen/{specimens[0]}"
    assert [link["relation"] for link in second["link"]] == ["self"]
    outcome(send(client, "GET", "/fhir/Observation?_sort=colour", tenant), 400)


def test_service_request_by_code(
    client: TestClient, tenant: Tenant, lab: tuple[LabSetup, list[str]]
) -> None:
    assert len(_ids(client, tenant, f"/fhir/ServiceRequest?code={LOINC}|4548-4")) == 2
    assert len(_ids(client, tenant, "/fhir/ServiceRequest?code=urn:backoffice:lab-test|A1C")) == 2
    assert _ids(client, tenant, f"/fhir/ServiceRequest?code={LOINC}|2345-7") == []


def test_encounter_type_is_kept_and_searchable_and_conditions_by_category(
    client: TestClient, tenant: Tenant
) -> None:
    chart = push_chart(client, tenant)
    visit = created(client, tenant, encounter(chart))
    assert visit["type"] == encounter(chart)["type"]
    assert _ids(client, tenant, f"/fhir/Encounter?type={CPT}|99213") == [visit["id"]]
    assert _ids(client, tenant, "/fhir/Encounter?type=99214") == []
    assert _ids(client, tenant, "/fhir/Encounter?date=2026-10&type=99213") == [visit["id"]]
    created(client, tenant, condition(f"Patient/{chart.patient}", f"Encounter/{visit['id']}"))
    for query, count in [
        ("category=encounter-diagnosis", 1),
        ("category=problem-list-item", 0),
        ("clinical-status=active", 1),
        ("clinical-status=http://terminology.hl7.org/CodeSystem/condition-clinical|resolved", 0),
        ("_lastUpdated=ge2000&_sort=-_lastUpdated", 1),
    ]:
        assert len(_ids(client, tenant, f"/fhir/Condition?{query}")) == count, query


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_type_polls_by_last_updated_and_sorts(
    client: TestClient, tenant: Tenant, lab: tuple[LabSetup, list[str]], kind: str
) -> None:
    everything = send(client, "GET", f"/fhir/{kind}?_count=200", tenant).json()
    recent = send(client, "GET", f"/fhir/{kind}?_lastUpdated=ge2020&_count=200", tenant)
    assert recent.status_code == 200, recent.text
    own_org = 1 if kind == "Organization" else 0  # the caller's own organization is not polled
    assert recent.json()["total"] == everything["total"] - own_org
    assert send(client, "GET", f"/fhir/{kind}?_lastUpdated=lt2020", tenant).json()["total"] == 0
    for order in ("_lastUpdated", "-_lastUpdated", "_id", "-_id"):
        sorted_ = send(client, "GET", f"/fhir/{kind}?_sort={order}&_count=200", tenant)
        assert sorted_.status_code == 200, sorted_.text
        ids = [e["resource"]["id"] for e in sorted_.json().get("entry", [])]
        assert sorted(ids) == sorted(e["resource"]["id"] for e in everything.get("entry", []))
        if order.endswith("_id"):
            assert ids == sorted(ids, reverse=order.startswith("-"))


def test_polling_finds_what_changed_since(client: TestClient, tenant: Tenant) -> None:
    first = created(client, tenant, example(PATIENT, identifier=[_mrn("A-1")]))
    second = created(client, tenant, example(PATIENT, identifier=[_mrn("A-2")]))
    newest = _ids(client, tenant, "/fhir/Patient?_sort=-_lastUpdated")
    assert newest == [second["id"], first["id"]]
    since = second["meta"]["lastUpdated"]
    changed = {**first, "birthDate": "1970-01-01"}
    assert send(client, "PUT", f"/fhir/Patient/{first['id']}", tenant, changed).status_code == 200
    assert _ids(client, tenant, f"/fhir/Patient?_lastUpdated=gt{since}") == [first["id"]]
    assert _ids(client, tenant, "/fhir/Patient?_sort=-_lastUpdated") == [first["id"], second["id"]]


def _mrn(value: str) -> dict[str, Any]:
    mr = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}
    return {"type": mr, "system": "urn:oid:1.2.36.146.595.217.0.1", "value": value}
