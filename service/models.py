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
    PayerAdjudication,
)
from service.codesets.models import CodeEntry, CodeSetVersion, MueLimit, NcciPtpEdit
from service.coding.models import Encounter, ServiceLine
from service.directory.models import Facility, FeeSchedule, Payer, Provider, TradingPartner
from service.fhir.models import FhirElement, FhirResourceVersion, FhirToken
from service.idempotency.models import IdempotencyRecord
from service.labtests.models import LabTest
from service.ledger.models import LedgerEntry
from service.orders.models import LabOrder
from service.outbox.models import OutboxEvent, Subscription, SubscriptionDelivery
from service.patients.models import Coverage, Patient
from service.remittance.models import (
    Acknowledgement,
    ClaimPosting,
    DenialItem,
    LinePosting,
    PostedAdjustment,
    ProviderAdjustment,
    RemittanceFile,
    RemittanceFileChunk,
    RemittancePayment,
)
from service.results.models import Result
from service.smart.models import SmartAccessToken, SmartAssertion, SmartClient
from service.specimens.models import AccessionCounter, Specimen, SpecimenEvent, SpecimenTest
from service.worklists.models import ControlResult, Worklist, WorklistItem, WorklistTemplate

__all__ = [
    "AccessionCounter",
    "Acknowledgement",
    "ApiKey",
    "AppUser",
    "AuditEvent",
    "Claim",
    "ClaimBatch",
    "ClaimBatchChunk",
    "ClaimBatchMember",
    "ClaimLine",
    "ClaimPosting",
    "CodeEntry",
    "CodeSetVersion",
    "ControlCounter",
    "ControlResult",
    "Coverage",
    "DenialItem",
    "Encounter",
    "Facility",
    "FeeSchedule",
    "FhirElement",
    "FhirResourceVersion",
    "FhirToken",
    "IdempotencyRecord",
    "LabOrder",
    "LabTest",
    "LedgerEntry",
    "LinePosting",
    "MueLimit",
    "NcciPtpEdit",
    "Organization",
    "OutboxEvent",
    "Patient",
    "Payer",
    "PayerAdjudication",
    "PostedAdjustment",
    "Provider",
    "ProviderAdjustment",
    "RemittanceFile",
    "RemittanceFileChunk",
    "RemittancePayment",
    "Result",
    "ServiceLine",
    "SmartAccessToken",
    "SmartAssertion",
    "SmartClient",
    "Specimen",
    "SpecimenEvent",
    "SpecimenTest",
    "Subscription",
    "SubscriptionDelivery",
    "TradingPartner",
    "Worklist",
    "WorklistItem",
    "WorklistTemplate",
]
