"""Code search relevance: the evaluation set of tests/codesets by category (top 3, top 10, zero
results), with the queries that miss the top 3. No database: the bundled FY2027 list."""

import sys
import time
from pathlib import Path

from service.codesets.evaluation import evaluate, read_eval_set, reference_rows, table
from service.codesets.search import CodeIndex

TESTS = Path(__file__).resolve().parents[1] / "tests" / "codesets"
EVAL_SET = TESTS / "search_eval.tsv"
HOLDOUT = TESTS / "search_holdout.tsv"  # not tuned for: how far the figures carry


def main() -> None:
    items = read_eval_set(EVAL_SET) + read_eval_set(HOLDOUT)
    indexes = {s: CodeIndex(reference_rows(s), system=s) for s in sorted({i.system for i in items})}
    start = time.perf_counter()
    found = evaluate(items, lambda system, q: [r.code for r in indexes[system].search(q, 10)])
    elapsed = time.perf_counter() - start
    print("\n".join(table(found)))
    print()
    print(f"{len(items)} queries in {elapsed * 1e3:.0f} ms. Targets: top 3 >= 90%, top 10 >= 98%,")
    print("zero results < 2%. `holdout` (tests/codesets/search_holdout.tsv) is not part of the")
    print("evaluation set and not counted in `all`: queries written after the tuning.")
    if "--misses" in sys.argv:
        print()
        held_out = found["holdout"].misses if "holdout" in found else []
        for miss in found["all"].misses + held_out:
            item = miss.item
            print(f"- {item.category}: `{item.query}` rank {miss.rank} ({miss.results} results)")


if __name__ == "__main__":
    main()
