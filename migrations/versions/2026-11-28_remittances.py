"""remittances: inbound files (999, 277CA, 835) and their chunks, acknowledgements, payments,
provider adjustments (PLB), claim and line postings, posted adjustments (CAS)

Revision ID: aad8a38320d0
Revises: 2d66de56b7ff
Create Date: 2026-11-28 07:50:01.229472
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import service.columns
from alembic import op


revision: str = "aad8a38320d0"
down_revision: str | None = "2d66de56b7ff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "remittance_file",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("organization_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("created_at", service.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("sender_id", sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False),
        sa.Column(
            "interchange_control_number", sqlmodel.sql.sqltypes.AutoString(length=9), nullable=False
        ),
        sa.Column("uploaded_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.CheckConstraint("kind IN ('999', '277CA', '835')", name="kind"),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "sha256"),
    )
    with op.batch_alter_table("remittance_file", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_remittance_file_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "acknowledgement",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("organization_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("file_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("batch_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("claim_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("st_control_number", sa.Integer(), nullable=True),
        sa.Column(
            "patient_control_number", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True
        ),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("payer_claim_number", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", service.columns.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["remittance_file.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("acknowledgement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_acknowledgement_file_id"), ["file_id"], unique=False)
        batch_op.create_index(
            "ix_acknowledgement_org_claim", ["organization_id", "claim_id"], unique=False
        )

    op.create_table(
        "remittance_file_chunk",
        sa.Column("file_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["remittance_file.id"],
        ),
        sa.PrimaryKeyConstraint("file_id", "seq"),
    )
    op.create_table(
        "remittance_payment",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("organization_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("file_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("st_control_number", sqlmodel.sql.sqltypes.AutoString(length=9), nullable=False),
        sa.Column("trace_number", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("trace_originator", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("payer_name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("payer_identifier", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("payee_npi", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("handling_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("credit_debit", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
        sa.Column("payment_method", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("paid_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("payment_date", sa.Date(), nullable=True),
        sa.Column("claim_count", sa.Integer(), nullable=False),
        sa.Column("provider_adjustment_total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["remittance_file.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("remittance_payment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_remittance_payment_file_id"), ["file_id"], unique=False
        )
        batch_op.create_index(
            "ix_remittance_payment_trace", ["organization_id", "trace_number"], unique=False
        )

    op.create_table(
        "claim_posting",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("organization_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("file_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("payment_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("claim_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column(
            "patient_control_number", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False
        ),
        sa.Column("status_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("charge", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("paid", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("patient_responsibility", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column(
            "payer_claim_number", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False
        ),
        sa.Column("filing_indicator", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("payment_date", sa.Date(), nullable=True),
        sa.Column("previous_status", sqlmodel.sql.sqltypes.AutoString(length=15), nullable=True),
        sa.Column("status_after", sqlmodel.sql.sqltypes.AutoString(length=15), nullable=True),
        sa.Column("reversed_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("reverses", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("posted_at", service.columns.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["remittance_file.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["remittance_payment.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("claim_posting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_posting_file_id"), ["file_id"], unique=False)
        batch_op.create_index(
            "ix_claim_posting_org_claim", ["organization_id", "claim_id"], unique=False
        )
        batch_op.create_index(
            "ix_claim_posting_org_unmatched", ["organization_id", "matched"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_claim_posting_payment_id"), ["payment_id"], unique=False
        )

    op.create_table(
        "provider_adjustment",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("organization_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("payment_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column(
            "provider_identifier", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False
        ),
        sa.Column("fiscal_period_end", sa.Date(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["remittance_payment.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("provider_adjustment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_provider_adjustment_payment_id"), ["payment_id"], unique=False
        )

    op.create_table(
        "line_posting",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("organization_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("claim_posting_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("claim_line_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("match_method", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column(
            "line_control_number", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True
        ),
        sa.Column("procedure_code", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("modifiers", sa.JSON(), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=True),
        sa.Column("charge", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("paid", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("units", sa.Numeric(precision=9, scale=3), nullable=True),
        sa.Column("remark_codes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_posting_id"],
            ["claim_posting.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("line_posting", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_line_posting_claim_posting_id"), ["claim_posting_id"], unique=False
        )

    op.create_table(
        "posted_adjustment",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("organization_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("claim_posting_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("line_posting_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("group_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=9, scale=3), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_posting_id"],
            ["claim_posting.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("posted_adjustment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_posted_adjustment_claim_posting_id"), ["claim_posting_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("posted_adjustment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_posted_adjustment_claim_posting_id"))

    op.drop_table("posted_adjustment")
    with op.batch_alter_table("line_posting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_line_posting_claim_posting_id"))

    op.drop_table("line_posting")
    with op.batch_alter_table("provider_adjustment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_adjustment_payment_id"))

    op.drop_table("provider_adjustment")
    with op.batch_alter_table("claim_posting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_posting_payment_id"))
        batch_op.drop_index("ix_claim_posting_org_unmatched")
        batch_op.drop_index("ix_claim_posting_org_claim")
        batch_op.drop_index(batch_op.f("ix_claim_posting_file_id"))

    op.drop_table("claim_posting")
    with op.batch_alter_table("remittance_payment", schema=None) as batch_op:
        batch_op.drop_index("ix_remittance_payment_trace")
        batch_op.drop_index(batch_op.f("ix_remittance_payment_file_id"))

    op.drop_table("remittance_payment")
    op.drop_table("remittance_file_chunk")
    with op.batch_alter_table("acknowledgement", schema=None) as batch_op:
        batch_op.drop_index("ix_acknowledgement_org_claim")
        batch_op.drop_index(batch_op.f("ix_acknowledgement_file_id"))

    op.drop_table("acknowledgement")
    with op.batch_alter_table("remittance_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_remittance_file_organization_id"))

    op.drop_table("remittance_file")
