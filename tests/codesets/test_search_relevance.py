"""Code search finds what coders type: the evaluation set of issue 21 against its thresholds."""

from functools import cache
from pathlib import Path

from service.codesets.evaluation import Figures, evaluate, read_eval_set, reference_rows, table
from service.codesets.search import CodeIndex

EVAL_SET = Path(__file__).with_name("search_eval.tsv")
HOLDOUT = Path(__file__).with_name("search_holdout.tsv")


@cache
def index(system: str) -> CodeIndex:
    return CodeIndex(reference_rows(system), system=system)


@cache
def figures() -> dict[str, Figures]:
    items = read_eval_set(EVAL_SET)
    return evaluate(items, lambda system, q: [r.code for r in index(system).search(q, 10)])


def test_the_evaluation_set_has_at_least_120_queries_in_every_category() -> None:
    items = read_eval_set(EVAL_SET)
    categories = {item.category for item in items}

    assert len(items) >= 120
    assert {"why", "title", "abbreviation", "laterality", "seventh", "dental"} <= categories
    assert {"encounter", "misspelling", "code", "other"} <= categories
    assert {"fever unspecified", "gerd", "afib", "physical exam"} <= {i.query for i in items}


def test_every_acceptable_answer_is_a_code_of_its_set() -> None:
    for item in read_eval_set(EVAL_SET) + read_eval_set(HOLDOUT):
        for code in item.answers:
            assert index(item.system).lookup(code) is not None, (item.query, code)


def test_the_evaluation_set_meets_the_relevance_thresholds() -> None:
    found = figures()
    report = "\n".join(table(found))
    misses = "\n".join(
        f"{m.item.category}: {m.item.query!r} rank {m.rank} ({m.results} results)"
        for m in found["all"].misses
    )

    assert found["all"].meets_targets(), f"{report}\n{misses}"
