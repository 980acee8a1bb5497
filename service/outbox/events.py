"""The events offered, and `emit`: one call at each verb, inside its transaction."""

import json
from typing import Any

from sqlmodel import Session

from service.outbox.models import OutboxEvent

# event type -> the type of what it is about (a FHIR type where there is one)
EVENT_TYPES = {
    "result.verified": "DiagnosticReport",  # a result of a specimen verified (its report)
    "specimen.rejected": "Specimen",
    "claim-batch.rejected": "ClaimBatch",  # a 999 rejected the batch (AK9 R)
    "claim.rejected": "Claim",  # a 277CA rejected the claim
    "remittance.posted": "RemittanceFile",  # an 835 was posted
    "order.status-changed": "ServiceRequest",  # a lab order completed or cancelled (revoked)
}


def emit(
    session: Session,
    organization_id: str,
    event_type: str,
    resource_id: str,
    *,
    status: str = "",
    **data: Any,
) -> OutboxEvent:
    """Adds the event to the caller's transaction: it commits or rolls back with the change,
    so no event is lost and none describes a change that did not happen. `data` holds ids and
    codes only (events leave the service; patient data does not)."""
    event = OutboxEvent(
        organization_id=organization_id,
        event_type=event_type,
        resource_type=EVENT_TYPES[event_type],
        resource_id=resource_id,
        status=status,
        data=json.dumps(data, sort_keys=True, default=str),
    )
    session.add(event)
    return event
