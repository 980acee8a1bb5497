"""admin two-step sign-in: app_user TOTP secret, enabled time and last used step; web_session awaiting_code; claim work-queue index (organization, status, id)

Revision ID: 3b8d0e6f1a27
Revises: 7c1e5a9b3d26
Create Date: 2026-12-07 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import service.columns
from alembic import op


revision: str = '3b8d0e6f1a27'
down_revision: str | None = '7c1e5a9b3d26'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled_at', service.columns.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))

    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('awaiting_code', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.create_index('ix_claim_org_status_id', ['organization_id', 'status', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index('ix_claim_org_status_id')

    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_column('awaiting_code')

    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled_at')
        batch_op.drop_column('totp_secret')
