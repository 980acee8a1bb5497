"""Transaction Bundles are all or nothing; batch Bundles answer entry by entry."""

import uuid
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.directory.models import Payer
from service.patients.models import Coverage, Patient
from tests.factories import Tenant
from tests.fhir.examples import (
    EHR_MRN_SYSTEM,
    PATIENT,
    PAYER,
    coverage,
    example,
    expressions,
    outcome,
    send,
    valid,
)


def _urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def push_bundle(kind: str = "transaction") -> dict[str, Any]:
    """What an EHR pushes: a patient (conditionally), its payer and its coverage, linked by
    urn:uuid fullUrls; the coverage comes first to show that order does not matter."""
    patient, payer = _urn(), _urn()
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [
            {
                "fullUrl": _urn(),
                "resource": coverage(patient, payer),
                "request": {"method": "POST", "url": "Coverage"},
            },
            {
                "fullUrl": patient,
                "resource": PATIENT,
                "request": {
                    "method": "POST",
                    "url": "Patient",
                    "ifNoneExist": f"identifier={EHR_MRN_SYSTEM}|12345",
                },
            },
            {
                "fullUrl": payer,
                "resource": PAYER,
                "request": {"method": "POST", "url": "Organization"},
            },
        ],
    }


def test_a_transaction_creates_everything_and_resolves_urn_uuid_references(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    response = send(client, "POST", "/fhir", tenant, push_bundle())

    assert response.status_code == 200, response.text
    bundle = valid(response.json())
    assert bundle["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in bundle["entry"]]
    assert statuses == ["201 Created"] * 3
    coverage_entry, patient_entry, payer_entry = bundle["entry"]
    assert coverage_entry["resource"]["beneficiary"]["reference"] == (
        f"Patient/{patient_entry['resource']['id']}"
    )
    assert coverage_entry["resource"]["payor"][0]["reference"] == (
        f"Organization/{payer_entry['resource']['id']}"
    )
    assert patient_entry["response"]["etag"] == 'W/"1"'
    assert "/fhir/Patient/" in patient_entry["response"]["location"]
    assert len(db.exec(select(Coverage)).all()) == 1


def test_a_retried_transaction_finds_the_patient_instead_of_duplicating_it(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    send(client, "POST", "/fhir", tenant, push_bundle())
    again = send(client, "POST", "/fhir", tenant, push_bundle())

    assert again.status_code == 200, again.text
    assert [e["response"]["status"] for e in again.json()["entry"]] == [
        "201 Created", "200 OK", "201 Created",
    ]  # fmt: skip
    assert len(db.exec(select(Patient)).all()) == 1


def test_one_bad_entry_fails_the_whole_transaction_and_nothing_is_stored(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    bundle = push_bundle()
    bundle["entry"][2]["resource"] = example(PAYER, identifier=[])  # no EDI payer id

    response = send(client, "POST", "/fhir", tenant, bundle)

    body = outcome(response, 422)
    assert expressions(body) == ["Bundle.entry[2].resource.identifier"]
    assert "Bundle.entry[2]" in body["issue"][0]["diagnostics"]
    assert db.exec(select(Patient)).all() == []
    assert db.exec(select(Payer)).all() == []
    failed = db.exec(select(AuditEvent).where(AuditEvent.outcome == "failed")).all()
    assert [e.detail for e in failed] == ["422 invalid-resource"]


def test_a_structurally_invalid_entry_names_its_element(client: TestClient, tenant: Tenant) -> None:
    bundle = push_bundle()
    bundle["entry"][1]["resource"] = example(PATIENT, birthDate="soon")
    body = outcome(send(client, "POST", "/fhir", tenant, bundle), 400)
    assert expressions(body) == ["Bundle.entry[1].resource.birthDate"]


def test_a_batch_answers_each_entry_on_its_own(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    bundle = push_bundle("batch")
    payer = created_payer = send(client, "POST", "/fhir/Organization", tenant, PAYER).json()
    # A batch may not link entries: the coverage names the stored payer, and the patient.
    bundle["entry"][0]["resource"]["payor"] = [{"reference": f"Organization/{created_payer['id']}"}]
    bundle["entry"].append({"request": {"method": "GET", "url": f"Organization/{payer['id']}"}})
    bundle["entry"].append({"request": {"method": "GET", "url": "Patient?identifier=12345"}})

    response = send(client, "POST", "/fhir", tenant, bundle)

    assert response.status_code == 200, response.text
    entries = valid(response.json())["entry"]
    assert [e["response"]["status"] for e in entries] == [
        "422",
        "201 Created",
        "201 Created",
        "200 OK",
        "200 OK",
    ]
    assert entries[0]["response"]["outcome"]["issue"][0]["expression"] == [
        "Bundle.entry[0].resource.beneficiary.reference"
    ]
    assert entries[4]["resource"]["total"] == 1
    assert len(db.exec(select(Patient)).all()) == 1
    assert db.exec(select(Coverage)).all() == []


def test_transaction_entries_are_checked_against_their_own_roles(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    response = send(client, "POST", "/fhir", tenant, push_bundle(), role="biller")
    assert outcome(response, 403)["issue"][0]["code"] == "forbidden"
    assert db.exec(select(Payer)).all() == []


def test_a_stale_if_match_in_a_transaction_is_412(client: TestClient, tenant: Tenant) -> None:
    patient = send(client, "POST", "/fhir/Patient", tenant, PATIENT).json()
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": patient,
                "request": {"method": "PUT", "url": f"Patient/{patient['id']}", "ifMatch": 'W/"9"'},
            }
        ],
    }
    outcome(send(client, "POST", "/fhir", tenant, bundle), 412)


def test_only_transaction_and_batch_bundles_are_processed(
    client: TestClient, tenant: Tenant
) -> None:
    body = outcome(
        send(client, "POST", "/fhir", tenant, {"resourceType": "Bundle", "type": "collection"}), 400
    )
    assert expressions(body) == ["Bundle.type"]
    outcome(send(client, "POST", "/fhir", tenant, PATIENT), 422)


def _with_mrn(mrn: str) -> dict[str, Any]:
    patient = example(PATIENT)
    patient["identifier"] = [{**patient["identifier"][0], "value": mrn}]
    return patient


def _patient_entry(mrn: str, if_none_exist: str | None = None) -> dict[str, Any]:
    request = {"method": "POST", "url": "Patient"}
    if if_none_exist is not None:
        request["ifNoneExist"] = if_none_exist
    return {"fullUrl": _urn(), "resource": _with_mrn(mrn), "request": request}


def test_a_conditional_create_finds_the_patient_an_earlier_entry_of_the_bundle_created(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    """The Bundle's conditional creates are searched together when it begins; an entry that
    writes the identifier a later criterion names sends that entry back to its own search."""
    for mrn, conditional_first in (("T-1", False), ("T-2", True)):
        criteria = f"identifier={EHR_MRN_SYSTEM}|{mrn}"
        first = _patient_entry(mrn, criteria if conditional_first else None)
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                first,
                _patient_entry(mrn, criteria),
                _patient_entry(mrn, f"identifier=|{mrn}"),
            ],
        }

        response = send(client, "POST", "/fhir", tenant, bundle)

        assert response.status_code == 200, response.text
        entries = response.json()["entry"]
        assert [e["response"]["status"] for e in entries] == ["201 Created", "200 OK", "200 OK"]
        assert len({e["resource"]["id"] for e in entries}) == 1
    stored = db.exec(select(Patient.mrn).where(col(Patient.mrn).in_(["T-1", "T-2"]))).all()
    assert sorted(stored) == ["T-1", "T-2"]


def test_a_bundle_searches_its_conditional_creates_in_one_statement_per_type(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    mrns = [f"C-{n}" for n in range(5)]
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [_patient_entry(mrn, f"identifier={EHR_MRN_SYSTEM}|{mrn}") for mrn in mrns],
    }
    statements: list[str] = []
    engine = db.get_bind()

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        response = send(client, "POST", "/fhir", tenant, bundle)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)

    assert response.status_code == 200, response.text
    assert [e["response"]["status"] for e in response.json()["entry"]] == ["201 Created"] * 5
    searches = [s for s in statements if "EXISTS" in s.upper() and "FROM patient" in s]
    assert len(searches) == 1
    again = send(client, "POST", "/fhir", tenant, bundle)
    assert [e["response"]["status"] for e in again.json()["entry"]] == ["200 OK"] * 5
    assert len(db.exec(select(Patient).where(col(Patient.mrn).in_(mrns))).all()) == 5
