"""Dental edits: the tooth, its surfaces and the oral area against the CDT code.

Tooth classes use the ADA Universal numbering (permanent 1-32, primary A-T); the code classes
use the CDT category ranges and the descriptors' public structure (anterior, posterior,
premolar, molar; number of surfaces; per tooth, per quadrant, per arch)."""

from collections.abc import Sequence

from service.coding.findings import CodedLine, Finding

PERMANENT_ANTERIOR = frozenset({6, 7, 8, 9, 10, 11, 22, 23, 24, 25, 26, 27})
PREMOLARS = frozenset({4, 5, 12, 13, 20, 21, 28, 29})
PRIMARY_ANTERIOR = frozenset("CDEFGHMNOPQR")
PRIMARY = frozenset("ABCDEFGHIJKLMNOPQRST")
PRIMARY_AGE_LIMIT = 14  # primary teeth are normally shed by 12-13
# Code -> tooth class the code is defined for.
ANTERIOR_ONLY = frozenset({"D2330", "D2331", "D2332", "D2335", "D2390", "D3310", "D3346", "D3410"})
POSTERIOR_ONLY = frozenset(
    {"D2391", "D2392", "D2393", "D2394", "D3320", "D3330", "D3347", "D3348", "D3421", "D3425"}
)
PREMOLAR_ONLY = frozenset({"D3320", "D3347", "D3421"})
MOLAR_ONLY = frozenset({"D3330", "D3348", "D3425"})
# Code -> surfaces it is defined for: (least, most).
SURFACE_COUNTS: dict[str, tuple[int, int]] = {
    **dict.fromkeys(("D2140", "D2330", "D2391", "D2510", "D2610", "D2650"), (1, 1)),
    **dict.fromkeys(("D2150", "D2331", "D2392", "D2520", "D2620", "D2651"), (2, 2)),
    **dict.fromkeys(("D2160", "D2332", "D2393", "D2530", "D2630", "D2652"), (3, 3)),
    **dict.fromkeys(("D2161", "D2394"), (4, 5)),
    "D2335": (1, 5),  # four or more surfaces, or the incisal angle
}
# Per quadrant: scaling and root planing, gingivectomy, osseous surgery, alveoloplasty.
QUADRANT_CODES = frozenset(
    {
        "D4210",
        "D4211",
        "D4240",
        "D4241",
        "D4260",
        "D4261",
        "D4341",
        "D4342",
        "D7310",
        "D7311",
        "D7320",
        "D7321",
    }
)
QUADRANT_AREAS = frozenset({"10", "20", "30", "40", "UR", "UL", "LL", "LR"})
ARCH_AREAS = frozenset({"01", "02", "UA", "LA"})
# Per tooth besides restorations, endodontics and extractions (see edits._dental_requirements):
# sealants, implants and their crowns, fixed prosthodontic pontics and retainers.
TOOTH_RANGES = ((1351, 1353), (2910, 2989), (6010, 6199), (6205, 6794))
# Oral areas as the 837D writes them (SV304, ADA area of the oral cavity).
X12_ORAL_AREA = {"UR": "10", "UL": "20", "LL": "30", "LR": "40", "UA": "01", "LA": "02"}


def x12_oral_area(area: str) -> str:
    """The SV304 value of an oral area as coded (letters or the X12 digits)."""
    return X12_ORAL_AREA.get(area, area)


def needs_tooth(code: str) -> bool:
    number = int(code[1:]) if code[1:].isdigit() else -1
    return any(low <= number <= high for low, high in TOOTH_RANGES)


def _tooth_class(tooth: str) -> tuple[bool, bool, bool] | None:
    """(anterior, premolar, primary) of a Universal tooth, None for an unknown designation."""
    if tooth.isdigit() and 1 <= int(tooth) <= 32:
        number = int(tooth)
        return number in PERMANENT_ANTERIOR, number in PREMOLARS, False
    if len(tooth) == 1 and tooth in PRIMARY:
        return tooth in PRIMARY_ANTERIOR, False, True
    return None


def dental_findings(lines: Sequence[CodedLine], patient_age: int | None) -> list[Finding]:
    found: list[Finding] = []
    for i, line in enumerate(lines):
        if line.code_system != "CDT":
            continue
        at = f"/service_lines/{i}"
        code, tooth, surfaces = line.code, line.tooth, line.surfaces or ""

        def add(name: str, severity: str, field: str, message: str) -> None:
            found.append(Finding(name, severity, f"{at}/{field}", message))  # noqa: B023

        if code in QUADRANT_CODES and (line.oral_area or "") not in QUADRANT_AREAS:
            add(
                "dental-quadrant-required",
                "error",
                "oral_area",
                f"{code} is per quadrant: give the quadrant (10, 20, 30, 40 or UR, UL, LL, LR).",
            )
        if len(set(surfaces)) != len(surfaces):
            add(
                "dental-surface-repeated",
                "error",
                "surfaces",
                f"Surface list {surfaces!r} repeats a surface.",
            )
        limits = SURFACE_COUNTS.get(code)
        count = len(set(surfaces))
        if limits and surfaces and not limits[0] <= count <= limits[1]:
            want = str(limits[0]) if limits[0] == limits[1] else f"{limits[0]} or more"
            add(
                "dental-surface-count",
                "error",
                "surfaces",
                f"{code} is for {want} surface(s); {surfaces} has {count}.",
            )
        kind = _tooth_class(tooth) if tooth else None
        if kind is None:
            continue
        anterior, premolar, primary = kind
        if code in ANTERIOR_ONLY and not anterior:
            add(
                "dental-tooth-class",
                "error",
                "tooth",
                f"{code} is for an anterior tooth; tooth {tooth} is posterior.",
            )
        elif code in POSTERIOR_ONLY and anterior:
            add(
                "dental-tooth-class",
                "error",
                "tooth",
                f"{code} is for a posterior tooth; tooth {tooth} is anterior.",
            )
        elif code in PREMOLAR_ONLY and not premolar:
            add(
                "dental-tooth-class",
                "error",
                "tooth",
                f"{code} is for a premolar; tooth {tooth} is not one.",
            )
        elif code in MOLAR_ONLY and (premolar or anterior):
            add(
                "dental-tooth-class",
                "error",
                "tooth",
                f"{code} is for a molar; tooth {tooth} is not one.",
            )
        if "I" in surfaces and not anterior:
            add(
                "dental-surface-tooth",
                "error",
                "surfaces",
                f"The incisal surface (I) is on anterior teeth only; tooth {tooth} is posterior.",
            )
        if "O" in surfaces and anterior:
            add(
                "dental-surface-tooth",
                "error",
                "surfaces",
                f"The occlusal surface (O) is on posterior teeth only; tooth {tooth} is anterior.",
            )
        if primary and patient_age is not None and patient_age >= PRIMARY_AGE_LIMIT:
            add(
                "dental-primary-tooth-age",
                "warning",
                "tooth",
                f"Tooth {tooth} is a primary tooth; the patient is {patient_age}: check the "
                "tooth number.",
            )
    return found
