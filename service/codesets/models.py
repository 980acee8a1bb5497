"""Tables: code_set_version, code_entry, ncci_ptp_edit, mue_limit (global, read-only code sets)."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.columns import UTCDateTime
from service.ids import new_id
from service.records import utcnow

ORIGINS = ("bundled", "imported")


class CodeSetVersion(SQLModel, table=True):
    """One version of one code system. Not tenant-owned: every organization reads the same sets.

    A version's rows never change once loaded (the in-process index cache relies on that);
    only `effective_to` may be set later, when the next version is imported.
    """

    __tablename__ = "code_set_version"
    __table_args__ = (
        # Also the backstop when two replicas load the same bundled version at once.
        sa.UniqueConstraint("system", "version"),
        sa.CheckConstraint("origin IN ('bundled', 'imported')", name="origin"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    system: str = Field(max_length=40)
    version: str = Field(max_length=40)
    effective_from: date
    effective_to: date | None = None
    source: str = Field(max_length=1000)
    # Of the content as loaded (bundled: the manifest's content_sha256; imported: the file).
    sha256: str = Field(max_length=64)
    row_count: int
    loaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    origin: str = Field(max_length=10)


class CodeEntry(SQLModel, table=True):
    """One code of one version; ICD-10-CM codes are stored without the dot."""

    __tablename__ = "code_entry"
    __table_args__ = (sa.Index("ix_code_entry_version_code", "version_id", "code", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: str = Field(
        sa_column=sa.Column(
            sa.String(32),
            sa.ForeignKey("code_set_version.id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    code: str = Field(max_length=20)
    billable: bool
    title: str = Field(sa_type=sa.Text)
    parent: str | None = Field(default=None, max_length=20)
    excludes1: str | None = Field(default=None, sa_type=sa.Text)  # "|"-joined codes and ranges
    seventh: str | None = Field(default=None, sa_type=sa.Text)  # "|"-joined "char=meaning"


class NcciPtpEdit(SQLModel, table=True):
    """A CMS NCCI procedure-to-procedure pair: column 2 is not paid with column 1 (same day)."""

    __tablename__ = "ncci_ptp_edit"
    __table_args__ = (
        sa.Index("ix_ncci_ptp_edit_version_pair", "version_id", "column1", "column2"),
    )

    id: int | None = Field(default=None, primary_key=True)
    version_id: str = Field(
        sa_column=sa.Column(
            sa.String(32),
            sa.ForeignKey("code_set_version.id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    column1: str = Field(max_length=5)
    column2: str = Field(max_length=5)
    effective_date: date
    deletion_date: date | None = None
    # 0: never allowed together, 1: a modifier (59, XE/XS/XP/XU...) may bypass, 9: not applicable.
    modifier_indicator: str = Field(max_length=1)


class MueLimit(SQLModel, table=True):
    """A CMS Medically Unlikely Edit: the most units of a code per patient per day."""

    __tablename__ = "mue_limit"
    __table_args__ = (sa.Index("ix_mue_limit_version_code", "version_id", "code", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: str = Field(
        sa_column=sa.Column(
            sa.String(32),
            sa.ForeignKey("code_set_version.id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    code: str = Field(max_length=5)
    max_units: int
    # MAI 1: claim line edit, 2: date of service (policy), 3: date of service (clinical).
    adjudication_indicator: str = Field(max_length=1)
    rationale: str = Field(default="", max_length=200)
