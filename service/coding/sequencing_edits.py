"""Sequencing edits on the diagnosis list: what may not be first-listed (principal)."""

import re

from service.codesets.logic import CodeLookup
from service.codesets.search import display_code
from service.coding.findings import Finding

# "... in diseases classified elsewhere", "... in other diseases classified elsewhere": the
# tabular's manifestation categories, always coded after their underlying condition.
_MANIFESTATION = re.compile(r"\bin (?:other )?diseases classified elsewhere\b", re.IGNORECASE)


def is_manifestation(lookup: CodeLookup, titles: list[str]) -> bool:
    return any(_MANIFESTATION.search(title) for title in titles)


def sequencing_findings(first: str, lookup: CodeLookup | None, titles: list[str]) -> list[Finding]:
    """`first`: the first-listed diagnosis; `titles`: its title and its ancestors' titles."""
    found: list[Finding] = []
    shown = display_code(first)
    if "V00" <= first[:3] <= "Y99":
        found.append(
            Finding(
                "external-cause-first",
                "error",
                "/diagnoses/0",
                f"{shown} is an external cause code (V00-Y99): it describes how the injury or "
                "condition happened and is never first-listed; code the injury or condition "
                "first.",
            )
        )
    elif lookup is not None and is_manifestation(lookup, titles):
        found.append(
            Finding(
                "manifestation-first",
                "error",
                "/diagnoses/0",
                f'{shown} is a manifestation code ("in diseases classified elsewhere"): it may '
                "not be first-listed; code the underlying condition first.",
            )
        )
    return found
