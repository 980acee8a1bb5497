"""FHIR Patient: the spec's example round-trips onto the same row the REST API shows."""

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.patients.models import Patient
from tests.factories import Tenant
from tests.fhir.examples import (
    EHR_MRN_SYSTEM,
    PATIENT,
    created,
    example,
    expressions,
    outcome,
    send,
    valid,
)


def test_the_spec_example_patient_round_trips_with_its_meaningful_content(
    client: TestClient, tenant: Tenant
) -> None:
    body = created(client, tenant, PATIENT)

    read = send(client, "GET", f"/fhir/Patient/{body['id']}", tenant)

    assert read.status_code == 200
    assert read.headers["etag"] == 'W/"1"'
    patient = valid(read.json())
    assert patient["meta"]["versionId"] == "1"
    assert patient["meta"]["lastUpdated"].endswith("Z")
    assert patient["identifier"][0]["value"] == "12345"
    assert patient["identifier"][0]["type"]["coding"][0]["code"] == "MR"
    assert patient["name"][0] == {
        "use": "official",
        "family": "Chalmers",
        "given": ["Peter", "James"],
    }
    assert patient["gender"] == "male"
    assert patient["birthDate"] == "1974-12-25"
    assert patient["telecom"][0]["value"] == "(03) 3410 5613"  # mobile beats work
    assert patient["address"][0]["line"] == ["534 Erewhon St", "Apt 4"]
    assert patient["address"][0]["postalCode"] == "62701"


def test_a_fhir_patient_is_the_row_the_rest_api_shows(client: TestClient, tenant: Tenant) -> None:
    body = created(client, tenant, PATIENT)

    rest = client.get(f"/api/v1/patients/{body['id']}", headers=tenant.headers())

    assert rest.status_code == 200
    assert rest.json()["mrn"] == "12345"
    assert rest.json()["middle_name"] == "James"
    assert rest.json()["sex"] == "M"


def test_create_answers_location_etag_and_the_resource(client: TestClient, tenant: Tenant) -> None:
    response = send(client, "POST", "/fhir/Patient", tenant, PATIENT)

    assert response.status_code == 201
    assert response.headers["content-type"].startswith("application/fhir+json")
    patient_id = response.json()["id"]
    assert response.headers["location"].endswith(f"/fhir/Patient/{patient_id}/_history/1")
    assert response.headers["etag"] == 'W/"1"'


def test_plain_application_json_is_accepted_too(client: TestClient, tenant: Tenant) -> None:
    response = send(
        client, "POST", "/fhir/Patient", tenant, PATIENT, **{"Content-Type": "application/json"}
    )
    assert response.status_code == 201


def test_search_by_identifier_name_family_and_birthdate(client: TestClient, tenant: Tenant) -> None:
    patient_id = created(client, tenant, PATIENT)["id"]
    other = example(PATIENT, identifier=[{"system": "urn:backoffice:mrn", "value": "999"}])
    other["name"] = [{"family": "Rivera", "given": ["Ana"]}]
    created(client, tenant, other)

    for query in [
        f"identifier={EHR_MRN_SYSTEM}|12345",
        "identifier=urn:backoffice:mrn|12345",
        "identifier=12345",
        "name=peter",
        "family=CHALM",
        "family:exact=Chalmers",
        "birthdate=1974-12-25&family=Chalmers",
        "birthdate=le1974-12-25&name=Pet",
        "gender=male&name=chalmers",
    ]:
        response = send(client, "GET", f"/fhir/Patient?{query}", tenant)
        bundle = valid(response.json())
        assert response.status_code == 200, query
        assert bundle["type"] == "searchset"
        assert bundle["total"] == 1, query
        assert bundle["entry"][0]["resource"]["id"] == patient_id
        assert bundle["entry"][0]["search"]["mode"] == "match"

    ssn = send(
        client, "GET", "/fhir/Patient?identifier=http://hl7.org/fhir/sid/us-ssn|12345", tenant
    )
    assert ssn.json()["total"] == 0


def test_search_pages_with_count_and_a_next_link(client: TestClient, tenant: Tenant) -> None:
    for n in range(5):
        created(
            client,
            tenant,
            example(PATIENT, identifier=[{"system": "urn:backoffice:mrn", "value": f"M{n}"}]),
        )

    first = send(client, "GET", "/fhir/Patient?family=Chalmers&_count=2", tenant).json()
    assert first["total"] == 5
    assert len(first["entry"]) == 2
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "_count=2" in links["self"]
    seen = [e["resource"]["id"] for e in first["entry"]]
    url = links["next"]
    while url:
        page = valid(send(client, "GET", url, tenant).json())
        seen += [e["resource"]["id"] for e in page["entry"]]
        url = {link["relation"]: link["url"] for link in page["link"]}.get("next")
    assert len(seen) == len(set(seen)) == 5


def test_summary_count_answers_the_total_only(client: TestClient, tenant: Tenant) -> None:
    created(client, tenant, PATIENT)
    bundle = valid(send(client, "GET", "/fhir/Patient?_summary=count", tenant).json())
    assert bundle["total"] == 1
    assert "entry" not in bundle


def test_update_with_if_match_bumps_the_version_and_a_stale_one_gets_412(
    client: TestClient, tenant: Tenant
) -> None:
    patient = created(client, tenant, PATIENT)
    patient["name"][0]["family"] = "Chalmers-Smith"
    url = f"/fhir/Patient/{patient['id']}"

    updated = send(client, "PUT", url, tenant, patient, **{"If-Match": 'W/"1"'})

    assert updated.status_code == 200, updated.text
    assert updated.headers["etag"] == 'W/"2"'
    assert valid(updated.json())["meta"]["versionId"] == "2"
    assert updated.json()["name"][0]["family"] == "Chalmers-Smith"
    stale = send(client, "PUT", url, tenant, patient, **{"If-Match": 'W/"1"'})
    assert outcome(stale, 412)["issue"][0]["code"] == "conflict"


def test_update_needs_the_id_of_the_url_in_the_body(client: TestClient, tenant: Tenant) -> None:
    patient = created(client, tenant, PATIENT)
    body = example(patient, id="other")
    response = send(client, "PUT", f"/fhir/Patient/{patient['id']}", tenant, body)
    assert expressions(outcome(response, 400)) == ["Patient.id"]


def test_if_none_exist_returns_the_patient_instead_of_a_duplicate(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    condition = {"If-None-Exist": f"identifier={EHR_MRN_SYSTEM}|12345"}
    first = send(client, "POST", "/fhir/Patient", tenant, PATIENT, **condition)
    again = send(client, "POST", "/fhir/Patient", tenant, PATIENT, **condition)

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert len(db.exec(select(Patient).where(Patient.mrn == "12345")).all()) == 1


def test_if_none_exist_matching_two_patients_is_412(client: TestClient, tenant: Tenant) -> None:
    created(client, tenant, PATIENT)
    created(
        client,
        tenant,
        example(PATIENT, identifier=[{"system": "urn:backoffice:mrn", "value": "2"}]),
    )
    response = send(
        client, "POST", "/fhir/Patient", tenant, PATIENT, **{"If-None-Exist": "family=Chalmers"}
    )
    assert outcome(response, 412)["issue"][0]["code"] == "multiple-matches"


def test_invalid_patients_are_4xx_outcomes_naming_the_element_and_nothing_is_stored(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    cases = [
        (example(PATIENT, birthDate="25/12/1974"), 400, "Patient.birthDate"),
        (example(PATIENT, favouriteColour="blue"), 400, "Patient.favouriteColour"),
        (example(PATIENT, name=[{"family": "X", "given": "Peter"}]), 400, "Patient.name[0].given"),
        (example(PATIENT, gender="femme"), 422, "Patient.gender"),
        (example(PATIENT, birthDate="1974"), 422, "Patient.birthDate"),
        (example(PATIENT, birthDate="2999-01-01"), 422, "Patient.birthDate"),
        (example(PATIENT, identifier=[{"system": "x", "value": "1"}]), 422, "Patient.identifier"),
        (example(PATIENT, name=[{"given": ["Peter"]}]), 422, "Patient.name[0].family"),
        (example(PATIENT, resourceType="Practitioner"), 400, "Patient.resourceType"),
    ]
    for body, status, expression in cases:
        response = send(client, "POST", "/fhir/Patient", tenant, body)
        assert expression in expressions(outcome(response, status)), (expression, response.text)
    state = example(PATIENT)
    state["address"][0]["state"] = "Illinois"
    response = send(client, "POST", "/fhir/Patient", tenant, state)
    assert expressions(outcome(response, 422)) == ["Patient.address[0].state"]
    assert db.exec(select(Patient)).all() == []


def test_a_second_patient_with_the_same_mrn_is_a_conflict(
    client: TestClient, tenant: Tenant
) -> None:
    created(client, tenant, PATIENT)
    response = send(client, "POST", "/fhir/Patient", tenant, PATIENT)
    assert outcome(response, 409)["issue"][0]["code"] == "conflict"


def test_reads_and_searches_of_patients_are_audited(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    patient_id = created(client, tenant, PATIENT)["id"]
    send(client, "GET", f"/fhir/Patient/{patient_id}", tenant)
    send(client, "GET", "/fhir/Patient?name=peter", tenant)

    actions = [
        e.action
        for e in db.exec(
            select(AuditEvent)
            .where(AuditEvent.patient_id == patient_id)
            .order_by(col(AuditEvent.id))  # creation order
        ).all()
    ]
    assert actions == ["create", "read", "query"]
