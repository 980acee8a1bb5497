"""Why claims a batch request listed are not in the batch (issue 24): a clerk who names claim
ids hears about every one left out, instead of a smaller file and silence."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from service.auth.logic import Principal
from service.claims.models import Claim, ClaimBatchMember
from service.coding.models import Encounter


@dataclass(frozen=True)
class SkippedClaim:
    claim_id: str
    reason: str


def _why(claim: Claim | None, claim_type: str, encounter_version: int | None) -> str:
    if claim is None:
        return "no claim with this id"
    if claim.claim_type != claim_type:
        return f"a {claim.claim_type} claim; this batch is {claim_type}"
    if claim.status != "ready":
        errors = [f["code"] for f in claim.findings or [] if f.get("severity") == "error"]
        if claim.status == "draft" and errors:
            return "draft: the scrubber found " + ", ".join(sorted(set(errors)))
        return f"{claim.status}, not ready"
    if encounter_version is not None and claim.coding_version != encounter_version:
        return "its encounter was re-coded after the claim was built: rebuild it"
    return "ready, left for another batch (the partner's per-file limit, or another clerk's batch)"


def skipped_claims(
    session: Session,
    actor: Principal,
    claim_type: str,
    requested: Sequence[str],
    batch_id: str | None,
) -> list[SkippedClaim]:
    """Each requested id not in batch `batch_id` (None: no batch was made), with the reason."""
    wanted = list(dict.fromkeys(requested))
    taken: set[str] = set()
    if batch_id is not None:
        taken = set(
            session.exec(
                select(ClaimBatchMember.claim_id).where(
                    ClaimBatchMember.batch_id == batch_id,
                    col(ClaimBatchMember.claim_id).in_(wanted),
                )
            ).all()
        )
    missing = [i for i in wanted if i not in taken]
    if not missing:
        return []
    rows = session.exec(
        select(Claim, Encounter.coding_version)
        .join(Encounter, col(Encounter.id) == col(Claim.encounter_id))
        .where(Claim.organization_id == actor.organization_id, col(Claim.id).in_(missing))
    ).all()
    found = {claim.id: (claim, version) for claim, version in rows}
    skipped = []
    for claim_id in missing:
        claim, version = found.get(claim_id, (None, None))
        skipped.append(SkippedClaim(claim_id, _why(claim, claim_type, version)))
    return skipped
