"""The names staff read in list rows and reports instead of 32-hex ids: a patient's name and
MRN, a payer's name, a provider's name. One query per kind for a whole page."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from service.coding.models import Encounter
from service.directory.models import Payer, Provider
from service.patients.models import Patient


@dataclass(frozen=True)
class PatientName:
    name: str  # "Rivera, Ana"
    mrn: str


def person_name(family: str | None, given: str | None) -> str:
    return ", ".join(n for n in (family, given) if n)


def patients(session: Session, ids: Iterable[str]) -> dict[str, PatientName]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.exec(
        select(Patient.id, Patient.family_name, Patient.given_name, Patient.mrn).where(
            col(Patient.id).in_(wanted)
        )
    ).all()
    return {i: PatientName(person_name(f, g), m) for i, f, g, m in rows}


def payers(session: Session, ids: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.exec(select(Payer.id, Payer.name).where(col(Payer.id).in_(wanted))).all()
    return dict(rows)


def providers(session: Session, ids: Iterable[str | None]) -> dict[str, str]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    rows = session.exec(
        select(
            Provider.id, Provider.organization_name, Provider.family_name, Provider.given_name
        ).where(col(Provider.id).in_(wanted))
    ).all()
    return {i: org or person_name(f, g) for i, org, f, g in rows}


def encounter_providers(session: Session, encounter_ids: Iterable[str]) -> dict[str, str]:
    """Encounter id -> its rendering provider's name, else its billing provider's."""
    wanted = sorted(set(encounter_ids))
    if not wanted:
        return {}
    rows = session.exec(
        select(Encounter.id, Encounter.rendering_provider_id, Encounter.billing_provider_id).where(
            col(Encounter.id).in_(wanted)
        )
    ).all()
    chosen = {e: r or b for e, r, b in rows}
    names = providers(session, chosen.values())
    return {e: names[p] for e, p in chosen.items() if p in names}
