"""Sending one delivery: the signed webhook POST, or the FHIR rest-hook notification."""

import hashlib
import hmac
import json
from dataclasses import dataclass

import httpx

from service.net import UrlNotAllowed, check_url
from service.outbox.logic import Due, webhook_body

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
SIGNATURE_HEADER = "X-Backoffice-Signature"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None
    error: str = ""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>`: the receiver recomputes it with
    the subscription's secret and refuses old timestamps (a replayed delivery)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def request_for(due: Due, timestamp: int) -> tuple[dict[str, str], bytes]:
    event, subscription = due.event, due.subscription
    if subscription.kind == "webhook":
        body = json.dumps(webhook_body(event), separators=(",", ":")).encode()
        return {
            "Content-Type": "application/json",
            "X-Backoffice-Event": event.event_type,
            # The same for every retry of this event: receivers drop duplicates by it.
            "X-Backoffice-Event-Id": event.id,
            SIGNATURE_HEADER: signature(subscription.secret, timestamp, body),
        }, body
    # FHIR R4 rest-hook with no payload: an empty POST; the client then searches with its
    # token (no patient data leaves in the notification). channel.header is sent as given.
    headers: dict[str, str] = {"X-Backoffice-Event-Id": event.id}
    for line in json.loads(subscription.headers):
        name, _, value = str(line).partition(":")
        headers[name.strip()] = value.strip()
    return headers, b""


def send(client: httpx.Client, due: Due, *, timestamp: int, allow_private: bool) -> Outcome:
    """Any 2xx is delivered; anything else (or no answer) is retried."""
    try:
        check_url(due.subscription.url, allow_private=allow_private)
    except UrlNotAllowed as exc:
        return Outcome(False, None, exc.detail)
    headers, body = request_for(due, timestamp)
    try:
        response = client.post(due.subscription.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return Outcome(False, None, f"{type(exc).__name__}: no answer from the receiver")
    if 200 <= response.status_code < 300:
        return Outcome(True, response.status_code)
    return Outcome(False, response.status_code, f"HTTP {response.status_code}")
