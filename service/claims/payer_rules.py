"""Scrubber findings for what payers refuse or mis-pay although the 837 is well formed:
lab services without the lab's CLIA number (REF*X4), J-code drugs to Medicaid without an NDC
(2410), unlisted / not-otherwise-classified codes without a line note (NTE), anesthesia codes
without minutes (SV103 MJ), and a coordination-of-benefits order the coverages contradict."""

import re
from datetime import date

from sqlmodel import Session

from service.claims.other_payers import PRIORITY_ORDER
from service.claims.x12_input import ClaimRow, CoverageRow, LineRow, Refs, is_lab_line
from service.codesets import logic as codesets
from service.coding.edits import Finding
from service.coding.logic import is_anesthesia_code
from service.errors import DomainError

_UNLISTED_TITLE = re.compile(
    r"\bunlisted\b|not otherwise (classified|specified)|\bnoc\b|\bunclassified\b|\bnos\b"
)
# HCPCS Level II NOC codes, for when the HCPCS set is not loaded (its titles say so).
_HCPCS_NOC = frozenset(
    {
        "A9999", "C9399", "E1399", "J3490", "J3590", "J7199", "J7599", "J7699", "J7799",
        "J7999", "J8499", "J8999", "J9999", "L8699",
    }
)  # fmt: skip
MEDICAID = "MC"


class Titles:
    """Whether a code is unlisted / NOC, by its title in the code set in force (looked up once
    per code and date); without the set, by the code's form (CPT unlisted codes end in 99)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._known: dict[tuple[str, str, date], bool] = {}
        self._versions: dict[str, list[codesets.VersionInfo]] = {}

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
        if medicaid and _is_drug(line) and not line.ndc:
            found.append(
                Finding(
                    "ndc-missing",
                    "error",
                    f"/lines/{i}/ndc",
                    f"{line.code} is a drug billed to Medicaid: it needs its NDC, unit and "
                    "quantity (2410 LIN*N4 / CTP).",
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


def _is_drug(line: LineRow) -> bool:
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
