"""records: payers, providers, facilities, fee schedules, coverages, idempotency

Revision ID: 2053bb03ef02
Revises: ab433f3bc695
Create Date: 2026-11-28 07:06:50.765489
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import service.columns
from alembic import op


revision: str = '2053bb03ef02'
down_revision: str | None = 'ab433f3bc695'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('idempotency_record',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('response_body', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organization_id', 'key')
    )
    op.create_table('facility',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('npi', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('address', sa.JSON(), nullable=False),
    sa.Column('place_of_service', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('clia_number', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('facility', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_facility_organization_id'), ['organization_id'], unique=False)

    op.create_table('payer',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('edi_payer_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('claim_filing_indicator', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('address', sa.JSON(), nullable=True),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
    sa.Column('timely_filing_days', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('payer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payer_organization_id'), ['organization_id'], unique=False)

    op.create_table('provider',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('npi', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('family_name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('given_name', sqlmodel.sql.sqltypes.AutoString(length=35), nullable=True),
    sa.Column('middle_name', sqlmodel.sql.sqltypes.AutoString(length=25), nullable=True),
    sa.Column('suffix', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('organization_name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('taxonomy', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('tax_id', sqlmodel.sql.sqltypes.AutoString(length=9), nullable=True),
    sa.Column('tax_id_type', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('address', sa.JSON(), nullable=True),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organization_id', 'npi')
    )
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_organization_id'), ['organization_id'], unique=False)

    op.create_table('coverage',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('patient_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('payer_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('group_number', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
    sa.Column('priority', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('relationship', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('subscriber', sa.JSON(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.CheckConstraint("priority IN ('primary', 'secondary', 'tertiary')", name='priority'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.ForeignKeyConstraint(['payer_id'], ['payer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('coverage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coverage_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coverage_patient_id'), ['patient_id'], unique=False)

    op.create_table('fee_schedule',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('payer_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['payer_id'], ['payer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('fee_schedule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fee_schedule_organization_id'), ['organization_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('fee_schedule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fee_schedule_organization_id'))

    op.drop_table('fee_schedule')
    with op.batch_alter_table('coverage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coverage_patient_id'))
        batch_op.drop_index(batch_op.f('ix_coverage_organization_id'))

    op.drop_table('coverage')
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_organization_id'))

    op.drop_table('provider')
    with op.batch_alter_table('payer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payer_organization_id'))

    op.drop_table('payer')
    with op.batch_alter_table('facility', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_facility_organization_id'))

    op.drop_table('facility')
    op.drop_table('idempotency_record')
