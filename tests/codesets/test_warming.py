"""The typeahead's cached versions and the indexes built before a request needs them."""

from datetime import UTC, date, datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.auth.roles import Role
from service.codesets import logic
from service.codesets.importers import import_file
from service.codesets.warming import IndexWarmer, VersionCache, days_around
from service.db import SessionFactory
from service.main import create_app
from service.settings import Settings
from tests.codesets.test_importers import HCPCS, write
from tests.factories import Tenant

FY2027_DAY = date(2026, 10, 1)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def import_hcpcs(db: Session, tmp_path: Path) -> None:
    path = write(tmp_path, "HCPC2026_JUL_ANWEB.txt", HCPCS)
    import_file(db, "hcpcs", path, version="2026Q3", effective_from=date(2026, 7, 1))
    db.commit()


def test_the_served_app_builds_the_code_indexes_before_its_first_request(
    settings: Settings, engine: Engine, session_factory: SessionFactory, db: Session
) -> None:
    in_force = logic.version_in_force(db, "icd10cm", datetime.now(UTC).date()).version
    logic.clear_cache()
    app: FastAPI = create_app(
        settings, engine=engine, session_factory=session_factory, warm_code_indexes=True
    )

    with TestClient(app):
        assert logic.index_is_built(in_force)


def test_a_refresh_builds_the_index_of_a_new_version_before_publishing_it(
    session_factory: SessionFactory, db: Session, tmp_path: Path
) -> None:
    clock = Clock()
    cache = VersionCache(max_age=60, clock=clock)
    warmer = IndexWarmer(session_factory, cache, today=lambda: FY2027_DAY)
    assert warmer.refresh() >= 1
    import_hcpcs(db, tmp_path)

    assert cache.versions(db, "hcpcs") == []  # published before the import
    warmer.refresh()
    [hcpcs] = cache.versions(db, "hcpcs")
    assert hcpcs.version == "2026Q3"
    assert logic.index_is_built(hcpcs)


def test_a_cache_past_its_age_reads_the_versions_itself(db: Session, tmp_path: Path) -> None:
    clock = Clock()
    cache = VersionCache(max_age=60, clock=clock)
    cache.publish(logic.list_versions(db))
    import_hcpcs(db, tmp_path)

    assert cache.versions(db, "hcpcs") == []
    clock.now += 61
    assert [v.version for v in cache.versions(db, "hcpcs")] == ["2026Q3"]


def test_every_local_date_is_within_a_day_of_utc() -> None:
    assert days_around(date(2026, 10, 1)) == [
        date(2026, 9, 30),
        date(2026, 10, 1),
        date(2026, 10, 2),
    ]


def test_searches_use_the_versions_the_warmer_published(
    client: TestClient, app: FastAPI, tenant: Tenant, db: Session, tmp_path: Path
) -> None:
    cache: VersionCache = app.state.code_versions
    cache.max_age = 60
    cache.publish(logic.list_versions(db))
    import_hcpcs(db, tmp_path)
    params = {"q": "influenza", "date": "2026-10-01"}

    before = client.get("/api/v1/codes/hcpcs", params=params, headers=tenant.headers(Role.CODER))
    cache.publish(logic.list_versions(db))
    after = client.get("/api/v1/codes/hcpcs", params=params, headers=tenant.headers(Role.CODER))

    assert before.status_code == 404  # not loaded, as far as the published versions know
    assert after.status_code == 200
    assert after.json()["items"][0]["code"] == "G0008"
