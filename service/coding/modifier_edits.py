"""Modifier-to-code edits: a modifier the code cannot carry is a denial at the payer."""

from collections.abc import Sequence

from service.coding import code_classes
from service.coding.findings import CodedLine, Finding

EM_ONLY = frozenset({"25", "57"})  # significant, separate E/M; decision for surgery
LAB_ONLY = frozenset({"91"})  # repeat clinical diagnostic laboratory test
COMPONENTS = frozenset({"26", "TC"})  # professional / technical component
LATERALITY = frozenset({"LT", "RT", "50"})
# Anatomic modifiers: eyelids, fingers, toes, coronary arteries.
ANATOMIC = frozenset(
    {"E1", "E2", "E3", "E4", "FA", "TA", "LC", "LD", "LM", "RC", "RI"}
    | {f"F{n}" for n in range(1, 10)}
    | {f"T{n}" for n in range(1, 10)}
)


def modifier_findings(lines: Sequence[CodedLine]) -> list[Finding]:
    found: list[Finding] = []
    for i, line in enumerate(lines):
        if line.code_system == "CDT":
            continue
        em, lab = code_classes.is_em(line.code), code_classes.is_lab(line.code)
        for k, modifier in enumerate(line.modifiers):
            at = f"/service_lines/{i}/modifiers/{k}"
            problem = None
            if modifier in EM_ONLY and not em:
                problem = f"{modifier} goes on an evaluation and management code only"
            elif modifier in LAB_ONLY and not lab:
                problem = f"{modifier} goes on a clinical laboratory code only"
            elif modifier in COMPONENTS and em:
                problem = f"{modifier} (a component) does not apply to a visit"
            elif modifier in LATERALITY | ANATOMIC and (em or lab):
                problem = f"{modifier} names a body site; {line.code} has none"
            if problem:
                found.append(
                    Finding("modifier-code-mismatch", "error", at, f"{problem} ({line.code}).")
                )
        mods = set(line.modifiers)
        for pair in ({"26", "TC"}, {"LT", "RT"}, {"LT", "50"}, {"RT", "50"}):
            if pair <= mods:
                found.append(
                    Finding(
                        "modifier-conflict",
                        "error",
                        f"/service_lines/{i}/modifiers",
                        f"{' and '.join(sorted(pair))} contradict each other on one line "
                        "(bill the global code, or 50 alone for both sides).",
                    )
                )
    return found
