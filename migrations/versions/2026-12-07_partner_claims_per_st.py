"""trading partner: max_claims_per_transaction_set (a receiver's CLM limit per ST)

Revision ID: 3b9d4f1a7e52
Revises: 3b8d0e6f1a27
Create Date: 2026-12-07 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = '3b9d4f1a7e52'
down_revision: str | None = '3b8d0e6f1a27'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('trading_partner', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_claims_per_transaction_set', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('trading_partner', schema=None) as batch_op:
        batch_op.drop_column('max_claims_per_transaction_set')
