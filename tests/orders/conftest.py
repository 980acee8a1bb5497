"""Order tests that validate ICD-10-CM reason codes need the bundled code sets loaded.

Like tests/codesets/conftest.py, but with a database of its own name, so that the two
session-scoped templates never drop each other's database on PostgreSQL.
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
def orders_codesets_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if ON_POSTGRES:
        url = create_pg_database(f"bo_orders_codesets_{_worker()}")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('orders') / 'codesets.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with session_scope(session_factory_for(engine)) as session:
        load_bundled(session)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def orders_pg_engine(orders_codesets_url: str) -> Iterator[Engine]:
    engine = make_engine(orders_codesets_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(
    orders_codesets_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Engine]:
    if ON_POSTGRES:
        yield request.getfixturevalue("orders_pg_engine")
        return
    path = tmp_path / "codesets.sqlite3"
    shutil.copyfile(sa.make_url(orders_codesets_url).database or "", path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()
