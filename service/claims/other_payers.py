"""The other payers a primary claim names (837 loops 2320/2330A/2330B).

TR3 2320 is required when another payer is known to be responsible: a primary claim lists
every other coverage of its encounter in force on the date of service, in coverage order
(secondary, then tertiary), with no adjudication yet (no AMT*D, CAS or DTP*573). Secondary
and tertiary claims carry the primary payer's answer instead (claims.secondary).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from service.claims.x12 import model as x12

if TYPE_CHECKING:
    from service.claims.x12_input import ClaimRow, CoverageRow, EncounterRow, PatientRow, Refs

PRIORITY_ORDER = {"primary": 0, "secondary": 1, "tertiary": 2}
_SBR01 = {"primary": "P", "secondary": "S", "tertiary": "T"}


def other_subscriber(coverage: CoverageRow, patient: PatientRow) -> x12.OtherSubscriber:
    """2330A: the patient when they hold the card (self, or a dependant with their own id),
    else the coverage's subscriber; name suffixes (JR, III) are kept (NM107)."""
    if coverage.patient_is_subscriber:
        name = x12.PersonName(
            patient.family_name,
            patient.given_name or "",
            patient.middle_name or "",
            patient.suffix or "",
        )
        address = patient.address
    else:
        sub = coverage.subscriber or {}
        name = x12.PersonName(
            sub.get("family_name", ""),
            sub.get("given_name") or "",
            sub.get("middle_name") or "",
            sub.get("suffix") or "",
        )
        address = sub.get("address")
    return x12.OtherSubscriber(coverage.member_id, name, x12.address_from(address))


def relationship_to(coverage: CoverageRow) -> str:
    """2320 SBR02: 18 when the patient holds the card."""
    return "18" if coverage.patient_is_subscriber else coverage.relationship


def known_other_payers(
    claim: ClaimRow,
    encounter: EncounterRow,
    coverage: CoverageRow,
    patient: PatientRow,
    refs: Refs,
) -> tuple[x12.OtherPayer, ...]:
    if claim.payer_responsibility != "P":
        return ()
    others = [
        refs.coverages[i]
        for i in encounter.coverage_ids
        if i != coverage.id
        and i in refs.coverages
        and refs.coverages[i].in_force(claim.date_of_service)
        and refs.coverages[i].priority != "primary"
        and refs.coverages[i].payer_id in refs.directory.payers
    ]
    others.sort(key=lambda c: PRIORITY_ORDER[c.priority])
    return tuple(
        x12.OtherPayer(
            payer=refs.directory.payer(other.payer_id),
            subscriber=other_subscriber(other, patient),
            claim_filing_indicator=refs.directory.payers[other.payer_id].claim_filing_indicator,
            relationship=relationship_to(other),
            payer_responsibility=_SBR01[other.priority],
            group_number=other.group_number,
        )
        for other in others
    )
