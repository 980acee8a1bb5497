"""Remittance tests run on the demo organization (code sets loaded), like the claims tests."""

import pytest
from sqlalchemy.engine import Engine

from tests.claims.conftest import Demo, demo_org

__all__ = ["Demo", "demo_org"]


@pytest.fixture
def engine(codesets_engine: Engine) -> Engine:
    return codesets_engine
