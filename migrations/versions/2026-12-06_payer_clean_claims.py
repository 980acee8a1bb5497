"""payer-clean claims: coverages say whether the dependant's card has its own member id;
replacement and void claims point at their original (claim statuses replaced and voided);
service and claim lines carry NDC, note, anesthesia minutes, line providers and their origin;
encounters carry the claim note, onset/accident dates, related causes and attachments.

Revision ID: 9d3c5e7a2b16
Revises: 4b8e2f6a1c9d
Create Date: 2026-12-06 13:30:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "9d3c5e7a2b16"
down_revision: str | None = "4b8e2f6a1c9d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_STATUSES = (
    "draft", "ready", "batched", "submitted", "accepted", "rejected", "paid", "partially_paid",
    "denied",
)  # fmt: skip
_NEW_STATUSES = (*_OLD_STATUSES, "replaced", "voided")

# SQLite rebuilds the claim table to change its CHECK: the line-total triggers (on claim and
# on claim_line, which names claim) are dropped first and made again afterwards.
_SQLITE_TRIGGERS = {
    **{
        f"claim_line_total_{event.lower()}": (
            f"CREATE TRIGGER claim_line_total_{event.lower()} AFTER {event} ON claim_line "
            f"BEGIN UPDATE claim SET total_charge = (SELECT COALESCE(SUM(charge), 0) "
            f"FROM claim_line WHERE claim_id = {ref}.claim_id) WHERE id = {ref}.claim_id; END"
        )
        for event, ref in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))
    },
    "claim_total_check": (
        "CREATE TRIGGER claim_total_check BEFORE UPDATE OF total_charge ON claim "
        "WHEN NEW.total_charge <> (SELECT COALESCE(SUM(charge), 0) FROM claim_line "
        "WHERE claim_id = NEW.id) "
        "BEGIN SELECT RAISE(ABORT, 'claim total_charge must equal the sum of its lines'); END"
    ),
}


def _alter_claim(statuses: tuple[str, ...], *, with_replaces: bool) -> None:
    """The claim's status CHECK, and its replaces_claim_id column, in one rebuild."""
    listed = ", ".join(f"'{s}'" for s in statuses)
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_claim_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_claim_status"), sa.text(f"status IN ({listed})"))
        if with_replaces:
            batch_op.add_column(
                sa.Column(
                    "replaces_claim_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True
                )
            )
            batch_op.create_index(
                batch_op.f("ix_claim_replaces_claim_id"), ["replaces_claim_id"], unique=False
            )
        else:
            batch_op.drop_index(batch_op.f("ix_claim_replaces_claim_id"))
            batch_op.drop_column("replaces_claim_id")
    if sqlite:
        for sql in _SQLITE_TRIGGERS.values():
            op.execute(sql)


def _line_columns(batch_op: Any) -> None:
    batch_op.add_column(sa.Column("origin", sa.JSON(), nullable=True))
    batch_op.add_column(
        sa.Column("ndc", sqlmodel.sql.sqltypes.AutoString(length=11), nullable=True)
    )
    batch_op.add_column(
        sa.Column("ndc_unit", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True)
    )
    batch_op.add_column(sa.Column("ndc_quantity", sa.Numeric(12, 3), nullable=True))
    batch_op.add_column(
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True)
    )
    batch_op.add_column(sa.Column("anesthesia_minutes", sa.Integer(), nullable=True))
    batch_op.add_column(
        sa.Column(
            "rendering_provider_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True
        )
    )
    batch_op.add_column(
        sa.Column(
            "ordering_provider_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True
        )
    )


_LINE_COLUMNS = (
    "ordering_provider_id", "rendering_provider_id", "anesthesia_minutes", "note",
    "ndc_quantity", "ndc_unit", "ndc", "origin",
)  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("coverage", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("own_member_id", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("encounter", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("claim_note", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True)
        )
        batch_op.add_column(sa.Column("onset_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("accident_date", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("related_causes", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(
            sa.Column("accident_state", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True)
        )
        batch_op.add_column(
            sa.Column("attachments", sa.JSON(), nullable=False, server_default="[]")
        )
    with op.batch_alter_table("service_line", schema=None) as batch_op:
        _line_columns(batch_op)
        batch_op.create_foreign_key(
            batch_op.f("fk_service_line_rendering_provider_id_provider"),
            "provider",
            ["rendering_provider_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_service_line_ordering_provider_id_provider"),
            "provider",
            ["ordering_provider_id"],
            ["id"],
        )
    with op.batch_alter_table("claim_line", schema=None) as batch_op:
        _line_columns(batch_op)
    _alter_claim(_NEW_STATUSES, with_replaces=True)


def downgrade() -> None:
    # Replaced and voided originals go back to the status they were answered with last.
    op.execute(
        sa.text(
            "UPDATE claim SET status = COALESCE((SELECT p.previous_status FROM payer_adjudication "
            "p WHERE p.claim_id = claim.id ORDER BY p.recorded_at DESC LIMIT 1), 'submitted') "
            "WHERE status IN ('replaced', 'voided')"
        )
    )
    _alter_claim(_OLD_STATUSES, with_replaces=False)
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:  # claim_line is rebuilt too: its triggers go and come back
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("claim_line", schema=None) as batch_op:
        for name in _LINE_COLUMNS:
            batch_op.drop_column(name)
    if sqlite:
        for sql in _SQLITE_TRIGGERS.values():
            op.execute(sql)
    with op.batch_alter_table("service_line", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_service_line_ordering_provider_id_provider"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_service_line_rendering_provider_id_provider"), type_="foreignkey"
        )
        for name in _LINE_COLUMNS:
            batch_op.drop_column(name)
    with op.batch_alter_table("encounter", schema=None) as batch_op:
        for name in (
            "attachments", "accident_state", "related_causes", "accident_date", "onset_date",
            "claim_note",
        ):  # fmt: skip
            batch_op.drop_column(name)
    with op.batch_alter_table("coverage", schema=None) as batch_op:
        batch_op.drop_column("own_member_id")
