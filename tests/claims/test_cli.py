"""The nightly job and the clerk's validator from the command line."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.settings import get_settings
from tests.claims.x12_check import SHARED_MAPS


@pytest.fixture
def database_url(empty_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("BACKOFFICE_DATABASE_URL", empty_database_url)
    get_settings.cache_clear()
    yield empty_database_url
    get_settings.cache_clear()


def test_the_nightly_job_writes_files_that_the_validator_accepts(
    database_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    assert runner.invoke(app, ["demo"]).exit_code == 0
    out = tmp_path / "837p.x12"
    made = runner.invoke(
        app,
        [
            "claims",
            "batch",
            "--org",
            "demo",
            "--partner",
            "demo",
            "--type",
            "professional",
            "--out",
            str(out),
        ],
    )
    assert made.exit_code == 0, made.output
    assert "5 claims" in made.stdout
    checked = runner.invoke(app, ["x12", "validate", str(out)])
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.strip().endswith("valid")

    again = runner.invoke(
        app,
        [
            "claims",
            "batch",
            "--org",
            "demo",
            "--partner",
            "demo",
            "--type",
            "professional",
            "--out",
            str(tmp_path / "none.x12"),
        ],
    )
    assert again.exit_code == 0
    assert "No professional claims are ready" in again.output
    assert not (tmp_path / "none.x12").exists()

    if SHARED_MAPS.is_dir():
        dental = tmp_path / "837d.x12"
        assert (
            runner.invoke(
                app,
                [
                    "claims",
                    "batch",
                    "--org",
                    "demo",
                    "--partner",
                    "demo",
                    "--type",
                    "dental",
                    "--out",
                    str(dental),
                ],
            ).exit_code
            == 0
        )
        assert runner.invoke(app, ["x12", "validate", str(dental)]).exit_code == 0


def test_the_validator_reports_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.x12"
    broken.write_text("ISA*00*          *00*          *ZZ*A*ZZ*B*261128*1200*^*00501*1*0*T*:~")
    result = CliRunner().invoke(app, ["x12", "validate", str(broken)])
    assert result.exit_code == 1
    assert "error" in result.stdout
