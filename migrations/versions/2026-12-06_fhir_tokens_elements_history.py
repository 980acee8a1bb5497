"""fhir tokens, elements and history: business identifiers of Encounter, ServiceRequest,
Coverage and Specimen and Encounter.type codes (searchable, so that an EHR's retries find what
they created), elements kept as sent (US Core extensions, email, given names), and the versions
FHIR clients wrote (vread, _history)

Revision ID: c3f1a9d2e7b4
Revises: 7c41d2e9a0b3
Create Date: 2026-12-06 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service.columns import UTCDateTime

revision: str = "c3f1a9d2e7b4"
down_revision: str | None = "7c41d2e9a0b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fhir_token",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("resource_type", sa.String(length=40), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("param", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("element", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_fhir_token_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_token")),
    )
    op.create_index(
        "ix_fhir_token_value", "fhir_token", ["organization_id", "resource_type", "param", "value"]
    )
    op.create_index("ix_fhir_token_resource", "fhir_token", ["resource_type", "resource_id"])
    op.create_table(
        "fhir_element",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("resource_type", sa.String(length=40), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_fhir_element_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_element")),
    )
    op.create_index(
        "uq_fhir_element", "fhir_element", ["resource_type", "resource_id", "name"], unique=True
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
    op.drop_index("uq_fhir_element", table_name="fhir_element")
    op.drop_table("fhir_element")
    op.drop_index("ix_fhir_token_resource", table_name="fhir_token")
    op.drop_index("ix_fhir_token_value", table_name="fhir_token")
    op.drop_table("fhir_token")
