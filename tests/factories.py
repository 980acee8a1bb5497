"""Typed factories for test data."""

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from service.auth import logic as auth_logic
from service.auth.roles import Role
from service.auth.schemas import UserCreate
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


def make_patient(session: Session, tenant: Tenant, **overrides: Any) -> Patient:
    data = PatientCreate.model_validate(patient_payload(**overrides))
    patient = patient_logic.register_patient(session, tenant.organization_id, data)
    session.commit()
    return patient
