"""patient given name optional: a person with one name (US Core Patient, X12 NM104 "when the
person has a first name") is a patient too.

Revision ID: 4b8e2f6a1c9d
Revises: c3f1a9d2e7b4
Create Date: 2026-12-06 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4b8e2f6a1c9d"
down_revision: str | None = "c3f1a9d2e7b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patient") as batch:
        batch.alter_column("given_name", existing_type=sa.String(length=100), nullable=True)


def downgrade() -> None:
    # A one-name patient gets an empty given name back, as the column was before.
    op.execute(sa.text("UPDATE patient SET given_name = '' WHERE given_name IS NULL"))
    with op.batch_alter_table("patient") as batch:
        batch.alter_column("given_name", existing_type=sa.String(length=100), nullable=False)
