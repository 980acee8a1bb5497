"""The outbox in one process: events written with the change, fanned out to matching
webhooks, delivered signed and once, retried with backoff, subscriptions disabled after
repeated failures; the delivery log through the API."""

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.db import SessionFactory
from service.outbox import delivery, events, logic, worker
from service.outbox.models import OutboxEvent, Subscription, SubscriptionDelivery
from service.settings import get_settings
from service.specimens import custody as specimen_custody
from service.specimens.schemas import Rejection
from tests.factories import Tenant, make_lab_setup, make_ready_specimen, make_tenant, principal
from tests.fhir.test_diagnostic_reports import enter_and_verify
from tests.outbox.receiver import Receiver, receiving


@pytest.fixture
def private_addresses(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The receiver is on loopback: this deployment allows it (the setting tests set)."""
    monkeypatch.setenv("BACKOFFICE_ALLOW_PRIVATE_WEBHOOK_ADDRESSES", "true")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def receiver(private_addresses: None) -> Iterator[Receiver]:
    with receiving() as found:
        yield found


def subscribe(
    client: TestClient, tenant: Tenant, url: str, event_types: list[str] | None = None
) -> dict[str, object]:
    response = client.post(
        "/api/v1/webhooks",
        json={"url": url, "events": event_types or ["result.verified"]},
        headers=tenant.headers(),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def deliver(factory: SessionFactory) -> int:
    with httpx.Client(timeout=10) as http:
        return worker.run_once(factory, http, worker="test", allow_private=True)


def add_webhook(db: Session, tenant: Tenant, url: str, event_type: str) -> None:
    db.add(
        Subscription(
            organization_id=tenant.organization_id, kind="webhook", url=url, events=event_type,
            secret="s" * 20,
        )
    )  # fmt: skip


def verified_report(db: Session, tenant: Tenant) -> str:
    setup = make_lab_setup(db, tenant)
    sample = make_ready_specimen(db, tenant, setup)
    enter_and_verify(db, tenant, sample.id, setup.tests["A1C"])
    return str(sample.id)


def test_verifying_a_result_writes_its_event_with_the_change(db: Session, tenant: Tenant) -> None:
    report_id = verified_report(db, tenant)

    found = db.exec(select(OutboxEvent)).all()

    assert [(e.event_type, e.resource_type, e.resource_id, e.status) for e in found] == [
        ("result.verified", "DiagnosticReport", report_id, "final")
    ]
    assert found[0].organization_id == tenant.organization_id


def test_a_rolled_back_change_leaves_no_event(db: Session, tenant: Tenant) -> None:
    events.emit(db, tenant.organization_id, "specimen.rejected", "0" * 32)
    db.rollback()

    assert db.exec(select(OutboxEvent)).all() == []


def test_a_webhook_gets_the_event_once_signed_with_its_secret(
    client: TestClient, tenant: Tenant, db: Session, session_factory: SessionFactory,
    receiver: Receiver,
) -> None:  # fmt: skip
    hook = subscribe(client, tenant, receiver.url)
    report_id = verified_report(db, tenant)

    assert deliver(session_factory) == 1
    assert deliver(session_factory) == 0  # delivered: never sent again

    assert len(receiver.requests) == 1
    sent = receiver.requests[0]
    body = json.loads(sent.body)
    assert body["type"] == "result.verified"
    assert body["resource"] == {"type": "DiagnosticReport", "id": report_id, "status": "final"}
    assert sent.headers["x-backoffice-event-id"] == body["id"]
    stamp, mac = sent.headers["x-backoffice-signature"].split(",")
    timestamp = stamp.removeprefix("t=")
    expected = hmac.new(
        str(hook["secret"]).encode(), f"{timestamp}.".encode() + sent.body, hashlib.sha256
    ).hexdigest()
    assert mac == f"v1={expected}"
    log = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=tenant.headers())
    assert log.status_code == 200
    [entry] = log.json()["items"]
    assert entry["status"] == "delivered"
    assert entry["attempts"] == 1
    assert entry["last_status_code"] == 204
    assert entry["resource_id"] == report_id


def test_only_the_events_subscribed_to_are_sent(
    client: TestClient, tenant: Tenant, db: Session, session_factory: SessionFactory,
    receiver: Receiver,
) -> None:  # fmt: skip
    subscribe(client, tenant, receiver.url, ["specimen.rejected"])
    setup = make_lab_setup(db, tenant)
    sample = make_ready_specimen(db, tenant, setup)
    enter_and_verify(db, tenant, sample.id, setup.tests["A1C"])
    other = make_ready_specimen(db, tenant, setup)
    specimen_custody.reject_specimen(
        db, principal(tenant), other.id, Rejection(reason="hemolyzed"), at=datetime.now(UTC)
    )
    db.commit()

    deliver(session_factory)

    assert [json.loads(r.body)["type"] for r in receiver.requests] == ["specimen.rejected"]
    assert json.loads(receiver.requests[0].body)["data"] == {"reason": "hemolyzed"}


def test_another_organizations_events_are_not_sent(
    client: TestClient, tenant: Tenant, db: Session, session_factory: SessionFactory,
    receiver: Receiver,
) -> None:  # fmt: skip
    other = make_tenant(db, "Clinic B")
    subscribe(client, other, receiver.url)
    verified_report(db, tenant)

    deliver(session_factory)

    assert receiver.requests == []


def test_a_failing_receiver_is_retried_with_backoff_then_the_subscription_is_disabled(
    client: TestClient, tenant: Tenant, db: Session, receiver: Receiver
) -> None:
    receiver.status = 500
    hook = subscribe(client, tenant, receiver.url, ["specimen.rejected"])
    for n in range(logic.DISABLE_AFTER):
        events.emit(db, tenant.organization_id, "specimen.rejected", f"{n:032d}")
    db.commit()
    at = datetime.now(UTC)
    logic.fan_out(db, at=at)
    db.commit()

    with httpx.Client(timeout=10) as http:
        for item in logic.claim_due(db, worker="w", at=at):
            db.commit()
            outcome = delivery.send(http, item, timestamp=int(at.timestamp()), allow_private=True)
            logic.record_failed(
                db, item.delivery_id, error=outcome.error, status_code=outcome.status_code, at=at
            )
            db.commit()

    assert len(receiver.requests) == logic.DISABLE_AFTER
    read = client.get(f"/api/v1/webhooks/{hook['id']}", headers=tenant.headers()).json()
    assert read["active"] is False
    assert "HTTP 500" in read["disabled_reason"]
    log = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=tenant.headers())
    assert {d["status"] for d in log.json()["items"]} == {"failed"}
    assert logic.claim_due(db, worker="w", at=at + timedelta(days=1)) == []


def test_a_failed_delivery_waits_longer_each_time() -> None:
    delays = [logic.backoff(n).total_seconds() for n in range(1, 10)]

    assert delays[:4] == [5, 10, 20, 40]
    assert delays == sorted(delays)
    assert max(delays) == logic.LAST_RETRY.total_seconds()


def test_a_delivery_retried_after_a_failure_is_delivered(
    tenant: Tenant, db: Session, receiver: Receiver
) -> None:
    add_webhook(db, tenant, receiver.url, "specimen.rejected")
    events.emit(db, tenant.organization_id, "specimen.rejected", "1" * 32)
    db.commit()
    at = datetime.now(UTC)
    logic.fan_out(db, at=at)
    [item] = logic.claim_due(db, worker="w", at=at)
    logic.record_failed(db, item.delivery_id, error="HTTP 503", status_code=503, at=at)
    db.commit()

    assert logic.claim_due(db, worker="w", at=at + timedelta(seconds=1)) == []
    [again] = logic.claim_due(db, worker="w", at=at + logic.backoff(1))
    logic.record_delivered(db, [(again.delivery_id, 200, at)])
    db.commit()

    row = db.get(SubscriptionDelivery, again.delivery_id)
    assert row is not None
    assert (row.status, row.attempts, row.last_error) == ("delivered", 2, "")


def test_a_leased_delivery_is_not_claimed_by_another_worker_until_the_lease_runs_out(
    tenant: Tenant, db: Session
) -> None:
    add_webhook(db, tenant, "https://hooks.example/x", "claim.rejected")
    events.emit(db, tenant.organization_id, "claim.rejected", "2" * 32)
    db.commit()
    at = datetime.now(UTC)
    logic.fan_out(db, at=at)
    assert len(logic.claim_due(db, worker="a", at=at)) == 1
    db.commit()

    assert logic.claim_due(db, worker="b", at=at + timedelta(seconds=30)) == []
    [taken] = logic.claim_due(db, worker="b", at=at + logic.LEASE + timedelta(seconds=1))
    assert taken.event.resource_id == "2" * 32


def test_an_event_is_fanned_out_once(tenant: Tenant, db: Session) -> None:
    add_webhook(db, tenant, "https://hooks.example/x", "claim.rejected")
    events.emit(db, tenant.organization_id, "claim.rejected", "3" * 32)
    db.commit()

    assert logic.fan_out(db, at=datetime.now(UTC)) == 1
    assert logic.fan_out(db, at=datetime.now(UTC)) == 0
    assert len(db.exec(select(SubscriptionDelivery)).all()) == 1


def test_loopback_and_private_urls_are_refused_by_default(
    client: TestClient, tenant: Tenant
) -> None:
    get_settings.cache_clear()
    for url in ("http://127.0.0.1:9/x", "http://10.0.0.5/x", "http://[::1]/x", "ftp://a.example/"):
        response = client.post(
            "/api/v1/webhooks",
            json={"url": url, "events": ["result.verified"]},
            headers=tenant.headers(),
        )
        assert response.status_code == 422, (url, response.text)


def test_an_unknown_event_type_is_refused(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/api/v1/webhooks",
        json={"url": "https://hooks.example/x", "events": ["result.deleted"]},
        headers=tenant.headers(),
    )

    assert response.status_code == 422


def test_a_disabled_webhook_can_be_turned_back_on(
    client: TestClient, tenant: Tenant, receiver: Receiver
) -> None:
    hook = subscribe(client, tenant, receiver.url)
    path = f"/api/v1/webhooks/{hook['id']}"

    off = client.post(f"{path}/deactivation", headers=tenant.headers()).json()
    on = client.post(f"{path}/activation", headers=tenant.headers()).json()

    assert (off["active"], off["disabled_reason"]) == (False, "turned off")
    assert (on["active"], on["disabled_reason"], on["consecutive_failures"]) == (True, "", 0)
    listed = client.get("/api/v1/webhooks", headers=tenant.headers()).json()["items"]
    assert [h["id"] for h in listed] == [hook["id"]]
    assert "secret" not in listed[0]
