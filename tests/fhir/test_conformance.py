"""The judge the whole suite runs on every /fhir answer (tests/fhir_conformance.py): it must
catch what a real validator would, or its silence proves nothing."""

import pytest
from fastapi.testclient import TestClient

from tests import fhir_conformance
from tests.factories import Tenant
from tests.fhir.examples import PATIENT, send


@pytest.mark.parametrize(
    "body",
    [
        {"resourceType": "Patient", "name": []},
        {"resourceType": "Patient", "name": [{"given": ["A"], "family": ""}]},
        {"resourceType": "Patient", "meta": {}},
        {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {}}]},
    ],
)
def test_empty_elements_are_caught(body: dict[str, object]) -> None:
    with pytest.raises(AssertionError, match="ele-1"):
        fhir_conformance.check_body(body)


def test_invalid_fhir_is_caught() -> None:
    with pytest.raises(ValueError, match="birthDate"):  # pydantic's ValidationError
        fhir_conformance.check_body({"resourceType": "Patient", "birthDate": "1985-13-45"})


def test_every_fhir_answer_of_the_client_is_checked(client: TestClient, tenant: Tenant) -> None:
    before = fhir_conformance.CHECKED["responses"]
    send(client, "POST", "/fhir/Patient", tenant, PATIENT)
    send(client, "GET", "/fhir/Patient?_count=1", tenant)
    send(client, "GET", "/fhir/Patient?eye-colour=blue", tenant)  # an OperationOutcome
    client.get("/fhir/metadata")
    assert fhir_conformance.CHECKED["responses"] == before + 4
