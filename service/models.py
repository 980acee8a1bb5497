"""Imports every capability's tables, so that Alembic and the tests see the whole schema."""

from service.audit.models import AuditEvent
from service.auth.models import ApiKey, AppUser, Organization
from service.codesets.models import CodeEntry, CodeSetVersion, MueLimit, NcciPtpEdit
from service.coding.models import Encounter, ServiceLine
from service.directory.models import Facility, FeeSchedule, Payer, Provider
from service.idempotency.models import IdempotencyRecord
from service.patients.models import Coverage, Patient

__all__ = [
    "ApiKey",
    "AppUser",
    "AuditEvent",
    "CodeEntry",
    "CodeSetVersion",
    "Coverage",
    "Encounter",
    "Facility",
    "FeeSchedule",
    "IdempotencyRecord",
    "MueLimit",
    "NcciPtpEdit",
    "Organization",
    "Patient",
    "Payer",
    "Provider",
    "ServiceLine",
]
