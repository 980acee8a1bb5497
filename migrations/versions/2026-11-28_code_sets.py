"""code sets: versions, entries, NCCI PTP edits, MUE limits (tables only; content is loaded by
`backoffice migrate` and `backoffice codesets import`)

Revision ID: 17f563253f9d
Revises: 2053bb03ef02
Create Date: 2026-11-28 07:05:20.566032
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import service.columns
from alembic import op


revision: str = '17f563253f9d'
down_revision: str | None = '2053bb03ef02'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('code_set_version',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('system', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('loaded_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('origin', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.CheckConstraint("origin IN ('bundled', 'imported')", name='origin'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('system', 'version')
    )
    op.create_table('code_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.String(length=32), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('billable', sa.Boolean(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('parent', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('excludes1', sa.Text(), nullable=True),
    sa.Column('seventh', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['version_id'], ['code_set_version.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('code_entry', schema=None) as batch_op:
        batch_op.create_index('ix_code_entry_version_code', ['version_id', 'code'], unique=True)

    op.create_table('mue_limit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.String(length=32), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('max_units', sa.Integer(), nullable=False),
    sa.Column('adjudication_indicator', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
    sa.Column('rationale', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['code_set_version.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('mue_limit', schema=None) as batch_op:
        batch_op.create_index('ix_mue_limit_version_code', ['version_id', 'code'], unique=True)

    op.create_table('ncci_ptp_edit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.String(length=32), nullable=False),
    sa.Column('column1', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('column2', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('deletion_date', sa.Date(), nullable=True),
    sa.Column('modifier_indicator', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['code_set_version.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ncci_ptp_edit', schema=None) as batch_op:
        batch_op.create_index('ix_ncci_ptp_edit_version_pair', ['version_id', 'column1', 'column2'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ncci_ptp_edit', schema=None) as batch_op:
        batch_op.drop_index('ix_ncci_ptp_edit_version_pair')

    op.drop_table('ncci_ptp_edit')
    with op.batch_alter_table('mue_limit', schema=None) as batch_op:
        batch_op.drop_index('ix_mue_limit_version_code')

    op.drop_table('mue_limit')
    with op.batch_alter_table('code_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_code_entry_version_code')

    op.drop_table('code_entry')

    op.drop_table('code_set_version')
