"""Age and sex edits: a code that cannot fit the patient (a pregnancy code on a man, an adult
preventive visit for a child). The rules are data, codesets/src/demographic_edits.tsv, with
their sources in its header and in codesets/manifest.json (`edit_tables`)."""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache

from service.codesets.bundle import BUNDLE_DIR, BundleError
from service.codesets.search import display_code
from service.coding.findings import CodedLine, CodedPatient, Finding

RULES_FILE = "src/demographic_edits.tsv"
SEX_NAMES = {"M": "male", "F": "female"}


@dataclass(frozen=True)
class Age:
    days: int
    years: int

    @classmethod
    def on(cls, birth: date, day: date) -> "Age":
        years = day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
        return cls((day - birth).days, years)

    def at_least(self, bound: str) -> bool:
        return self.days >= int(bound[:-1]) if bound[-1] == "d" else self.years >= int(bound[:-1])

    def at_most(self, bound: str) -> bool:
        return self.days <= int(bound[:-1]) if bound[-1] == "d" else self.years <= int(bound[:-1])

    def __str__(self) -> str:
        return f"{self.days} days old" if self.years < 1 else f"{self.years} years old"


@dataclass(frozen=True)
class Rule:
    system: str
    low: str
    high: str
    sex: str | None
    min_age: str | None
    max_age: str | None
    severity: str
    what: str

    def covers(self, code: str) -> bool:
        return self.low <= code[: len(self.low)] and code[: len(self.high)] <= self.high


@cache
def rules() -> dict[str, tuple[Rule, ...]]:
    """The rules by code system, read once per process."""
    found: dict[str, list[Rule]] = {}
    data = (BUNDLE_DIR / RULES_FILE).read_bytes()
    manifest = json.loads((BUNDLE_DIR / "manifest.json").read_text(encoding="utf-8"))
    listed = {entry["file"]: entry for entry in manifest.get("edit_tables", [])}.get(RULES_FILE)
    # Like the code sets: the table the edits use is the one the manifest describes.
    if listed is None or hashlib.sha256(data).hexdigest() != listed["sha256"]:
        raise BundleError(f"codesets/{RULES_FILE} does not match its entry in the manifest")
    for line in data.decode("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        system, low, high, sex, low_age, high_age, severity, what = line.split("\t")
        rule = Rule(
            system,
            low,
            high,
            None if sex == "-" else sex,
            None if low_age == "-" else low_age,
            None if high_age == "-" else high_age,
            severity,
            what,
        )
        found.setdefault(system, []).append(rule)
    return {system: tuple(items) for system, items in found.items()}


def _check(
    rule: Rule, code: str, shown: str, patient: CodedPatient, age: Age, field: str
) -> Finding | None:
    if rule.sex and patient.sex in SEX_NAMES and patient.sex != rule.sex:
        return Finding(
            "sex-conflict",
            rule.severity,
            field,
            f"{shown} is {rule.what}, for {SEX_NAMES[rule.sex]} patients; this patient is "
            f"{SEX_NAMES[patient.sex]}.",
        )
    too_young = rule.min_age is not None and not age.at_least(rule.min_age)
    too_old = rule.max_age is not None and not age.at_most(rule.max_age)
    if too_young or too_old:
        span = f"{rule.min_age or '0d'} to {rule.max_age or 'any age'}"
        return Finding(
            "age-conflict",
            rule.severity,
            field,
            f"{shown} is {rule.what} ({span}); the patient is {age} on the date of service.",
        )
    return None


def patient_findings(
    patient: CodedPatient, on: date, diagnoses: Sequence[str], lines: Sequence[CodedLine]
) -> list[Finding]:
    age = Age.on(patient.birth_date, on)
    table = rules()
    items = [
        ("icd10cm", code, display_code(code), f"/diagnoses/{i}") for i, code in enumerate(diagnoses)
    ]
    items += [
        (line.code_system.lower(), line.code, line.code, f"/service_lines/{i}/code")
        for i, line in enumerate(lines)
    ]
    found: list[Finding] = []
    for system, code, shown, field in items:
        for rule in table.get(system, ()):
            if rule.covers(code):
                finding = _check(rule, code, shown, patient, age, field)
                if finding is not None:
                    found.append(finding)
    return found
