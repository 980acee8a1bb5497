"""Typed factories for test data."""

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from service.auth import logic as auth_logic
from service.auth.logic import Principal
from service.auth.roles import Role
from service.auth.schemas import UserCreate
from service.identifiers import npi_check_digit
from service.patients import logic as patient_logic
from service.patients.models import Patient
from service.patients.schemas import PatientCreate


@dataclass
class Tenant:
    organization_id: str
    keys: dict[str, str] = field(default_factory=dict)  # role -> plaintext key
    user_ids: dict[str, str] = field(default_factory=dict)  # role -> user id

    def headers(self, role: str = Role.ADMIN) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def make_tenant(session: Session, name: str) -> Tenant:
    org, admin, admin_key = auth_logic.create_organization(session, name=name)
    tenant = Tenant(org.id, {Role.ADMIN: admin_key}, {Role.ADMIN: admin.id})
    for role in Role:
        if role is Role.ADMIN:
            continue
        user = auth_logic.create_user(
            session, org.id, UserCreate(name=f"{role} user", roles=[role])
        )
        _, key = auth_logic.issue_api_key(session, org.id, user.id, "test")
        tenant.keys[role], tenant.user_ids[role] = key, user.id
    session.commit()
    return tenant


def patient_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "mrn": "MRN-0001",
        "family_name": "Rivera",
        "given_name": "Ana",
        "birth_date": "1980-04-02",
        "sex": "F",
        "address": {
            "line1": "12 Main St",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701-1234",
        },
        "phone": "555-0100",
    }
    payload.update(overrides)
    return payload


def principal(tenant: Tenant, role: str = Role.ADMIN) -> Principal:
    """The caller a route would see for this tenant's user of `role`."""
    return Principal(tenant.user_ids[role], tenant.organization_id, frozenset({role}), "test")


def make_patient(session: Session, tenant: Tenant, **overrides: Any) -> Patient:
    data = PatientCreate.model_validate(patient_payload(**overrides))
    patient = patient_logic.register_patient(session, principal(tenant), data)
    session.commit()
    return patient


def valid_npi(first_nine: str) -> str:
    return first_nine + npi_check_digit(first_nine)


def payer_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": "Acme Health Plan",
        "edi_payer_id": "ACME01",
        "claim_filing_indicator": "CI",
        "timely_filing_days": 180,
    }
    payload.update(overrides)
    return payload


def provider_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "npi": valid_npi("123456789"),
        "kind": "individual",
        "family_name": "Okafor",
        "given_name": "Grace",
        "taxonomy": "207Q00000X",
    }
    payload.update(overrides)
    return payload


def facility_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": "Main Street Lab",
        "address": {
            "line1": "1 Lab Way",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "627010001",
        },
        "place_of_service": "81",
        "clia_number": "14D0123456",
    }
    payload.update(overrides)
    return payload


def fee_schedule_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": "Standard",
        "effective_from": "2026-01-01",
        "items": [
            {"code_system": "CPT", "code": "99213", "charge": "125.00"},
            {"code_system": "CPT", "code": "85025", "charge": "32.50"},
        ],
    }
    payload.update(overrides)
    return payload


def coverage_payload(patient_id: str, payer_id: str, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "patient_id": patient_id,
        "payer_id": payer_id,
        "member_id": "XYZ123456789",
        "group_number": "GRP-77",
        "priority": "primary",
        "relationship": "18",
        "start_date": "2026-01-01",
    }
    payload.update(overrides)
    return payload


def import_fixture_codes(session: Session) -> None:
    """The CPT and CDT fixture lists (neutral labels, codesets/fixtures), as the demo loads them."""
    from datetime import date as _date

    from service.codesets import importers
    from service.settings import REPO_ROOT

    for system in ("cpt", "cdt"):
        importers.import_file(
            session,
            system,
            REPO_ROOT / "codesets" / "fixtures" / f"{system}-fixture.csv",
            version="fixture",
            effective_from=_date(2020, 1, 1),
        )
    session.commit()


@dataclass
class Practice:
    """What an encounter needs: a patient with primary coverage, providers, a facility."""

    patient_id: str
    coverage_id: str
    payer_id: str
    billing_provider_id: str
    rendering_provider_id: str
    facility_id: str


def make_practice(session: Session, tenant: Tenant) -> Practice:
    from service import crud
    from service.directory import logic as directory
    from service.directory.schemas import FacilityCreate, PayerCreate, ProviderCreate
    from service.patients.coverage_schemas import CoverageCreate
    from service.patients.coverages import COVERAGES

    actor = principal(tenant)
    patient = make_patient(session, tenant)
    payer = crud.create(session, actor, directory.PAYERS, PayerCreate(**payer_payload()))
    billing = crud.create(
        session,
        actor,
        directory.PROVIDERS,
        ProviderCreate(
            **provider_payload(
                npi=valid_npi("111111111"),
                kind="organization",
                family_name=None,
                given_name=None,
                organization_name="Springfield Family Medicine",
                tax_id="123456789",
                address={
                    "line1": "100 Clinic Rd",
                    "city": "Springfield",
                    "state": "IL",
                    "postal_code": "627011111",
                },
            )
        ),
    )
    rendering = crud.create(
        session,
        actor,
        directory.PROVIDERS,
        ProviderCreate(**provider_payload(npi=valid_npi("222222222"))),
    )
    facility = crud.create(
        session, actor, directory.FACILITIES, FacilityCreate(**facility_payload())
    )
    coverage = crud.create(
        session, actor, COVERAGES, CoverageCreate(**coverage_payload(patient.id, payer.id))
    )
    session.commit()
    return Practice(patient.id, coverage.id, payer.id, billing.id, rendering.id, facility.id)


def encounter_payload(practice: Practice, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "patient_id": practice.patient_id,
        "date_of_service": "2026-10-15",
        "place_of_service": "11",
        "kind": "medical",
        "billing_provider_id": practice.billing_provider_id,
        "rendering_provider_id": practice.rendering_provider_id,
        "coverage_ids": [practice.coverage_id],
    }
    payload.update(overrides)
    return payload


# --- lab (issue 5): catalog, orders, specimens ---------------------------------------------


def glucose_test_payload(**overrides: Any) -> dict[str, Any]:
    """Serum glucose: a required centrifugation, one numeric component, one control level."""
    payload: dict[str, Any] = {
        "code": "GLU",
        "name": "Glucose, serum",
        "loinc": "2345-7",
        "billing_code": "82947",
        "specimen_type": "SER",
        "container": "SST gold top",
        "min_volume": "0.5",
        "volume_unit": "mL",
        "stability_room_temp_hours": 8,
        "stability_refrigerated_hours": 72,
        "bench": "chemistry",
        "protocol": [
            {
                "step": "centrifuge",
                "required": True,
                "parameters": [
                    {"name": "minutes", "unit": "min", "min": "5", "max": "20"},
                    {"name": "g_force", "unit": "g", "min": "1000", "max": "3000"},
                ],
            }
        ],
        "components": [
            {
                "code": "2345-7",
                "name": "Glucose",
                "unit": "mg/dL",
                "ranges": [
                    {"low": "70", "high": "99", "critical_low": "40", "critical_high": "400"}
                ],
            }
        ],
        "controls": [
            {"material": "Level 1", "component_code": "2345-7", "low": "90", "high": "110"}
        ],
    }
    payload.update(overrides)
    return payload


def hba1c_test_payload(**overrides: Any) -> dict[str, Any]:
    """Whole-blood HbA1c, CLIA-waived (QW): no preparation step, ready on receipt."""
    payload: dict[str, Any] = {
        "code": "A1C",
        "name": "Hemoglobin A1c",
        "loinc": "4548-4",
        "billing_code": "83036",
        "billing_modifier": "QW",
        "specimen_type": "BLD",
        "container": "EDTA lavender top",
        "min_volume": "1",
        "volume_unit": "mL",
        "stability_room_temp_hours": 72,
        "bench": "chemistry",
        "components": [
            {
                "code": "4548-4",
                "name": "HbA1c",
                "unit": "%",
                "ranges": [
                    {"low": "4.0", "high": "5.6"},
                    {"sex": "M", "age_min_years": 18, "low": "4.2", "high": "5.7"},
                ],
            }
        ],
    }
    payload.update(overrides)
    return payload


def biopsy_test_payload(**overrides: Any) -> dict[str, Any]:
    """Surgical pathology: fix (6-72 h, flagged, not refused) -> gross -> process -> embed ->
    section -> stain; a coded diagnosis."""
    payload: dict[str, Any] = {
        "code": "SURGPATH",
        "name": "Surgical pathology",
        "billing_code": "88305",
        "specimen_type": "TISS",
        "container": "10% NBF jar",
        "min_volume": "1",
        "volume_unit": "ea",
        "bench": "histology",
        "protocol": [
            {
                "step": "fix",
                "parameters": [{"name": "hours", "unit": "h", "min": "6", "max": "72"}],
                "on_out_of_range": "flag",
                "on_out_of_order": "refuse",
            },
            {"step": "gross"},
            {"step": "process"},
            {"step": "embed"},
            {"step": "section"},
            {"step": "stain"},
        ],
        "components": [
            {
                "code": "22637-3",
                "name": "Pathology report diagnosis",
                "kind": "coded",
                "normal_values": ["benign"],
            }
        ],
    }
    payload.update(overrides)
    return payload


@dataclass
class LabSetup:
    patient_id: str
    provider_id: str
    tests: dict[str, str]  # code -> lab_test id


def make_lab_setup(
    session: Session, tenant: Tenant, *, mrn: str = "LAB-0001", sex: str = "F"
) -> LabSetup:
    """A patient, an ordering provider and the glucose, HbA1c and biopsy tests."""
    from service import crud
    from service.directory import logic as directory_logic
    from service.directory.schemas import ProviderCreate
    from service.labtests import logic as labtest_logic
    from service.labtests.schemas import LabTestCreate

    actor = principal(tenant)
    patient = make_patient(session, tenant, mrn=mrn, sex=sex)
    provider = crud.create(
        session, actor, directory_logic.PROVIDERS, ProviderCreate(**provider_payload())
    )
    tests = {}
    for payload in (glucose_test_payload(), hba1c_test_payload(), biopsy_test_payload()):
        test = labtest_logic.add_lab_test(session, actor, LabTestCreate.model_validate(payload))
        tests[test.code] = test.id
    session.commit()
    return LabSetup(patient.id, provider.id, tests)


def make_order(
    session: Session,
    tenant: Tenant,
    setup: LabSetup,
    codes: list[str],
    *,
    priority: str = "routine",
) -> str:
    from service.orders import logic as order_logic
    from service.orders.schemas import LabOrderCreate

    data = LabOrderCreate(
        patient_id=setup.patient_id,
        ordering_provider_id=setup.provider_id,
        test_ids=[setup.tests[c] for c in codes],
        priority=priority,
    )
    order = order_logic.place_order(session, principal(tenant, Role.FRONT_DESK), data)
    session.commit()
    return order.id


def make_ready_specimen(
    session: Session,
    tenant: Tenant,
    setup: LabSetup,
    *,
    code: str = "A1C",
    priority: str = "routine",
    collected_at: Any = None,
) -> Any:
    """An accessioned, collected and received specimen for one test (ready if unprepared)."""
    from datetime import UTC, datetime

    from service.specimens import custody as specimen_custody
    from service.specimens import logic as specimen_logic
    from service.specimens.schemas import Receipt, SpecimenCreate

    order_id = make_order(session, tenant, setup, [code], priority=priority)
    at = collected_at or datetime.now(UTC)
    actor = principal(tenant, Role.LAB)
    specimen = specimen_logic.accession_specimen(
        session,
        actor,
        SpecimenCreate(order_id=order_id, collected_at=at, volume="4", volume_unit="mL"),
        at=at,
    )
    specimen_custody.receive_specimen(
        session, actor, specimen.id, Receipt(location="Chem bench"), at=max(at, datetime.now(UTC))
    )
    session.commit()
    return specimen
