"""FHIR R4 Subscription (rest-hook) <-> a subscription row: criteria on DiagnosticReport or
ServiceRequest status, notified from the outbox with an empty POST (R4: no payload), so that
no patient data leaves in a notification; the client then reads with its own token."""

import json
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from sqlmodel import Session

from service.errors import FieldError
from service.fhir import resources
from service.fhir.mapping.base import iso_instant
from service.fhir.outcomes import FhirInvalid, invalid
from service.outbox.models import Subscription
from service.outbox.subscriptions import set_active

# The statuses each type's events carry (FHIR codes); criteria may name only these.
CRITERIA_STATUSES = {
    "DiagnosticReport": ("partial", "final"),
    "ServiceRequest": ("active", "completed", "revoked"),
}
CAPABILITY = {
    "type": "Subscription",
    "documentation": (
        "rest-hook channels only, without payload (an empty POST, channel.header sent as given); "
        "criteria DiagnosticReport?status=partial|final or ServiceRequest?status=active|"
        "completed|revoked (comma-separated; no status: every change). Deleting one turns it off."
    ),
    "interaction": [
        {"code": "create"},
        {"code": "read"},
        {"code": "search-type"},
        {"code": "delete"},
    ],
    "versioning": "no-version",
    "readHistory": False,
    "updateCreate": False,
    "conditionalDelete": "not-supported",
}


def _criteria(text: str) -> str:
    resource_type, _, query = text.partition("?")
    if resource_type not in CRITERIA_STATUSES:
        raise invalid("Subscription.criteria", "must start DiagnosticReport? or ServiceRequest?")
    allowed = CRITERIA_STATUSES[resource_type]
    pairs = parse_qsl(query, keep_blank_values=True)
    for name, value in pairs:
        if name != "status":
            raise invalid("Subscription.criteria", f"only status is supported, not {name}")
        unknown = [v for v in value.split(",") if v not in allowed]
        if unknown:
            raise invalid(
                "Subscription.criteria", f"status may be {', '.join(allowed)}; not {unknown}"
            )
    return text


def from_fhir(organization_id: str, body: Any) -> Subscription:
    """A valid R4 Subscription with a rest-hook channel; it starts `active` (no handshake)."""
    resources.validate("Subscription", body)
    channel = body["channel"]
    if channel.get("type") != "rest-hook":
        raise invalid("Subscription.channel.type", "only rest-hook is supported")
    if channel.get("payload"):
        raise invalid(
            "Subscription.channel.payload",
            "leave it out: notifications are empty POSTs; search with your token",
        )
    if not channel.get("endpoint"):
        raise invalid("Subscription.channel.endpoint", "the rest-hook needs an endpoint")
    if body.get("status") not in ("requested", "active"):
        raise invalid("Subscription.status", "create it as requested (or active)")
    headers = [str(h) for h in channel.get("header", [])]
    if any(":" not in h or "\n" in h or "\r" in h for h in headers):
        raise FhirInvalid(
            "Each channel.header is one `Name: value` line.",
            errors=[FieldError("Subscription.channel.header", "one Name: value line each")],
        )
    return Subscription(
        organization_id=organization_id,
        kind="rest-hook",
        url=str(channel["endpoint"]),
        criteria=_criteria(str(body["criteria"])),
        reason=str(body.get("reason", ""))[:500],
        headers=json.dumps(headers),
    )


def status_of(row: Subscription) -> str:
    if row.active:
        return "active"
    return "off" if row.disabled_reason == "turned off" else "error"


def to_fhir(row: Subscription) -> dict[str, Any]:
    channel: dict[str, Any] = {"type": "rest-hook", "endpoint": row.url}
    headers = json.loads(row.headers)
    if headers:
        # Headers often carry the receiver's credentials: shown as names only.
        channel["header"] = [h.split(":", 1)[0] + ": (set)" for h in headers]
    resource: dict[str, Any] = {
        "resourceType": "Subscription",
        "id": row.id,
        "meta": {"versionId": str(row.version), "lastUpdated": iso_instant(row.updated_at)},
        "status": status_of(row),
        "reason": row.reason or "notifications",
        "criteria": row.criteria,
        "channel": channel,
    }
    if status_of(row) == "error":
        resource["error"] = row.disabled_reason
    return resource


def turn_off(session: Session, row: Subscription, *, at: datetime) -> None:
    set_active(session, row, False, at=at, reason="turned off")
