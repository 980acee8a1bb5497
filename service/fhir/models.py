"""Tables the FHIR edge keeps beside the capabilities' records: searchable tokens (business
identifiers, Encounter.type codes) and elements kept as sent (US Core extensions, email,
communication, Encounter.type) where the records have no column for them, and the versions
FHIR clients wrote (history, vread)."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.columns import UTCDateTime
from service.ids import new_id


class FhirToken(SQLModel, table=True):
    """One token of a resource for a search parameter: an `identifier` of an Encounter,
    ServiceRequest, Coverage or Specimen (the EHR's visit number, placer order number…), kept as
    sent, or a coding of Encounter.type; searchable by system and value."""

    __tablename__ = "fhir_token"
    __table_args__ = (
        sa.Index("ix_fhir_token_value", "organization_id", "resource_type", "param", "value"),
        sa.Index("ix_fhir_token_resource", "resource_type", "resource_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", max_length=32)
    resource_type: str = Field(max_length=40)
    resource_id: str = Field(max_length=64)
    param: str = Field(max_length=40)  # identifier | type
    position: int
    system: str = Field(default="", max_length=255)
    value: str = Field(max_length=255)
    element: dict[str, Any] = Field(sa_type=sa.JSON)


class FhirElement(SQLModel, table=True):
    """An element of a resource kept as the client sent it, where the record has no column for
    it (Patient.extension race/ethnicity/birth sex, the given names as a list, …)."""

    __tablename__ = "fhir_element"
    __table_args__ = (
        sa.Index("uq_fhir_element", "resource_type", "resource_id", "name", unique=True),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", max_length=32)
    resource_type: str = Field(max_length=40)
    resource_id: str = Field(max_length=64)
    name: str = Field(max_length=40)
    value: list[Any] = Field(sa_type=sa.JSON)


class FhirResourceVersion(SQLModel, table=True):
    """A version of a resource as it was answered when a FHIR client wrote it (vread, _history).
    Versions written through REST are not snapshotted: their vread says so."""

    __tablename__ = "fhir_resource_version"
    __table_args__ = (
        sa.Index(
            "uq_fhir_resource_version", "resource_type", "resource_id", "version", unique=True
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", max_length=32)
    resource_type: str = Field(max_length=40)
    resource_id: str = Field(max_length=64)
    version: int
    method: str = Field(max_length=6)  # POST | PUT
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    body: dict[str, Any] = Field(sa_type=sa.JSON)
