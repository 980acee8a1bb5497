"""Place of service edits: the code itself (bundled CMS set, by date), whether the visit codes
fit the place, and telehealth place against telehealth modifiers."""

from collections.abc import Sequence
from datetime import date

from service.codesets.logic import CodeVerdict
from service.coding import code_classes
from service.coding.findings import CodedLine, Finding

# POS codes the CMS set added later than the bundled version's start (2000-01-01): before
# these dates a claim with them rejects (CMS POS code set, "effective date" column; 66, PACE
# center, from CMS Transmittal 12779, effective 2024-08-01).
POS_STARTS = {
    "02": date(2017, 1, 1),
    "10": date(2022, 1, 1),
    "16": date(2008, 4, 1),
    "17": date(2010, 5, 1),
    "18": date(2013, 5, 1),
    "19": date(2016, 1, 1),
    "27": date(2023, 10, 1),
    "58": date(2020, 1, 1),
    "66": date(2024, 8, 1),
}
TELEHEALTH_POS = frozenset({"02", "10"})
# 95/GT synchronous video, GQ asynchronous, 93/FQ audio only.
TELEHEALTH_MODIFIERS = frozenset({"95", "GT", "GQ", "FQ", "93"})
# Places a facility bills for (the professional claim then gets the facility rate).
FACILITY_POS = frozenset({"21", "23", "31", "34", "51", "61"})
OFFICE_POS = frozenset({"11", "12", "13", "14", "20", "49", "50", "71", "72"})
FIELD = "/place_of_service"


def pos_findings(
    place: str, on: date, verdict: CodeVerdict, lines: Sequence[CodedLine]
) -> list[Finding]:
    """`verdict`: the place's own validation against the bundled set (done with the codes)."""
    found: list[Finding] = []
    if not verdict.valid:
        if verdict.reason == "system-not-loaded":
            found.append(
                Finding("pos-not-loaded", "warning", FIELD, f"{verdict.detail} Not checked.")
            )
        else:
            found.append(
                Finding(
                    "pos-unknown-code",
                    "error",
                    FIELD,
                    f"Place of service {place!r} is not a CMS Place of Service code "
                    f"({verdict.detail})",
                )
            )
        return found
    start = POS_STARTS.get(place)
    if start is not None and on < start:
        found.append(
            Finding(
                "pos-not-yet-effective",
                "error",
                FIELD,
                f"Place of service {place} takes effect {start}; the date of service is {on}.",
            )
        )
    for i, line in enumerate(lines):
        at = f"/service_lines/{i}/code"
        if place in FACILITY_POS and code_classes.is_office_visit(line.code):
            found.append(
                Finding(
                    "pos-code-mismatch",
                    "warning",
                    at,
                    f"{line.code} is an office or outpatient visit, billed from place {place} "
                    "(a facility): use the facility's visit codes or the office place.",
                )
            )
        elif place in OFFICE_POS and code_classes.is_facility_visit(line.code):
            found.append(
                Finding(
                    "pos-code-mismatch",
                    "warning",
                    at,
                    f"{line.code} is a hospital, emergency or nursing facility visit, billed "
                    f"from place {place} (not a facility).",
                )
            )
        telehealth = TELEHEALTH_MODIFIERS & set(line.modifiers)
        if place in TELEHEALTH_POS and code_classes.is_em(line.code) and not telehealth:
            found.append(
                Finding(
                    "telehealth-modifier-missing",
                    "warning",
                    f"/service_lines/{i}/modifiers",
                    f"Place {place} is telehealth; payers expect 95, GT, GQ, 93 or FQ on "
                    f"{line.code}.",
                )
            )
        if telehealth & {"GT", "GQ"} and place not in TELEHEALTH_POS:
            found.append(
                Finding(
                    "telehealth-pos-mismatch",
                    "warning",
                    FIELD,
                    f"Modifier {'/'.join(sorted(telehealth & {'GT', 'GQ'}))} says telehealth "
                    f"but the place of service is {place}, not 02 or 10.",
                )
            )
    return found
