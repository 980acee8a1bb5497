"""Database URL precedence and rewriting."""

from pathlib import Path

import pytest

from service.settings import Settings


def test_backoffice_database_url_wins_over_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/other")
    monkeypatch.setenv("BACKOFFICE_DATABASE_URL", "postgresql://u:p@db/main")
    assert Settings().effective_database_url == "postgresql+psycopg://u:p@db/main"


def test_platform_database_url_is_accepted_and_rewritten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACKOFFICE_DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/app")
    assert Settings().effective_database_url == "postgresql+psycopg://u:p@db/app"


def test_without_a_url_the_database_is_a_sqlite_file_under_the_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("BACKOFFICE_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("BACKOFFICE_DATA_DIR", str(tmp_path))
    assert Settings().effective_database_url == f"sqlite:///{tmp_path / 'backoffice.sqlite3'}"
