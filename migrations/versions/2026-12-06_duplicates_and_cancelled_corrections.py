"""duplicate claims and cancelled corrections: a service line (and the claim line copied from
it) says the clerk acknowledged it repeats a service on another claim, and carries the 2410
REF*VY link sequence number of its NDC; a replacement or void claim can be cancelled (claim
status `cancelled`) so that another one can be made.

Revision ID: 5e2b8c4d7a19
Revises: 7d3c5e9a1f20
Create Date: 2026-12-06 17:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "5e2b8c4d7a19"
down_revision: str | None = "7d3c5e9a1f20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# After the remittances migration, which added forwarded.
BEFORE = "'replaced', 'voided', 'forwarded')"
AFTER = "'replaced', 'voided', 'forwarded', 'cancelled')"
LISTED = (
    "'draft', 'ready', 'batched', 'submitted', 'accepted', 'rejected', 'paid', "
    "'partially_paid', 'denied'"
)
_TABLES = ("service_line", "claim_line")


def upgrade() -> None:
    for table in _TABLES:
        # Plain ALTER TABLE ADD COLUMN: a batch rebuild of claim_line would trip over the
        # claim total triggers that name it.
        op.add_column(
            table,
            sa.Column(
                "duplicate_acknowledged", sa.Boolean(), nullable=False, server_default=sa.false()
            ),
        )
        op.add_column(
            table,
            sa.Column(
                "ndc_link_number", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True
            ),
        )
    _claim_statuses(BEFORE, AFTER)


def downgrade() -> None:
    op.execute("UPDATE claim SET status = 'draft' WHERE status = 'cancelled'")
    _claim_statuses(AFTER, BEFORE)
    for table in _TABLES:
        # Plain ALTER TABLE (SQLite 3.35+ and PostgreSQL): claim_line carries the total triggers.
        op.execute(f"ALTER TABLE {table} DROP COLUMN ndc_link_number")
        op.execute(f"ALTER TABLE {table} DROP COLUMN duplicate_acknowledged")


def _claim_statuses(old: str, new: str) -> None:
    """Widens (or narrows back) the CHECK on claim.status, as the remittances migration does:
    on SQLite the table's stored definition is edited in place (sqlite.org's procedure for
    changing CHECK constraints), since rebuilding claim would drop its triggers."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_claim_status"), "claim", type_="check")
        op.create_check_constraint(op.f("ck_claim_status"), "claim", f"status IN ({LISTED}, {new}")
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
