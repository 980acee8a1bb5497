"""A client registered by jwks_url: its keys are fetched, cached, and fetched again when it
signs with a key id the cached set lacks (key rotation)."""

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session

from service.smart import keysets, logic
from service.smart.schemas import SmartClientCreate
from tests.factories import Tenant
from tests.smart.helpers import ASSERTION_TYPE, TOKEN_URL, new_client


def form(assertion: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion, "scope": "system/*.rs",
    }  # fmt: skip


def test_keys_are_fetched_once_and_again_after_a_rotation(db: Session, tenant: Tenant) -> None:
    smart = new_client()
    published: dict[str, Any] = smart.jwks()
    fetched: list[str] = []

    def fetch(url: str) -> dict[str, Any]:
        fetched.append(url)
        return published

    remote = keysets.RemoteKeySets(fetch)
    client = logic.register_client(
        db, tenant.organization_id,
        SmartClientCreate(name="EHR", scopes="system/*.rs", jwks_url="https://ehr.example/jwks"),
    )  # fmt: skip
    smart.client_id = client.client_id
    at = datetime.now(UTC)

    for _ in range(2):
        logic.issue_token(db, form(smart.assertion()), token_url=TOKEN_URL, at=at, remote=remote)
    rotated = new_client()
    rotated.client_id = client.client_id
    published = rotated.jwks()
    issued = logic.issue_token(
        db, form(rotated.assertion()), token_url=TOKEN_URL, at=at, remote=remote
    )

    assert fetched == ["https://ehr.example/jwks"] * 2
    assert issued.token.startswith("smt_")


def test_an_unreadable_jwks_url_refuses_the_client(db: Session, tenant: Tenant) -> None:
    def fetch(url: str) -> dict[str, Any]:
        raise OSError("connection refused")

    client = logic.register_client(
        db, tenant.organization_id,
        SmartClientCreate(name="EHR", scopes="system/*.rs", jwks_url="https://ehr.example/jwks"),
    )  # fmt: skip
    smart = new_client()
    smart.client_id = client.client_id

    with pytest.raises(logic.OAuthError) as refused:
        logic.issue_token(
            db, form(smart.assertion()), token_url=TOKEN_URL, at=datetime.now(UTC),
            remote=keysets.RemoteKeySets(fetch),
        )  # fmt: skip
    assert refused.value.error == "invalid_client"
