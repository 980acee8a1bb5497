"""Reference tests code encounters up to a claim: the bundled code sets are loaded."""

import pytest
from sqlalchemy.engine import Engine


@pytest.fixture
def engine(codesets_engine: Engine) -> Engine:
    return codesets_engine
