"""Turnaround times: collected -> received -> ready -> verified, per specimen and aggregated per
test and per bench. Instants are stored in UTC, so differences hold across time zones."""

import statistics
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, select

from service.audit import logic as audit
from service.auth.logic import Principal
from service.errors import InvalidInput
from service.labtests.models import LabTest
from service.specimens.models import Specimen, SpecimenTest
from service.specimens.schemas import SpecimenTurnaround, TurnaroundGroup, TurnaroundReport


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 60, 2)


def for_specimen(specimen: Specimen) -> SpecimenTurnaround:
    return SpecimenTurnaround(
        specimen_id=specimen.id,
        accession=specimen.accession,
        collected_to_received_minutes=_minutes(specimen.collected_at, specimen.received_at),
        received_to_ready_minutes=_minutes(specimen.received_at, specimen.ready_at),
        ready_to_verified_minutes=_minutes(specimen.ready_at, specimen.verified_at),
    )


def _avg(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), 2) if present else None


def _group(key: str, specimens: list[Specimen]) -> TurnaroundGroup:
    tats = [for_specimen(s) for s in specimens]
    total = [_minutes(s.collected_at, s.verified_at) for s in specimens]
    present = [t for t in total if t is not None]
    return TurnaroundGroup(
        key=key,
        specimens=len(specimens),
        collected_to_received_avg_minutes=_avg(t.collected_to_received_minutes for t in tats),
        received_to_ready_avg_minutes=_avg(t.received_to_ready_minutes for t in tats),
        ready_to_verified_avg_minutes=_avg(t.ready_to_verified_minutes for t in tats),
        collected_to_verified_median_minutes=(
            round(statistics.median(present), 2) if present else None
        ),
    )


def report(
    session: Session, actor: Principal, collected_from: datetime, collected_to: datetime
) -> TurnaroundReport:
    """Specimens collected in [from, to), grouped by the tests they carry and their benches."""
    if collected_to <= collected_from:
        raise InvalidInput("`to` must be after `from`.")
    rows = session.exec(
        select(Specimen, LabTest)
        .join(SpecimenTest, col(SpecimenTest.specimen_id) == col(Specimen.id))
        .join(LabTest, col(LabTest.id) == col(SpecimenTest.lab_test_id))
        .where(
            Specimen.organization_id == actor.organization_id,
            col(Specimen.collected_at) >= collected_from,
            col(Specimen.collected_at) < collected_to,
            SpecimenTest.status != "cancelled",
        )
    ).all()
    by_test: dict[str, dict[str, Specimen]] = defaultdict(dict)
    by_bench: dict[str, dict[str, Specimen]] = defaultdict(dict)
    for specimen, test in rows:
        by_test[test.code][specimen.id] = specimen
        by_bench[test.bench][specimen.id] = specimen
    audit.record(
        session,
        actor,
        action="query",
        resource_type="turnaround_report",
        detail=f"{collected_from.isoformat()} to {collected_to.isoformat()}",
    )
    return TurnaroundReport(
        collected_from=collected_from,
        collected_to=collected_to,
        by_test=[_group(k, list(v.values())) for k, v in sorted(by_test.items())],
        by_bench=[_group(k, list(v.values())) for k, v in sorted(by_bench.items())],
    )
