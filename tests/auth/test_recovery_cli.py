"""`backoffice users create-admin` and `reset-two-step`, and `backoffice audit system-log`: what
the deployment's admin does from the machine itself."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

from service import secret_box
from service.audit.models import AuditEvent
from service.auth.models import AppUser
from service.cli import app as cli
from service.db import make_engine, session_factory_for
from service.main import create_app
from service.settings import Settings, get_settings
from tests.factories import make_tenant


@pytest.fixture
def database_url(migrated_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("BACKOFFICE_DATABASE_URL", migrated_database_url)
    get_settings.cache_clear()
    yield migrated_database_url
    get_settings.cache_clear()


def test_create_admin_prints_a_working_key_for_a_locked_out_organization(
    database_url: str,
) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--org", "Lonely Clinic"]).exit_code == 0
    result = runner.invoke(cli, ["users", "create-admin", "--org", "Lonely Clinic"])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    engine = make_engine(database_url)
    try:
        app = create_app(Settings(database_url=database_url), engine=engine)
        with TestClient(app) as client:
            users = client.get("/api/v1/users", headers={"Authorization": f"Bearer {key}"})
            assert users.status_code == 200
            assert len(users.json()["items"]) == 2
            created = client.get(
                "/api/v1/audit-events?resource_type=user",
                headers={"Authorization": f"Bearer {key}"},
            ).json()["items"]
            assert any("create-admin" in e["detail"] for e in created)
    finally:
        engine.dispose()


def test_create_admin_for_an_unknown_organization_fails(database_url: str) -> None:
    result = CliRunner().invoke(cli, ["users", "create-admin", "--org", "Nowhere"])
    assert result.exit_code == 1


def test_the_system_log_shows_refused_keys_that_name_no_organization(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        app = create_app(Settings(database_url=database_url), engine=engine)
        with TestClient(app, raise_server_exceptions=False) as client:
            response = client.get(
                "/api/v1/patients",
                headers={"Authorization": "Bearer bo_feedfeedfeedfeed_x", "X-Request-ID": "r-1"},
            )
            assert response.status_code == 401
    finally:
        engine.dispose()
    result = CliRunner().invoke(cli, ["audit", "system-log"])
    assert result.exit_code == 0, result.output
    [line] = result.stdout.strip().splitlines()
    assert "login-denied denied" in line
    assert "request_id=r-1" in line
    assert "feedfeedfeedfeed" in line


def test_reset_two_step_lets_a_person_locked_out_by_a_lost_key_sign_in_again(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        with session_factory_for(engine)() as session:
            tenant = make_tenant(session, "Lost Key Clinic")
            admin = session.get(AppUser, tenant.user_ids["admin"])
            assert admin is not None
            admin.username = "locked-admin"
            # Sealed under a key nobody has any more.
            lost = secret_box.box_of(secret_box.new_key(), "a lost key")
            admin.totp_secret = lost.seal("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
            admin.totp_enabled_at = datetime.now(UTC)
            admin.totp_last_step = 1
            session.add(admin)
            session.commit()
        runner = CliRunner()
        result = runner.invoke(cli, ["users", "reset-two-step", "--username", "Locked-Admin"])
        assert result.exit_code == 0, result.output
        assert admin.id in result.stdout
        with session_factory_for(engine)() as session:
            reset = session.get(AppUser, admin.id)
            assert reset is not None
            assert (reset.totp_secret, reset.totp_enabled_at, reset.totp_last_step) == (
                None,
                None,
                None,
            )
            [event] = session.exec(
                select(AuditEvent).where(
                    AuditEvent.resource_id == admin.id, AuditEvent.role == "system"
                )
            ).all()
            assert event.detail.endswith("by backoffice users reset-two-step")
        unknown = runner.invoke(cli, ["users", "reset-two-step", "--username", "nobody"])
        assert unknown.exit_code == 1
    finally:
        engine.dispose()
