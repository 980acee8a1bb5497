"""A SMART backend client as an EHR runs it: its own key pair, registered by an admin, signing
its own assertions."""

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from tests.factories import Tenant

ALGORITHMS = ["RS384", "ES384"]
TOKEN_URL = "http://testserver/oauth/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class Client:
    key: RSAKey | ECKey
    alg: str
    client_id: str = ""
    id: str = ""
    registered: dict[str, Any] = field(default_factory=dict)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def assertion(self, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": self.client_id, "sub": self.client_id, "aud": TOKEN_URL,
            "exp": now + 240, "iat": now, "jti": uuid.uuid4().hex,
        }  # fmt: skip
        claims.update(overrides)
        header = {"alg": self.alg, "kid": self.key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, self.key, algorithms=ALGORITHMS)


def new_client(alg: str = "RS384") -> Client:
    key: RSAKey | ECKey
    if alg == "RS384":
        key = RSAKey.generate_key(2048, parameters={"kid": uuid.uuid4().hex})
    else:
        key = ECKey.generate_key("P-384", parameters={"kid": uuid.uuid4().hex})
    return Client(key, alg)


def register(
    client: TestClient,
    tenant: Tenant,
    smart: Client,
    scopes: str = "system/*.rs",
    roles: list[str] | None = None,
) -> Client:
    response = client.post(
        "/api/v1/smart-clients",
        json={
            "name": "EHR interface engine",
            "scopes": scopes,
            "roles": roles or ["integration"],
            "jwks": smart.jwks(),
        },
        headers=tenant.headers(),
    )
    assert response.status_code == 201, response.text
    smart.registered = response.json()
    smart.client_id, smart.id = smart.registered["client_id"], smart.registered["id"]
    return smart


def token_request(
    client: TestClient, assertion: str, scope: str = "system/*.rs", **extra: str
) -> Any:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        "scope": scope,
        **extra,
    }
    return client.post("/oauth/token", data=form)


def token(client: TestClient, smart: Client, scope: str = "system/*.rs") -> str:
    response = token_request(client, smart.assertion(), scope)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])
