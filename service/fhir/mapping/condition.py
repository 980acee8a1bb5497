"""FHIR Condition <-> one ICD-10-CM diagnosis of one encounter (encounter-diagnosis).

The service keeps diagnoses as the encounter's ordered code list, so a Condition's id is
`<encounter id>-<code without the dot>` and its version is the encounter's. A create appends the
code to `Condition.encounter`'s diagnoses through `coding.logic.add_diagnosis` (the service
lines are not touched, the edits run again, the change is audited as a coding change); the
code must be valid ICD-10-CM on the encounter's date of service. No update: recoding is the
coder's work (REST), or a new Condition.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlmodel import Session, col, select

from service import crud
from service.audit import logic as audit
from service.auth.logic import Principal
from service.codesets import logic as codesets
from service.codesets.search import display_code, normalize_code
from service.coding import logic as coding_logic
from service.coding.logic import ENCOUNTERS
from service.coding.models import Encounter
from service.errors import Conflict, NotFound
from service.fhir.mapping.base import (
    Criterion,
    FhirType,
    Include,
    Refs,
    SearchParam,
    SearchResult,
    SortKey,
    next_offset,
    offset_of,
    split_token,
    unsupported_param,
)
from service.fhir.mapping.common import ICD10CM_SYSTEM, codings, not_found
from service.fhir.mapping.coverage import _patients, reference_ids
from service.fhir.mapping.dates import date_filter
from service.fhir.mapping.encounter import READERS, WRITERS, condition_id, encounters_by_id
from service.fhir.outcomes import NotSupported, invalid
from service.paging import decode_cursor, encode_cursor

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
REFUSED_VERIFICATION = {"refuted", "entered-in-error"}
# Search parameters whose value is the same for every Condition here: (system, code).
_FIXED = {"category": (CATEGORY, "encounter-diagnosis"), "clinical-status": (CLINICAL, "active")}


class ConditionExists(Conflict):
    code = "condition-exists"


@dataclass
class Diagnosis:
    """The row a Condition renders: a code at a rank (1 = principal) of an encounter."""

    encounter: Encounter
    code: str  # ICD-10-CM without the dot
    rank: int

    @property
    def id(self) -> str:
        return condition_id(self.encounter.id, self.code)

    @property
    def patient_id(self) -> str:
        return self.encounter.patient_id


def _split(condition: str) -> tuple[str, str]:
    encounter_id, _, code = condition.rpartition("-")
    return encounter_id, code


def _encounters(session: Session, actor: Principal, rows: Sequence[Any]) -> Sequence[Any]:
    return encounters_by_id(session, actor, [row.encounter.id for row in rows])


class ConditionType(FhirType):
    type_name = "Condition"
    readers = READERS
    writers = WRITERS
    interactions: ClassVar[tuple[str, ...]] = ("read", "create", "search-type")
    documentation = (
        "Encounter diagnoses (ICD-10-CM): a create appends the code to Condition.encounter; "
        "id = <encounter id>-<code without the dot>."
    )
    search_params: ClassVar[dict[str, SearchParam]] = {
        "_id": SearchParam("_id", "token", "The logical id of the resource."),
        "encounter": SearchParam("encounter", "reference", "The encounter: Encounter/<id>."),
        "patient": SearchParam("patient", "reference", "The patient: Patient/<id>."),
        "subject": SearchParam("subject", "reference", "The patient: Patient/<id>."),
        "code": SearchParam(
            "code", "token", f"The ICD-10-CM code, with or without the dot ({ICD10CM_SYSTEM})."
        ),
        "category": SearchParam(
            "category", "token", f"{CATEGORY}|encounter-diagnosis (every Condition here is one)."
        ),
        "clinical-status": SearchParam(
            "clinical-status", "token", f"{CLINICAL}|active (every Condition here is active)."
        ),
        "_lastUpdated": SearchParam(
            "_lastUpdated",
            "date",
            "When the encounter's diagnoses last changed.",
            column=Encounter.updated_at,
        ),
    }
    includes: ClassVar[dict[str, Include]] = {
        "Condition:encounter": Include("Encounter", _encounters),
        "Condition:patient": Include("Patient", _patients),
        "Condition:subject": Include("Patient", _patients),
    }

    def version(self, row: Any) -> int:
        return int(row.encounter.version)

    def last_updated(self, row: Any) -> datetime:
        return row.encounter.updated_at  # type: ignore[no-any-return]

    def _load(self, session: Session, actor: Principal, record_id: str) -> Diagnosis:
        encounter_id, code = _split(record_id)
        try:
            encounter = crud.get(session, actor, ENCOUNTERS, encounter_id, audit_read=False)
        except NotFound:
            raise not_found(self.type_name, record_id) from None
        if code not in encounter.diagnoses:
            raise not_found(self.type_name, record_id)
        return Diagnosis(encounter, code, encounter.diagnoses.index(code) + 1)

    def read(self, session: Session, actor: Principal, record_id: str) -> Any:
        row = self._load(session, actor, record_id)
        audit.record(
            session,
            actor,
            action="read",
            resource_type="condition",
            resource_id=row.id,
            patient_id=row.patient_id,
        )
        return row

    def audit_included(self, session: Session, actor: Principal, rows: Sequence[Any]) -> None:
        audit.record_many(
            session,
            actor,
            action="query",
            resource_type="condition",
            rows=[(row.id, row.patient_id) for row in rows],
        )

    def create(
        self, session: Session, actor: Principal, resource: dict[str, Any], refs: Refs
    ) -> Any:
        encounter_id = refs.resolve(
            resource.get("encounter"), "Condition.encounter", ("Encounter",)
        )
        try:
            encounter = crud.get(session, actor, ENCOUNTERS, encounter_id, audit_read=False)
        except NotFound:
            raise invalid("Condition.encounter", "no such encounter in your organization") from None
        patient_id = refs.resolve(resource.get("subject"), "Condition.subject", ("Patient",))
        if patient_id != encounter.patient_id:
            raise invalid("Condition.subject", "must be the patient of Condition.encounter")
        verification = {c.get("code") for _, c in codings(resource.get("verificationStatus"))}
        if verification & REFUSED_VERIFICATION:
            raise invalid(
                "Condition.verificationStatus", "a refuted diagnosis is not coded on a claim"
            )
        icd = [c for _, c in codings(resource.get("code")) if c.get("system") == ICD10CM_SYSTEM]
        if not icd or not icd[0].get("code"):
            raise invalid("Condition.code", f"needs an ICD-10-CM coding (system {ICD10CM_SYSTEM})")
        code = normalize_code(str(icd[0]["code"]))
        verdict = codesets.validate_codes(
            session, [codesets.CodeCheck(codesets.ICD10CM, code)], encounter.date_of_service
        )[0]
        if not verdict.valid:
            raise invalid(
                "Condition.code",
                f"{verdict.detail or verdict.reason} (date of service "
                f"{encounter.date_of_service.isoformat()})",
            )
        if code in encounter.diagnoses:
            raise ConditionExists(
                f"{display_code(code)} is a diagnosis of encounter {encounter.id} already "
                f"(Condition/{condition_id(encounter.id, code)}); send If-None-Exist "
                f"encounter={encounter.id}&code={display_code(code)} to make retries safe."
            )
        try:
            coding_logic.add_diagnosis(session, actor, encounter.id, code)
        except coding_logic.TooManyDiagnoses:
            raise invalid(
                "Condition.encounter", "the encounter has all the diagnoses it can take"
            ) from None
        return Diagnosis(encounter, code, len(encounter.diagnoses))

    def update(
        self,
        session: Session,
        actor: Principal,
        record_id: str,
        resource: dict[str, Any],
        refs: Refs,
        expected_version: int | None,
    ) -> Any:
        raise NotSupported("Condition is not updated here: recode the encounter.")

    def render(self, row: Any) -> dict[str, Any]:
        return {
            "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
            "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "confirmed"}]},
            "category": [
                {
                    "coding": [
                        {
                            "system": CATEGORY,
                            "code": "encounter-diagnosis",
                            "display": "Encounter Diagnosis",
                        }
                    ]
                }
            ],
            "code": {"coding": [{"system": ICD10CM_SYSTEM, "code": display_code(row.code)}]},
            "subject": {"reference": f"Patient/{row.patient_id}"},
            "encounter": {"reference": f"Encounter/{row.encounter.id}"},
        }

    def search(
        self,
        session: Session,
        actor: Principal,
        criteria: list[Criterion],
        *,
        count: int,
        cursor: str | None,
        summary_count: bool = False,
        sort: tuple[SortKey, ...] = (),
    ) -> SearchResult:
        query = select(Encounter.id, Encounter.diagnoses, Encounter.updated_at).where(
            Encounter.organization_id == actor.organization_id,
            col(Encounter.deleted_at).is_(None),
        )
        ids: set[str] | None = None
        codes: set[str] | None = None
        for c in criteria:
            if c.modifier is not None:
                raise unsupported_param(self.type_name, c)
            if c.name == "_id":
                pairs = [_split(v) for v in c.values]
                query = query.where(col(Encounter.id).in_([e for e, _ in pairs]))
                wanted = {condition_id(e, code) for e, code in pairs}
                ids = wanted if ids is None else ids & wanted
            elif c.name == "encounter":
                query = query.where(col(Encounter.id).in_(reference_ids(c.values, "Encounter")))
            elif c.name in ("patient", "subject"):
                patients = reference_ids(c.values, "Patient")
                query = query.where(col(Encounter.patient_id).in_(patients))
            elif c.name == "code":
                wanted = {
                    normalize_code(code)
                    for system, code in map(split_token, c.values)
                    if system in (None, ICD10CM_SYSTEM)
                }
                codes = wanted if codes is None else codes & wanted
            elif c.name in _FIXED:
                system, fixed = _FIXED[c.name]
                if not any(
                    split_token(v)[0] in (None, system) and split_token(v)[1] == fixed
                    for v in c.values
                ):
                    ids = set()
            elif c.name == "_lastUpdated":
                query = date_filter(Encounter.updated_at)(query, c)  # type: ignore[arg-type,assignment]
            else:
                raise unsupported_param(self.type_name, c)
        found = [
            (encounter_id, code, rank, updated_at)
            for encounter_id, diagnoses, updated_at in session.exec(
                query.order_by(col(Encounter.id))
            ).all()
            for rank, code in enumerate(diagnoses, start=1)
            if (codes is None or code in codes)
            and (ids is None or condition_id(encounter_id, code) in ids)
        ]
        for key in reversed(sort):  # stable sorts: the first key decides last
            if key.name not in ("_id", "_lastUpdated"):
                raise NotSupported("Condition sorts by _id or _lastUpdated.")
            index = 3 if key.name == "_lastUpdated" else 0
            found.sort(key=lambda m: (m[index], m[2]), reverse=key.descending)
        matches = [(e, code, rank) for e, code, rank, _ in found]
        if summary_count or count == 0:
            return SearchResult([], len(matches), None)
        start = 0
        if sort:
            start = offset_of(cursor)
            page = matches[start : start + count]
            encounters = {
                e.id: e for e in encounters_by_id(session, actor, [e for e, _, _ in page])
            }
            rows = [Diagnosis(encounters[e], code, rank) for e, code, rank in page]
            self.audit_included(session, actor, rows)
            return SearchResult(
                rows, len(matches), next_offset(start, count, start + count < len(matches))
            )
        if cursor:
            after_encounter, _, after_rank = decode_cursor(cursor).partition("Z")
            after = (after_encounter, int(after_rank or 0))
            start = next((i for i, (e, _, r) in enumerate(matches) if (e, r) > after), len(matches))
        page = matches[start : start + count]
        encounters = {e.id: e for e in encounters_by_id(session, actor, [e for e, _, _ in page])}
        rows = [Diagnosis(encounters[e], code, rank) for e, code, rank in page]
        self.audit_included(session, actor, rows)
        more = start + count < len(matches)
        next_cursor = encode_cursor(f"{page[-1][0]}Z{page[-1][2]}") if more and page else None
        return SearchResult(rows, len(matches), next_cursor)
