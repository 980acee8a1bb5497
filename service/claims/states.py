"""The claim and claim batch status machines of DESIGN.md, in one table each: every status
change goes through `check_claim` or `check_batch`, so an illegal one is refused the same way
wherever it is attempted (batching, acknowledgements, remittance, corrections)."""

from decimal import Decimal
from enum import StrEnum

from service.errors import Conflict


class ClaimStatus(StrEnum):
    DRAFT = "draft"
    READY = "ready"
    BATCHED = "batched"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    DENIED = "denied"


class BatchStatus(StrEnum):
    GENERATED = "generated"
    DOWNLOADED = "downloaded"
    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    PARTIALLY_ACCEPTED = "partially_accepted"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


C = ClaimStatus
B = BatchStatus
ADJUDICATED = frozenset({C.PAID, C.PARTIALLY_PAID, C.DENIED})
# Where a claim is between leaving us and the payer's answer; an 835 may come without a 277CA.
_WITH_PAYER = frozenset({C.BATCHED, C.SUBMITTED, C.ACCEPTED})

# draft <-> ready (the scrubber) -> batched -> submitted -> accepted -> paid | partially_paid |
# denied; rejected (999 or 277CA) from batched, submitted, accepted, and corrected back to
# draft; a cancelled batch returns its claims to ready. A later 835 for an adjudicated claim
# (a payer splits a claim into several CLPs, or reprocesses it) moves it among the three, and
# a reversal restores the status the claim had before the payment it undoes.
CLAIM_TRANSITIONS: dict[ClaimStatus, frozenset[ClaimStatus]] = {
    C.DRAFT: frozenset({C.READY}),
    C.READY: frozenset({C.DRAFT, C.BATCHED}),
    C.BATCHED: frozenset({C.READY, C.SUBMITTED, C.ACCEPTED, C.REJECTED} | ADJUDICATED),
    C.SUBMITTED: frozenset({C.ACCEPTED, C.REJECTED} | ADJUDICATED),
    C.ACCEPTED: frozenset({C.REJECTED} | ADJUDICATED),
    C.REJECTED: frozenset({C.DRAFT}),
    C.PAID: ADJUDICATED | _WITH_PAYER,
    C.PARTIALLY_PAID: ADJUDICATED | _WITH_PAYER,
    C.DENIED: ADJUDICATED | _WITH_PAYER,
}

# generated -> downloaded -> submitted -> acknowledged | partially_accepted | rejected (the
# 999's AK9), or cancelled before submission.
BATCH_TRANSITIONS: dict[BatchStatus, frozenset[BatchStatus]] = {
    B.GENERATED: frozenset({B.DOWNLOADED, B.SUBMITTED, B.CANCELLED}),
    B.DOWNLOADED: frozenset({B.SUBMITTED, B.CANCELLED}),
    B.SUBMITTED: frozenset({B.ACKNOWLEDGED, B.PARTIALLY_ACCEPTED, B.REJECTED}),
    B.ACKNOWLEDGED: frozenset(),
    B.PARTIALLY_ACCEPTED: frozenset(),
    B.REJECTED: frozenset(),
    B.CANCELLED: frozenset(),
}


class IllegalClaimTransition(Conflict):
    code = "illegal-claim-transition"


class IllegalBatchTransition(Conflict):
    code = "claim-batch-transition-refused"


def claim_allows(current: str, target: str) -> bool:
    return ClaimStatus(target) in CLAIM_TRANSITIONS[ClaimStatus(current)]


def batch_allows(current: str, target: str) -> bool:
    return BatchStatus(target) in BATCH_TRANSITIONS[BatchStatus(current)]


def _options(allowed: frozenset[ClaimStatus] | frozenset[BatchStatus]) -> str:
    return ", ".join(sorted(allowed)) or "none (final)"


def check_claim(claim_id: str, current: str, target: str) -> ClaimStatus:
    """Returns the target status, or raises a 409 naming the current and allowed states."""
    now, wanted = ClaimStatus(current), ClaimStatus(target)
    if wanted not in CLAIM_TRANSITIONS[now]:
        raise IllegalClaimTransition(
            f"Claim {claim_id} is {now}; it cannot become {wanted}. "
            f"Allowed next: {_options(CLAIM_TRANSITIONS[now])}."
        )
    return wanted


def check_batch(batch_id: str, current: str, target: str) -> BatchStatus:
    """Returns the target status, or raises a 409 naming the current and allowed states."""
    now, wanted = BatchStatus(current), BatchStatus(target)
    if wanted not in BATCH_TRANSITIONS[now]:
        raise IllegalBatchTransition(
            f"Batch {batch_id} is {now}; it cannot become {wanted}. "
            f"Allowed next: {_options(BATCH_TRANSITIONS[now])}."
        )
    return wanted


def adjudicated_status(status_code: str, charge: Decimal, paid: Decimal) -> ClaimStatus:
    """835 CLP02 4 is a denial; paying at least the charge pays the claim, less partly."""
    if status_code == "4":
        return C.DENIED
    return C.PAID if paid >= charge else C.PARTIALLY_PAID


def batch_status_for_ak9(code: str) -> BatchStatus:
    """999 AK9: A and E accept the group, P accepts part of it, R/M/W/X refuse it."""
    if code in ("A", "E"):
        return B.ACKNOWLEDGED
    return B.PARTIALLY_ACCEPTED if code == "P" else B.REJECTED
