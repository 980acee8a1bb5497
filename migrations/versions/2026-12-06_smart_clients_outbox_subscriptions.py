"""SMART Backend Services clients (used assertion jti values, access tokens by hash) and the
durable outbox: events, webhook / FHIR rest-hook subscriptions and their deliveries (issue 23).

Revision ID: 9d3e5a7c2b41
Revises: 9d3c5e7a2b16
Create Date: 2026-12-06 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import service.columns
from alembic import op


revision: str = '9d3e5a7c2b41'
down_revision: str | None = '9d3c5e7a2b16'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('smart_assertion',
    sa.Column('client_pk', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('jti', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('expires_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('client_pk', 'jti')
    )
    with op.batch_alter_table('smart_assertion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_smart_assertion_expires_at'), ['expires_at'], unique=False)

    op.create_table('outbox_event',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('event_type', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('resource_type', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('resource_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('data', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('occurred_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('fanned_out_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_event_fanned_out_at'), ['fanned_out_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_event_organization_id'), ['organization_id'], unique=False)

    op.create_table('subscription',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('events', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('criteria', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('payload', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('headers', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('disabled_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('disabled_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscription_organization_id'), ['organization_id'], unique=False)

    op.create_table('smart_client',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('scopes', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('jwks', sqlmodel.sql.sqltypes.AutoString(length=20000), nullable=True),
    sa.Column('jwks_url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('revoked_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id')
    )
    with op.batch_alter_table('smart_client', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_smart_client_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_smart_client_user_id'), ['user_id'], unique=False)

    op.create_table('subscription_delivery',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('subscription_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lease_until', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('leased_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('delivered_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['outbox_event.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscription.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('subscription_id', 'event_id')
    )
    with op.batch_alter_table('subscription_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_subscription_delivery_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscription_delivery_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscription_delivery_subscription_id'), ['subscription_id'], unique=False)

    op.create_table('smart_access_token',
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('client_pk', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('scopes', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('expires_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_pk'], ['smart_client.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('smart_access_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_smart_access_token_client_pk'), ['client_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_smart_access_token_expires_at'), ['expires_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('smart_access_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_smart_access_token_expires_at'))
        batch_op.drop_index(batch_op.f('ix_smart_access_token_client_pk'))

    op.drop_table('smart_access_token')
    with op.batch_alter_table('subscription_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscription_delivery_subscription_id'))
        batch_op.drop_index(batch_op.f('ix_subscription_delivery_organization_id'))
        batch_op.drop_index('ix_subscription_delivery_due')

    op.drop_table('subscription_delivery')
    with op.batch_alter_table('smart_client', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_smart_client_user_id'))
        batch_op.drop_index(batch_op.f('ix_smart_client_organization_id'))

    op.drop_table('smart_client')
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscription_organization_id'))

    op.drop_table('subscription')
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_event_organization_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_event_fanned_out_at'))

    op.drop_table('outbox_event')
    with op.batch_alter_table('smart_assertion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_smart_assertion_expires_at'))

    op.drop_table('smart_assertion')
