"""SMART Backend Services: a client signs its own assertion, gets a short-lived token and
reads FHIR with it; what it may not do is refused."""

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc.jwk import RSAKey
from sqlmodel import Session, select

from service.audit.models import AuditEvent
from tests.factories import LabSetup, Tenant, make_lab_setup, make_ready_specimen, make_tenant
from tests.fhir.examples import valid
from tests.fhir.test_diagnostic_reports import enter_and_verify
from tests.smart.helpers import new_client, register, token, token_request


@pytest.fixture
def report_id(db: Session, tenant: Tenant) -> str:
    setup: LabSetup = make_lab_setup(db, tenant)
    sample = make_ready_specimen(db, tenant, setup)
    enter_and_verify(db, tenant, sample.id, setup.tests["A1C"])
    return str(sample.id)


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def oauth_error(response: Any, status: int, error: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == error
    return str(body["error_description"])


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_a_client_signs_its_own_assertion_and_reads_a_diagnostic_report(
    client: TestClient, tenant: Tenant, report_id: str, alg: str
) -> None:
    smart = register(client, tenant, new_client(alg))

    response = token_request(client, smart.assertion(), "system/DiagnosticReport.rs")

    assert response.status_code == 200, response.text
    issued = response.json()
    assert issued["token_type"] == "bearer"
    assert 0 < issued["expires_in"] <= 300
    assert issued["scope"] == "system/DiagnosticReport.rs"
    assert response.headers["cache-control"] == "no-store"
    read = client.get(f"/fhir/DiagnosticReport/{report_id}", headers=bearer(issued["access_token"]))
    assert read.status_code == 200, read.text
    assert valid(read.json())["status"] == "final"
    search = client.get("/fhir/DiagnosticReport", headers=bearer(issued["access_token"]))
    assert search.json()["total"] == 1


def test_the_read_is_audited_as_the_clients_own_user(
    client: TestClient, tenant: Tenant, report_id: str, db: Session
) -> None:
    smart = register(client, tenant, new_client())
    access = token(client, smart)

    client.get(f"/fhir/DiagnosticReport/{report_id}", headers=bearer(access))

    rows = db.exec(select(AuditEvent).where(AuditEvent.resource_id == report_id)).all()
    assert smart.registered["user_id"] in {r.user_id for r in rows}


def test_an_assertion_signed_with_another_key_is_refused(
    client: TestClient, tenant: Tenant
) -> None:
    smart = register(client, tenant, new_client())
    impostor = new_client()  # another RSA key pair, claiming the registered key's kid
    impostor.client_id = smart.client_id
    impostor.key = RSAKey.generate_key(2048, parameters={"kid": str(smart.key.kid)})

    response = token_request(client, impostor.assertion())

    assert "signature" in oauth_error(response, 401, "invalid_client")


def test_an_expired_assertion_is_refused(client: TestClient, tenant: Tenant) -> None:
    smart = register(client, tenant, new_client())

    response = token_request(client, smart.assertion(exp=int(time.time()) - 120))

    assert "expired" in oauth_error(response, 401, "invalid_client")


def test_an_assertion_valid_for_too_long_is_refused(client: TestClient, tenant: Tenant) -> None:
    smart = register(client, tenant, new_client())

    response = token_request(client, smart.assertion(exp=int(time.time()) + 3600))

    assert "5 minutes" in oauth_error(response, 401, "invalid_client")


def test_a_small_clock_difference_is_tolerated(client: TestClient, tenant: Tenant) -> None:
    smart = register(client, tenant, new_client())
    now = int(time.time())

    response = token_request(client, smart.assertion(exp=now - 20, iat=now - 200))

    assert response.status_code == 200, response.text


def test_a_replayed_jti_is_refused(client: TestClient, tenant: Tenant) -> None:
    smart = register(client, tenant, new_client())
    assertion = smart.assertion()
    assert token_request(client, assertion).status_code == 200

    response = token_request(client, assertion)

    assert "jti" in oauth_error(response, 401, "invalid_client")


def test_the_audience_must_be_this_token_endpoint(client: TestClient, tenant: Tenant) -> None:
    smart = register(client, tenant, new_client())

    response = token_request(client, smart.assertion(aud="https://elsewhere.example/token"))

    assert "aud" in oauth_error(response, 401, "invalid_client")


def test_an_unsigned_or_hs256_assertion_is_refused(client: TestClient, tenant: Tenant) -> None:
    smart = register(client, tenant, new_client())
    header, payload, _ = smart.assertion().split(".")

    response = token_request(client, f"{header}.{payload}.")

    oauth_error(response, 401, "invalid_client")


def test_a_scope_not_registered_is_refused(client: TestClient, tenant: Tenant) -> None:
    smart = register(client, tenant, new_client(), scopes="system/DiagnosticReport.rs")

    response = token_request(client, smart.assertion(), "system/Patient.cruds")

    oauth_error(response, 400, "invalid_scope")


def test_a_token_too_narrow_for_the_resource_is_refused(
    client: TestClient, tenant: Tenant, report_id: str
) -> None:
    smart = register(client, tenant, new_client())
    access = token(client, smart, "system/Patient.rs")

    response = client.get(f"/fhir/DiagnosticReport/{report_id}", headers=bearer(access))

    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert "system/DiagnosticReport.r" in response.text


def test_a_read_scope_does_not_allow_a_write(client: TestClient, tenant: Tenant) -> None:
    smart = register(client, tenant, new_client())
    access = token(client, smart, "system/*.rs")

    response = client.post(
        "/fhir/Patient",
        json={"resourceType": "Patient", "name": [{"family": "Doe"}]},
        headers={**bearer(access), "Content-Type": "application/fhir+json"},
    )

    assert response.status_code == 403


def test_another_organizations_report_is_not_found(
    client: TestClient, tenant: Tenant, report_id: str, db: Session
) -> None:
    other = make_tenant(db, "Clinic B")
    smart = register(client, other, new_client())
    access = token(client, smart)

    response = client.get(f"/fhir/DiagnosticReport/{report_id}", headers=bearer(access))

    assert response.status_code == 404


def test_the_roles_of_the_client_still_apply(
    client: TestClient, tenant: Tenant, report_id: str
) -> None:
    smart = register(client, tenant, new_client(), roles=["biller"])  # billers see no lab data
    access = token(client, smart)

    response = client.get(f"/fhir/DiagnosticReport/{report_id}", headers=bearer(access))

    assert response.status_code == 403


def test_tokens_are_for_the_fhir_api_only(client: TestClient, tenant: Tenant) -> None:
    smart = register(client, tenant, new_client())
    access = token(client, smart)

    response = client.get("/api/v1/patients", headers=bearer(access))

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_a_token_is_refused_by_the_typeahead_too(client: TestClient, tenant: Tenant) -> None:
    """The typeahead's one-statement check serves API keys only; a token meets the full check."""
    smart = register(client, tenant, new_client())
    access = token(client, smart)

    response = client.get("/api/v1/codes/icd10cm?q=E11", headers=bearer(access))

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_a_revoked_clients_tokens_and_assertions_stop_working(
    client: TestClient, tenant: Tenant, report_id: str
) -> None:
    smart = register(client, tenant, new_client())
    access = token(client, smart)

    revoked = client.post(f"/api/v1/smart-clients/{smart.id}/revocation", headers=tenant.headers())

    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    read = client.get(f"/fhir/DiagnosticReport/{report_id}", headers=bearer(access))
    assert read.status_code == 401
    oauth_error(token_request(client, smart.assertion()), 401, "invalid_client")


def test_an_unknown_token_is_refused(client: TestClient) -> None:
    response = client.get("/fhir/Patient", headers=bearer("smt_not-a-token"))

    assert response.status_code == 401


def test_api_keys_keep_working_beside_tokens(
    client: TestClient, tenant: Tenant, report_id: str
) -> None:
    register(client, tenant, new_client())

    response = client.get(f"/fhir/DiagnosticReport/{report_id}", headers=tenant.headers())

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"client_assertion_type": "other"}, 400, "invalid_request"),
        ({"client_assertion": ""}, 400, "invalid_request"),
        ({"scope": ""}, 400, "invalid_request"),
        ({"client_assertion": "not.a.jwt"}, 401, "invalid_client"),
        ({"scope": "patient/*.read"}, 400, "invalid_scope"),
    ],
)
def test_malformed_token_requests_get_oauth_errors(
    client: TestClient, tenant: Tenant, form: dict[str, str], status: int, error: str
) -> None:
    smart = register(client, tenant, new_client())
    fields = {"scope": "system/*.rs", **form}
    scope = fields.pop("scope")
    assertion = fields.pop("client_assertion", smart.assertion())

    response = token_request(client, assertion, scope, **fields)

    oauth_error(response, status, error)


def test_a_json_token_request_is_refused(client: TestClient) -> None:
    response = client.post("/oauth/token", json={"grant_type": "client_credentials"})

    oauth_error(response, 400, "invalid_request")


def test_the_smart_configuration_names_the_token_endpoint(client: TestClient) -> None:
    response = client.get("/fhir/.well-known/smart-configuration")

    assert response.status_code == 200
    body = response.json()
    assert body["token_endpoint"] == "http://testserver/oauth/token"
    assert body["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert set(body["token_endpoint_auth_signing_alg_values_supported"]) == {"RS384", "ES384"}
    assert "client-confidential-asymmetric" in body["capabilities"]


def test_registration_refuses_a_private_key_and_a_bad_scope(
    client: TestClient, tenant: Tenant
) -> None:
    smart = new_client()
    private = {"keys": [smart.key.as_dict(private=True)]}
    for body in (
        {"name": "x", "scopes": "system/*.rs", "jwks": private},
        {"name": "x", "scopes": "user/*.rs", "jwks": smart.jwks()},
        {"name": "x", "scopes": "system/*.rs"},
    ):
        response = client.post("/api/v1/smart-clients", json=body, headers=tenant.headers())
        assert response.status_code == 422, response.text


def test_clients_are_listed_per_organization(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    smart = register(client, tenant, new_client())
    other = make_tenant(db, "Clinic B")

    mine = client.get("/api/v1/smart-clients", headers=tenant.headers()).json()["items"]
    theirs = client.get("/api/v1/smart-clients", headers=other.headers()).json()["items"]

    assert [c["client_id"] for c in mine] == [smart.client_id]
    assert theirs == []
    assert (
        client.get(f"/api/v1/smart-clients/{smart.id}", headers=other.headers()).status_code == 404
    )
