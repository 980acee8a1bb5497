"""Failed-login throttle counters; TRUNCATE refused on the audit and custody tables.

Revision ID: 7c41d2e9a0b3
Revises: 659d9d91ecab
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import service.columns

revision: str = "7c41d2e9a0b3"
down_revision: str | None = "659d9d91ecab"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Append-only tables: row triggers refuse UPDATE and DELETE already; TRUNCATE skips row triggers
# (and binds no superuser through privileges), so a statement trigger refuses it too.
APPEND_ONLY = ("audit_event", "specimen_event")


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", service.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", service.columns.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_login_throttle")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION refuse_truncate() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: TRUNCATE is refused', TG_TABLE_NAME;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION refuse_truncate()")
    op.drop_table("login_throttle")
