"""A real FHIR client (fhirpy's SyncFHIRClient, over requests) against a real uvicorn server on
loopback, on a database whose requests really commit."""

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome, ResourceNotFound

from tests.factories import Tenant
from tests.fhir.examples import EHR_MRN_SYSTEM, PATIENT, PAYER, coverage, example, valid


@pytest.fixture
def fhir_base(committing_app: FastAPI) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            committing_app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}/fhir"
    server.should_exit = True
    thread.join(timeout=10)


def _client(base: str, tenant: Tenant, role: str = "integration") -> SyncFHIRClient:
    return SyncFHIRClient(
        base, authorization=tenant.headers(role)["Authorization"], requests_config={"timeout": 10}
    )


def test_fhirpy_creates_a_patient_with_coverage_and_finds_them(
    fhir_base: str, committing_tenant: Tenant
) -> None:
    client = _client(fhir_base, committing_tenant)

    patient = client.resource("Patient", **example(PATIENT, id=None))
    patient.save()
    payer = client.resource("Organization", **example(PAYER, id=None))
    payer.save()
    cover = client.resource(
        "Coverage",
        **example(coverage(f"Patient/{patient.id}", f"Organization/{payer.id}"), id=None),
    )
    cover.save()

    found = client.resources("Patient").search(identifier=f"{EHR_MRN_SYSTEM}|12345").fetch_all()
    assert [p.id for p in found] == [patient.id]
    assert client.resources("Patient").search(family="chalmers").count() == 1
    raw = (
        client.resources("Coverage")
        .search(patient=patient.id)
        .include("Coverage", "payor")
        .fetch_raw()
    )
    assert raw.total == 1
    assert {valid(e.resource.serialize())["resourceType"] for e in raw.entry} == {
        "Coverage",
        "Organization",
    }
    read = client.reference("Patient", patient.id).to_resource()
    assert read["birthDate"] == "1974-12-25"
    assert read["meta"]["versionId"] == "1"

    read["name"][0]["family"] = "Chalmers-Jones"
    read.save()
    assert client.reference("Patient", patient.id).to_resource()["meta"]["versionId"] == "2"


def test_fhirpy_get_or_create_does_not_duplicate(fhir_base: str, committing_tenant: Tenant) -> None:
    client = _client(fhir_base, committing_tenant)
    search = client.resources("Patient").search(identifier=f"{EHR_MRN_SYSTEM}|12345")

    first, created = search.get_or_create(client.resource("Patient", **example(PATIENT, id=None)))
    again, created_again = search.get_or_create(
        client.resource("Patient", **example(PATIENT, id=None))
    )

    assert (created, created_again) == (True, False)
    assert first.id == again.id
    assert search.count() == 1


def test_fhirpy_sees_outcomes_for_invalid_and_missing_resources(
    fhir_base: str, committing_tenant: Tenant
) -> None:
    client = _client(fhir_base, committing_tenant)
    with pytest.raises(OperationOutcome) as invalid:
        client.resource("Patient", **example(PATIENT, id=None, birthDate="1974-13-45")).save()
    assert "Patient.birthDate" in str(invalid.value)
    with pytest.raises(ResourceNotFound):
        client.reference("Patient", "0" * 32).to_resource()
    assert client.resources("Patient").count() == 0
