"""Scrubber findings for what payers refuse or mis-pay although the 837 is well formed:
lab services without the lab's CLIA number (REF*X4), drugs (J-codes, and the codes a fee
schedule marks as drugs) to Medicaid without an NDC (2410), unlisted / not-otherwise-classified
codes without a line note (NTE), anesthesia codes without minutes (SV103 MJ), and a
coordination-of-benefits order the coverages contradict."""

import re
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from service.claims.other_payers import PRIORITY_ORDER
from service.claims.x12_input import ClaimRow, CoverageRow, LineRow, Refs, is_lab_line
from service.codesets import logic as codesets
from service.coding.edits import Finding
from service.coding.logic import is_anesthesia_code
from service.directory.models import FeeSchedule
from service.errors import DomainError

_UNLISTED_TITLE = re.compile(
    r"\bunlisted\b|not otherwise (classified|specified)|\bnoc\b|\bunclassified\b|\bnos\b"
)
# HCPCS Level II NOC codes, for when the HCPCS set is not loaded (its titles say so).
_HCPCS_NOC = frozenset(
    {
        "A9999",
        "C9399",
        "E1399",
        "J3490",
        "J3590",
        "J7199",
        "J7599",
        "J7699",
        "J7799",
        "J7999",
        "J8499",
        "J8999",
        "J9999",
        "L8699",
    }
)
MEDICAID = "MC"


@dataclass(frozen=True)
class _DrugSchedule:
    payer_id: str | None
    effective_from: date
    effective_to: date | None
    drugs: frozenset[tuple[str, str]]  # (code system, code) the schedule marks as a drug


class Titles:
    """Whether a code is unlisted / NOC, by its title in the code set in force (looked up once
    per code and date); without the set, by the code's form (CPT unlisted codes end in 99).
    And whether the organization's fee schedules mark a code as a drug (read once)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._known: dict[tuple[str, str, date], bool] = {}
        self._versions: dict[str, list[codesets.VersionInfo]] = {}
        self._drug_schedules: dict[str, list[_DrugSchedule]] = {}

    def marked_drug(self, organization_id: str, payer_id: str, line: LineRow) -> bool:
        """A fee schedule in force on the line's date (the payer's own or the default one)
        marks the code as a drug."""
        schedules = self._drug_schedules.get(organization_id)
        if schedules is None:
            schedules = self._drug_schedules[organization_id] = self._read_drugs(organization_id)
        key = (line.code_system, line.code.upper())
        on = line.service_date
        return any(
            key in s.drugs
            and s.payer_id in (None, payer_id)
            and s.effective_from <= on
            and (s.effective_to is None or on <= s.effective_to)
            for s in schedules
        )

    def _read_drugs(self, organization_id: str) -> list[_DrugSchedule]:
        rows = self._session.exec(
            select(FeeSchedule).where(
                FeeSchedule.organization_id == organization_id,
                col(FeeSchedule.deleted_at).is_(None),
            )
        ).all()
        found = []
        for row in rows:
            drugs = frozenset(
                (item["code_system"], item["code"].upper())
                for item in row.items
                if item.get("drug")
            )
            if drugs:
                found.append(
                    _DrugSchedule(row.payer_id, row.effective_from, row.effective_to, drugs)
                )
        return found

    def unlisted(self, system: str, code: str, on: date) -> bool:
        key = (system, code, on)
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = self._look_up(system, code, on)
        return found

    def _look_up(self, system: str, code: str, on: date) -> bool:
        if system not in ("CPT", "HCPCS"):
            return False
        name = system.lower()
        if name not in self._versions:
            self._versions[name] = codesets.list_versions(self._session, name)
        row = None
        if self._versions[name]:
            try:
                row = codesets.lookup(self._session, name, code, on, self._versions[name]).row
            except DomainError:  # a date before the set's first version
                row = None
        if row is not None:
            return bool(_UNLISTED_TITLE.search(row.title.lower()))
        if system == "CPT":
            return code.isdigit() and code.endswith("99")
        return code in _HCPCS_NOC


def titles_for(session: Session) -> Titles:
    return Titles(session)


def payer_findings(claim: ClaimRow, refs: Refs, titles: Titles) -> list[Finding]:
    found: list[Finding] = []
    lines = refs.lines[claim.id]
    payer = refs.directory.payers.get(claim.payer_id)
    medicaid = payer is not None and payer.claim_filing_indicator == MEDICAID
    if claim.claim_type == "professional":
        found += _clia(claim, refs, lines)
    for i, line in enumerate(lines):
        drug = _is_j_code(line) or titles.marked_drug(claim.organization_id, claim.payer_id, line)
        if medicaid and drug and not line.ndc:
            found.append(
                Finding(
                    "ndc-missing",
                    "error",
                    f"/lines/{i}/ndc",
                    f"{line.code} is a drug billed to Medicaid (a J-code, or marked as a drug "
                    "in the fee schedule): it needs its NDC, unit and quantity (2410 LIN*N4 / "
                    "CTP).",
                )
            )
        if not line.note and titles.unlisted(line.code_system, line.code, line.service_date):
            found.append(
                Finding(
                    "note-missing",
                    "error",
                    f"/lines/{i}/note",
                    f"{line.code} is an unlisted / not otherwise classified code: describe the "
                    "service in a line note (NTE).",
                )
            )
        if not line.anesthesia_minutes and is_anesthesia_code(line.code_system, line.code):
            found.append(
                Finding(
                    "anesthesia-minutes-missing",
                    "error",
                    f"/lines/{i}/anesthesia_minutes",
                    f"{line.code} is an anesthesia code: bill it in minutes (SV103 MJ).",
                )
            )
    found += _cob_order(claim, refs)
    return found


def _is_j_code(line: LineRow) -> bool:
    """HCPCS J-codes: drugs administered other than orally."""
    return line.code_system == "HCPCS" and line.code[:1] == "J"


def _clia(claim: ClaimRow, refs: Refs, lines: list[LineRow]) -> list[Finding]:
    catalog = refs.directory.lab_codes(claim.organization_id)
    lab = next((i for i, line in enumerate(lines) if is_lab_line(line, catalog)), None)
    if lab is None:
        return []
    encounter = refs.encounters[claim.encounter_id]
    facility = refs.directory.facilities.get(encounter.facility_id or "")
    if facility is not None and facility.clia_number:
        return []
    return [
        Finding(
            "clia-missing",
            "error",
            f"/lines/{lab}/code",
            f"{lines[lab].code} is a laboratory service: the claim needs the lab's CLIA number "
            "(REF*X4); give the encounter a facility with its CLIA number.",
        )
    ]


def _cob_order(claim: ClaimRow, refs: Refs) -> list[Finding]:
    """The encounter's coverages in force, in priority order, must agree with the claim:
    a payer ahead of this claim's must be in force on the date of service, and Medicaid
    (payer of last resort) comes after every other payer."""
    encounter = refs.encounters[claim.encounter_id]
    mine = refs.coverages.get(claim.coverage_id)
    if mine is None:
        return []
    coverages = [refs.coverages[i] for i in encounter.coverage_ids if i in refs.coverages]
    found: list[Finding] = []
    rank = PRIORITY_ORDER[mine.priority]
    for ahead in coverages:
        if PRIORITY_ORDER[ahead.priority] < rank and not _in_force(ahead, claim.date_of_service):
            found.append(
                Finding(
                    "cob-order",
                    "error",
                    "/coverage_id",
                    f"The {ahead.priority} coverage ahead of this {mine.priority} claim is not in "
                    f"force on {claim.date_of_service}: this payer is not {mine.priority}; fix "
                    "the coverages' priorities.",
                )
            )
            break
    live = [c for c in coverages if _in_force(c, claim.date_of_service)]
    indicators = {c.id: _indicator(refs, c) for c in live}
    medicaid = [c for c in live if indicators[c.id] == MEDICAID]
    others = [c for c in live if indicators[c.id] != MEDICAID]
    if any(
        PRIORITY_ORDER[m.priority] < PRIORITY_ORDER[o.priority] for m in medicaid for o in others
    ):
        found.append(
            Finding(
                "cob-order",
                "error",
                "/coverage_id",
                "Medicaid is listed ahead of another payer: Medicaid pays last, after every "
                "other coverage; fix the coverages' priorities.",
            )
        )
    return found


def _in_force(coverage: CoverageRow, on: date) -> bool:
    return coverage.in_force(on)


def _indicator(refs: Refs, coverage: CoverageRow) -> str | None:
    payer = refs.directory.payers.get(coverage.payer_id)
    return payer.claim_filing_indicator if payer is not None else None
