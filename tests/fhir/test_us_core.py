"""US Core Patient elements the EHR sends come back: race, ethnicity and birth sex extensions,
every telecom (email too), `communication`, and the given names as the list they were. No US
Core profile is claimed (supportedProfile, meta.profile) until a test asserts all of its
required and must-support elements. A name without a given name is accepted (US Core allows a
person with one name; the 837's NM104 is then left out)."""

from fastapi.testclient import TestClient
from sqlmodel import Session

from service.fhir.mapping import REGISTRY
from service.patients.models import Patient
from tests.factories import Tenant
from tests.fhir.examples import PATIENT, US_CORE, created, example, send


def test_race_ethnicity_birth_sex_email_and_communication_are_kept(
    client: TestClient, tenant: Tenant
) -> None:
    made = created(client, tenant, PATIENT)
    read = send(client, "GET", f"/fhir/Patient/{made['id']}", tenant).json()
    assert read["extension"] == PATIENT["extension"]
    assert {e["url"] for e in read["extension"]} == {
        f"{US_CORE}/us-core-race", f"{US_CORE}/us-core-ethnicity", f"{US_CORE}/us-core-birthsex",
    }  # fmt: skip
    assert {"system": "email", "value": "jim@example.org"} in read["telecom"]
    phones = [t["value"] for t in read["telecom"] if t["system"] == "phone"]
    assert phones == ["(03) 3410 5613", "(03) 5555 6473"]  # the record's phone first
    assert read["communication"] == PATIENT["communication"]


def test_given_names_are_kept_as_given(client: TestClient, tenant: Tenant, db: Session) -> None:
    names = [{"use": "official", "family": "Example", "given": ["Usa", "Middle", "Third"]}]
    made = created(client, tenant, example(PATIENT, name=names))
    assert made["name"][0]["given"] == ["Usa", "Middle", "Third"]
    row = db.get(Patient, made["id"])
    assert row is not None
    assert (row.given_name, row.middle_name) == ("Usa", "Middle Third")  # for the 837's NM1
    # Changed through REST, the record wins over what was kept.
    response = client.patch(
        f"/api/v1/patients/{made['id']}",
        json={"middle_name": "Other"},
        headers=tenant.headers("front_desk"),
    )
    assert response.status_code == 200, response.text
    read = send(client, "GET", f"/fhir/Patient/{made['id']}", tenant).json()
    assert read["name"][0]["given"] == ["Usa", "Other"]


def test_a_name_without_a_given_name_is_accepted(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    names = [{"use": "official", "family": "Teller"}]
    made = created(client, tenant, example(PATIENT, name=names))
    assert made["name"] == [{"use": "official", "family": "Teller"}]
    row = db.get(Patient, made["id"])
    assert row is not None
    assert (row.family_name, row.given_name, row.middle_name) == ("Teller", None, None)
    read = send(client, "GET", f"/fhir/Patient/{made['id']}", tenant).json()
    assert read["name"] == [{"use": "official", "family": "Teller"}]
    found = send(client, "GET", "/fhir/Patient?family=Teller", tenant).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [made["id"]]


def test_an_update_replaces_what_was_kept(client: TestClient, tenant: Tenant) -> None:
    made = created(client, tenant, PATIENT)
    changed = {k: v for k, v in made.items() if k not in ("extension", "communication")}
    changed["telecom"] = [{"system": "phone", "value": "555-0199", "use": "home"}]
    updated = send(client, "PUT", f"/fhir/Patient/{made['id']}", tenant, changed).json()
    assert "extension" not in updated
    assert "communication" not in updated
    assert updated["telecom"] == [{"system": "phone", "value": "555-0199", "use": "home"}]


def test_no_profile_is_claimed_without_a_test_of_its_elements(
    client: TestClient, tenant: Tenant
) -> None:
    capability = client.get("/fhir/metadata").json()
    assert all("supportedProfile" not in r for r in capability["rest"][0]["resource"])
    assert all(not mapping.profiles for mapping in REGISTRY.values())
    made = created(client, tenant, PATIENT)  # it was sent with meta.profile us-core-patient
    assert "profile" not in made["meta"]
