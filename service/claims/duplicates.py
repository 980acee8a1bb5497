"""Duplicate claims across encounters: the same service (patient, date, code, modifiers,
rendering provider) on two claims is what payers deny as CARC 18, so the scrubber refuses the
second one unless the line carries a repeat modifier or the clerk acknowledged it.

Claims of one encounter (its primary, secondary and tertiary claims, a replacement or void and
the claim it corrects) bill the same services on purpose and are never duplicates of each
other. Claims that no longer stand (cancelled, replaced, voided) and voids are not compared; of two
claims the later one is the duplicate."""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col

from service.claims.models import Claim, ClaimLine
from service.claims.states import ClaimStatus
from service.claims.x12_input import ClaimRow, LineRow, Refs
from service.coding.edits import Finding
from service.coding.models import Encounter

# Repeat procedure by the same / another physician, repeat clinical lab test: a second
# service on purpose (CPT Appendix A).
REPEAT_MODIFIERS = frozenset({"76", "77", "91"})
_GONE = (ClaimStatus.CANCELLED, ClaimStatus.REPLACED, ClaimStatus.VOIDED)


class _Service(NamedTuple):
    patient_id: str
    service_date: date
    code_system: str
    code: str
    modifiers: tuple[str, ...]
    rendering_provider_id: str


class _Billed(NamedTuple):
    claim_id: str
    encounter_id: str
    patient_control_number: str
    created_at: datetime


def _service(
    patient_id: str,
    line_date: date,
    code_system: str,
    code: str,
    modifiers: Sequence[str],
    line_rendering: str | None,
    encounter_rendering: str | None,
    billing: str,
) -> _Service:
    # Without a rendering provider the billing provider rendered the service (2310B absent).
    rendering = line_rendering or encounter_rendering or billing
    return _Service(
        patient_id, line_date, code_system, code.upper(), tuple(sorted(modifiers)), rendering
    )


class Billed:
    """The services already on standing claims of the page's patients and dates, read in one
    query per page."""

    def __init__(self, session: Session, claims: Sequence[ClaimRow], refs: Refs) -> None:
        self._by_service: dict[_Service, list[_Billed]] = {}
        patients = sorted({c.patient_id for c in claims})
        dates = sorted({line.service_date for c in claims for line in refs.lines[c.id]})
        if not patients or not dates:
            return
        query = (
            sa.select(
                col(Claim.id),
                col(Claim.encounter_id),
                col(Claim.patient_control_number),
                col(Claim.created_at),
                col(ClaimLine.duplicate_acknowledged),
                col(Claim.patient_id),
                col(ClaimLine.service_date),
                col(ClaimLine.code_system),
                col(ClaimLine.code),
                col(ClaimLine.modifiers),
                col(ClaimLine.rendering_provider_id),
                col(Encounter.rendering_provider_id),
                col(Encounter.billing_provider_id),
            )
            .join(ClaimLine, col(ClaimLine.claim_id) == col(Claim.id))
            .join(Encounter, col(Encounter.id) == col(Claim.encounter_id))
            .where(
                col(Claim.organization_id) == claims[0].organization_id,
                col(Claim.patient_id).in_(patients),
                col(ClaimLine.service_date).in_(dates),
                col(Claim.status).not_in([s.value for s in _GONE]),
                col(Claim.frequency) != "8",
            )
            .order_by(col(Claim.created_at), col(Claim.id))
        )
        self._created: dict[str, datetime] = {}
        for row in session.execute(query):
            claim_id, encounter_id, pcn, created, acknowledged, patient_id, *line = row
            self._created[claim_id] = created
            key = _service(patient_id, *line)
            # A line the clerk acknowledged (or a repeat) is no one's duplicate, either way.
            if acknowledged or REPEAT_MODIFIERS & set(key.modifiers):
                continue
            self._by_service.setdefault(key, []).append(
                _Billed(claim_id, encounter_id, pcn, created)
            )

    def findings(self, claim: ClaimRow, refs: Refs) -> list[Finding]:
        if claim.frequency == "8":  # a void repeats its original's lines by definition
            return []
        encounter = refs.encounters[claim.encounter_id]
        found: list[Finding] = []
        for i, line in enumerate(refs.lines[claim.id]):
            if line.duplicate_acknowledged or REPEAT_MODIFIERS & set(line.modifiers):
                continue
            other = self._other(
                claim, line, encounter.rendering_provider_id, encounter.billing_provider_id
            )
            if other is None:
                continue
            shown = "-".join([line.code, *line.modifiers])
            found.append(
                Finding(
                    "duplicate-claim",
                    "error",
                    f"/lines/{i}/code",
                    f"{shown} on {line.service_date} by the same rendering provider is already "
                    f"billed for this patient on claim {other.claim_id} (patient control number "
                    f"{other.patient_control_number}, another encounter): payers deny it as a "
                    "duplicate (CARC 18). Add 76, 77 or 91 for a real repeat, or acknowledge "
                    "the line (duplicate_acknowledged) on the encounter.",
                )
            )
        return found

    def _other(
        self, claim: ClaimRow, line: LineRow, encounter_rendering: str | None, billing: str
    ) -> _Billed | None:
        key = _service(
            claim.patient_id,
            line.service_date,
            line.code_system,
            line.code,
            line.modifiers,
            line.rendering_provider_id,
            encounter_rendering,
            billing,
        )
        # The later of two claims is the duplicate (the payer denies the second it receives);
        # a claim not yet in the database is the latest.
        mine = (self._created.get(claim.id, datetime.max.replace(tzinfo=UTC)), claim.id)
        for billed in self._by_service.get(key, ()):
            # One encounter's claims (primary, secondary, tertiary; a replacement or void and
            # the claim it corrects, built for the same encounter) bill the same services.
            if (
                billed.encounter_id != claim.encounter_id
                and (billed.created_at, billed.claim_id) < mine
            ):
                return billed
        return None
