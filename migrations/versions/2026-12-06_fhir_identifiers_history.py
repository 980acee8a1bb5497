"""fhir identifiers and history: business identifiers of Encounter, ServiceRequest, Coverage
and Specimen (searchable, so that an EHR's retries find what they created), and the versions
FHIR clients wrote (vread, _history)

Revision ID: c3f1a9d2e7b4
Revises: 5f67d4444a68
Create Date: 2026-12-06 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service.columns import UTCDateTime

revision: str = "c3f1a9d2e7b4"
down_revision: str | None = "5f67d4444a68"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fhir_identifier",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("resource_type", sa.String(length=40), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("element", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_fhir_identifier_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_identifier")),
    )
    op.create_index(
        "ix_fhir_identifier_value",
        "fhir_identifier",
        ["organization_id", "resource_type", "value"],
    )
    op.create_index(
        "ix_fhir_identifier_resource", "fhir_identifier", ["resource_type", "resource_id"]
    )
    op.create_table(
        "fhir_resource_version",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("resource_type", sa.String(length=40), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=6), nullable=False),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_fhir_resource_version_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_resource_version")),
    )
    op.create_index(
        "uq_fhir_resource_version",
        "fhir_resource_version",
        ["resource_type", "resource_id", "version"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_fhir_resource_version", table_name="fhir_resource_version")
    op.drop_table("fhir_resource_version")
    op.drop_index("ix_fhir_identifier_resource", table_name="fhir_identifier")
    op.drop_index("ix_fhir_identifier_value", table_name="fhir_identifier")
    op.drop_table("fhir_identifier")
