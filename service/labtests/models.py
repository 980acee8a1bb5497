"""Table: lab_test (the catalog; protocol, components and controls are JSON documents)."""

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from service.labtests.columns import DecimalText
from service.records import SoftDeletable


class LabTest(SoftDeletable, table=True):
    __tablename__ = "lab_test"
    __table_args__ = (sa.UniqueConstraint("organization_id", "code"),)

    code: str = Field(max_length=20)
    name: str = Field(max_length=200)
    loinc: str | None = Field(default=None, max_length=10)
    billing_code: str = Field(max_length=5)  # CPT or HCPCS Level II
    billing_modifier: str | None = Field(default=None, max_length=2)  # e.g. QW (CLIA-waived)
    specimen_type: str = Field(max_length=10)  # HL7 v2 table 0487
    container: str = Field(max_length=60)
    min_volume: Decimal = Field(sa_type=DecimalText)
    volume_unit: str = Field(max_length=5)
    stability_room_temp_hours: int | None = None
    stability_refrigerated_hours: int | None = None
    bench: str = Field(max_length=40)
    protocol: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    components: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    controls: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
