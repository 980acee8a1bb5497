"""The specimen status machine of DESIGN.md, in one table: every status change goes through
`check_transition`, so an illegal one is refused the same way wherever it is attempted."""

from enum import StrEnum

from service.errors import Conflict


class SpecimenStatus(StrEnum):
    ORDERED = "ordered"
    COLLECTED = "collected"
    RECEIVED = "received"
    IN_PREPARATION = "in_preparation"
    READY = "ready"
    IN_ANALYSIS = "in_analysis"
    RESULTED = "resulted"
    VERIFIED = "verified"
    STORED = "stored"
    DISPOSED = "disposed"
    REJECTED = "rejected"


S = SpecimenStatus

# ordered -> collected -> received -> in_preparation -> ready -> in_analysis -> resulted
# -> verified -> stored -> disposed; rejected from collected, received, in_preparation and
# ready; received -> ready at once when no preparation step is required.
TRANSITIONS: dict[SpecimenStatus, frozenset[SpecimenStatus]] = {
    S.ORDERED: frozenset({S.COLLECTED}),
    S.COLLECTED: frozenset({S.RECEIVED, S.REJECTED}),
    S.RECEIVED: frozenset({S.IN_PREPARATION, S.READY, S.REJECTED}),
    S.IN_PREPARATION: frozenset({S.READY, S.REJECTED}),
    S.READY: frozenset({S.IN_ANALYSIS, S.REJECTED}),
    S.IN_ANALYSIS: frozenset({S.RESULTED}),
    S.RESULTED: frozenset({S.VERIFIED}),
    S.VERIFIED: frozenset({S.STORED}),
    S.STORED: frozenset({S.DISPOSED}),
    S.DISPOSED: frozenset(),
    S.REJECTED: frozenset(),
}

# Why a specimen was refused (HL7 v2 table 0490 in spirit, as lab staff name them).
REJECTION_REASONS = (
    "hemolyzed",
    "lipemic",
    "icteric",
    "qns",
    "unlabeled",
    "mislabeled",
    "leaked",
    "expired_stability",
    "clotted",
    "wrong_container",
    "wrong_temperature",
    "contaminated",
)


class IllegalTransition(Conflict):
    code = "illegal-specimen-transition"


def allowed_next(current: SpecimenStatus) -> frozenset[SpecimenStatus]:
    return TRANSITIONS[current]


def check_transition(accession: str, current: str, target: str) -> SpecimenStatus:
    """Returns the target status, or raises a 409 naming the current and allowed states."""
    now, wanted = SpecimenStatus(current), SpecimenStatus(target)
    allowed = TRANSITIONS[now]
    if wanted not in allowed:
        options = ", ".join(sorted(allowed)) or "none (final)"
        raise IllegalTransition(
            f"Specimen {accession} is {now}; it cannot become {wanted}. Allowed next: {options}."
        )
    return wanted
