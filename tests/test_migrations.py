"""Alembic is the only way the schema is made: upgrade, downgrade, and models == migrations."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import service.models  # noqa: F401
from service import migrate
from service.db import make_engine


def test_upgrade_from_empty_reaches_head_and_downgrade_base_removes_every_table(
    empty_database_url: str,
) -> None:
    engine = make_engine(empty_database_url)
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert {"organization", "app_user", "api_key", "patient"} <= set(
        sa.inspect(engine).get_table_names()
    )

    migrate.downgrade(engine, "base")
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}

    migrate.upgrade(engine)  # and back up again, as a redeploy after a rollback would
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_the_models_match_the_migrations(migrated_database_url: str) -> None:
    engine = make_engine(migrated_database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert diff == []
