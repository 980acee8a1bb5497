"""person sign-in: app_user username, argon2id password hash and must-change flag; web_session

Revision ID: 7c1e5a9b3d26
Revises: f6f8eb84eec0
Create Date: 2026-12-07 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import service.columns
from alembic import op


revision: str = '7c1e5a9b3d26'
down_revision: str | None = 'f6f8eb84eec0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True))
        batch_op.add_column(sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('password_must_change', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_unique_constraint('uq_app_user_username', ['username'])

    op.create_table('web_session',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('csrf_token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('last_seen_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('client_address', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name='fk_web_session_organization_id_organization'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name='fk_web_session_user_id_app_user'),
    sa.PrimaryKeyConstraint('id', name='pk_web_session'),
    sa.UniqueConstraint('token_hash', name='uq_web_session_token_hash')
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index('ix_web_session_organization_id', ['organization_id'], unique=False)
        batch_op.create_index('ix_web_session_user_id', ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index('ix_web_session_user_id')
        batch_op.drop_index('ix_web_session_organization_id')
    op.drop_table('web_session')

    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_constraint('uq_app_user_username', type_='unique')
        batch_op.drop_column('password_must_change')
        batch_op.drop_column('password_hash')
        batch_op.drop_column('username')
