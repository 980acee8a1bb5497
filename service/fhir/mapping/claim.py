"""FHIR Claim (read and search) <-> claims: each claim as the FHIR R4 Claim an EHR or a payer
portal expects: use claim, type professional / oral (837P / 837D), the billing provider as
`provider`, the payer as `insurer`, priority normal, the claim's coverage as the one focal
`insurance`, ICD-10-CM `diagnosis` in claim order, one `item` per claim line (CPT, HCPCS or CDT
with modifiers, units, unit price and net charge, date of service, diagnosis pointers, and for
dental the tooth (ADA universal numbering) and surfaces), and `total`. The claim's X12 status
is the extension urn:backoffice:fhir:claim-status; frequency 8 (void) and a cancelled
replacement or void read as cancelled.
"""

from decimal import Decimal
from typing import Any, ClassVar

from sqlmodel import Session, col
from sqlmodel.sql.expression import SelectOfScalar

from service.auth.logic import Principal
from service.auth.roles import Role
from service.claims import logic as claim_logic
from service.claims.models import Claim, ClaimLine
from service.codesets.search import display_code
from service.coding.models import Encounter
from service.directory.models import Provider
from service.fhir.mapping.base import Criterion, Include, SearchParam, id_param, split_token
from service.fhir.mapping.common import (
    ACCESSION_SYSTEM,
    CPT_SYSTEM,
    HCPCS_SYSTEM,
    ICD10CM_SYSTEM,
    LAB_TEST_SYSTEM,
    PATIENT_CONTROL_NUMBER_SYSTEM,
    PRODUCT_SYSTEMS,
    SURFACE_SYSTEM,
    TOOTH_SYSTEM,
    QueryType,
    concept,
    instant,
    money,
    not_found,
    number,
    session_of,
)
from service.fhir.mapping.coverage import _patients, reference_filter

STATUS_EXTENSION = "urn:backoffice:fhir:claim-status"
LINE_ORIGIN_EXTENSION = "urn:backoffice:fhir:claim-line-origin"
RELATED_CLAIM = "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PROCESS_PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
CENT = Decimal("0.01")
TYPES = {"professional": "professional", "dental": "oral"}
# DESIGN.md roles: claims are read by admin, biller, coder, auditor and integrations.
READERS = frozenset({Role.ADMIN, Role.BILLER, Role.CODER, Role.AUDITOR, Role.INTEGRATION})


def _identifier(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
    numbers = [
        v for s, v in map(split_token, c.values) if s in (None, "", PATIENT_CONTROL_NUMBER_SYSTEM)
    ]
    return query.where(col(Claim.patient_control_number).in_(numbers))


def _modifier(code: str) -> dict[str, Any]:
    """CPT modifiers are two digits (25, 59); HCPCS Level II ones are letters (QW, RT)."""
    return concept(CPT_SYSTEM if code.isdigit() else HCPCS_SYSTEM, code)


def _origin(line: ClaimLine) -> dict[str, Any]:
    """Where the line came from: the encounter service line and, for a charge-captured lab
    line, the specimen (its accession number as identifier) and the lab test."""
    parts: list[dict[str, Any]] = []
    if line.service_line_id:
        parts.append({"url": "serviceLine", "valueString": line.service_line_id})
    origin = line.origin or {}
    if origin.get("specimen_id"):
        specimen: dict[str, Any] = {"reference": f"Specimen/{origin['specimen_id']}"}
        if origin.get("accession_number"):
            specimen["identifier"] = {
                "system": ACCESSION_SYSTEM,
                "value": origin["accession_number"],
            }
        parts.append({"url": "specimen", "valueReference": specimen})
    if origin.get("lab_test_code"):
        parts.append(
            {
                "url": "labTest",
                "valueCoding": {"system": LAB_TEST_SYSTEM, "code": origin["lab_test_code"]},
            }
        )
    if origin.get("source"):
        parts.append({"url": "source", "valueCode": origin["source"]})
    return {
        "url": LINE_ORIGIN_EXTENSION,
        "extension": parts or [{"url": "source", "valueCode": "manual"}],
    }


def _surfaces(surfaces: str) -> list[dict[str, Any]]:
    return [concept(SURFACE_SYSTEM, surface) for surface in surfaces]


class ClaimType(QueryType):
    type_name = "Claim"
    model = Claim
    audit_name = "claim"
    readers = READERS
    documentation = "Claims built from coded encounters (read-only), one per coverage billed."
    search_params: ClassVar[dict[str, SearchParam]] = {
        "_id": id_param(Claim),
        "identifier": SearchParam(
            "identifier",
            "token",
            f"The patient control number (CLM01, {PATIENT_CONTROL_NUMBER_SYSTEM}).",
            _identifier,
        ),
        "patient": SearchParam(
            "patient",
            "reference",
            "The patient: Patient/<id>.",
            reference_filter(Claim.patient_id, "Patient"),
        ),
        "encounter": SearchParam(
            "encounter",
            "reference",
            "The encounter billed: Encounter/<id>.",
            reference_filter(Claim.encounter_id, "Encounter"),
        ),
    }
    includes: ClassVar[dict[str, Include]] = {"Claim:patient": Include("Patient", _patients)}

    def read(self, session: Session, actor: Principal, record_id: str) -> Any:
        try:
            return claim_logic.get_claim(session, actor, record_id)  # audits the read
        except claim_logic.ClaimNotFound:
            raise not_found(self.type_name, record_id) from None

    def render(self, row: Any) -> dict[str, Any]:
        session = session_of(row)
        encounter = session.get(Encounter, row.encounter_id)
        billing = session.get(Provider, encounter.billing_provider_id) if encounter else None
        provider_kind = (
            "Organization" if billing and billing.kind == "organization" else "Practitioner"
        )
        lines = claim_logic.lines_of(session, row.id)
        dental = row.claim_type == "dental"
        body: dict[str, Any] = {
            "extension": [{"url": STATUS_EXTENSION, "valueCode": row.status}],
            "identifier": [
                {"system": PATIENT_CONTROL_NUMBER_SYSTEM, "value": row.patient_control_number}
            ],
            # A void, and a replacement or void withdrawn before it was sent, are cancelled.
            "status": "cancelled"
            if row.frequency == "8" or row.status == "cancelled"
            else "active",
            "type": concept(CLAIM_TYPE, TYPES[row.claim_type]),
            "use": "claim",
            "patient": {"reference": f"Patient/{row.patient_id}"},
            "billablePeriod": {
                "start": row.date_of_service.isoformat(),
                "end": row.date_of_service.isoformat(),
            },
            "created": instant(row.created_at),
            "insurer": {"reference": f"Organization/{row.payer_id}"},
            "provider": {
                "reference": f"{provider_kind}/{encounter.billing_provider_id if encounter else ''}"
            },
            "priority": concept(PROCESS_PRIORITY, "normal"),
        }
        if row.diagnoses:
            body["diagnosis"] = [
                {
                    "sequence": sequence,
                    "diagnosisCodeableConcept": concept(ICD10CM_SYSTEM, display_code(code)),
                }
                for sequence, code in enumerate(row.diagnoses, start=1)
            ]
        if row.replaces_claim_id:
            # A replacement (7) or void (8) names the claim it corrects and the payer's number.
            body["related"] = [
                {
                    "claim": {"reference": f"Claim/{row.replaces_claim_id}"},
                    "relationship": concept(RELATED_CLAIM, "prior"),
                    **(
                        {"reference": {"value": row.payer_claim_number}}
                        if row.payer_claim_number
                        else {}
                    ),
                }
            ]
        body["insurance"] = [
            {"sequence": 1, "focal": True, "coverage": {"reference": f"Coverage/{row.coverage_id}"}}
        ]
        items = []
        for line in lines:
            item: dict[str, Any] = {"sequence": line.position}
            if line.pointers:
                item["diagnosisSequence"] = list(line.pointers)
            item["productOrService"] = concept(PRODUCT_SYSTEMS[line.code_system], line.code)
            if line.modifiers:
                item["modifier"] = [_modifier(m) for m in line.modifiers]
            item.update(
                {
                    "servicedDate": line.service_date.isoformat(),
                    "quantity": {"value": number(line.units)},
                    "unitPrice": money((line.charge / line.units).quantize(CENT)),
                    "net": money(line.charge),
                }
            )
            if dental and line.tooth:
                item["bodySite"] = concept(TOOTH_SYSTEM, line.tooth)
            if dental and line.surfaces:
                item["subSite"] = _surfaces(line.surfaces)
            item["extension"] = [_origin(line)]
            items.append(item)
        if items:
            body["item"] = items
        body["total"] = money(row.total_charge)
        return body
