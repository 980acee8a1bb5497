"""Relevance of code search against a set of coder queries with acceptable answers.

Pure: the test suite asserts the thresholds of issue 21 with it and bench/ prints its figures
by category. The set is a TSV (category, system, query, acceptable codes); a query counts as
found in the top N when any acceptable code is among the first N results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from service.codesets import importers
from service.codesets.bundle import BUNDLE_DIR, CodeRow, read_rows
from service.codesets.search import normalize_code

# Issue 21: at least 90% in the top 3, 98% in the top 10, under 2% with no result at all.
TOP3_TARGET = 0.90
TOP10_TARGET = 0.98
ZERO_TARGET = 0.02


@dataclass(frozen=True)
class EvalQuery:
    category: str
    system: str
    query: str
    answers: frozenset[str]


@dataclass(frozen=True)
class Outcome:
    item: EvalQuery
    rank: int | None  # 1-based rank of the first acceptable code in the top 10, else None
    results: int  # how many results the search gave (up to 10)


@dataclass
class Figures:
    queries: int = 0
    top3: int = 0
    top10: int = 0
    zero: int = 0
    misses: list[Outcome] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.queries += 1
        self.top3 += outcome.rank is not None and outcome.rank <= 3
        self.top10 += outcome.rank is not None
        self.zero += outcome.results == 0
        if outcome.rank is None or outcome.rank > 3:
            self.misses.append(outcome)

    def share(self, count: int) -> float:
        return count / self.queries if self.queries else 0.0

    def meets_targets(self) -> bool:
        return (
            self.share(self.top3) >= TOP3_TARGET
            and self.share(self.top10) >= TOP10_TARGET
            and self.share(self.zero) < ZERO_TARGET
        )


def read_eval_set(path: Path) -> list[EvalQuery]:
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith(("#", "category\t")):
            continue
        cells = line.split("\t")
        if len(cells) != 4 or not cells[3].split():
            raise ValueError(f"{path.name}:{number}: expected 4 columns and an answer")
        category, system, query, answers = cells
        codes = frozenset(normalize_code(code) for code in answers.split())
        items.append(EvalQuery(category, system, query, codes))
    return items


Search = Callable[[str, str], Sequence[str]]  # (system, query) -> codes, best first


HOLDOUT = "holdout"  # queries written after the tuning: reported, not counted in "all"


def evaluate(items: Iterable[EvalQuery], search: Search) -> dict[str, Figures]:
    """Figures per category, and over every query but the held-out ones under "all"."""
    figures: dict[str, Figures] = {"all": Figures()}
    for item in items:
        codes = [normalize_code(code) for code in search(item.system, item.query)[:10]]
        rank = next((n for n, code in enumerate(codes, 1) if code in item.answers), None)
        outcome = Outcome(item, rank, len(codes))
        figures.setdefault(item.category, Figures()).add(outcome)
        if item.category != HOLDOUT:
            figures["all"].add(outcome)
    return figures


def table(figures: dict[str, Figures]) -> list[str]:
    """Markdown rows: category, queries, top 3, top 10, zero results."""
    lines = ["| category | queries | top 3 | top 10 | zero results |", "|---|---|---|---|---|"]
    for name, f in sorted(figures.items(), key=lambda kv: (kv[0] == "all", kv[0])):
        lines.append(
            f"| {name} | {f.queries} | {f.share(f.top3):.0%} | {f.share(f.top10):.0%} "
            f"| {f.share(f.zero):.0%} |"
        )
    return lines


def reference_rows(system: str) -> list[CodeRow]:
    """The rows the evaluation searches: ICD-10-CM FY2027 and Place of Service from the bundle,
    CPT and CDT from their fixture lists (the licensed lists are never in the repository)."""
    if system in ("cpt", "cdt"):
        path = BUNDLE_DIR / "fixtures" / f"{system}-fixture.csv"
        return importers.parse_code_title_csv(path.read_bytes(), path.name)[0]
    return read_rows(system, "2027" if system == "icd10cm" else "2026")
