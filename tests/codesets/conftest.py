"""Code-set tests run on a database with the bundled sets loaded (tests/conftest.py builds it
once per worker; most of the suite never needs its 300k code rows)."""

import pytest
from sqlalchemy.engine import Engine


@pytest.fixture
def engine(codesets_engine: Engine) -> Engine:
    return codesets_engine
