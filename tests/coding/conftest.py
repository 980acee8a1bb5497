"""Coding tests run on a database with the bundled code sets loaded (see tests/conftest.py)."""

import pytest
from sqlalchemy.engine import Engine


@pytest.fixture
def engine(codesets_engine: Engine) -> Engine:
    return codesets_engine
