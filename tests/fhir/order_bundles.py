"""The order an EHR pushes for a visit, as one transaction Bundle: Patient, Coverage,
Encounter, Condition and ServiceRequest, every entry conditional so that a retry is safe."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from service.labtests import logic as labtest_logic
from service.labtests.schemas import LabTestCreate
from tests.factories import Tenant, glucose_test_payload, hba1c_test_payload, principal
from tests.fhir.clinical_examples import (
    EHR_ORDER_SYSTEM,
    EHR_VISIT_SYSTEM,
    condition,
    service_request,
)
from tests.fhir.examples import (
    BILLING_PROVIDER,
    EHR_MRN_SYSTEM,
    PATIENT,
    PAYER,
    PRACTITIONER,
    coverage,
    example,
)

COVERAGE_SYSTEM = "urn:oid:1.2.36.146.595.217.0.1.7"


@dataclass
class Directory:
    """What the EHR pushed once, long before the visit."""

    payer: str
    billing: str
    practitioner: str


def add_lab_tests(session: Session, tenant: Tenant) -> None:
    for payload in (glucose_test_payload(), hba1c_test_payload()):
        labtest_logic.add_lab_test(
            session, principal(tenant), LabTestCreate.model_validate(payload)
        )
    session.commit()


def _urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def order_bundle(directory: Directory, *, visit: str = "V-2026-000123") -> dict[str, Any]:
    patient, cover, visit_url = _urn(), _urn(), _urn()
    encounter: dict[str, Any] = {
        "resourceType": "Encounter",
        "identifier": [{"use": "usual", "system": EHR_VISIT_SYSTEM, "value": visit}],
        "status": "finished",
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "AMB",
        },
        "subject": {"reference": patient},
        "participant": [{"individual": {"reference": f"Practitioner/{directory.practitioner}"}}],
        "period": {"start": "2026-10-15T09:00:00-04:00"},
        "serviceProvider": {"reference": f"Organization/{directory.billing}"},
        "extension": [
            {"url": "urn:backoffice:fhir:coverage", "valueReference": {"reference": cover}}
        ],
    }
    insured = example(
        coverage(patient, f"Organization/{directory.payer}"),
        identifier=[{"system": COVERAGE_SYSTEM, "value": "COV-778"}],
    )
    order = service_request(
        # A conditional reference: the patient this Bundle creates (or finds) by its MRN.
        f"Patient?identifier={EHR_MRN_SYSTEM}|12345",
        f"Practitioner/{directory.practitioner}",
        encounter={"reference": visit_url},
    )
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": _urn(),
                "resource": order,
                "request": {
                    "method": "POST",
                    "url": "ServiceRequest",
                    "ifNoneExist": f"identifier={EHR_ORDER_SYSTEM}|ORD-000123",
                },
            },
            {
                "fullUrl": _urn(),
                "resource": condition(patient, visit_url),
                "request": {
                    "method": "POST",
                    "url": "Condition",
                    # urn:uuid placeholders in criteria name the entries of this Bundle.
                    "ifNoneExist": f"encounter={visit_url}&code=E11.9",
                },
            },
            {
                "fullUrl": visit_url,
                "resource": encounter,
                "request": {
                    "method": "POST",
                    "url": "Encounter",
                    "ifNoneExist": f"identifier={EHR_VISIT_SYSTEM}|{visit}",
                },
            },
            {
                "fullUrl": cover,
                "resource": insured,
                "request": {
                    "method": "POST",
                    "url": "Coverage",
                    "ifNoneExist": f"beneficiary={patient}&identifier={COVERAGE_SYSTEM}|COV-778",
                },
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
        ],
    }


DIRECTORY_RESOURCES = (PAYER, BILLING_PROVIDER, PRACTITIONER)
