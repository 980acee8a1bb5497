"""The `backoffice` command line: migrate and init, as `make run` uses them."""

from collections.abc import Iterator

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from service import migrate as migrations
from service.auth import logic as auth_logic
from service.cli import app
from service.db import make_engine
from service.settings import get_settings


@pytest.fixture
def database_url(empty_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("BACKOFFICE_DATABASE_URL", empty_database_url)
    get_settings.cache_clear()
    yield empty_database_url
    get_settings.cache_clear()


def test_migrate_then_init_prints_a_working_admin_key_on_the_last_line(database_url: str) -> None:
    runner = CliRunner()
    migrated = runner.invoke(app, ["migrate"])
    assert migrated.exit_code == 0, migrated.output
    engine = make_engine(database_url)
    assert migrations.current_revision(engine) == migrations.head_revision()

    result = runner.invoke(app, ["init", "--org", "Northside Clinic"])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    with Session(engine) as session:
        principal = auth_logic.authenticate(session, f"Bearer {key}")
    assert principal.roles == {"admin"}
    engine.dispose()


def test_init_twice_refuses_unless_told_it_may_exist(database_url: str) -> None:
    runner = CliRunner()
    runner.invoke(app, ["migrate"])
    assert runner.invoke(app, ["init", "--org", "A"]).exit_code == 0
    again = runner.invoke(app, ["init", "--org", "A"])
    assert again.exit_code == 1
    assert "bo_" not in again.stdout
    assert runner.invoke(app, ["init", "--org", "A", "--if-absent"]).exit_code == 0


def test_init_refuses_an_unknown_time_zone(database_url: str) -> None:
    runner = CliRunner()
    runner.invoke(app, ["migrate"])
    result = runner.invoke(app, ["init", "--org", "A", "--time-zone", "Mars/Olympus"])
    assert result.exit_code == 2
