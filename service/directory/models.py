"""Tables: payer, provider, facility, fee_schedule."""

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from service.records import SoftDeletable


class Payer(SoftDeletable, table=True):
    name: str = Field(max_length=100)
    edi_payer_id: str = Field(max_length=80)  # the id the clearinghouse lists (NM109 of 2010BB)
    claim_filing_indicator: str = Field(max_length=2)  # SBR09
    address: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    phone: str | None = Field(default=None, max_length=30)
    timely_filing_days: int = Field(default=365)


class Provider(SoftDeletable, table=True):
    __table_args__ = (sa.UniqueConstraint("organization_id", "npi"),)

    npi: str = Field(max_length=10)
    kind: str = Field(max_length=12)  # individual | organization
    family_name: str | None = Field(default=None, max_length=60)
    given_name: str | None = Field(default=None, max_length=35)
    middle_name: str | None = Field(default=None, max_length=25)
    suffix: str | None = Field(default=None, max_length=10)
    organization_name: str | None = Field(default=None, max_length=60)
    taxonomy: str | None = Field(default=None, max_length=10)
    tax_id: str | None = Field(default=None, max_length=9)
    tax_id_type: str = Field(default="EIN", max_length=3)  # EIN | SSN (REF*EI / REF*SY)
    address: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    phone: str | None = Field(default=None, max_length=30)


class Facility(SoftDeletable, table=True):
    name: str = Field(max_length=60)
    npi: str | None = Field(default=None, max_length=10)
    address: dict[str, Any] = Field(sa_type=sa.JSON)
    place_of_service: str = Field(max_length=2)
    clia_number: str | None = Field(default=None, max_length=10)  # REF*X4 on lab claims


class FeeSchedule(SoftDeletable, table=True):
    __tablename__ = "fee_schedule"

    name: str = Field(max_length=100)
    payer_id: str | None = Field(default=None, foreign_key="payer.id", max_length=32)
    effective_from: date
    effective_to: date | None = None
    # [{"code_system", "code", "modifier", "charge", "drug"}]: a clinic's schedule has hundreds
    # of codes; `drug` marks the ones billed with an NDC (absent in older rows: false).
    items: list[dict[str, Any]] = Field(sa_type=sa.JSON)


class TradingPartner(SoftDeletable, table=True):
    """The clearinghouse or payer a claim file goes to: its envelope and 1000A/1000B values."""

    __tablename__ = "trading_partner"
    __table_args__ = (sa.UniqueConstraint("organization_id", "name"),)

    name: str = Field(max_length=100)
    submitter_name: str = Field(max_length=60)  # 1000A NM103
    submitter_id: str = Field(max_length=80)  # 1000A NM109, assigned by the receiver
    contact_name: str = Field(max_length=60)  # 1000A PER02
    contact_phone: str | None = Field(default=None, max_length=20)
    contact_email: str | None = Field(default=None, max_length=80)
    receiver_name: str = Field(max_length=60)  # 1000B NM103
    receiver_id: str = Field(max_length=80)  # 1000B NM109
    isa_sender_qualifier: str = Field(default="ZZ", max_length=2)  # ISA05
    isa_sender_id: str = Field(max_length=15)  # ISA06
    isa_receiver_qualifier: str = Field(default="ZZ", max_length=2)  # ISA07
    isa_receiver_id: str = Field(max_length=15)  # ISA08
    gs_sender_code: str = Field(max_length=15)  # GS02
    gs_receiver_code: str = Field(max_length=15)  # GS03
    usage_indicator: str = Field(default="T", max_length=1)  # ISA15 T test / P production
    max_claims_per_file: int | None = None
    max_claims_per_transaction_set: int | None = None  # CLMs per ST; None: the guide's 5,000
