"""Imports every capability's tables, so that Alembic and the tests see the whole schema."""

from service.audit.models import AuditEvent
from service.auth.models import ApiKey, AppUser, Organization
from service.claims.models import (
    Claim,
    ClaimBatch,
    ClaimBatchChunk,
    ClaimBatchMember,
    ClaimLine,
    ControlCounter,
)
from service.codesets.models import CodeEntry, CodeSetVersion, MueLimit, NcciPtpEdit
from service.coding.models import Encounter, ServiceLine
from service.directory.models import Facility, FeeSchedule, Payer, Provider, TradingPartner
from service.idempotency.models import IdempotencyRecord
from service.patients.models import Coverage, Patient

__all__ = [
    "ApiKey",
    "AppUser",
    "AuditEvent",
    "Claim",
    "ClaimBatch",
    "ClaimBatchChunk",
    "ClaimBatchMember",
    "ClaimLine",
    "CodeEntry",
    "CodeSetVersion",
    "ControlCounter",
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
    "TradingPartner",
]
