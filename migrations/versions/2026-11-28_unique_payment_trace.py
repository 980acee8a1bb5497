"""unique payment trace: one remittance payment (TRN02 + TRN03) per organization, so that two
files carrying the same payment uploaded at the same instant cannot both post it

Revision ID: 5f67d4444a68
Revises: aad8a38320d0
Create Date: 2026-11-28 11:39:03.307714
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5f67d4444a68"
down_revision: str | None = "aad8a38320d0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("remittance_payment", schema=None) as batch_op:
        batch_op.create_index(
            "uq_remittance_payment_trace",
            ["organization_id", "trace_number", "trace_originator"],
            unique=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("remittance_payment", schema=None) as batch_op:
        batch_op.drop_index("uq_remittance_payment_trace")
