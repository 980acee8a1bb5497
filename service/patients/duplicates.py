"""Possible duplicate patients (issue 24): the front desk registers a new MRN for someone the
clinic already has. Same birth date and the same or a close name (one letter off, a nickname's
initial), or the same name with day and month of birth swapped (04/02 read as 02/04).
Reported, never merged or refused: two real people can share both."""

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.patients.models import Patient

SAME = "same name and birth date"
CLOSE = "similar name, same birth date"
SWAPPED = "same name, birth day and month swapped"


@dataclass(frozen=True)
class Match:
    patient: Patient
    reason: str


def _norm(name: str | None) -> str:
    """Case, accents, spaces, hyphens and apostrophes do not make another person."""
    text = unicodedata.normalize("NFKD", name or "").casefold()
    return "".join(ch for ch in text if ch.isalpha())


def _one_edit(a: str, b: str) -> bool:
    """At most one letter inserted, deleted or replaced (Levenshtein distance <= 1)."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :] or (len(a) == len(b) and a[i + 1 :] == b[i + 1 :])


def _swapped(day: date) -> date | None:
    if day.day == day.month or day.day > 12:
        return None
    return day.replace(month=day.day, day=day.month)


def judge(a: Patient, b: Patient) -> str | None:
    """Why `a` and `b` may be one person, or None."""
    fa, fb = _norm(a.family_name), _norm(b.family_name)
    ga, gb = _norm(a.given_name), _norm(b.given_name)
    if a.birth_date == b.birth_date:
        if fa == fb and ga == gb:
            return SAME
        if (fa == fb and (_one_edit(ga, gb) or (ga[:1] == gb[:1] and ga and gb))) or (
            ga == gb and _one_edit(fa, fb)
        ):
            return CLOSE
        return None
    if fa == fb and ga == gb and _swapped(a.birth_date) == b.birth_date:
        return SWAPPED
    return None


def _live(organization_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        col(Patient.organization_id) == organization_id, col(Patient.deleted_at).is_(None)
    )


def matches_for(session: Session, patient: Patient) -> list[Match]:
    """Other live patients of the organization that may be `patient` (on create)."""
    days = [patient.birth_date, *filter(None, [_swapped(patient.birth_date)])]
    others = session.exec(
        select(Patient)
        .where(
            _live(patient.organization_id),
            col(Patient.birth_date).in_(days),
            Patient.id != patient.id,
        )
        .order_by(col(Patient.id))
        .limit(200)
    ).all()
    found = [Match(other, reason) for other in others if (reason := judge(patient, other))]
    return found[:10]


@dataclass(frozen=True)
class Pair:
    first: Patient
    second: Patient
    reason: str


def pairs(session: Session, organization_id: str, *, limit: int) -> list[Pair]:
    """Pairs of live patients sharing a birth date whose names match or are close, oldest
    record first. (A swapped day and month is caught on create.)"""
    shared = (
        select(col(Patient.birth_date))
        .where(_live(organization_id))
        .group_by(col(Patient.birth_date))
        .having(sa.func.count() > 1)
    )
    rows: Sequence[Patient] = session.exec(
        select(Patient)
        .where(_live(organization_id), col(Patient.birth_date).in_(shared))
        .order_by(col(Patient.birth_date), col(Patient.id))
    ).all()
    by_day: dict[date, list[Patient]] = defaultdict(list)
    for row in rows:
        by_day[row.birth_date].append(row)
    found: list[Pair] = []
    for group in by_day.values():
        found += _pairs_in(group)
    found.sort(key=lambda p: (p.first.id, p.second.id))
    return found[:limit]


def _pairs_in(group: Iterable[Patient]) -> list[Pair]:
    members = list(group)
    return [
        Pair(a, b, reason)
        for i, a in enumerate(members)
        for b in members[i + 1 :]
        if (reason := judge(a, b))
    ]
