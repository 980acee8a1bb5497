"""References between records, checked one way for REST and FHIR alike.

`require_reference` is what every use case calls for an id it is given: the record must be a live
one of the caller's organization (another organization's id reads exactly like one that does not
exist) and, where the two must agree, of the same patient. `refuse_reparenting` keeps a record
from moving to another patient (or being cancelled) once other records depend on it: a lab order
with specimens, a coverage or an encounter a claim bills. Dependants are named by table and
column, not by model, so that any capability may ask without importing the ones that point at it
(coding must not import claims).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from service.errors import Conflict, FieldError, InvalidInput


class ReferenceToAnotherPatient(InvalidInput):
    code = "reference-to-another-patient"


class RecordHasDependants(Conflict):
    code = "record-has-dependants"


class AmbiguousNaturalKey(InvalidInput):
    code = "ambiguous-natural-key"


# The business key staff know a record by, per table (issue 24): a reference field takes the id
# or, when no record has that id, this key. Named by column so no capability is imported here.
NATURAL_KEYS = {
    "patient": ("mrn", "MRN"),
    "provider": ("npi", "NPI"),
    "payer": ("edi_payer_id", "payer id"),
    "specimen": ("accession", "accession"),
    "lab_test": ("code", "test code"),
}


def _live(row: Any, actor: Any) -> bool:
    return (
        row is not None
        and row.organization_id == actor.organization_id
        and getattr(row, "deleted_at", None) is None
    )


def find_by_natural_key(
    session: Session, actor: Any, model: type[Any], value: str, pointer: str
) -> Any:
    """The caller's live record whose natural key is `value`, None when none is; a 422 when
    several are (two payers may share a clearinghouse payer id): the id must be sent."""
    key = NATURAL_KEYS.get(model.__tablename__)
    if key is None:
        return None
    column = getattr(model, key[0])
    query = sa.select(model).where(model.organization_id == actor.organization_id, column == value)
    if hasattr(model, "deleted_at"):
        query = query.where(model.deleted_at.is_(None))
    rows = session.execute(query.order_by(model.id).limit(3)).scalars().all()
    if len(rows) > 1:
        name = model.__tablename__.replace("_", " ")
        raise AmbiguousNaturalKey(
            f"Several {name}s have the {key[1]} {value}: "
            + ", ".join(r.id for r in rows)
            + ". Send the id.",
            errors=[FieldError(pointer, f"several {name}s have this {key[1]}; send the id")],
        )
    return rows[0] if rows else None


def require_reference(
    session: Session,
    actor: Any,
    model: type[Any],
    record_id: str | None,
    pointer: str,
    *,
    patient_id: str | None = None,
) -> Any:
    """The live record `record_id` of the caller's organization, or a 422 at `pointer`.

    `record_id` may also be the record's natural key (MRN, NPI, payer id, accession, test code)
    when no record has that id; `resolve_reference` writes the id found back into the request.
    With `patient_id`, the record must also belong to that patient (an order's encounter, an
    encounter's coverage): a chart must never be mixed into another.
    """
    if record_id is None:
        return None
    row = session.get(model, record_id)
    name = model.__name__.lower()
    if not _live(row, actor):
        row = find_by_natural_key(session, actor, model, record_id, pointer)
    if row is None:
        key = NATURAL_KEYS.get(model.__tablename__)
        what = f"this id or {key[1]}" if key else "this id"
        raise InvalidInput(
            f"No {name} {record_id}.", errors=[FieldError(pointer, f"no {name} with {what}")]
        )
    if patient_id is not None and getattr(row, "patient_id", patient_id) != patient_id:
        raise ReferenceToAnotherPatient(
            f"The {name} {record_id} belongs to another patient.",
            errors=[FieldError(pointer, f"a {name} of another patient")],
        )
    return row


def resolve_reference(
    session: Session,
    actor: Any,
    model: type[Any],
    data: Any,
    field: str,
    *,
    patient_id: str | None = None,
) -> Any:
    """`require_reference` for `data.<field>`, which then holds the record's id: a request that
    named a patient by MRN stores (and answers) the patient's id."""
    row = require_reference(
        session, actor, model, getattr(data, field), f"/{field}", patient_id=patient_id
    )
    if row is not None:
        setattr(data, field, row.id)
    return row


@dataclass(frozen=True)
class Dependant:
    """Rows of `table` whose `column` holds the id of the record in question."""

    table: str
    column: str
    label: str  # "specimen", "claim": how the 409 names them


# What depends on what (issue 14: charts mixed by re-parenting).
LAB_ORDER_DEPENDANTS = (Dependant("specimen", "order_id", "specimen"),)
COVERAGE_DEPENDANTS = (Dependant("claim", "coverage_id", "claim"),)
ENCOUNTER_DEPENDANTS = (Dependant("claim", "encounter_id", "claim"),)


def dependants_of(
    session: Session, record_id: str, dependants: Sequence[Dependant], *, limit: int = 5
) -> list[str]:
    """`specimen 0a1b…` for the first few rows that point at the record."""
    found: list[str] = []
    for dep in dependants:
        table = sa.table(dep.table, sa.column("id"), sa.column(dep.column))
        query = sa.select(table.c.id).where(table.c[dep.column] == record_id)
        ids = session.execute(query.order_by(table.c.id).limit(limit)).scalars().all()
        found += [f"{dep.label} {i}" for i in ids]
    return found


def verified_results_of_order(session: Session, order_id: str) -> list[str]:
    """Verified results of an order's specimens: an order with them cannot be cancelled."""
    result = sa.table("result", sa.column("id"), sa.column("specimen_id"), sa.column("verified_at"))
    specimen = sa.table("specimen", sa.column("id"), sa.column("order_id"))
    query = (
        sa.select(result.c.id)
        .join(specimen, specimen.c.id == result.c.specimen_id)
        .where(specimen.c.order_id == order_id, result.c.verified_at.is_not(None))
        .order_by(result.c.id)
        .limit(5)
    )
    return [f"result {i}" for i in session.execute(query).scalars().all()]


def refuse_reparenting(
    session: Session,
    record: Any,
    new_patient_id: str,
    dependants: Sequence[Dependant],
    *,
    kind: str,
) -> None:
    """409 when `record` would move to another patient while rows depend on it."""
    if record is None or record.patient_id == new_patient_id:
        return
    found = dependants_of(session, record.id, dependants)
    if found:
        raise RecordHasDependants(
            f"The {kind} {record.id} cannot move to another patient: "
            + ", ".join(found)
            + " depend on it. Correct those records first, or create a new one.",
            errors=[FieldError("/patient_id", "records of this patient depend on it")],
        )
