"""lab: test catalog, orders, specimens (accession counter, tests, custody events), worklists,
control results, results

Revision ID: 2d66de56b7ff
Revises: f1bc922b2036
Create Date: 2026-11-28 07:19:35.615743
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import service.columns
import service.labtests.columns
from alembic import op


revision: str = '2d66de56b7ff'
down_revision: str | None = 'f1bc922b2036'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('accession_counter',
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('organization_id', 'year')
    )
    op.create_table('lab_test',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('loinc', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('billing_code', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('billing_modifier', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
    sa.Column('specimen_type', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('container', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('min_volume', service.labtests.columns.DecimalText(length=40), nullable=False),
    sa.Column('volume_unit', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('stability_room_temp_hours', sa.Integer(), nullable=True),
    sa.Column('stability_refrigerated_hours', sa.Integer(), nullable=True),
    sa.Column('bench', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('protocol', sa.JSON(), nullable=False),
    sa.Column('components', sa.JSON(), nullable=False),
    sa.Column('controls', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organization_id', 'code')
    )
    with op.batch_alter_table('lab_test', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lab_test_organization_id'), ['organization_id'], unique=False)

    op.create_table('worklist_template',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('bench', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('instrument', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('test_ids', sa.JSON(), nullable=False),
    sa.Column('layout', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.JSON(), nullable=False),
    sa.CheckConstraint("layout IN ('rack', 'plate96')", name='layout'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('worklist_template', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_worklist_template_organization_id'), ['organization_id'], unique=False)

    op.create_table('lab_order',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('patient_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('ordering_provider_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('test_ids', sa.JSON(), nullable=False),
    sa.Column('priority', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('reason_codes', sa.JSON(), nullable=False),
    sa.Column('encounter_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.CheckConstraint("priority IN ('routine', 'stat')", name='priority'),
    sa.CheckConstraint("status IN ('active', 'completed', 'cancelled')", name='status'),
    sa.ForeignKeyConstraint(['ordering_provider_id'], ['provider.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('lab_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lab_order_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lab_order_patient_id'), ['patient_id'], unique=False)

    op.create_table('worklist',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('template_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('bench', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('instrument', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('test_ids', sa.JSON(), nullable=False),
    sa.Column('layout', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.JSON(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('built_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('completed_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open', 'in_progress', 'completed')", name='status'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['template_id'], ['worklist_template.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('worklist', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_worklist_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_worklist_status'), ['status'], unique=False)

    op.create_table('control_result',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('worklist_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('lab_test_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('material', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('component_code', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('value', service.labtests.columns.DecimalText(length=40), nullable=False),
    sa.Column('low', service.labtests.columns.DecimalText(length=40), nullable=False),
    sa.Column('high', service.labtests.columns.DecimalText(length=40), nullable=False),
    sa.Column('in_range', sa.Boolean(), nullable=False),
    sa.Column('entered_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('entered_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('accepted_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('accept_note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.ForeignKeyConstraint(['lab_test_id'], ['lab_test.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['worklist_id'], ['worklist.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('control_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_control_result_worklist_id'), ['worklist_id'], unique=False)

    op.create_table('specimen',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('accession', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('order_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('patient_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('parent_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('recollection_of_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('specimen_type', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('container', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('priority', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('volume', service.labtests.columns.DecimalText(length=40), nullable=True),
    sa.Column('volume_unit', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
    sa.Column('location', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('temperature', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('condition', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('collected_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('collected_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('received_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('ready_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('verified_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rejection_reason', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('label_prints', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('primary', 'aliquot', 'block', 'slide')", name='kind'),
    sa.CheckConstraint("status IN ('ordered', 'collected', 'received', 'in_preparation', 'ready', 'in_analysis', 'resulted', 'verified', 'stored', 'disposed', 'rejected')", name='status'),
    sa.ForeignKeyConstraint(['order_id'], ['lab_order.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['parent_id'], ['specimen.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.ForeignKeyConstraint(['recollection_of_id'], ['specimen.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organization_id', 'accession')
    )
    with op.batch_alter_table('specimen', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_specimen_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_specimen_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_specimen_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_specimen_patient_id'), ['patient_id'], unique=False)

    op.create_table('specimen_event',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('specimen_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('event', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('location', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
    sa.Column('deviation', sa.Boolean(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['specimen_id'], ['specimen.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('specimen_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_specimen_event_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index('ix_specimen_event_specimen_at', ['specimen_id', 'at'], unique=False)

    op.create_table('specimen_test',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('specimen_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('lab_test_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'resulted', 'verified', 'cancelled')", name='status'),
    sa.ForeignKeyConstraint(['lab_test_id'], ['lab_test.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['specimen_id'], ['specimen.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('specimen_id', 'lab_test_id')
    )
    with op.batch_alter_table('specimen_test', schema=None) as batch_op:
        batch_op.create_index('ix_specimen_test_org_status', ['organization_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_specimen_test_specimen_id'), ['specimen_id'], unique=False)

    op.create_table('result',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('specimen_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('specimen_test_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('lab_test_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('patient_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('worklist_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('component_code', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('component_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('ref_low', service.labtests.columns.DecimalText(length=40), nullable=True),
    sa.Column('ref_high', service.labtests.columns.DecimalText(length=40), nullable=True),
    sa.Column('critical_low', service.labtests.columns.DecimalText(length=40), nullable=True),
    sa.Column('critical_high', service.labtests.columns.DecimalText(length=40), nullable=True),
    sa.Column('flag', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
    sa.Column('critical', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('current_key', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('supersedes_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('correction_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('entered_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('entered_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('verified_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('verified_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notified_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('notified_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('notified_at', service.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notification_note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.CheckConstraint("status IN ('preliminary', 'final', 'corrected')", name='status'),
    sa.ForeignKeyConstraint(['lab_test_id'], ['lab_test.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.ForeignKeyConstraint(['specimen_id'], ['specimen.id'], ),
    sa.ForeignKeyConstraint(['specimen_test_id'], ['specimen_test.id'], ),
    sa.ForeignKeyConstraint(['supersedes_id'], ['result.id'], ),
    sa.ForeignKeyConstraint(['worklist_id'], ['worklist.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('current_key')
    )
    with op.batch_alter_table('result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_result_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_result_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_result_specimen_id'), ['specimen_id'], unique=False)
        batch_op.create_index('ix_result_specimen_test_component', ['specimen_test_id', 'component_code'], unique=False)

    op.create_table('worklist_item',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('worklist_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('position', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('specimen_test_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('specimen_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('lab_test_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('active_specimen_test_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('added_at', service.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['lab_test_id'], ['lab_test.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['specimen_id'], ['specimen.id'], ),
    sa.ForeignKeyConstraint(['specimen_test_id'], ['specimen_test.id'], ),
    sa.ForeignKeyConstraint(['worklist_id'], ['worklist.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('active_specimen_test_id'),
    sa.UniqueConstraint('worklist_id', 'position')
    )
    with op.batch_alter_table('worklist_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_worklist_item_specimen_test_id'), ['specimen_test_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_worklist_item_worklist_id'), ['worklist_id'], unique=False)


    # The chain of custody is append-only: the database refuses UPDATE and DELETE.
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER specimen_event_no_{event.lower()} BEFORE {event} "
                "ON specimen_event BEGIN SELECT RAISE(ABORT, 'specimen_event is append-only'); END"
            )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION specimen_event_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'specimen_event is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER specimen_event_append_only BEFORE UPDATE OR DELETE ON specimen_event "
            "FOR EACH ROW EXECUTE FUNCTION specimen_event_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER specimen_event_no_update")
        op.execute("DROP TRIGGER specimen_event_no_delete")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER specimen_event_append_only ON specimen_event")
        op.execute("DROP FUNCTION specimen_event_append_only()")
    with op.batch_alter_table('worklist_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_worklist_item_worklist_id'))
        batch_op.drop_index(batch_op.f('ix_worklist_item_specimen_test_id'))

    op.drop_table('worklist_item')
    with op.batch_alter_table('result', schema=None) as batch_op:
        batch_op.drop_index('ix_result_specimen_test_component')
        batch_op.drop_index(batch_op.f('ix_result_specimen_id'))
        batch_op.drop_index(batch_op.f('ix_result_patient_id'))
        batch_op.drop_index(batch_op.f('ix_result_organization_id'))

    op.drop_table('result')
    with op.batch_alter_table('specimen_test', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_specimen_test_specimen_id'))
        batch_op.drop_index('ix_specimen_test_org_status')

    op.drop_table('specimen_test')
    with op.batch_alter_table('specimen_event', schema=None) as batch_op:
        batch_op.drop_index('ix_specimen_event_specimen_at')
        batch_op.drop_index(batch_op.f('ix_specimen_event_organization_id'))

    op.drop_table('specimen_event')
    with op.batch_alter_table('specimen', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_specimen_patient_id'))
        batch_op.drop_index(batch_op.f('ix_specimen_parent_id'))
        batch_op.drop_index(batch_op.f('ix_specimen_organization_id'))
        batch_op.drop_index(batch_op.f('ix_specimen_order_id'))

    op.drop_table('specimen')
    with op.batch_alter_table('control_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_control_result_worklist_id'))

    op.drop_table('control_result')
    with op.batch_alter_table('worklist', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_worklist_status'))
        batch_op.drop_index(batch_op.f('ix_worklist_organization_id'))

    op.drop_table('worklist')
    with op.batch_alter_table('lab_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lab_order_patient_id'))
        batch_op.drop_index(batch_op.f('ix_lab_order_organization_id'))

    op.drop_table('lab_order')
    with op.batch_alter_table('worklist_template', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_worklist_template_organization_id'))

    op.drop_table('worklist_template')
    with op.batch_alter_table('lab_test', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lab_test_organization_id'))

    op.drop_table('lab_test')
    op.drop_table('accession_counter')
