"""Tell a 999, a 277CA and an 835 apart from the ISA/GS/ST envelope."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from service.x12.tokens import (
    FunctionalGroup,
    Interchange,
    Segment,
    X12ParseError,
    read_segments,
)


class Kind(StrEnum):
    ACK_999 = "999"
    ACK_277CA = "277CA"
    REMITTANCE_835 = "835"


# GS08 (and ST03 where used) per kind: the implementation guide.
VERSIONS: dict[Kind, tuple[str, ...]] = {
    Kind.ACK_999: ("005010X231A1", "005010X231"),
    Kind.ACK_277CA: ("005010X214",),
    Kind.REMITTANCE_835: ("005010X221A1",),
}
# (GS01, ST01) -> kind: FA functional acknowledgment, HN claim status, HP claim payment.
_BY_ENVELOPE = {
    ("FA", "999"): Kind.ACK_999,
    ("HN", "277"): Kind.ACK_277CA,
    ("HP", "835"): Kind.REMITTANCE_835,
}
_NAMES = {
    "837": "an 837 claim file (what we send, not what comes back)",
    "997": "a 4010 997 acknowledgement (5010 uses the 999)",
    "276": "a 276 claim status request",
    "270": "a 270 eligibility request",
    "271": "a 271 eligibility response",
    "834": "an 834 enrollment file",
    "820": "an 820 premium payment",
}


def detect(text: str | Iterable[str]) -> Kind:
    """The kind of file from its first GS and ST (reading no further); anything else raises
    X12ParseError."""
    _, isa, segments = read_segments((text,) if isinstance(text, str) else text)
    gs: Segment | None = None
    last = isa
    ta1 = False
    for segment in segments:
        last = segment
        if segment.id == "GS":
            gs = segment
        elif segment.id == "ST":
            if gs is None:
                raise segment.error(None, "ST outside a functional group (no GS before it)")
            return classify(gs, segment)
        elif segment.id == "TA1":
            ta1 = True
        elif gs is None:
            raise segment.error(None, f"expected a GS functional group header, found {segment.id}")
    if ta1:
        raise last.error(
            None, "the file holds only a TA1 interchange acknowledgement, no 999, 277CA or 835"
        )
    raise last.error(None, "the file has no transaction set (no ST)")


def classify(gs: Segment, st: Segment) -> Kind:
    """GS01 + ST01 (+ the 277CA guide id): the kind of the transaction set, or X12ParseError."""
    functional_id, set_id = gs.get(1), st.get(1)
    kind = _BY_ENVELOPE.get((functional_id, set_id))
    if kind is None:
        if set_id in _NAMES:
            raise st.error(1, f"this is {_NAMES[set_id]}, not a 999, 277CA or 835")
        known = {s for (_, s) in _BY_ENVELOPE}
        if set_id in known:
            raise gs.error(
                1,
                f"GS01 {functional_id} does not match ST01 {set_id} (a {set_id} needs "
                f"GS01 {next(f for (f, s) in _BY_ENVELOPE if s == set_id)})",
            )
        raise st.error(1, f"transaction set {set_id or '(none)'} is not a 999, 277CA or 835")
    version = gs.get(8)
    if kind is Kind.ACK_277CA and version not in VERSIONS[kind]:
        note = " (005010X212 is the claim status response to a 276)" * (version == "005010X212")
        raise gs.error(
            8,
            f"a 277 with guide {version or '(none)'} is not a 277CA claim acknowledgement "
            f"(005010X214){note}",
        )
    if version not in VERSIONS[kind]:
        raise gs.error(
            8, f"GS08 {version or '(none)'} is not the {kind} guide ({' or '.join(VERSIONS[kind])})"
        )
    st03 = st.get(3)
    if st03 and st03 != version:
        raise st.error(3, f"ST03 {st03} does not match GS08 {version}")
    return kind


def expect(interchange: Interchange, kind: Kind) -> list[FunctionalGroup]:
    """Every transaction set of the file must be of kind; returns the groups."""
    for group in interchange.groups:
        for transaction_set in group.transaction_sets:
            found = classify(group.header, transaction_set.header)
            if found is not kind:
                raise transaction_set.header.error(
                    1, f"this is a {found} transaction set, expected a {kind}"
                )
    return interchange.groups


__all__ = ["Kind", "X12ParseError", "classify", "detect", "expect"]
