"""encounters and coding

Revision ID: 242bd46d3912
Revises: 17f563253f9d
Create Date: 2026-11-28 07:13:52.496451
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import service.columns
from alembic import op


revision: str = '242bd46d3912'
down_revision: str | None = '17f563253f9d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('encounter',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('patient_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('date_of_service', sa.Date(), nullable=False),
    sa.Column('place_of_service', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('billing_provider_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('rendering_provider_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('referring_provider_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('facility_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('coverage_ids', sa.JSON(), nullable=False),
    sa.Column('prior_authorization', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
    sa.Column('referral_number', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('diagnoses', sa.JSON(), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.CheckConstraint("kind IN ('medical', 'dental')", name='kind'),
    sa.CheckConstraint("status IN ('open', 'coded', 'ready', 'billed')", name='status'),
    sa.ForeignKeyConstraint(['billing_provider_id'], ['provider.id'], ),
    sa.ForeignKeyConstraint(['facility_id'], ['facility.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.ForeignKeyConstraint(['referring_provider_id'], ['provider.id'], ),
    sa.ForeignKeyConstraint(['rendering_provider_id'], ['provider.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('encounter', schema=None) as batch_op:
        batch_op.create_index('ix_encounter_org_status', ['organization_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_encounter_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_encounter_patient_id'), ['patient_id'], unique=False)

    op.create_table('service_line',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('encounter_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('code_system', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('modifiers', sa.JSON(), nullable=False),
    sa.Column('units', sa.Numeric(precision=9, scale=3), nullable=False),
    sa.Column('charge', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('service_date', sa.Date(), nullable=False),
    sa.Column('pointers', sa.JSON(), nullable=False),
    sa.Column('tooth', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
    sa.Column('surfaces', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
    sa.Column('oral_area', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
    sa.Column('prosthesis', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.CheckConstraint('charge > 0', name='charge_positive'),
    sa.CheckConstraint('units > 0', name='units_positive'),
    sa.ForeignKeyConstraint(['encounter_id'], ['encounter.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('encounter_id', 'position')
    )
    with op.batch_alter_table('service_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_line_encounter_id'), ['encounter_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('service_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_line_encounter_id'))

    op.drop_table('service_line')
    with op.batch_alter_table('encounter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_encounter_patient_id'))
        batch_op.drop_index(batch_op.f('ix_encounter_organization_id'))
        batch_op.drop_index('ix_encounter_org_status')

    op.drop_table('encounter')
