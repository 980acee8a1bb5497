"""Test databases: SQLite (a fresh copy of a migrated template per test) or PostgreSQL
(BACKOFFICE_TEST_DATABASE_URL; one migrated database per xdist worker, each test in a
transaction that is rolled back, even when the code under test commits)."""

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service import migrate
from service.db import SessionFactory, make_engine, session_factory_for
from service.main import create_app
from service.settings import Settings
from tests import fhir_conformance
from tests.factories import Tenant, make_tenant

PG_URL = os.environ.get("BACKOFFICE_TEST_DATABASE_URL", "")
ON_POSTGRES = PG_URL.startswith("postgresql")

postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="needs real concurrency: PostgreSQL")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _pg_url(database: str) -> str:
    return sa.make_url(PG_URL).set(database=database).render_as_string(hide_password=False)


def create_pg_database(name: str) -> str:
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return _pg_url(name)


@pytest.fixture(scope="session")
def template_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to head once per worker."""
    if ON_POSTGRES:
        url = create_pg_database(f"bo_test_{_worker()}")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'template.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def empty_database_url(tmp_path: Path) -> str:
    """A database of its own with no tables (migration and concurrency tests commit for real)."""
    if ON_POSTGRES:
        return create_pg_database(f"bo_t_{uuid.uuid4().hex[:12]}")
    return f"sqlite:///{tmp_path / 'empty.sqlite3'}"


@pytest.fixture
def migrated_database_url(empty_database_url: str) -> str:
    engine = make_engine(empty_database_url)
    migrate.upgrade(engine)
    engine.dispose()
    return empty_database_url


@pytest.fixture(scope="session")
def pg_engine(template_url: str) -> Iterator[Engine]:
    engine = make_engine(template_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(template_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Engine]:
    if ON_POSTGRES:
        yield request.getfixturevalue("pg_engine")
        return
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(sa.make_url(template_url).database or "", path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> Iterator[SessionFactory]:
    if not ON_POSTGRES:
        yield session_factory_for(engine)
        return
    with engine.connect() as connection:
        transaction = connection.begin()

        def factory() -> Session:
            return Session(
                bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
            )

        yield factory
        transaction.rollback()


@pytest.fixture
def db(session_factory: SessionFactory) -> Iterator[Session]:
    """A session for arranging data and checking what was stored."""
    with session_factory() as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url="sqlite://", data_dir=tmp_path, max_body_bytes=64 * 1024)


@pytest.fixture
def app(settings: Settings, engine: Engine, session_factory: SessionFactory) -> FastAPI:
    return create_app(settings, engine=engine, session_factory=session_factory)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        # Every /fhir answer must be valid FHIR with no empty elements (ele-1).
        test_client.event_hooks = {"request": [], "response": [fhir_conformance.check_response]}
        yield test_client


@pytest.fixture
def tenant(db: Session) -> Tenant:
    """Organization A with one user (and key) per role."""
    return make_tenant(db, "Clinic A")


@pytest.fixture
def other_tenant(db: Session) -> Tenant:
    """Organization B: its keys must never reach A's rows."""
    return make_tenant(db, "Clinic B")


@pytest.fixture
def committing_app(migrated_database_url: str, settings: Settings) -> Iterator[FastAPI]:
    """An app on a database of its own whose requests really commit (concurrency tests)."""
    engine = make_engine(migrated_database_url)
    yield create_app(settings, engine=engine)
    engine.dispose()


@pytest.fixture
def committing_tenant(committing_app: FastAPI) -> Tenant:
    with committing_app.state.session_factory() as session:
        return make_tenant(session, "Concurrent Clinic")


# --- a database with the bundled code sets loaded (coding, claims, orders, code sets) ----------
# Defined once here: a session fixture defined in two conftests would be built twice per worker,
# and on PostgreSQL the second build would drop the database the first one is still using.


@pytest.fixture(scope="session")
def codesets_template_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    from service.codesets.loader import load_bundled
    from service.db import session_scope

    if ON_POSTGRES:
        url = create_pg_database(f"bo_codesets_{_worker()}")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('codesets') / 'codesets.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with session_scope(session_factory_for(engine)) as session:
        load_bundled(session)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def codesets_pg_engine(codesets_template_url: str) -> Iterator[Engine]:
    engine = make_engine(codesets_template_url)
    yield engine
    engine.dispose()


@pytest.fixture
def codesets_engine(
    codesets_template_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Engine]:
    """Use as `engine` in a folder's conftest: the suite's default template has no code sets."""
    if ON_POSTGRES:
        yield request.getfixturevalue("codesets_pg_engine")
        return
    path = tmp_path / "codesets.sqlite3"
    shutil.copyfile(sa.make_url(codesets_template_url).database or "", path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()
