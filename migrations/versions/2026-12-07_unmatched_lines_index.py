"""line_posting: partial index of the unmatched lines (the billing desk's unmatched queue)

Revision ID: 4c1e7a9d2b63
Revises: 3b9d4f1a7e52
Create Date: 2026-12-07 03:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = '4c1e7a9d2b63'
down_revision: str | None = '3b9d4f1a7e52'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHERE = sa.text('claim_line_id IS NULL')


def upgrade() -> None:
    with op.batch_alter_table('line_posting', schema=None) as batch_op:
        batch_op.create_index(
            'ix_line_posting_unmatched',
            ['claim_posting_id'],
            unique=False,
            sqlite_where=WHERE,
            postgresql_where=WHERE,
        )


def downgrade() -> None:
    with op.batch_alter_table('line_posting', schema=None) as batch_op:
        batch_op.drop_index('ix_line_posting_unmatched', sqlite_where=WHERE, postgresql_where=WHERE)
