"""FHIR R4 Subscriptions (rest-hook): created, read, searched and turned off through /fhir,
listed in the CapabilityStatement, notified from the outbox when their criteria match."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.db import SessionFactory
from service.outbox import worker
from service.settings import get_settings
from tests.factories import Tenant, make_lab_setup, make_order, make_ready_specimen, make_tenant
from tests.fhir.examples import outcome, send, valid
from tests.fhir.test_diagnostic_reports import enter_and_verify
from tests.outbox.receiver import Receiver, receiving


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    monkeypatch.setenv("BACKOFFICE_ALLOW_PRIVATE_WEBHOOK_ADDRESSES", "true")
    get_settings.cache_clear()
    with receiving() as found:
        yield found
    get_settings.cache_clear()


def subscription(endpoint: str, criteria: str = "DiagnosticReport?status=final") -> dict[str, Any]:
    return {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "Results for the EHR",
        "criteria": criteria,
        "channel": {
            "type": "rest-hook", "endpoint": endpoint, "header": ["Authorization: Bearer xyz"],
        },
    }  # fmt: skip


def deliver(factory: SessionFactory) -> int:
    with httpx.Client(timeout=10) as http:
        return worker.run_once(factory, http, worker="test", allow_private=True)


def test_a_subscription_is_created_read_and_searched(
    client: TestClient, tenant: Tenant, receiver: Receiver
) -> None:
    response = send(client, "POST", "/fhir/Subscription", tenant, subscription(receiver.url))

    assert response.status_code == 201, response.text
    created = valid(response.json())
    assert created["status"] == "active"
    assert created["channel"]["header"] == ["Authorization: (set)"]  # the secret is not echoed
    assert response.headers["location"].endswith(f"/Subscription/{created['id']}/_history/1")
    read = send(client, "GET", f"/fhir/Subscription/{created['id']}", tenant)
    assert valid(read.json())["criteria"] == "DiagnosticReport?status=final"
    bundle = valid(send(client, "GET", "/fhir/Subscription", tenant).json())
    assert [e["resource"]["id"] for e in bundle["entry"]] == [created["id"]]


def test_a_final_report_notifies_the_rest_hook_with_an_empty_post(
    client: TestClient, tenant: Tenant, db: Session, session_factory: SessionFactory,
    receiver: Receiver,
) -> None:  # fmt: skip
    send(client, "POST", "/fhir/Subscription", tenant, subscription(receiver.url))
    setup = make_lab_setup(db, tenant)
    sample = make_ready_specimen(db, tenant, setup)
    enter_and_verify(db, tenant, sample.id, setup.tests["A1C"])

    assert deliver(session_factory) == 1

    [hook] = receiver.requests
    assert hook.body == b""
    assert hook.headers["authorization"] == "Bearer xyz"


def test_criteria_on_another_status_are_not_notified(
    client: TestClient, tenant: Tenant, db: Session, session_factory: SessionFactory,
    receiver: Receiver,
) -> None:  # fmt: skip
    criteria = "DiagnosticReport?status=partial"
    send(client, "POST", "/fhir/Subscription", tenant, subscription(receiver.url, criteria))
    setup = make_lab_setup(db, tenant)
    sample = make_ready_specimen(db, tenant, setup)
    enter_and_verify(db, tenant, sample.id, setup.tests["A1C"])  # one test: final at once

    deliver(session_factory)

    assert receiver.requests == []


def test_a_cancelled_order_notifies_a_service_request_subscription(
    client: TestClient, tenant: Tenant, db: Session, session_factory: SessionFactory,
    receiver: Receiver,
) -> None:  # fmt: skip
    criteria = "ServiceRequest?status=revoked"
    send(client, "POST", "/fhir/Subscription", tenant, subscription(receiver.url, criteria))
    setup = make_lab_setup(db, tenant)
    order_id = make_order(db, tenant, setup, ["A1C"])

    response = client.patch(
        f"/api/v1/lab-orders/{order_id}", json={"status": "cancelled"},
        headers={**tenant.headers(), "Content-Type": "application/merge-patch+json"},
    )  # fmt: skip

    assert response.status_code == 200, response.text
    assert deliver(session_factory) == 1
    assert receiver.requests[0].headers["x-backoffice-event-id"]


def test_a_deleted_subscription_is_off_and_notified_no_more(
    client: TestClient, tenant: Tenant, db: Session, session_factory: SessionFactory,
    receiver: Receiver,
) -> None:  # fmt: skip
    created = send(client, "POST", "/fhir/Subscription", tenant, subscription(receiver.url))
    path = f"/fhir/Subscription/{created.json()['id']}"

    assert send(client, "DELETE", path, tenant).status_code == 204

    assert valid(send(client, "GET", path, tenant).json())["status"] == "off"
    setup = make_lab_setup(db, tenant)
    sample = make_ready_specimen(db, tenant, setup)
    enter_and_verify(db, tenant, sample.id, setup.tests["A1C"])
    deliver(session_factory)
    assert receiver.requests == []


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"criteria": "Patient?status=active"}, "Subscription.criteria"),
        ({"criteria": "DiagnosticReport?code=4548-4"}, "Subscription.criteria"),
        ({"criteria": "DiagnosticReport?status=amended"}, "Subscription.criteria"),
        ({"channel": {"type": "websocket"}}, "Subscription.channel.type"),
        ({"channel": {"type": "rest-hook", "endpoint": "https://h.example/x",
                      "payload": "application/fhir+json"}}, "Subscription.channel.payload"),
    ],
)  # fmt: skip
def test_unsupported_subscriptions_are_refused_with_an_outcome(
    client: TestClient, tenant: Tenant, receiver: Receiver, change: dict[str, Any], where: str
) -> None:
    body = {**subscription(receiver.url), **change}

    response = send(client, "POST", "/fhir/Subscription", tenant, body)

    found = outcome(response, 422)
    assert where in str(found)


def test_an_invalid_subscription_resource_is_400(client: TestClient, tenant: Tenant) -> None:
    response = send(client, "POST", "/fhir/Subscription", tenant, {"resourceType": "Subscription"})

    outcome(response, 400)


def test_a_loopback_endpoint_is_refused_by_default(client: TestClient, tenant: Tenant) -> None:
    get_settings.cache_clear()

    response = send(
        client, "POST", "/fhir/Subscription", tenant, subscription("http://127.0.0.1:9/x")
    )

    assert response.status_code == 422


def test_another_organizations_subscription_is_not_found(
    client: TestClient, tenant: Tenant, db: Session, receiver: Receiver
) -> None:
    created = send(client, "POST", "/fhir/Subscription", tenant, subscription(receiver.url))
    other = make_tenant(db, "Clinic B")

    response = send(client, "GET", f"/fhir/Subscription/{created.json()['id']}", other)

    outcome(response, 404)


def test_the_capability_statement_lists_subscription(client: TestClient) -> None:
    statement = valid(client.get("/fhir/metadata").json())

    [entry] = [r for r in statement["rest"][0]["resource"] if r["type"] == "Subscription"]
    assert {i["code"] for i in entry["interaction"]} == {"create", "read", "search-type", "delete"}
