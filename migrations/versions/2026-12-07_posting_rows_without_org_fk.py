"""line_posting, posted_adjustment: no foreign key of their own to organization

Their organization_id copies their claim posting's (whose own key to organization stays): the
key checked nothing the claim posting's does not, and on PostgreSQL its check ran once per row
of every 835 posted (90,000 checks on a 10,000-claim file).

Revision ID: 5e2b8c4f1a90
Revises: d0b597877bf3
Create Date: 2026-12-07 08:00:00.000000
"""

from collections.abc import Sequence

from alembic import op


revision: str = '5e2b8c4f1a90'
down_revision: str | None = 'd0b597877bf3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('line_posting', 'posted_adjustment')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f(f'fk_{table}_organization_id_organization'), type_='foreignkey'
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(
                batch_op.f(f'fk_{table}_organization_id_organization'),
                'organization',
                ['organization_id'],
                ['id'],
            )
