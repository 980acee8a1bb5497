"""claim lifecycle: payer adjudications on claim-owned rows (one per posted 835 CLP,
backfilled from the postings so far), and the coding version a claim was built from

Revision ID: 659d9d91ecab
Revises: 5f67d4444a68
Create Date: 2026-12-06 10:20:04.652439
"""

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

import service.columns

revision: str = "659d9d91ecab"
down_revision: str | None = "5f67d4444a68"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAGE = 500


def upgrade() -> None:
    op.create_table(
        "payer_adjudication",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("organization_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("claim_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("status_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("charge", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("paid", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column(
            "payer_claim_number", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False
        ),
        sa.Column("payment_date", sa.Date(), nullable=True),
        sa.Column("previous_status", sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False),
        sa.Column("adjustments", sa.JSON(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("recorded_at", service.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cleared_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id"),
    )
    with op.batch_alter_table("payer_adjudication", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payer_adjudication_claim", ["claim_id", "cleared_by"], unique=False
        )

    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("coding_version", sa.Integer(), nullable=False, server_default="0")
        )

    with op.batch_alter_table("encounter", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("coding_version", sa.Integer(), nullable=False, server_default="0")
        )
    _backfill()


def _money(value: Any) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def _quantity(value: Any) -> str | None:
    return None if value is None else str(Decimal(value))


def _backfill() -> None:
    """One payer_adjudication per 835 posting matched to a claim so far (reversals clear the
    one they undid), so that secondary claims find what remittance posted before."""
    bind = op.get_bind()
    target = sa.table(
        "payer_adjudication",
        *(sa.column(name) for name in (
            "id", "organization_id", "claim_id", "source_id", "status_code", "charge", "paid",
            "payer_claim_number", "payment_date", "previous_status", "recorded_at", "cleared_by",
        )),
        sa.column("adjustments", sa.JSON),
        sa.column("lines", sa.JSON),
    )  # fmt: skip
    last = ""
    while True:
        postings = bind.execute(
            sa.text(
                "SELECT id, organization_id, claim_id, status_code, charge, paid, "
                "payer_claim_number, payment_date, previous_status, posted_at, reversed_by "
                "FROM claim_posting WHERE claim_id IS NOT NULL AND reverses IS NULL "
                "AND status_code <> '22' AND id > :last ORDER BY id LIMIT :page"
            ),
            {"last": last, "page": PAGE},
        ).all()
        if not postings:
            return
        last = postings[-1].id
        ids = [p.id for p in postings]
        adjustments: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
        for a in bind.execute(
            sa.text(
                "SELECT claim_posting_id, line_posting_id, group_code, reason, amount, quantity "
                "FROM posted_adjustment WHERE claim_posting_id IN :ids ORDER BY id"
            ).bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": ids},
        ):
            adjustments.setdefault((a.claim_posting_id, a.line_posting_id), []).append(
                {
                    "group": a.group_code,
                    "reason": a.reason,
                    "amount": _money(a.amount),
                    "quantity": _quantity(a.quantity),
                }
            )
        lines: dict[str, list[dict[str, Any]]] = {}
        for line in bind.execute(
            sa.text(
                "SELECT id, claim_posting_id, claim_line_id, procedure_code, modifiers, paid, "
                "units FROM line_posting WHERE claim_posting_id IN :ids "
                "AND claim_line_id IS NOT NULL ORDER BY id"
            ).bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": ids},
        ):
            modifiers = line.modifiers
            if isinstance(modifiers, str):  # a text query hands SQLite's JSON back as text
                modifiers = json.loads(modifiers)
            lines.setdefault(line.claim_posting_id, []).append(
                {
                    "claim_line_id": line.claim_line_id,
                    "procedure_code": line.procedure_code,
                    "modifiers": list(modifiers or []),
                    "paid": _money(line.paid),
                    "units": _quantity(line.units),
                    "adjustments": adjustments.get((line.claim_posting_id, line.id), []),
                }
            )
        bind.execute(
            sa.insert(target),
            [
                {
                    "id": p.id,
                    "organization_id": p.organization_id,
                    "claim_id": p.claim_id,
                    "source_id": p.id,
                    "status_code": p.status_code,
                    "charge": p.charge,
                    "paid": p.paid,
                    "payer_claim_number": p.payer_claim_number,
                    "payment_date": p.payment_date,
                    "previous_status": p.previous_status or "submitted",
                    "recorded_at": p.posted_at,
                    "cleared_by": p.reversed_by,
                    "adjustments": adjustments.get((p.id, None), []),
                    "lines": lines.get(p.id, []),
                }
                for p in postings
            ],
        )


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+ and PostgreSQL): a batch rebuild of claim would trip
    # over the claim_line triggers that name it.
    op.execute("ALTER TABLE encounter DROP COLUMN coding_version")
    op.execute("ALTER TABLE claim DROP COLUMN coding_version")
    with op.batch_alter_table("payer_adjudication", schema=None) as batch_op:
        batch_op.drop_index("ix_payer_adjudication_claim")
    op.drop_table("payer_adjudication")
