"""The code API: typeahead, lookup and validation under /api/v1/codes, for every role."""

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service import org_clock
from service.audit.models import AuditEvent
from service.auth.roles import Role
from service.codesets import logic as codeset_logic
from service.db import SessionFactory
from service.main import create_app
from service.settings import Settings
from tests.factories import Tenant


def get(client: TestClient, tenant: Tenant, url: str, **params: Any) -> Any:
    response = client.get(url, params=params, headers=tenant.headers(Role.CODER))
    assert response.status_code == 200, response.text
    return response.json()


def test_diabetes_foot_ulcer_finds_e11_621_in_the_top_five(
    client: TestClient, tenant: Tenant
) -> None:
    body = get(client, tenant, "/api/v1/codes/icd10cm", q="diabetes foot ulcer", date="2026-10-01")

    assert body["system"] == "icd10cm"
    assert body["version"] == "2027"
    assert (body["effective_from"], body["effective_to"]) == ("2026-10-01", "2027-09-30")
    assert body["warnings"] == []
    assert "E11.621" in [item["code"] for item in body["items"][:5]]


def test_a_code_prefix_with_or_without_the_dot_finds_the_same_codes(
    client: TestClient, tenant: Tenant
) -> None:
    dotted = get(client, tenant, "/api/v1/codes/icd10cm", q="E11.62", date="2026-10-01")
    plain = get(client, tenant, "/api/v1/codes/icd10cm", q="e1162", date="2026-10-01")

    assert dotted["items"] == plain["items"]
    assert dotted["items"][0] == {
        "code": "E11.62",
        "title": "Type 2 diabetes mellitus with skin complications",
        "billable": False,
    }
    assert all(item["code"].startswith("E11.62") for item in dotted["items"])


@pytest.mark.parametrize(
    ("query", "wanted"),
    [
        ("fever unspecified", {"R50.9"}),
        ("vitamin d deficiency", {"E55.9"}),
        ("uti", {"N39.0"}),
        ("gerd", {"K21.9"}),
        ("afib", {"I48.91"}),
        ("ckd stage 3a", {"N18.31"}),
        ("copd exacerbation", {"J44.1"}),
        ("annual physical", {"Z00.00", "Z00.01"}),
    ],
)
def test_what_coders_type_finds_the_code_in_the_top_three(
    client: TestClient, tenant: Tenant, query: str, wanted: set[str]
) -> None:
    body = get(client, tenant, "/api/v1/codes/icd10cm", q=query, date="2026-10-01")

    assert wanted & {item["code"] for item in body["items"][:3]}, body["items"][:3]


def test_every_role_may_search(client: TestClient, tenant: Tenant) -> None:
    for role in Role:
        response = client.get(
            "/api/v1/codes/pos", params={"q": "office"}, headers=tenant.headers(role)
        )
        assert response.status_code == 200, role
        assert "11" in [item["code"] for item in response.json()["items"]]


def test_limit_is_capped_at_200(client: TestClient, tenant: Tenant) -> None:
    assert len(get(client, tenant, "/api/v1/codes/icd10cm", q="S", limit=200)["items"]) == 200
    response = client.get(
        "/api/v1/codes/icd10cm", params={"q": "S", "limit": 201}, headers=tenant.headers()
    )
    assert response.status_code == 422


def test_without_a_date_it_searches_the_set_in_force_today(
    client: TestClient, tenant: Tenant
) -> None:
    body = get(client, tenant, "/api/v1/codes/pos")

    assert body["version"] == "2026"
    assert len(body["items"]) == 20


def test_an_unknown_system_is_a_404_problem(client: TestClient, tenant: Tenant) -> None:
    response = client.get("/api/v1/codes/icd9", params={"q": "x"}, headers=tenant.headers())

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/unknown-code-system")


def test_a_set_that_is_not_loaded_says_so(client: TestClient, tenant: Tenant) -> None:
    response = client.get("/api/v1/codes/hcpcs", params={"q": "G0008"}, headers=tenant.headers())

    assert response.status_code == 404
    problem = response.json()
    assert problem["type"].endswith("/code-set-not-loaded")
    assert "backoffice codesets import hcpcs FILE" in problem["detail"]


def test_a_date_before_fy2025_is_422(client: TestClient, tenant: Tenant) -> None:
    response = client.get(
        "/api/v1/codes/icd10cm/E11.621", params={"date": "2024-09-30"}, headers=tenant.headers()
    )

    assert response.status_code == 422
    assert response.json()["type"].endswith("/date-before-code-set")


def test_a_malformed_date_is_422(client: TestClient, tenant: Tenant) -> None:
    response = client.get(
        "/api/v1/codes/icd10cm", params={"date": "2026-13-01"}, headers=tenant.headers()
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "date"


def test_a_date_after_fy2027_uses_fy2027_with_a_warning(client: TestClient, tenant: Tenant) -> None:
    body = get(client, tenant, "/api/v1/codes/icd10cm/E11.621", date="2027-10-01")

    assert body["version"] == "2027"
    assert body["warnings"] == ["ICD-10-CM FY2027 ended 2027-09-30; load the next release."]


def test_e11_is_a_header_with_its_children_and_notes(client: TestClient, tenant: Tenant) -> None:
    body = get(client, tenant, "/api/v1/codes/icd10cm/e11", date="2026-10-01")

    assert body["code"] == "E11"
    assert body["billable"] is False
    assert body["parent"] is None
    assert {
        "code": "E11.6",
        "title": "Type 2 diabetes mellitus with other specified complications",
    } in body["children"]
    assert {"code": "E10", "at": "E11"} in body["notes"]["excludes1"]


def test_a_code_shows_its_parent_and_inherited_excludes1_notes(
    client: TestClient, tenant: Tenant
) -> None:
    body = get(client, tenant, "/api/v1/codes/icd10cm/E11621", date="2026-10-01")

    assert body["code"] == "E11.621"
    assert body["title"] == "Type 2 diabetes mellitus with foot ulcer"
    assert body["billable"] is True
    assert body["parent"]["code"] == "E11.62"
    assert body["children"] == []
    assert {"code": "E10", "at": "E11"} in body["notes"]["excludes1"]


def test_seventh_character_rules_come_from_the_ancestor_that_defines_them(
    client: TestClient, tenant: Tenant
) -> None:
    body = get(client, tenant, "/api/v1/codes/icd10cm/S52.521", date="2026-10-01")

    assert body["needs_seventh_character"] is True
    rules = body["notes"]["seventh_characters"]
    assert {
        "character": "A",
        "meaning": "initial encounter for closed fracture",
        "at": "S52.52",
    } in rules


def test_a_code_new_in_fy2027_is_not_found_on_2026_09_30(
    client: TestClient, tenant: Tenant
) -> None:
    before = client.get(
        "/api/v1/codes/icd10cm/C78.31", params={"date": "2026-09-30"}, headers=tenant.headers()
    )
    after = get(client, tenant, "/api/v1/codes/icd10cm/C78.31", date="2026-10-01")

    assert before.status_code == 404
    assert before.headers["content-type"] == "application/problem+json"
    assert before.json()["type"].endswith("/code-not-found")
    assert "ICD-10-CM FY2026" in before.json()["detail"]
    assert after["code"] == "C78.31"


def test_validate_gives_mixed_verdicts(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/api/v1/codes/validate",
        json={
            "date": "2026-09-30",
            "codes": [
                {"system": "icd10cm", "code": "E11.621"},
                {"system": "icd10cm", "code": "E11"},
                {"system": "icd10cm", "code": "C78.31"},
                {"system": "icd10cm", "code": "T07"},
                {"system": "hcpcs", "code": "G0008"},
                {"system": "modifier", "code": "QW"},
            ],
        },
        headers=tenant.headers(Role.BILLER),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["date"] == "2026-09-30"
    verdicts = [(i["code"], i["valid"], i["reason"]) for i in body["items"]]
    assert verdicts == [
        ("E11.621", True, "ok"),
        ("E11", False, "not-billable"),
        ("C78.31", False, "unknown-code"),
        ("T07", False, "needs-seventh-character"),
        ("G0008", False, "system-not-loaded"),
        ("QW", True, "ok"),
    ]
    assert body["items"][1]["billable_codes"][0]["code"] == "E11.00"
    assert [c["code"] for c in body["items"][3]["billable_codes"]] == [
        "T07.XXXA",
        "T07.XXXD",
        "T07.XXXS",
    ]
    assert body["items"][0]["version"] == "2026"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"codes": []}, "/codes"),
        ({"codes": [{"system": "icd10cm", "code": "E11"}] * 501}, "/codes"),
        ({"date": "yesterday", "codes": [{"system": "icd10cm", "code": "E11"}]}, "/date"),
        ({"codes": [{"code": "E11"}]}, "/codes/0/system"),
    ],
)
def test_validate_refuses_bad_input_with_a_pointer(
    client: TestClient, tenant: Tenant, body: dict[str, Any], pointer: str
) -> None:
    response = client.post("/api/v1/codes/validate", json=body, headers=tenant.headers())

    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == pointer


def test_validate_without_a_date_uses_today(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/api/v1/codes/validate",
        json={"codes": [{"system": "pos", "code": "11"}]},
        headers=tenant.headers(),
    )

    assert response.status_code == 200
    assert response.json()["items"][0]["valid"] is True


def _audit_events(db: Session, organization_id: str | None) -> list[AuditEvent]:
    db.commit()  # a fresh snapshot: see what the requests committed
    query = select(AuditEvent).where(AuditEvent.organization_id == organization_id)
    return list(db.exec(query).all())


def test_code_searches_lookups_and_validations_write_no_audit_row(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    """Code sets are not patient data: these reads leave the audit trail alone."""
    get(client, tenant, "/api/v1/codes/icd10cm", q="diabetes", date="2026-10-01")
    get(client, tenant, "/api/v1/codes/icd10cm/E11.621", date="2026-10-01")
    validated = client.post(
        "/api/v1/codes/validate",
        json={"codes": [{"system": "pos", "code": "11"}]},
        headers=tenant.headers(Role.CODER),
    )
    assert validated.status_code == 200

    assert _audit_events(db, tenant.organization_id) == []


def test_a_code_search_with_an_unknown_key_is_401_and_audited(
    client: TestClient, db: Session
) -> None:
    headers = {"Authorization": "Bearer bo_" + "0" * 16 + "_nope"}
    response = client.get("/api/v1/codes/icd10cm", params={"q": "E11"}, headers=headers)

    assert response.status_code == 401
    [event] = _audit_events(db, None)
    assert (event.action, event.resource_type, event.outcome) == ("login-denied", "codes", "denied")


def test_a_revoked_key_stops_searching_codes_at_once(client: TestClient, tenant: Tenant) -> None:
    issued = client.post(
        f"/api/v1/users/{tenant.user_ids[Role.CODER]}/api-keys", json={}, headers=tenant.headers()
    )
    headers = {"Authorization": f"Bearer {issued.json()['key']}"}
    params = {"q": "E11", "date": "2026-10-01"}
    assert client.get("/api/v1/codes/icd10cm", params=params, headers=headers).status_code == 200

    revoked = client.delete(f"/api/v1/api-keys/{issued.json()['id']}", headers=tenant.headers())
    assert revoked.status_code == 204

    response = client.get("/api/v1/codes/icd10cm", params=params, headers=headers)
    assert response.status_code == 401


def _publish_versions(client: TestClient, db: Session) -> None:
    """As the served app's warmer does: the versions in memory, fresh for a minute."""
    cache = client.app.state.code_versions  # type: ignore[attr-defined]
    cache.max_age = 60.0
    cache.publish(codeset_logic.list_versions(db))
    db.rollback()  # ends the read: later reads see what the requests wrote (SQLite WAL)


def test_the_typeahead_answers_from_memory_as_from_the_database(
    client: TestClient, tenant: Tenant, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries: list[dict[str, Any]] = [
        {"q": "diabetes foot ulcer"},
        {"q": "E11.6", "limit": 3},
        {"q": ""},
    ]
    dated = [dict(p, date="2026-10-01") for p in queries]
    from_database = [get(client, tenant, "/api/v1/codes/icd10cm", **p) for p in dated]

    _publish_versions(client, db)

    def no_database(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("searched with the database")

    # The published versions and the index built above answer without a session.
    monkeypatch.setattr(codeset_logic, "search_codes", no_database)
    assert [get(client, tenant, "/api/v1/codes/icd10cm", **p) for p in dated] == from_database
    # Without a date: today in the organization's time zone, read with the key.
    undated = get(client, tenant, "/api/v1/codes/icd10cm", q="E11.621")
    assert undated["items"][0]["code"] == "E11.621"
    assert (
        undated["version"]
        == codeset_logic.in_force_of(
            "icd10cm",
            org_clock.local_date_in(org_clock.DEFAULT_TIME_ZONE, datetime.now(UTC)),
            codeset_logic.list_versions(db, "icd10cm"),
        ).version.version
    )


@pytest.fixture
def strict_client(engine: Engine, session_factory: SessionFactory, settings: Settings) -> Any:
    """Three wrong secrets block a key (tests/auth/test_failed_logins.py)."""
    strict = settings.model_copy(
        update={"login_failures_per_key": 3, "login_failures_per_address": 5}
    )
    app = create_app(strict, engine=engine, session_factory=session_factory)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_the_typeahead_refuses_from_memory_as_every_route_does(
    strict_client: TestClient, tenant: Tenant, db: Session
) -> None:
    """The quick check serves only the plain case: a revoked or blocked key, a wrong secret
    and no key get the answers (and audit rows) of the full check."""
    _publish_versions(strict_client, db)
    url, params = "/api/v1/codes/icd10cm", {"q": "E11"}
    key = tenant.keys["coder"]
    key_id = key.removeprefix("bo_").split("_")[0]
    assert strict_client.get(url, params=params, headers=tenant.headers(Role.CODER)).is_success

    missing = strict_client.get(url, params=params)
    assert (missing.status_code, missing.headers["content-type"]) == (
        401,
        "application/problem+json",
    )
    wrong = {"Authorization": f"Bearer bo_{key_id}_wrong"}
    statuses = [strict_client.get(url, params=params, headers=wrong).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    # Blocked even with the right secret, as on every other route.
    right = strict_client.get(url, params=params, headers={"Authorization": f"Bearer {key}"})
    assert right.status_code == 429
    assert int(right.headers["Retry-After"]) > 0
    db.expire_all()
    denied = db.exec(select(AuditEvent).where(AuditEvent.action == "login-denied")).all()
    assert len([e for e in denied if "wrong secret" in e.detail]) == 3


def test_the_typeahead_checks_the_key_before_its_parameters(
    client: TestClient, tenant: Tenant
) -> None:
    answer = client.get("/api/v1/codes/icd10cm", params={"limit": "0", "q": "x" * 201})
    assert answer.status_code == 401
    bad = {"Authorization": "Bearer bo_0000000000000000_nope"}
    assert client.get("/api/v1/codes/icd10cm?limit=0", headers=bad).status_code == 401
    ok = client.get("/api/v1/codes/icd10cm?limit=0", headers=tenant.headers(Role.CODER))
    assert ok.status_code == 422
