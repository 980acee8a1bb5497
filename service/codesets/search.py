"""In-memory lookup and typeahead search over the rows of one version of one code set.

Pure and read-only: built once per set version (about half a second for ICD-10-CM's 98k
codes) and shared by every request in the process, which DESIGN.md allows for code-set
indexes. Ranking follows the coder's habit: the exact code, then codes starting with the
query, then titles containing every query word (each query word a prefix of a title word);
within each tier billable codes before headers, then shorter codes, then code order.
"""

from __future__ import annotations

import heapq
import itertools
import re
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator

from service.codesets.bundle import CodeRow

ICD10CM = "icd10cm"
MAX_LIMIT = 200
_WORD = re.compile(r"[a-z0-9]+")
_CODE = re.compile(r"[A-Z0-9-]+")  # LOINC codes carry a check digit after a hyphen
_AFTER_CODE_CHARS = "\x7f"  # sorts after every character a code or title word contains
# Code prefixes shorter than this with more codes than _BIG_PREFIX get their ranked head
# precomputed, so that "S" or "S6" costs no more than "S52.5".
_PRECOMPUTED_PREFIX_LENGTH = 3
_BIG_PREFIX = 1000
# A word union up to this size is sorted at once; beyond it, merged lazily.
_SORT_UNION = 30_000


def normalize_code(text: str) -> str:
    """Codes are accepted with or without the ICD-10-CM dot, in any case."""
    return "".join(text.split()).replace(".", "").upper()


def display_code(code: str, system: str = ICD10CM) -> str:
    """The usual written form: ICD-10-CM puts a dot after the category (E11621 -> E11.621)."""
    if system == ICD10CM and len(code) > 3:
        return f"{code[:3]}.{code[3:]}"
    return code


def words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _WORD.findall(folded)


class CodeIndex:
    """Exact lookup, typeahead search and the parent/children tree of one set version."""

    def __init__(self, rows: Iterable[CodeRow], *, system: str = ICD10CM) -> None:
        self.system = system
        # A row's id is its rank, so any list of ids sorted ascending is already in
        # result order (billable first, shorter code, code).
        ranked = sorted(rows, key=lambda row: (not row.billable, len(row.code), row.code))
        self._rows = ranked
        self._id_of = {row.code: i for i, row in enumerate(ranked)}
        if len(self._id_of) != len(ranked):
            raise ValueError("duplicate codes in one set version")

        by_code = sorted(range(len(ranked)), key=lambda i: ranked[i].code)
        self._sorted_codes = [ranked[i].code for i in by_code]
        self._ids_by_code = by_code
        self._prefix_head: dict[str, list[int]] = {}
        for length in range(1, _PRECOMPUTED_PREFIX_LENGTH + 1):
            groups = itertools.groupby(by_code, key=lambda i: ranked[i].code[:length])
            for prefix, members in groups:
                ids = list(members)
                if len(ids) > _BIG_PREFIX:
                    self._prefix_head[prefix] = sorted(ids)[:MAX_LIMIT]

        postings: defaultdict[str, list[int]] = defaultdict(list)
        self._row_words: list[tuple[str, ...]] = []
        for i, row in enumerate(ranked):
            row_words = tuple(sorted(set(words(row.title))))
            self._row_words.append(row_words)
            for word in row_words:
                postings[word].append(i)  # ids ascend, so each list is sorted
        self._vocab = sorted(postings)
        self._postings = [postings[word] for word in self._vocab]
        self._cumulative = [0, *itertools.accumulate(len(p) for p in self._postings)]

        children: defaultdict[str, list[int]] = defaultdict(list)
        for i in by_code:
            parent = ranked[i].parent
            if parent:
                children[parent].append(i)
        self._children = dict(children)

    def __len__(self) -> int:
        return len(self._rows)

    def display(self, code: str) -> str:
        return display_code(code, self.system)

    def rows(self) -> Iterator[CodeRow]:
        """Every row, in code order."""
        return (self._rows[i] for i in self._ids_by_code)

    def first(self, limit: int = 20) -> list[CodeRow]:
        """The first codes in code order (a typeahead with nothing typed yet)."""
        limit = max(0, min(limit, MAX_LIMIT))
        return [self._rows[i] for i in self._ids_by_code[:limit]]

    def lookup(self, code: str) -> CodeRow | None:
        i = self._id_of.get(normalize_code(code))
        return None if i is None else self._rows[i]

    def parent(self, code: str) -> CodeRow | None:
        row = self.lookup(code)
        return None if row is None or row.parent is None else self.lookup(row.parent)

    def children(self, code: str) -> list[CodeRow]:
        """The codes directly below, in code order."""
        return [self._rows[i] for i in self._children.get(normalize_code(code), [])]

    def search(self, query: str, limit: int = 20) -> list[CodeRow]:
        limit = max(0, min(limit, MAX_LIMIT))
        found: list[int] = []
        seen: set[int] = set()

        def take(ids: Iterable[int]) -> bool:
            """Add ids in order; True once the page is full."""
            for i in ids:
                if len(found) >= limit:
                    return True
                if i not in seen:
                    seen.add(i)
                    found.append(i)
            return len(found) >= limit

        tokens = query.split()
        code = normalize_code(query)
        if limit and len(tokens) == 1 and _CODE.fullmatch(code):
            exact = self._id_of.get(code)
            take([] if exact is None else [exact])
            take(self._prefix_ids(code, limit + 1))
        if len(found) < limit:
            take(self._word_ids(words(query), seen))
        return [self._rows[i] for i in found]

    def _prefix_ids(self, prefix: str, count: int) -> list[int]:
        head = self._prefix_head.get(prefix)
        if head is not None:
            return head[:count]
        lo = bisect_left(self._sorted_codes, prefix)
        hi = bisect_left(self._sorted_codes, prefix + _AFTER_CODE_CHARS, lo)
        return heapq.nsmallest(count, self._ids_by_code[lo:hi])

    def _word_ids(self, terms: list[str], exclude: set[int]) -> Iterator[int]:
        """Ids of rows where every term is a prefix of some title word, ascending.

        Drives from the term with the fewest postings and checks the others against each
        candidate's own words, so the cost follows the rarest term, not the commonest.
        """
        spans: list[tuple[int, int, int]] = []
        for term in sorted(set(terms)):
            lo = bisect_left(self._vocab, term)
            hi = bisect_left(self._vocab, term + _AFTER_CODE_CHARS, lo)
            if lo == hi:
                return
            spans.append((self._cumulative[hi] - self._cumulative[lo], lo, hi))
        if not spans:
            return
        spans.sort()
        size, lo, hi = spans[0]
        others = [frozenset(self._vocab[o_lo:o_hi]) for _, o_lo, o_hi in spans[1:]]
        lists = self._postings[lo:hi]
        candidates: Iterable[int]
        if len(lists) == 1:
            candidates = lists[0]
        elif size <= _SORT_UNION:
            candidates = sorted(itertools.chain.from_iterable(lists))
        else:
            candidates = heapq.merge(*lists)
        last = -1
        for i in candidates:
            if i == last or i in exclude:
                continue
            last = i
            row_words = self._row_words[i]
            if all(not other.isdisjoint(row_words) for other in others):
                yield i
