"""`backoffice users create-admin` and `backoffice audit system-log`: what the deployment's admin
does from the machine itself."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app as cli
from service.db import make_engine
from service.main import create_app
from service.settings import Settings, get_settings


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
