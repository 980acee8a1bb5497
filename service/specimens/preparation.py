"""Preparation against the catalog's protocol: steps in order and in range (or flagged as
deviations), stability windows, and `ready` once every required step is done."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session

from service.auth.logic import Principal
from service.errors import ErrorList, FieldError, InvalidInput
from service.labtests import logic as labtest_logic
from service.labtests.models import LabTest
from service.labtests.schemas import ProtocolStep
from service.specimens import logic, repository
from service.specimens.logic import S, StepOutOfOrder, StepOutOfRange
from service.specimens.models import Specimen
from service.specimens.schemas import StepCreate
from service.specimens.states import IllegalTransition, SpecimenStatus


def _stability_warnings(specimen: Specimen, tests: Sequence[LabTest], at: datetime) -> list[str]:
    """Stability windows (hours after collection, by storage temperature) already exceeded."""
    collected = specimen.collected_at
    if collected is None or specimen.temperature == "frozen":
        return []
    hours = (at - collected).total_seconds() / 3600
    found = []
    for test in tests:
        refrigerated = specimen.temperature == "refrigerated"
        limit = (
            test.stability_refrigerated_hours if refrigerated else test.stability_room_temp_hours
        )
        if limit is not None and hours > limit:
            kind = "refrigerated" if refrigerated else "room temperature"
            found.append(f"{test.code}: stability of {limit} h at {kind} exceeded")
    return found


def flag_stability(
    session: Session, actor: Principal, specimen: Specimen, tests: Sequence[LabTest], at: datetime
) -> list[str]:
    new = [w for w in _stability_warnings(specimen, tests, at) if w not in specimen.warnings]
    if new:
        specimen.warnings = [*specimen.warnings, *new]
        session.add(specimen)
        logic.add_event(
            session, actor, specimen, "deviation", at, deviation=True, details={"warnings": new}
        )
    return new


def protocol_for(tests: Sequence[LabTest]) -> list[ProtocolStep]:
    """The specimen's protocol: its tests' steps in order, each step type once (first wins)."""
    steps: dict[str, ProtocolStep] = {}
    for test in tests:
        for step in labtest_logic.protocol_of(test):
            steps.setdefault(step.step, step)
    return list(steps.values())


def _done_steps(session: Session, specimen: Specimen) -> set[str]:
    """Steps recorded on this specimen or an ancestor (a slide inherits its block's fixation)."""
    return {
        e.step
        for e in repository.step_events(session, logic.lineage_ids(session, specimen))
        if e.step
    }


def ready_if_prepared(
    session: Session, actor: Principal, specimen: Specimen, tests: Sequence[LabTest], at: datetime
) -> None:
    done = _done_steps(session, specimen)
    missing = [s.step for s in protocol_for(tests) if s.required and s.step not in done]
    if not missing:
        logic.change_status(
            session, actor, specimen, S.READY, at, details={"reason": "required steps done"}
        )


def record_step(
    session: Session, actor: Principal, specimen_id: str, data: StepCreate, *, at: datetime
) -> tuple[Specimen, list[str]]:
    """A preparation step checked against the protocol; returns the deviations flagged."""
    specimen = logic.load(session, actor, specimen_id)
    status = SpecimenStatus(specimen.status)
    if status not in (S.RECEIVED, S.IN_PREPARATION):
        raise IllegalTransition(
            f"Specimen {specimen.accession} is {status}; preparation steps are recorded while "
            "it is received or in_preparation."
        )
    when = data.at or at
    tests = [t for _, t in logic.tests_for(session, specimen)]
    protocol = protocol_for(tests)
    spec = next((s for s in protocol if s.step == data.step), None)
    if spec is None:
        known = ", ".join(s.step for s in protocol) or "none"
        raise InvalidInput(
            f"{data.step} is not a step of this specimen's protocol (steps: {known}).",
            errors=[FieldError("/step", "not in the protocol")],
        )
    deviations = _parameter_deviations(spec, data.parameters)
    if deviations and spec.on_out_of_range == "refuse":
        raise StepOutOfRange(f"{data.step} on {specimen.accession}: " + "; ".join(deviations))
    done = _done_steps(session, specimen)
    index = protocol.index(spec)
    skipped = [s.step for s in protocol[:index] if s.required and s.step not in done]
    if skipped:
        message = f"{data.step} before {', '.join(skipped)}"
        if spec.on_out_of_order == "refuse":
            raise StepOutOfOrder(f"On {specimen.accession}: {message} (the protocol's order).")
        deviations.append(message)
    if status is S.RECEIVED:
        logic.change_status(
            session, actor, specimen, S.IN_PREPARATION, when, location=data.location
        )
    if deviations:
        flagged = [f"{data.step}: {d}" for d in deviations]
        specimen.warnings = [
            *specimen.warnings,
            *(f for f in flagged if f not in specimen.warnings),
        ]
        session.add(specimen)
    deviations += flag_stability(session, actor, specimen, tests, when)
    logic.add_event(
        session,
        actor,
        specimen,
        "step",
        when,
        location=data.location,
        step=data.step,
        deviation=bool(deviations),
        details={
            "parameters": {k: str(v) for k, v in data.parameters.items()},
            "deviations": deviations,
            "note": data.note,
        },
    )
    session.flush()
    ready_if_prepared(session, actor, specimen, tests, when)
    logic.audit_specimen(session, actor, specimen, "update", f"step {data.step}")
    session.flush()
    return specimen, deviations


def _parameter_deviations(spec: ProtocolStep, given: dict[str, Decimal]) -> list[str]:
    """Unknown or missing parameters are bad input (422); out-of-range values are deviations."""
    errors = ErrorList()
    names = {p.name for p in spec.parameters}
    for name in given:
        if name not in names:
            errors.add(f"/parameters/{name}", f"{spec.step} takes no parameter {name}")
    for p in spec.parameters:
        if p.required and p.name not in given:
            errors.add(f"/parameters/{p.name}", "required")
    errors.raise_if_any(f"The parameters of {spec.step} are invalid.")
    found = []
    for p in spec.parameters:
        value = given.get(p.name)
        if value is None:
            continue
        if (p.min is not None and value < p.min) or (p.max is not None and value > p.max):
            low = "" if p.min is None else str(p.min)
            high = "" if p.max is None else str(p.max)
            found.append(f"{p.name} {value} {p.unit} outside {low}-{high}".replace("  ", " "))
    return found
