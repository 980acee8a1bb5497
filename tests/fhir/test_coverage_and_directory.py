"""FHIR Coverage, Practitioner and Organization onto coverages, providers, payers, facilities."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.directory.models import Facility, Payer, Provider
from service.patients.models import Coverage
from tests.factories import Tenant
from tests.fhir.examples import (
    BILLING_PROVIDER,
    FACILITY,
    PATIENT,
    PAYER,
    PRACTITIONER,
    coverage,
    created,
    example,
    expressions,
    outcome,
    send,
    valid,
)


def _patient_and_payer(client: TestClient, tenant: Tenant) -> tuple[str, str]:
    return created(client, tenant, PATIENT)["id"], created(client, tenant, PAYER)["id"]


def test_the_spec_example_coverage_round_trips_with_a_contained_subscriber(
    client: TestClient, tenant: Tenant
) -> None:
    patient_id, payer_id = _patient_and_payer(client, tenant)
    body = created(client, tenant, coverage(f"Patient/{patient_id}", f"Organization/{payer_id}"))

    read = valid(send(client, "GET", f"/fhir/Coverage/{body['id']}", tenant).json())

    assert read["beneficiary"] == {"reference": f"Patient/{patient_id}"}
    assert read["payor"] == [{"reference": f"Organization/{payer_id}"}]
    assert read["subscriberId"] == "AB9876"
    assert read["order"] == 2
    assert read["relationship"]["coding"][0]["code"] == "spouse"
    assert read["period"] == {"start": "2011-05-23", "end": "2030-05-23"}
    assert read["class"][0]["value"] == "CB135"
    assert read["subscriber"] == {"reference": "#subscriber"}
    person = read["contained"][0]
    assert person["resourceType"] == "RelatedPerson"
    assert person["name"][0]["given"] == ["Jane", "Q"]
    assert person["birthDate"] == "1976-03-01"
    rest = client.get(f"/api/v1/coverages/{body['id']}", headers=tenant.headers()).json()
    assert (rest["relationship"], rest["priority"], rest["group_number"]) == (
        "01",
        "secondary",
        "CB135",
    )
    assert rest["subscriber"]["family_name"] == "Chalmers"


def test_a_self_coverage_needs_no_subscriber_details(client: TestClient, tenant: Tenant) -> None:
    patient_id, payer_id = _patient_and_payer(client, tenant)
    body = coverage(f"Patient/{patient_id}", f"Organization/{payer_id}")
    del body["contained"], body["policyHolder"], body["order"]
    body["subscriber"] = {"reference": f"Patient/{patient_id}"}
    body["relationship"]["coding"][0]["code"] = "self"

    read = created(client, tenant, body)

    assert read["subscriber"] == {"reference": f"Patient/{patient_id}"}
    assert read["order"] == 1
    assert "contained" not in read


def test_coverage_search_includes_payor_and_beneficiary(client: TestClient, tenant: Tenant) -> None:
    patient_id, payer_id = _patient_and_payer(client, tenant)
    created(client, tenant, coverage(f"Patient/{patient_id}", f"Organization/{payer_id}"))

    response = send(
        client,
        "GET",
        f"/fhir/Coverage?patient=Patient/{patient_id}&_include=Coverage:payor"
        "&_include=Coverage:beneficiary",
        tenant,
    )

    bundle = valid(response.json())
    assert bundle["total"] == 1
    modes = {(e["resource"]["resourceType"], e["search"]["mode"]) for e in bundle["entry"]}
    assert modes == {("Coverage", "match"), ("Organization", "include"), ("Patient", "include")}
    by_payor = send(client, "GET", f"/fhir/Coverage?payor=Organization/{payer_id}", tenant).json()
    assert by_payor["total"] == 1


def test_coverage_references_must_be_the_organizations_own_payer_and_patient(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, db: Session
) -> None:
    patient_id, payer_id = _patient_and_payer(client, tenant)
    facility_id = created(client, tenant, FACILITY)["id"]
    foreign_patient = created(client, other_tenant, PATIENT)["id"]
    cases = [
        (coverage(f"Patient/{patient_id}", f"Organization/{facility_id}"), "Coverage.payor[0]"),
        (
            coverage(f"Patient/{foreign_patient}", f"Organization/{payer_id}"),
            "Coverage.beneficiary",
        ),
        (
            coverage(f"Practitioner/{patient_id}", f"Organization/{payer_id}"),
            "Coverage.beneficiary.reference",
        ),
        (
            coverage("urn:uuid:0d4b8d6e-0000-4000-8000-000000000000", f"Organization/{payer_id}"),
            "Coverage.beneficiary.reference",
        ),
        (
            example(coverage(f"Patient/{patient_id}", f"Organization/{payer_id}"), order=7),
            "Coverage.order",
        ),
        (
            example(coverage(f"Patient/{patient_id}", f"Organization/{payer_id}"), period={}),
            "Coverage.period.start",
        ),
    ]
    for body, expression in cases:
        response = send(client, "POST", "/fhir/Coverage", tenant, body)
        assert expression in expressions(outcome(response, 422)), response.text
    assert db.exec(select(Coverage)).all() == []


def test_practitioner_round_trips_and_is_found_by_npi(client: TestClient, tenant: Tenant) -> None:
    body = created(client, tenant, PRACTITIONER)
    npi = PRACTITIONER["identifier"][0]["value"]

    bundle = valid(
        send(
            client,
            "GET",
            f"/fhir/Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|{npi}",
            tenant,
        ).json()
    )

    assert bundle["total"] == 1
    found = bundle["entry"][0]["resource"]
    assert found["id"] == body["id"]
    assert found["name"][0]["family"] == "Careful"
    assert found["qualification"][0]["code"]["coding"][0]["code"] == "207Q00000X"
    bad = example(
        PRACTITIONER,
        identifier=[{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567890"}],
    )
    assert expressions(outcome(send(client, "POST", "/fhir/Practitioner", tenant, bad), 422)) == [
        "Practitioner.identifier[0].value"
    ]


def test_organizations_map_to_payers_billing_providers_and_facilities(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    payer = created(client, tenant, PAYER)
    provider = created(client, tenant, BILLING_PROVIDER)
    facility = created(client, tenant, FACILITY)

    assert db.get(Payer, payer["id"]) is not None
    assert db.get(Payer, payer["id"]).edi_payer_id == "60054"  # type: ignore[union-attr]
    assert db.get(Provider, provider["id"]).kind == "organization"  # type: ignore[union-attr]
    assert db.get(Facility, facility["id"]).place_of_service == "81"  # type: ignore[union-attr]
    assert provider["identifier"][1] == {
        "use": "official",
        "system": "urn:oid:2.16.840.1.113883.4.4",
        "value": "123456789",
    }
    for query, expected in [
        ("type=pay", {payer["id"]}),
        ("identifier=urn:backoffice:payer-id|60054", {payer["id"]}),
        ("name=aetna", {payer["id"]}),
        ("name=clinical", {facility["id"]}),
        (f"identifier={BILLING_PROVIDER['identifier'][0]['value']}", {provider["id"]}),
        ("identifier=urn:oid:2.16.840.1.113883.4.7|14D0123456", {facility["id"]}),
    ]:
        bundle = valid(send(client, "GET", f"/fhir/Organization?{query}", tenant).json())
        assert {e["resource"]["id"] for e in bundle["entry"]} == expected, query
    everything = valid(send(client, "GET", "/fhir/Organization?_count=2", tenant).json())
    assert everything["total"] == 4  # and the caller's own organization


def test_the_callers_own_organization_reads_but_is_read_only(
    client: TestClient, tenant: Tenant
) -> None:
    url = f"/fhir/Organization/{tenant.organization_id}"
    own = valid(send(client, "GET", url, tenant).json())
    assert own["name"] == "Clinic A"
    response = send(client, "PUT", url, tenant, own)
    assert outcome(response, 403)["issue"][0]["code"] == "forbidden"


def test_an_organization_cannot_change_what_it_is(client: TestClient, tenant: Tenant) -> None:
    payer = created(client, tenant, PAYER)
    payer["type"] = []
    response = send(client, "PUT", f"/fhir/Organization/{payer['id']}", tenant, payer)
    assert expressions(outcome(response, 422)) == ["Organization.type"]
    payer["type"] = PAYER["type"]
    payer["name"] = "Aetna"
    updated = send(client, "PUT", f"/fhir/Organization/{payer['id']}", tenant, payer)
    assert updated.status_code == 200, updated.text
    assert updated.json()["meta"]["versionId"] == "2"


OWN_ID = "urn:backoffice:fhir:coverage-own-member-id"


def test_a_dependants_own_member_id_travels_as_an_extension(
    client: TestClient, tenant: Tenant
) -> None:
    patient_id, payer_id = _patient_and_payer(client, tenant)
    body = coverage(f"Patient/{patient_id}", f"Organization/{payer_id}")
    body["extension"] = [{"url": OWN_ID, "valueBoolean": True}]
    made = created(client, tenant, body)
    assert made["extension"] == [{"url": OWN_ID, "valueBoolean": True}]
    rest = client.get(f"/api/v1/coverages/{made['id']}", headers=tenant.headers()).json()
    assert rest["own_member_id"] is True

    # An update without the extension: the card shares the subscriber's id again.
    del made["extension"]
    updated = send(client, "PUT", f"/fhir/Coverage/{made['id']}", tenant, made)
    assert updated.status_code == 200, updated.text
    assert "extension" not in valid(updated.json())
    rest = client.get(f"/api/v1/coverages/{made['id']}", headers=tenant.headers()).json()
    assert rest["own_member_id"] is False

    bad = coverage(f"Patient/{patient_id}", f"Organization/{payer_id}")
    bad["extension"] = [{"url": OWN_ID, "valueString": "yes"}]
    refused = outcome(send(client, "POST", "/fhir/Coverage", tenant, bad), 422)
    assert expressions(refused) == ["Coverage.extension[0].valueBoolean"]

    own = coverage(f"Patient/{patient_id}", f"Organization/{payer_id}")
    del own["contained"], own["policyHolder"]
    own["subscriber"] = {"reference": f"Patient/{patient_id}"}
    own["relationship"]["coding"][0]["code"] = "self"
    own["extension"] = [{"url": OWN_ID, "valueBoolean": True}]
    outcome(send(client, "POST", "/fhir/Coverage", tenant, own), 422)  # the patient's own plan
