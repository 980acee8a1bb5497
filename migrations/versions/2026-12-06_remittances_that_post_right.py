"""remittances that post right: claim-level remark codes (MOA/MIA) on postings, the claim a
PLB references, and the claim status `forwarded` (a secondary claim the primary payer crossed
over)

Revision ID: 7d3c5e9a1f20
Revises: 9d3e5a7c2b41
Create Date: 2026-12-06 13:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "7d3c5e9a1f20"
down_revision: str | None = "9d3e5a7c2b41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# After the payer-clean claims migration, which added replaced and voided.
BEFORE = "'paid', 'partially_paid', 'denied', 'replaced', 'voided')"
AFTER = "'paid', 'partially_paid', 'denied', 'replaced', 'voided', 'forwarded')"
LISTED = "'draft', 'ready', 'batched', 'submitted', 'accepted', 'rejected'"


def upgrade() -> None:
    with op.batch_alter_table("claim_posting", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("remark_codes", sa.JSON(), nullable=False, server_default="[]")
        )
    with op.batch_alter_table("provider_adjustment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("claim_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_provider_adjustment_claim_id"), ["claim_id"], unique=False
        )
    _claim_statuses(BEFORE, AFTER)


def downgrade() -> None:
    op.execute("UPDATE claim SET status = 'draft' WHERE status = 'forwarded'")
    _claim_statuses(AFTER, BEFORE)
    with op.batch_alter_table("provider_adjustment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_adjustment_claim_id"))
        batch_op.drop_column("claim_id")
    with op.batch_alter_table("claim_posting", schema=None) as batch_op:
        batch_op.drop_column("remark_codes")


def _claim_statuses(old: str, new: str) -> None:
    """Widens (or narrows back) the CHECK on claim.status. On SQLite a CHECK cannot be altered,
    and rebuilding `claim` would fail on the rows that reference it and drop its triggers, so
    the table's stored definition is edited in place: the procedure sqlite.org documents for
    changing CHECK constraints (no row is rewritten; the schema version is bumped)."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_claim_status"), "claim", type_="check")
        op.create_check_constraint(
            op.f("ck_claim_status"), "claim", f"status IN ({LISTED}, {new}"
        )
        return
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    changed = bind.execute(
        sa.text(
            "UPDATE sqlite_master SET sql = replace(sql, :old, :new) "
            "WHERE type = 'table' AND name = 'claim'"
        ),
        {"old": old, "new": new},
    ).rowcount
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))
    assert changed == 1, "claim's CHECK on status was not where expected"
