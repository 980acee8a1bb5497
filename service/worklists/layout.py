"""Worklist layouts and ordering rules, pure: rack positions 1..N or a 96-well plate A1-H12
(filled down the columns, A1, B1 … H1, A2, as plate readers and pipetting robots expect)."""

from datetime import datetime

PLATE_ROWS = "ABCDEFGH"
PLATE_COLUMNS = 12


def positions(layout: str, capacity: int) -> list[str]:
    if layout == "plate96":
        return [f"{row}{col}" for col in range(1, PLATE_COLUMNS + 1) for row in PLATE_ROWS]
    return [str(n) for n in range(1, capacity + 1)]


def free_positions(layout: str, capacity: int, taken: set[str]) -> list[str]:
    return [p for p in positions(layout, capacity) if p not in taken]


def is_position(layout: str, capacity: int, position: str) -> bool:
    return position in set(positions(layout, capacity))


def priority_key(
    priority: str, collected_at: datetime | None, accession: str
) -> tuple[int, str, str]:
    """STAT first, then the oldest collection, then accession (a stable tie-break)."""
    return (
        0 if priority == "stat" else 1,
        collected_at.isoformat() if collected_at else "~",
        accession,
    )


WORKLIST_TRANSITIONS = {
    "open": frozenset({"in_progress", "completed"}),
    "in_progress": frozenset({"completed"}),
    "completed": frozenset(),
}
ACTIVE = ("open", "in_progress")
