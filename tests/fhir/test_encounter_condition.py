"""FHIR Encounter and Condition onto encounters and their ICD-10-CM diagnoses (code sets loaded,
as the coding tests load them)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.auth.roles import Role
from service.coding.models import Encounter, ServiceLine
from tests.factories import Tenant
from tests.fhir.clinical_examples import (
    ICD10CM,
    Chart,
    condition,
    encounter,
    push_chart,
)
from tests.fhir.examples import PATIENT, created, example, expressions, outcome, send, valid


@pytest.fixture
def engine(codesets_engine: Engine) -> Engine:
    """ICD-10-CM must be loaded (tests/conftest.py builds that database once per worker)."""
    return codesets_engine


@pytest.fixture
def chart(client: TestClient, tenant: Tenant) -> Chart:
    return push_chart(client, tenant)


def _ext(resource: dict[str, Any], suffix: str) -> list[Any]:
    return [
        next(v for k, v in e.items() if k.startswith("value"))
        for e in resource.get("extension", [])
        if e["url"] == f"urn:backoffice:fhir:{suffix}"
    ]


def test_the_example_encounter_round_trips_onto_the_encounter_the_coders_see(
    client: TestClient, tenant: Tenant, chart: Chart
) -> None:
    body = created(client, tenant, encounter(chart))

    read = valid(send(client, "GET", f"/fhir/Encounter/{body['id']}", tenant).json())

    assert read["class"]["code"] == "AMB"
    assert read["subject"] == {"reference": f"Patient/{chart.patient}"}
    assert read["period"] == {"start": "2026-10-15"}
    assert read["serviceProvider"] == {"reference": f"Organization/{chart.billing}"}
    assert read["participant"][0]["individual"] == {
        "reference": f"Practitioner/{chart.practitioner}"
    }
    assert read["participant"][0]["type"][0]["coding"][0]["code"] == "PPRF"
    assert read["status"] == "planned"
    assert _ext(read, "coding-status") == ["open"]
    assert _ext(read, "encounter-kind") == ["medical"]
    assert _ext(read, "place-of-service") == ["11"]
    # No coverage extension: the patient's coverage in force on the date of service is used.
    assert _ext(read, "coverage") == [{"reference": f"Coverage/{chart.coverage}"}]
    rest = client.get(f"/api/v1/encounters/{body['id']}", headers=tenant.headers()).json()
    assert rest["date_of_service"] == "2026-10-15"
    assert rest["billing_provider_id"] == chart.billing
    assert rest["rendering_provider_id"] == chart.practitioner
    assert rest["coverage_ids"] == [chart.coverage]


def test_a_date_time_start_is_the_date_of_service_in_the_organizations_zone(
    client: TestClient, tenant: Tenant, chart: Chart
) -> None:
    # 23:30 in Los Angeles is already the next day in New York, the organization's zone.
    late = encounter(chart, period={"start": "2026-10-15T23:30:00-07:00"})
    assert created(client, tenant, late)["period"]["start"] == "2026-10-16"
    on_date = encounter(chart, period={"start": "2026-10-15"})
    assert created(client, tenant, on_date)["period"]["start"] == "2026-10-15"


def test_extensions_carry_kind_place_of_service_and_coverages(
    client: TestClient, tenant: Tenant, chart: Chart
) -> None:
    body = encounter(chart)
    body["extension"] = [
        {"url": "urn:backoffice:fhir:encounter-kind", "valueCode": "dental"},
        {"url": "urn:backoffice:fhir:place-of-service", "valueCode": "22"},
        {
            "url": "urn:backoffice:fhir:coverage",
            "valueReference": {"reference": f"Coverage/{chart.coverage}"},
        },
    ]
    del body["serviceProvider"]  # the rendering practitioner bills under their own NPI

    read = created(client, tenant, body)

    assert _ext(read, "encounter-kind") == ["dental"]
    assert _ext(read, "place-of-service") == ["22"]
    assert "serviceProvider" not in read
    rest = client.get(f"/api/v1/encounters/{read['id']}", headers=tenant.headers()).json()
    assert rest["billing_provider_id"] == chart.practitioner


def test_encounters_are_found_by_patient_date_and_status(
    client: TestClient, tenant: Tenant, chart: Chart
) -> None:
    first = created(client, tenant, encounter(chart))["id"]
    created(client, tenant, encounter(chart, period={"start": "2026-11-02"}))

    for query, expected in [
        (f"patient=Patient/{chart.patient}", 2),
        (f"subject={chart.patient}&date=2026-10-15", 1),
        ("date=ge2026-11-01", 1),
        ("date=lt2026-10-15", 0),
        ("status=planned", 2),
        ("status=finished", 0),
        (f"_id={first}&_include=Encounter:patient", 1),
    ]:
        bundle = valid(send(client, "GET", f"/fhir/Encounter?{query}", tenant).json())
        assert bundle["total"] == expected, query
    included = send(
        client, "GET", f"/fhir/Encounter?_id={first}&_include=Encounter:patient", tenant
    )
    kinds = [e["resource"]["resourceType"] for e in included.json()["entry"]]
    assert kinds == ["Encounter", "Patient"]


def test_update_moves_the_date_and_a_stale_version_is_412(
    client: TestClient, tenant: Tenant, chart: Chart
) -> None:
    body = created(client, tenant, encounter(chart))
    url = f"/fhir/Encounter/{body['id']}"
    body["period"] = {"start": "2026-10-16"}

    updated = send(client, "PUT", url, tenant, body, **{"If-Match": 'W/"1"'})

    assert updated.status_code == 200, updated.text
    assert valid(updated.json())["period"]["start"] == "2026-10-16"
    assert updated.headers["etag"] != 'W/"1"'
    outcome(send(client, "PUT", url, tenant, body, **{"If-Match": 'W/"1"'}), 412)


def test_invalid_encounters_are_outcomes_naming_the_element_and_nothing_is_stored(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, chart: Chart, db: Session
) -> None:
    foreign = created(client, other_tenant, PATIENT)["id"]
    cases = [
        (encounter(chart, **{"class": {"system": "x", "code": "IMP"}}), 422, "Encounter.class"),
        (encounter(chart, period={}), 422, "Encounter.period.start"),
        (encounter(chart, period={"start": "2026-10"}), 422, "Encounter.period.start"),
        (encounter(chart, subject={"reference": f"Patient/{foreign}"}), 422, "Encounter.subject"),
        (encounter(chart, status="cancelled"), 422, "Encounter.status"),
        (
            encounter(chart, serviceProvider={"reference": f"Organization/{chart.payer}"}),
            422,
            "Encounter.serviceProvider",
        ),
        (encounter(chart, period={"start": "15/10/2026"}), 400, "Encounter.period.start"),
        (encounter(chart, mood="happy"), 400, "Encounter.mood"),
    ]
    for body, status, expression in cases:
        response = send(client, "POST", "/fhir/Encounter", tenant, body)
        assert expression in expressions(outcome(response, status)), (expression, response.text)
    assert db.exec(select(Encounter)).all() == []


def _coded_encounter(client: TestClient, tenant: Tenant, chart: Chart) -> str:
    encounter_id = str(created(client, tenant, encounter(chart))["id"])
    coding = client.put(
        f"/api/v1/encounters/{encounter_id}/coding",
        json={
            "diagnoses": ["J06.9"],
            "service_lines": [
                {"code_system": "CPT", "code": "99213", "charge": "125.00", "pointers": [1]}
            ],
        },
        headers=tenant.headers(Role.CODER),
    )
    assert coding.status_code == 200, coding.text
    return encounter_id


def test_a_condition_is_appended_to_its_encounters_diagnoses_and_the_lines_stay(
    client: TestClient, tenant: Tenant, chart: Chart, db: Session
) -> None:
    encounter_id = _coded_encounter(client, tenant, chart)
    line = db.exec(select(ServiceLine)).one()
    line.source, line.source_id = "lab_result", "st-1"  # as charge capture leaves a line
    db.add(line)
    db.commit()

    response = send(
        client, "POST", "/fhir/Condition", tenant,
        condition(f"Patient/{chart.patient}", f"Encounter/{encounter_id}", "E11.621"),
    )  # fmt: skip

    assert response.status_code == 201, response.text
    body = valid(response.json())
    assert body["id"] == f"{encounter_id}-E11621"
    assert body["code"]["coding"] == [{"system": ICD10CM, "code": "E11.621"}]
    assert body["encounter"] == {"reference": f"Encounter/{encounter_id}"}
    rest = client.get(f"/api/v1/encounters/{encounter_id}", headers=tenant.headers()).json()
    assert rest["diagnoses"] == ["J06.9", "E11.621"]
    assert [(ln["code"], ln["charge"], ln["source"]) for ln in rest["service_lines"]] == [
        ("99213", "125.00", "lab_result")
    ]
    db.expire_all()
    assert db.exec(select(ServiceLine)).one().source_id == "st-1"
    read = valid(send(client, "GET", f"/fhir/Encounter/{encounter_id}", tenant).json())
    assert [(d["condition"]["reference"], d["rank"]) for d in read["diagnosis"]] == [
        (f"Condition/{encounter_id}-J069", 1),
        (f"Condition/{encounter_id}-E11621", 2),
    ]
    again = valid(send(client, "GET", f"/fhir/Condition/{encounter_id}-J069", tenant).json())
    assert again["code"]["coding"][0]["code"] == "J06.9"


def test_an_unknown_icd_10_cm_code_is_422_on_condition_code_and_nothing_changes(
    client: TestClient, tenant: Tenant, chart: Chart, db: Session
) -> None:
    encounter_id = _coded_encounter(client, tenant, chart)
    cases = [
        ("Q99.999", 422),  # not a code
        ("E11", 422),  # a header, not billable
    ]
    for code, status in cases:
        body = condition(f"Patient/{chart.patient}", f"Encounter/{encounter_id}", code)
        issue = outcome(send(client, "POST", "/fhir/Condition", tenant, body), status)
        assert expressions(issue) == ["Condition.code"], issue
        assert issue["issue"][0]["code"] == "invalid"
    no_icd = condition(f"Patient/{chart.patient}", f"Encounter/{encounter_id}", "44054006", "x")
    assert expressions(outcome(send(client, "POST", "/fhir/Condition", tenant, no_icd), 422)) == [
        "Condition.code"
    ]
    db.expire_all()
    assert db.exec(select(Encounter)).one().diagnoses == ["J069"]


def test_conditions_must_name_an_own_encounter_of_the_same_patient(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, chart: Chart
) -> None:
    encounter_id = _coded_encounter(client, tenant, chart)
    other_patient = created(
        client,
        tenant,
        example(PATIENT, identifier=[{"system": "urn:backoffice:mrn", "value": "2"}]),
    )["id"]
    foreign = push_chart(client, other_tenant)
    foreign_encounter = created(client, other_tenant, encounter(foreign))["id"]
    cases = [
        (condition(f"Patient/{other_patient}", f"Encounter/{encounter_id}"), "Condition.subject"),
        (
            condition(f"Patient/{chart.patient}", f"Encounter/{foreign_encounter}"),
            "Condition.encounter",
        ),
        (
            condition(f"Patient/{chart.patient}", f"Patient/{chart.patient}"),
            "Condition.encounter.reference",
        ),
    ]
    for body, expression in cases:
        response = send(client, "POST", "/fhir/Condition", tenant, body)
        assert expression in expressions(outcome(response, 422)), response.text


def test_conditions_are_found_by_encounter_patient_and_code_and_retries_are_safe(
    client: TestClient, tenant: Tenant, chart: Chart
) -> None:
    encounter_id = _coded_encounter(client, tenant, chart)
    body = condition(f"Patient/{chart.patient}", f"Encounter/{encounter_id}", "E11.9")
    criteria = {"If-None-Exist": f"encounter=Encounter/{encounter_id}&code={ICD10CM}|E11.9"}

    first = send(client, "POST", "/fhir/Condition", tenant, body, **criteria)
    retry = send(client, "POST", "/fhir/Condition", tenant, body, **criteria)
    duplicate = send(client, "POST", "/fhir/Condition", tenant, body)

    assert (first.status_code, retry.status_code) == (201, 200)
    assert outcome(duplicate, 409)["issue"][0]["code"] == "conflict"
    for query, expected in [
        (f"encounter=Encounter/{encounter_id}", 2),
        (f"patient={chart.patient}", 2),
        ("code=E119", 1),
        (f"code={ICD10CM}|J06.9", 1),
        (f"_id={encounter_id}-E119", 1),
        ("code=Z00.00", 0),
    ]:
        bundle = valid(send(client, "GET", f"/fhir/Condition?{query}", tenant).json())
        assert bundle["total"] == expected, query
    page = send(client, "GET", f"/fhir/Condition?patient={chart.patient}&_count=1", tenant).json()
    assert page["entry"][0]["resource"]["code"]["coding"][0]["code"] == "J06.9"
    next_url = next(link["url"] for link in page["link"] if link["relation"] == "next")
    second = valid(send(client, "GET", next_url, tenant).json())
    assert second["entry"][0]["resource"]["code"]["coding"][0]["code"] == "E11.9"
    assert [link["relation"] for link in second["link"]] == ["self"]
    with_encounter = send(
        client, "GET", "/fhir/Condition?code=E11.9&_include=Condition:encounter", tenant
    ).json()
    assert [e["resource"]["resourceType"] for e in with_encounter["entry"]] == [
        "Condition",
        "Encounter",
    ]


def test_a_billed_encounter_takes_no_more_conditions(
    client: TestClient, tenant: Tenant, chart: Chart, db: Session
) -> None:
    encounter_id = _coded_encounter(client, tenant, chart)
    row = db.get(Encounter, encounter_id)
    assert row is not None
    row.status = "billed"
    db.add(row)
    db.commit()
    body = condition(f"Patient/{chart.patient}", f"Encounter/{encounter_id}", "E11.9")
    assert outcome(send(client, "POST", "/fhir/Condition", tenant, body), 409)
    read = valid(send(client, "GET", f"/fhir/Encounter/{encounter_id}", tenant).json())
    assert read["status"] == "finished"
    assert _ext(read, "coding-status") == ["billed"]


def test_encounters_and_conditions_are_isolated_and_role_checked(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, chart: Chart
) -> None:
    encounter_id = _coded_encounter(client, tenant, chart)
    for url in (f"/fhir/Encounter/{encounter_id}", f"/fhir/Condition/{encounter_id}-J069"):
        outcome(send(client, "GET", url, other_tenant), 404)
        assert send(client, "GET", url, tenant, role=Role.BILLER).status_code == 200
        outcome(send(client, "GET", url, tenant, role=Role.LAB), 403)
    assert send(client, "GET", "/fhir/Condition", other_tenant).json()["total"] == 0
    assert send(client, "GET", "/fhir/Encounter", other_tenant).json()["total"] == 0
    body = condition(f"Patient/{chart.patient}", f"Encounter/{encounter_id}", "E11.9")
    outcome(send(client, "POST", "/fhir/Condition", tenant, body, role=Role.FRONT_DESK), 403)
    outcome(send(client, "PUT", f"/fhir/Condition/{encounter_id}-J069", tenant, body), 405)


def test_encounter_and_condition_access_is_audited(
    client: TestClient, tenant: Tenant, chart: Chart, db: Session
) -> None:
    encounter_id = _coded_encounter(client, tenant, chart)
    send(client, "GET", f"/fhir/Encounter/{encounter_id}", tenant)
    send(client, "GET", f"/fhir/Condition?encounter={encounter_id}", tenant)
    send(
        client, "POST", "/fhir/Condition", tenant,
        condition(f"Patient/{chart.patient}", f"Encounter/{encounter_id}", "E11.9"),
    )  # fmt: skip

    events = db.exec(
        select(AuditEvent)
        .where(
            AuditEvent.patient_id == chart.patient,
            AuditEvent.resource_type.in_(["encounter", "condition"]),  # type: ignore[attr-defined]
        )
        .order_by(col(AuditEvent.id))  # creation order
    ).all()
    assert [(e.resource_type, e.action) for e in events] == [
        ("encounter", "create"),
        ("encounter", "code"),
        ("encounter", "read"),
        ("condition", "query"),
        ("encounter", "code"),
    ]
