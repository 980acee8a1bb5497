"""Code-set tests run on a database with the bundled sets loaded, built once per xdist worker.

The suite-wide template stays without code sets (most tests never need 300k code rows); here the
`engine` fixture is overridden: on SQLite each test gets a copy of a loaded template, on
PostgreSQL a loaded database of its own per worker, each test rolled back as usual.
"""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from service import migrate
from service.codesets.loader import load_bundled
from service.db import make_engine, session_factory_for, session_scope
from tests.conftest import ON_POSTGRES, _worker, create_pg_database


@pytest.fixture(scope="session")
def codesets_template_url(tmp_path_factory: pytest.TempPathFactory) -> str:
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
def engine(
    codesets_template_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Engine]:
    if ON_POSTGRES:
        yield request.getfixturevalue("codesets_pg_engine")
        return
    path = tmp_path / "codesets.sqlite3"
    shutil.copyfile(sa.make_url(codesets_template_url).database or "", path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()
