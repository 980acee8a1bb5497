"""patient money: the append-only patient ledger (ledger_entry), the denial work queue
(denial_item), patient statements and statement runs with their stored files

Revision ID: f6f8eb84eec0
Revises: 5e2b8c4d7a19
Create Date: 2026-12-06 17:07:12.984319
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import service.columns
from alembic import op


revision: str = 'f6f8eb84eec0'
down_revision: str | None = '5e2b8c4d7a19'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('statement_file_chunk',
    sa.Column('file_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('file_id', 'seq')
    )
    op.create_table('statement_run',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('run_date', sa.Date(), nullable=False),
    sa.Column('threshold', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('quiet_days', sa.Integer(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('statement_count', sa.Integer(), nullable=False),
    sa.Column('total_due', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('csv_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('csv_size', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organization_id', 'run_date', 'threshold', 'quiet_days')
    )
    with op.batch_alter_table('statement_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_run_organization_id'), ['organization_id'], unique=False)

    op.create_table('denial_item',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('claim_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('claim_line_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('claim_posting_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('line_posting_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('patient_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('encounter_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('payer_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('group_code', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('remark_codes', sa.JSON(), nullable=False),
    sa.Column('procedure_code', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=True),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('denied_date', sa.Date(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('owner_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('follow_up_date', sa.Date(), nullable=True),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('history', sa.JSON(), nullable=False),
    sa.Column('write_off_entry_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.CheckConstraint("status IN ('open', 'in_progress', 'resubmitted', 'appealed', 'written_off', 'closed')", name='status'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('denial_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_denial_item_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_denial_item_claim_posting_id'), ['claim_posting_id'], unique=False)
        batch_op.create_index('ix_denial_item_org_status', ['organization_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_denial_item_organization_id'), ['organization_id'], unique=False)

    op.create_table('ledger_entry',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('patient_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('encounter_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('claim_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('claim_line_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('payer_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('insurance_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('patient_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('claim_posting_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('remittance_payment_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('reverses_entry_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('charge', 'insurance_payment', 'insurance_adjustment', 'transfer', 'patient_payment', 'credit_applied', 'refund', 'adjustment', 'write_off', 'reversal')", name='kind'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entry_claim_posting', ['claim_posting_id'], unique=False)
        batch_op.create_index('ix_ledger_entry_org_date', ['organization_id', 'entry_date'], unique=False)
        batch_op.create_index('ix_ledger_entry_org_encounter', ['organization_id', 'encounter_id'], unique=False)
        batch_op.create_index('ix_ledger_entry_org_patient', ['organization_id', 'patient_id'], unique=False)
        batch_op.create_index('uq_ledger_entry_reverses', ['reverses_entry_id'], unique=True)

    op.create_table('statement',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('patient_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('run_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('statement_date', sa.Date(), nullable=False),
    sa.Column('amount_due', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('insurance_pending', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('credit', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('pdf_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('pdf_size', sa.Integer(), nullable=False),
    sa.Column('csv_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('csv_size', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('statement', schema=None) as batch_op:
        batch_op.create_index('ix_statement_org_patient', ['organization_id', 'patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_run_id'), ['run_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('statement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_run_id'))
        batch_op.drop_index(batch_op.f('ix_statement_organization_id'))
        batch_op.drop_index('ix_statement_org_patient')

    op.drop_table('statement')
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_index('uq_ledger_entry_reverses')
        batch_op.drop_index('ix_ledger_entry_org_patient')
        batch_op.drop_index('ix_ledger_entry_org_encounter')
        batch_op.drop_index('ix_ledger_entry_org_date')
        batch_op.drop_index('ix_ledger_entry_claim_posting')

    op.drop_table('ledger_entry')
    with op.batch_alter_table('denial_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_denial_item_organization_id'))
        batch_op.drop_index('ix_denial_item_org_status')
        batch_op.drop_index(batch_op.f('ix_denial_item_claim_posting_id'))
        batch_op.drop_index(batch_op.f('ix_denial_item_claim_id'))

    op.drop_table('denial_item')
    with op.batch_alter_table('statement_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_run_organization_id'))

    op.drop_table('statement_run')
    op.drop_table('statement_file_chunk')
