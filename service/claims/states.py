"""The claim and claim batch status machines of DESIGN.md, in one table each: every status
change goes through `check_claim` or `check_batch`, so an illegal one is refused the same way
wherever it is attempted (batching, acknowledgements, remittance, corrections)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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
    REPLACED = "replaced"  # its replacement (frequency 7) was sent
    VOIDED = "voided"  # its void (frequency 8) was sent
    # A secondary claim the primary payer crossed over to the next payer itself (CLP02 19-21,
    # MOA/MIA MA18 or N89): held, so a duplicate is not sent, until a clerk releases it.
    FORWARDED = "forwarded"
    # A replacement or void withdrawn before it was batched: another one may then be made.
    CANCELLED = "cancelled"


class BatchStatus(StrEnum):
    GENERATED = "generated"
    DOWNLOADED = "downloaded"
    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    PARTIALLY_ACCEPTED = "partially_accepted"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class ClaimVerb(StrEnum):
    SCRUB = "scrub"
    BATCH = "batch"
    UNBATCH = "unbatch"  # its batch was cancelled before it was sent
    SUBMIT = "submit"
    ACCEPT = "accept"
    REJECT = "reject"
    CORRECT = "correct"
    ADJUDICATE = "adjudicate"
    REVERSE = "reverse"
    SUPERSEDE = "supersede"  # its replacement's batch was submitted
    VOID = "void"  # its void's batch was submitted
    FORWARD = "forward"  # the primary's 835 says the payer crossed the claim over
    RELEASE = "release"  # the secondary payer did not get it after all: back to the scrubber
    CANCEL = "cancel"  # a replacement or void withdrawn before it was batched


C = ClaimStatus
B = BatchStatus
V = ClaimVerb
ADJUDICATED = frozenset({C.PAID, C.PARTIALLY_PAID, C.DENIED})
# Where a claim is between leaving us and the payer's answer; an 835 may come without a 277CA.
_WITH_PAYER = frozenset({C.BATCHED, C.SUBMITTED, C.ACCEPTED})
# A claim the payer holds (sent, with or without an answer): what a replacement or void corrects.
SENT = frozenset({C.SUBMITTED, C.ACCEPTED}) | ADJUDICATED

# Per verb: the statuses it takes a claim from, and where it takes it (None: decided by the
# event: the scrubber's findings, the 835's CLP, or what a reversal restores).
# draft <-> ready (the scrubber) -> batched -> submitted -> accepted -> paid | partially_paid |
# denied; rejected (999 or 277CA) from batched, submitted, accepted, corrected back to draft;
# a cancelled batch returns its claims to ready. A later 835 for an adjudicated claim (a payer
# splits a claim into several CLPs, or reprocesses it) moves it among the three, and a
# reversal restores the status the claim had before the payment it undoes (or, when other CLPs
# of the claim stay active, the status they make together). A secondary claim waiting in draft
# or ready goes to forwarded when the primary payer crossed it over; release sends it back to
# draft, where the scrubber turns it ready. A sent claim whose replacement (7) or void (8) is
# submitted becomes replaced or voided, for good. A replacement or void still in draft or ready
# may be cancelled (for good), so that another one can be made.
CLAIM_TRANSITIONS: dict[ClaimVerb, tuple[frozenset[ClaimStatus], ClaimStatus | None]] = {
    V.SCRUB: (frozenset({C.DRAFT, C.READY}), None),
    V.BATCH: (frozenset({C.READY}), C.BATCHED),
    V.UNBATCH: (frozenset({C.BATCHED}), C.READY),
    V.SUBMIT: (frozenset({C.BATCHED}), C.SUBMITTED),
    V.ACCEPT: (frozenset({C.BATCHED, C.SUBMITTED}), C.ACCEPTED),
    V.REJECT: (frozenset({C.BATCHED, C.SUBMITTED, C.ACCEPTED}), C.REJECTED),
    V.CORRECT: (frozenset({C.REJECTED}), C.DRAFT),
    V.ADJUDICATE: (_WITH_PAYER | ADJUDICATED, None),
    V.REVERSE: (ADJUDICATED, None),
    V.SUPERSEDE: (SENT, C.REPLACED),
    V.VOID: (SENT, C.VOIDED),
    V.FORWARD: (frozenset({C.DRAFT, C.READY}), C.FORWARDED),
    V.RELEASE: (frozenset({C.FORWARDED}), C.DRAFT),
    V.CANCEL: (frozenset({C.DRAFT, C.READY}), C.CANCELLED),
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


def claim_allows(current: str, verb: ClaimVerb) -> bool:
    return ClaimStatus(current) in CLAIM_TRANSITIONS[verb][0]


def claim_target(verb: ClaimVerb) -> ClaimStatus:
    """Where the verb takes a claim, for the verbs whose target is fixed."""
    target = CLAIM_TRANSITIONS[verb][1]
    assert target is not None, f"{verb} decides its target per event"
    return target


def batch_allows(current: str, target: str) -> bool:
    return BatchStatus(target) in BATCH_TRANSITIONS[BatchStatus(current)]


def _options(allowed: Iterable[str]) -> str:
    return ", ".join(sorted(allowed)) or "none (final)"


def check_claim(claim_id: str, current: str, verb: ClaimVerb) -> ClaimStatus:
    """Returns the verb's target status, or raises a 409 naming the claim's status, the
    statuses the verb takes and the verbs its status allows."""
    now = ClaimStatus(current)
    sources, target = CLAIM_TRANSITIONS[verb]
    if now not in sources:
        verbs = [v for v, (frm, _) in CLAIM_TRANSITIONS.items() if now in frm]
        raise IllegalClaimTransition(
            f"Claim {claim_id} is {now}; {verb} takes claims that are {_options(sources)}. "
            f"Allowed next: {_options(verbs)}."
        )
    return target or now


def check_batch(batch_id: str, current: str, target: str) -> BatchStatus:
    """Returns the target status, or raises a 409 naming the current and allowed states."""
    now, wanted = BatchStatus(current), BatchStatus(target)
    if wanted not in BATCH_TRANSITIONS[now]:
        raise IllegalBatchTransition(
            f"Batch {batch_id} is {now}; it cannot become {wanted}. "
            f"Allowed next: {_options(BATCH_TRANSITIONS[now])}."
        )
    return wanted


@dataclass(frozen=True)
class Decision:
    """One active 835 CLP of a claim, as much of it as the claim's status needs."""

    status_code: str  # CLP02
    charge: Decimal  # CLP03
    paid: Decimal  # CLP04
    patient_responsibility: Decimal  # the PR adjustments (CLP05)
    written_off: Decimal  # contractual adjustments (CO 45, CO 253)
    prior_payer: Decimal = Decimal(0)  # OA 23: what the payers before this one settled


def adjudicated_status(decisions: Sequence[Decision]) -> ClaimStatus:
    """The status the active CLPs of a claim make together (a payer may split one claim into
    several): all CLP02 4 is denied; paying at least the charge pays the claim; so does paying
    nothing because the whole allowed amount is the patient's (deductible, co-insurance) or was
    settled by a prior payer (OA 23), this payer's part being done; otherwise nothing paid is
    a denial and something paid a partial payment."""
    if all(d.status_code == "4" for d in decisions):
        return C.DENIED
    charge = sum((d.charge for d in decisions), Decimal(0))
    paid = sum((d.paid for d in decisions), Decimal(0))
    patient = sum((d.patient_responsibility for d in decisions), Decimal(0))
    written_off = sum((d.written_off for d in decisions), Decimal(0))
    prior = sum((d.prior_payer for d in decisions), Decimal(0))
    if paid >= charge:
        return C.PAID
    if paid != 0:
        return C.PARTIALLY_PAID
    if patient + prior > 0 and patient + prior + written_off >= charge:
        return C.PAID
    return C.DENIED


def batch_status_for_ak9(code: str) -> BatchStatus:
    """999 AK9: A and E accept the group, P accepts part of it, R/M/W/X refuse it."""
    if code in ("A", "E"):
        return B.ACKNOWLEDGED
    return B.PARTIALLY_ACCEPTED if code == "P" else B.REJECTED
