"""Loading the bundled code sets into the database: complete, idempotent, replaced when rebuilt."""

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, func, select
from typer.testing import CliRunner

from service import migrate
from service.cli import app
from service.codesets import logic
from service.codesets.bundle import BUNDLE_DIR, load_manifest
from service.codesets.loader import load_bundled
from service.codesets.models import CodeEntry, CodeSetVersion
from service.db import make_engine, session_factory_for, session_scope
from service.settings import get_settings


def test_every_bundled_version_is_loaded_with_its_rows(db: Session) -> None:
    loaded = {(v.system, v.version): v for v in logic.list_versions(db)}

    for entry in load_manifest():
        version = loaded[(entry.set, entry.version)]
        assert version.row_count == entry.rows
        assert version.sha256 == entry.content_sha256
        assert version.origin == "bundled"
        assert (version.effective_from, version.effective_to) == (
            entry.effective_from,
            entry.effective_to,
        )
    fy2027 = loaded[("icd10cm", "2027")]
    count = db.exec(select(func.count()).where(CodeEntry.version_id == fy2027.id)).one()
    assert count == 98_403


def test_loading_again_changes_nothing(db: Session) -> None:
    before = db.exec(select(func.count()).select_from(CodeEntry)).one()

    assert load_bundled(db) == []
    assert db.exec(select(func.count()).select_from(CodeEntry)).one() == before


def _small_bundle(tmp_path: Path) -> Path:
    """A bundle of only the small sets, so that a load into an empty database is quick."""
    raw = json.loads((BUNDLE_DIR / "manifest.json").read_text())
    raw["entries"] = [e for e in raw["entries"] if e["set"] in ("pos", "modifier")]
    for entry in raw["entries"]:
        (tmp_path / entry["set"]).mkdir()
        shutil.copy(BUNDLE_DIR / entry["file"], tmp_path / entry["file"])
    (tmp_path / "manifest.json").write_text(json.dumps(raw))
    return tmp_path


def test_a_rebuilt_bundled_version_replaces_the_old_one_under_a_new_id(
    migrated_database_url: str, tmp_path: Path
) -> None:
    root = _small_bundle(tmp_path)
    engine = make_engine(migrated_database_url)
    factory = session_factory_for(engine)
    with session_scope(factory) as session:
        assert len(load_bundled(session, root)) == 2
        old_id = session.exec(select(CodeSetVersion.id).where(CodeSetVersion.system == "pos")).one()
        # Pretend the committed file was rebuilt with other content.
        session.execute(
            sa.update(CodeSetVersion)
            .where(col(CodeSetVersion.id) == old_id)
            .values(sha256="0" * 64)
        )
    with session_scope(factory) as session:
        replaced = load_bundled(session, root)
    with session_scope(factory) as session:
        versions = logic.list_versions(session, "pos")
        rows = session.exec(select(func.count()).select_from(CodeEntry)).one()
    engine.dispose()

    assert [(v.system, v.version) for v in replaced] == [("pos", "2026")]
    assert len(versions) == 1
    assert versions[0].id != old_id
    assert rows == 52 + 254


def test_backoffice_migrate_loads_the_bundle_once(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKOFFICE_DATABASE_URL", empty_database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        first = runner.invoke(app, ["migrate"])
        second = runner.invoke(app, ["migrate"])
        listed = runner.invoke(app, ["codesets", "list"])
    finally:
        get_settings.cache_clear()

    assert first.exit_code == 0, first.output
    assert "loaded 13 bundled code set versions" in first.output
    assert "loaded 0 bundled code set versions" in second.output
    assert "icd10cm                 2027      2026-10-01  2027-09-30     98403  bundled" in (
        listed.output
    )
    engine = make_engine(empty_database_url)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()
