"""Coding tests run on a database with the bundled code sets loaded (see tests/codesets)."""

from tests.codesets.conftest import codesets_pg_engine, codesets_template_url, engine

__all__ = ["codesets_pg_engine", "codesets_template_url", "engine"]
