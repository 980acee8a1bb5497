"""claims and batches

Revision ID: f1bc922b2036
Revises: 242bd46d3912
Create Date: 2026-11-28 07:24:42.754804
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import service.columns
from alembic import op


revision: str = 'f1bc922b2036'
down_revision: str | None = '242bd46d3912'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('control_counter',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('sender_id', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False),
    sa.Column('next_interchange', sa.Integer(), nullable=False),
    sa.Column('next_transaction_set', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organization_id', 'sender_id')
    )
    op.create_table('trading_partner',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('submitter_name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('submitter_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('contact_name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('contact_phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('contact_email', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('receiver_name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('receiver_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('isa_sender_qualifier', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('isa_sender_id', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False),
    sa.Column('isa_receiver_qualifier', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('isa_receiver_id', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False),
    sa.Column('gs_sender_code', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False),
    sa.Column('gs_receiver_code', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False),
    sa.Column('usage_indicator', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
    sa.Column('max_claims_per_file', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organization_id', 'name')
    )
    with op.batch_alter_table('trading_partner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trading_partner_organization_id'), ['organization_id'], unique=False)

    op.create_table('claim_batch',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('trading_partner_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('claim_type', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('usage_indicator', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('sender_id', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False),
    sa.Column('interchange_control_number', sa.Integer(), nullable=False),
    sa.Column('first_st_control_number', sa.Integer(), nullable=False),
    sa.Column('transaction_set_count', sa.Integer(), nullable=False),
    sa.Column('claim_count', sa.Integer(), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('total_charge', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('downloaded_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('submitted_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('generated', 'downloaded', 'submitted', 'acknowledged', 'partially_accepted', 'rejected', 'cancelled')", name='status'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['trading_partner_id'], ['trading_partner.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organization_id', 'sender_id', 'interchange_control_number')
    )
    with op.batch_alter_table('claim_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_batch_organization_id'), ['organization_id'], unique=False)

    op.create_table('claim',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('encounter_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('coverage_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('patient_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('payer_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('claim_type', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('payer_responsibility', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
    sa.Column('patient_control_number', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('frequency', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
    sa.Column('payer_claim_number', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False),
    sa.Column('date_of_service', sa.Date(), nullable=False),
    sa.Column('place_of_service', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('diagnoses', sa.JSON(), nullable=False),
    sa.Column('total_charge', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('scrubbed_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_submitted_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("claim_type IN ('professional', 'dental')", name='claim_type'),
    sa.CheckConstraint("frequency IN ('1', '7', '8')", name='frequency'),
    sa.CheckConstraint("status IN ('draft', 'ready', 'batched', 'submitted', 'accepted', 'rejected', 'paid', 'partially_paid', 'denied')", name='status'),
    sa.ForeignKeyConstraint(['coverage_id'], ['coverage.id'], ),
    sa.ForeignKeyConstraint(['encounter_id'], ['encounter.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.ForeignKeyConstraint(['payer_id'], ['payer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organization_id', 'patient_control_number')
    )
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_encounter_id'), ['encounter_id'], unique=False)
        batch_op.create_index('ix_claim_org_status_type', ['organization_id', 'status', 'claim_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_patient_id'), ['patient_id'], unique=False)

    op.create_table('claim_batch_chunk',
    sa.Column('batch_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['claim_batch.id'], ),
    sa.PrimaryKeyConstraint('batch_id', 'seq')
    )
    op.create_table('claim_batch_member',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('batch_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('claim_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('st_control_number', sa.Integer(), nullable=False),
    sa.Column('pending', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['claim_batch.id'], ),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('batch_id', 'claim_id')
    )
    with op.batch_alter_table('claim_batch_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_batch_member_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index('uq_claim_batch_member_pending_claim', ['claim_id'], unique=True, sqlite_where=sa.text('pending'), postgresql_where=sa.text('pending'))

    op.create_table('claim_line',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('claim_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('service_line_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('line_control_number', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
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
    sa.CheckConstraint('charge > 0', name='charge_positive'),
    sa.CheckConstraint('units > 0', name='units_positive'),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('claim_id', 'position'),
    sa.UniqueConstraint('line_control_number')
    )
    with op.batch_alter_table('claim_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_line_claim_id'), ['claim_id'], unique=False)


    # CLM02 = the sum of the lines, enforced where the rows are written: every change to a
    # claim_line recomputes its claim's total, and a total that disagrees is refused.
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            """
            CREATE FUNCTION claim_total_from_lines() RETURNS trigger AS $$
            DECLARE target varchar;
            BEGIN
                IF TG_OP = 'DELETE' THEN target := OLD.claim_id; ELSE target := NEW.claim_id; END IF;
                UPDATE claim SET total_charge =
                    (SELECT COALESCE(SUM(charge), 0) FROM claim_line WHERE claim_id = target)
                WHERE id = target;
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER claim_line_total AFTER INSERT OR UPDATE OR DELETE ON claim_line "
            "FOR EACH ROW EXECUTE FUNCTION claim_total_from_lines()"
        )
        op.execute(
            """
            CREATE FUNCTION claim_total_matches() RETURNS trigger AS $$
            BEGIN
                IF NEW.total_charge <> (SELECT COALESCE(SUM(charge), 0) FROM claim_line
                                        WHERE claim_id = NEW.id) THEN
                    RAISE EXCEPTION 'claim total_charge must equal the sum of its lines';
                END IF;
                RETURN NEW;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER claim_total_check BEFORE UPDATE OF total_charge ON claim "
            "FOR EACH ROW EXECUTE FUNCTION claim_total_matches()"
        )
    elif dialect == "sqlite":
        for event, ref in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            op.execute(
                f"CREATE TRIGGER claim_line_total_{event.lower()} AFTER {event} ON claim_line "
                f"BEGIN UPDATE claim SET total_charge = (SELECT COALESCE(SUM(charge), 0) "
                f"FROM claim_line WHERE claim_id = {ref}.claim_id) WHERE id = {ref}.claim_id; END"
            )
        op.execute(
            "CREATE TRIGGER claim_total_check BEFORE UPDATE OF total_charge ON claim "
            "WHEN NEW.total_charge <> (SELECT COALESCE(SUM(charge), 0) FROM claim_line "
            "WHERE claim_id = NEW.id) "
            "BEGIN SELECT RAISE(ABORT, 'claim total_charge must equal the sum of its lines'); END"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER claim_total_check ON claim")
        op.execute("DROP TRIGGER claim_line_total ON claim_line")
        op.execute("DROP FUNCTION claim_total_matches()")
        op.execute("DROP FUNCTION claim_total_from_lines()")
    elif dialect == "sqlite":
        for name in ("claim_total_check", "claim_line_total_insert", "claim_line_total_update",
                     "claim_line_total_delete"):
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table('claim_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_line_claim_id'))

    op.drop_table('claim_line')
    with op.batch_alter_table('claim_batch_member', schema=None) as batch_op:
        batch_op.drop_index('uq_claim_batch_member_pending_claim', sqlite_where=sa.text('pending'), postgresql_where=sa.text('pending'))
        batch_op.drop_index(batch_op.f('ix_claim_batch_member_batch_id'))

    op.drop_table('claim_batch_member')
    op.drop_table('claim_batch_chunk')
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_patient_id'))
        batch_op.drop_index(batch_op.f('ix_claim_organization_id'))
        batch_op.drop_index('ix_claim_org_status_type')
        batch_op.drop_index(batch_op.f('ix_claim_encounter_id'))

    op.drop_table('claim')
    with op.batch_alter_table('claim_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_batch_organization_id'))

    op.drop_table('claim_batch')
    with op.batch_alter_table('trading_partner', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trading_partner_organization_id'))

    op.drop_table('trading_partner')
    op.drop_table('control_counter')
