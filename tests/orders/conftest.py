"""Order tests validate ICD-10-CM reason codes: a database with the code sets loaded."""

import pytest
from sqlalchemy.engine import Engine


@pytest.fixture
def engine(codesets_engine: Engine) -> Engine:
    return codesets_engine
