"""Result use cases: enter (by hand or import), notify a critical value, verify, correct.

Verification rules (lab policy, CLIA 42 CFR 493.1291): the verifier is a different user from
the one who entered the value; a critical value is verified only after someone was notified;
an out-of-range control of the run blocks its patient results until accepted or rerun.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from service import org_clock, references
from service.audit import logic as audit
from service.auth.logic import Principal
from service.codesets.search import normalize_code
from service.coding import logic as coding_logic
from service.coding.schemas import ServiceLineIn
from service.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied
from service.filters import Filter, apply_filters
from service.labtests import logic as labtest_logic
from service.labtests.models import LabTest
from service.labtests.schemas import ResultComponent
from service.orders import logic as order_logic
from service.outbox import events as outbox
from service.paging import Page, by_creation, fetch_page
from service.patients import repository as patient_repository
from service.records import bump_version
from service.results import flags, repository
from service.results.models import Result
from service.results.schemas import Correction, Notification, ResultCreate, ResultFilters
from service.specimens import analysis as specimen_analysis
from service.specimens import logic as specimen_logic
from service.specimens import repository as specimen_repository
from service.specimens.models import Specimen, SpecimenTest
from service.worklists import logic as worklist_logic
from service.worklists import repository as worklist_repository

RESULTABLE = ("ready", "in_analysis", "resulted")


class ResultNotFound(NotFound):
    code = "result-not-found"


class ResultAlreadyVerified(Conflict):
    code = "result-already-verified"


class ResultNotVerifiable(Conflict):
    code = "result-not-verifiable"


class SameUserVerification(PermissionDenied):
    code = "verifier-must-differ"


class CriticalNotNotified(Conflict):
    code = "critical-value-not-notified"


class ControlsOutOfRange(Conflict):
    code = "controls-out-of-range"


class ImportRejected(InvalidInput):
    code = "result-import-rejected"


def _audit(session: Session, actor: Principal, row: Result, action: str, detail: str = "") -> None:
    audit.record(
        session,
        actor,
        action=action,
        resource_type="result",
        resource_id=row.id,
        patient_id=row.patient_id,
        detail=detail,
    )


def _component(test: LabTest, code: str) -> ResultComponent | None:
    return next((c for c in labtest_logic.components_of(test) if c.code == code), None)


@dataclass(frozen=True)
class Target:
    """A resolved place for a value: the specimen-test, its catalog test and component."""

    specimen: Specimen
    specimen_test: SpecimenTest
    test: LabTest
    component: ResultComponent


def resolve_target(
    session: Session,
    actor: Principal,
    specimen: Specimen,
    test: LabTest,
    component_code: str,
    unit: str | None,
) -> Target:
    """Checks everything a value needs before anything is written; raises DomainErrors."""
    specimen_test = specimen_repository.find_specimen_test(session, specimen.id, test.id)
    if specimen_test is None or specimen_test.status == "cancelled":
        raise InvalidInput(f"Specimen {specimen.accession} has no test {test.code}.")
    if specimen.status not in RESULTABLE:
        raise ResultNotVerifiable(
            f"Specimen {specimen.accession} is {specimen.status}; results need it ready, "
            "in_analysis or resulted."
        )
    component = _component(test, component_code)
    if component is None:
        raise InvalidInput(f"Test {test.code} has no component {component_code}.")
    if unit is not None and component.unit is not None and unit != component.unit:
        raise InvalidInput(f"{component.code} is reported in {component.unit}, not {unit}.")
    current = repository.get_current(session, specimen_test.id, component.code)
    if current is not None and current.verified_at is not None:
        raise ResultAlreadyVerified(
            f"{test.code} {component.code} of {specimen.accession} is verified; send a correction."
        )
    return Target(specimen, specimen_test, test, component)


def patient_facts(session: Session, specimen: Specimen, at: datetime) -> tuple[str, int]:
    patient = patient_repository.get_patient(session, specimen.organization_id, specimen.patient_id)
    assert patient is not None  # a foreign key
    on = (specimen.collected_at or at).date()
    return patient.sex, flags.age_in_years(patient.birth_date, on)


def write_result(
    session: Session,
    actor: Principal,
    target: Target,
    raw: str,
    *,
    at: datetime,
    worklist_id: str | None,
    status: str = "preliminary",
    supersedes: Result | None = None,
    reason: str | None = None,
) -> Result:
    sex, age = patient_facts(session, target.specimen, at)
    try:
        flagged = flags.flag(target.component, raw, sex, age)
    except flags.BadValue as error:
        raise InvalidInput(f"{target.component.code}: {error}.") from None
    key = repository.current_key(target.specimen_test.id, target.component.code)
    previous = supersedes or repository.get_current(
        session, target.specimen_test.id, target.component.code
    )
    if previous is not None:  # replaced values stay as history
        bump_version(session, previous, None)
        previous.current_key = None
        session.add(previous)
        session.flush()
    if worklist_id is None:
        item = worklist_repository.latest_item_for(session, target.specimen_test.id)
        worklist_id = item.worklist_id if item is not None else None
    chosen = flagged.range
    row = Result(
        organization_id=actor.organization_id,
        specimen_id=target.specimen.id,
        specimen_test_id=target.specimen_test.id,
        lab_test_id=target.test.id,
        patient_id=target.specimen.patient_id,
        worklist_id=worklist_id,
        component_code=target.component.code,
        component_name=target.component.name,
        kind=target.component.kind,
        value=flagged.value,
        unit=target.component.unit,
        ref_low=chosen.low if chosen else None,
        ref_high=chosen.high if chosen else None,
        critical_low=chosen.critical_low if chosen else None,
        critical_high=chosen.critical_high if chosen else None,
        flag=flagged.flag,
        critical=flagged.critical,
        status=status,
        current_key=key,
        supersedes_id=previous.id if previous else None,
        correction_reason=reason,
        entered_by=actor.user_id,
        entered_at=at,
    )
    session.add(row)
    if target.specimen_test.status == "pending":
        target.specimen_test.status = "resulted"
        session.add(target.specimen_test)
    specimen_analysis.result_entered(session, actor, target.specimen, at)
    if worklist_id is not None:
        worklist = worklist_repository.get_worklist(session, actor.organization_id, worklist_id)
        if worklist is not None:
            worklist_logic.mark_in_progress(session, worklist)
    session.flush()
    _audit(session, actor, row, "create", status)
    return row


def enter_result(session: Session, actor: Principal, data: ResultCreate, *, at: datetime) -> Result:
    specimen = specimen_logic.load_reference(session, actor, data.specimen_id)
    test = labtest_logic.get_lab_tests(session, actor.organization_id, [data.lab_test_id]).get(
        data.lab_test_id
    ) or references.find_by_natural_key(session, actor, LabTest, data.lab_test_id, "/lab_test_id")
    if test is None:
        raise InvalidInput(
            "No lab test with this id or code.", errors=[FieldError("/lab_test_id", "unknown")]
        )
    target = resolve_target(session, actor, specimen, test, data.component_code, data.unit)
    return write_result(session, actor, target, data.value, at=at, worklist_id=None)


def load(session: Session, actor: Principal, result_id: str) -> Result:
    row = repository.get_result(session, actor.organization_id, result_id)
    if row is None:
        raise ResultNotFound(f"No result {result_id}.")
    return row


def get_result(session: Session, actor: Principal, result_id: str) -> Result:
    row = load(session, actor, result_id)
    _audit(session, actor, row, "read")
    return row


RESULT_FILTERS = (
    Filter("specimen_id", Result.specimen_id),
    Filter("patient_id", Result.patient_id),
    Filter("status", Result.status),
    Filter("worklist_id", Result.worklist_id),
)


def list_results(
    session: Session,
    actor: Principal,
    f: ResultFilters,
    *,
    limit: int,
    cursor: str | None,
    sort: str | None = None,
) -> Page[Result]:
    query = select(Result).where(Result.organization_id == actor.organization_id)
    query = apply_filters(query, f, RESULT_FILTERS, blank_is_a_value=True)
    page = fetch_page(
        session,
        query,
        Result.id,
        limit=limit,
        cursor=cursor,
        sort=by_creation(sort, "-created_at"),
    )
    audit.record_many(
        session,
        actor,
        action="query",
        resource_type="result",
        rows=[(r.id, r.patient_id) for r in page.items],
    )
    return page


def history(session: Session, actor: Principal, result_id: str) -> list[Result]:
    row = load(session, actor, result_id)
    _audit(session, actor, row, "read", "history")
    return repository.history(session, row.specimen_test_id, row.component_code)


def record_notification(
    session: Session, actor: Principal, result_id: str, data: Notification, *, at: datetime
) -> Result:
    row = load(session, actor, result_id)
    bump_version(session, row, None)
    row.notified_name, row.notified_by = data.notified_name, actor.user_id
    row.notified_at, row.notification_note = data.at or at, data.note
    session.add(row)
    _audit(session, actor, row, "update", "critical value notification")
    session.flush()
    return row


def verify_results(
    session: Session, actor: Principal, result_ids: list[str], *, at: datetime
) -> list[Result]:
    """All or nothing: one refused result refuses the request."""
    return [_verify(session, actor, result_id, at) for result_id in dict.fromkeys(result_ids)]


def _verify(session: Session, actor: Principal, result_id: str, at: datetime) -> Result:
    row = load(session, actor, result_id)
    if row.current_key is None:
        raise ResultNotVerifiable(f"Result {row.id} was replaced; verify the current value.")
    if row.verified_at is not None:
        raise ResultAlreadyVerified(f"Result {row.id} is verified already.")
    if row.entered_by == actor.user_id:
        raise SameUserVerification(
            f"Result {row.id} was entered by you; a different user must verify it."
        )
    if row.critical and row.notified_at is None:
        raise CriticalNotNotified(
            f"Result {row.id} is a critical value ({row.flag}); record who was notified first."
        )
    if row.worklist_id is not None:
        blocks = worklist_logic.blocking_controls(session, row.worklist_id, row.lab_test_id)
        if blocks:
            names = ", ".join(f"{b.material} {b.component_code}={b.value}" for b in blocks)
            raise ControlsOutOfRange(
                f"Worklist {row.worklist_id} has controls out of range ({names}); "
                "accept them or rerun before verifying."
            )
    bump_version(session, row, None)
    if row.status == "preliminary":
        row.status = "final"
    row.verified_by, row.verified_at = actor.user_id, at
    session.add(row)
    session.flush()
    _audit(session, actor, row, "update", "verified")
    _after_verification(session, actor, row, at)
    # Its DiagnosticReport (one per specimen) is final once the specimen is (FHIR criteria).
    specimen = specimen_repository.get_specimen(session, actor.organization_id, row.specimen_id)
    report = "final" if specimen is not None and specimen.status == "verified" else "partial"
    outbox.emit(
        session,
        actor.organization_id,
        "result.verified",
        row.specimen_id,
        status=report,
        result_id=row.id,
    )
    return row


def _after_verification(session: Session, actor: Principal, row: Result, at: datetime) -> None:
    org = actor.organization_id
    specimen_test = specimen_repository.get_specimen_test(session, org, row.specimen_test_id)
    test = labtest_logic.get_lab_test(session, org, row.lab_test_id)
    specimen = specimen_repository.get_specimen(session, org, row.specimen_id)
    assert specimen_test is not None
    assert test is not None
    assert specimen is not None
    current = {r.component_code: r for r in repository.current_of_test(session, specimen_test.id)}
    components = [c.code for c in labtest_logic.components_of(test)]
    if specimen_test.status == "verified" or not all(
        code in current and current[code].verified_at is not None for code in components
    ):
        return
    specimen_test.status = "verified"
    session.add(specimen_test)
    session.flush()
    specimen_analysis.test_verified(session, actor, specimen, at)
    on_results_verified(session, actor, specimen_test=specimen_test, lab_test=test, at=at)


def _origin(specimen: Specimen, lab_test: LabTest) -> dict[str, Any]:
    """Where a charge-captured line came from, as its claim line and FHIR Claim.item show it."""
    return {
        "source": "lab_result",
        "specimen_id": specimen.id,
        "accession_number": specimen.accession,
        "lab_test_id": lab_test.id,
        "lab_test_code": lab_test.code,
    }


def on_results_verified(
    session: Session,
    actor: Principal,
    *,
    specimen_test: SpecimenTest,
    lab_test: LabTest,
    at: datetime,
) -> None:
    """Charge capture: every result of a specimen-test is verified.

    DESIGN.md: verified lab results create service lines on the order's encounter from the
    test's `billing_code` (+ `billing_modifier`, e.g. QW), dated the collection date in the
    organization's time zone, pointing at the order's reason codes. One line per specimen-test:
    a corrected and re-verified result does not charge twice. Nothing is charged when the order
    names no encounter; when the encounter is billed already or no fee schedule prices the code,
    the skip is audited (never silent) for the coder to pick up.
    """
    org = actor.organization_id
    specimen = specimen_repository.get_specimen(session, org, specimen_test.specimen_id)
    order = order_logic.find_order(session, org, specimen.order_id) if specimen else None
    if specimen is None or order is None or not order.encounter_id:
        return
    encounter = coding_logic.find_encounter(session, org, order.encounter_id)
    if encounter is None:
        return
    if coding_logic.has_line_from(session, encounter.id, "lab_result", specimen_test.id):
        return
    reasons = [normalize_code(code) for code in order.reason_codes]
    pointers = [i + 1 for i, code in enumerate(encounter.diagnoses) if code in reasons][:4]
    if not pointers and encounter.diagnoses:
        pointers = [1]
    collected = specimen.collected_at or at
    line = ServiceLineIn(
        code_system="HCPCS" if lab_test.billing_code[:1].isalpha() else "CPT",
        code=lab_test.billing_code,
        modifiers=[lab_test.billing_modifier] if lab_test.billing_modifier else [],
        service_date=org_clock.local_date(session, actor.organization_id, collected),
        pointers=pointers,
    )
    try:
        with session.begin_nested():
            coding_logic.add_service_line(
                session,
                actor,
                encounter.id,
                line,
                source="lab_result",
                source_id=specimen_test.id,
                origin=_origin(specimen, lab_test),
            )
    except (coding_logic.EncounterLocked, coding_logic.NoFeeForCode) as skipped:
        audit.record(
            session,
            actor,
            action="charge-capture-skipped",
            resource_type="encounter",
            resource_id=encounter.id,
            patient_id=encounter.patient_id,
            detail=f"{lab_test.billing_code} for specimen-test {specimen_test.id}: {skipped.code}",
        )


def correct_result(
    session: Session, actor: Principal, result_id: str, data: Correction, *, at: datetime
) -> Result:
    """A verified value changed: the old row stays as history, the new one is `corrected` and
    waits for verification by a different user (its critical value needs notifying again)."""
    row = load(session, actor, result_id)
    if row.current_key is None:
        raise ResultNotVerifiable(
            f"Result {row.id} was replaced already; correct the current value."
        )
    if row.verified_at is None:
        raise ResultNotVerifiable(f"Result {row.id} is not verified; enter a new value instead.")
    specimen = specimen_logic.load(session, actor, row.specimen_id)
    test = labtest_logic.get_lab_test(session, actor.organization_id, row.lab_test_id)
    specimen_test = specimen_repository.get_specimen_test(
        session, actor.organization_id, row.specimen_test_id
    )
    assert test is not None
    assert specimen_test is not None
    component = _component(test, row.component_code)
    if component is None:
        raise InvalidInput(f"Test {test.code} no longer has component {row.component_code}.")
    target = Target(specimen, specimen_test, test, component)
    corrected = write_result(
        session,
        actor,
        target,
        data.value,
        at=at,
        worklist_id=row.worklist_id,
        status="corrected",
        supersedes=row,
        reason=data.reason,
    )
    return corrected
