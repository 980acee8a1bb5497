"""In-memory lookup and typeahead search over the rows of one version of one code set.

Pure and read-only: built once per set version (about a second for ICD-10-CM's 98k codes) and
shared by every request in the process, which DESIGN.md allows for code-set indexes. The same
engine serves every code system.

Ranking follows the coder's habit (issue 21). A query that is a code (`E11.6`, `e116`) gets the
code, then the codes below it. Otherwise every query word must match a title word: exactly,
as the start of a longer word, through a synonym of the curated table (codesets/synonyms.tsv,
indexed here as extra terms of the rows they reach), or, for a word of five letters or more
that no title contains, within one edit. Rows are ranked by: billable before headers; typo
matches below exact ones; title coverage (how much of the title's content the query
explains: "Fever, unspecified" is all explained by `fever`, "Unspecified arthropod-borne
viral fever" a quarter); then the general code ("unspecified") before rarer specific ones;
then fewer words, shorter code, code order. When no row has every word, the rows that have
all words but one come instead (`obesity bmi 35`).
"""

from __future__ import annotations

import heapq
import itertools
import re
import string
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from service.codesets.bundle import CodeRow, Synonym, synonyms_for

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
_SORT_UNION = 5_000
# Rows that match every word are taken in base order (billable, fewest content words) up to
# this many and then ranked: past it, coverage can only fall (more words, same query).
_MATCH_CAP = 100
_TYPO_MIN_LENGTH = 5

# Glue words: never a query term, never title content.
STOP_WORDS = frozenset(
    [
        "an",
        "and",
        "as",
        "at",
        "by",
        "due",
        "for",
        "from",
        "in",
        "into",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
    ]
)
# Words that say "the default" rather than what the condition is: not title content, so
# "Migraine, unspecified, not intractable, without status migrainosus" is all `migraine`.
NEUTRAL_WORDS = frozenset(
    [
        "unspecified",
        "unsp",
        "specified",
        "nos",
        "site",
        "side",
        "not",
        "without",
        "uncomplicated",
        "organism",
        "encounter",
        "elsewhere",
        "classified",
    ]
)
_NEGATIONS = frozenset({"without", "not"})
_CLAUSE = re.compile(r"\([^)]*\)|\[[^\]]*\]|[,;:]")  # ICD: (nonessential) [synonym]


def normalize_code(text: str) -> str:
    """Codes are accepted with or without the ICD-10-CM dot, in any case."""
    return "".join(text.split()).replace(".", "").upper()


def display_code(code: str, system: str = ICD10CM) -> str:
    """The usual written form: ICD-10-CM puts a dot after the category (E11621 -> E11.621)."""
    if system == ICD10CM and len(code) > 3:
        return f"{code[:3]}.{code[3:]}"
    return code


def fold(text: str) -> str:
    """ASCII, lower case, no apostrophes ("Parkinson's" is the word `parkinsons`)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return folded.replace("'", "")


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def content_words(title: str) -> set[str]:
    """The words that say what a title is about: not glue, not defaults ("unspecified",
    "without ..." / "not ..." to the end of the clause), not ICD's (nonessential modifiers)
    or [synonyms]."""
    return _content_of(fold(title))


def _content_of(folded: str) -> set[str]:
    found: set[str] = set()
    negated = False  # "without a, b, and c" lists what is absent over several clauses
    for clause in _CLAUSE.split(folded):
        clause_words = _WORD.findall(clause)
        if negated and clause_words[:1] != ["with"]:
            continue
        negated = False
        for word in clause_words:
            if word in _NEGATIONS:
                negated = word == "without"
                break
            if word not in STOP_WORDS and word not in NEUTRAL_WORDS:
                found.add(word)
    return found


def is_general(title: str) -> bool:
    """An "unspecified" or "not specified" code: what a coder picks when nothing more is known."""
    return _is_general(set(words(title)))


def _is_general(found: set[str]) -> bool:
    return "unspecified" in found or "nos" in found or {"not", "specified"} <= found


def edits1(word: str) -> set[str]:
    """Every string one deletion, transposition, replacement or insertion away."""
    letters = string.ascii_lowercase + string.digits
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in letters]
    inserts = [a + c + b for a, b in splits for c in letters]
    return set(deletes + transposes + replaces + inserts) - {word}


@dataclass
class _Term:
    """One query word (or synonym phrase) and every way a row can match it."""

    text: str
    weight: int  # title words it explains when it matches a word (0 for "unspecified")
    words: dict[int, int] = field(default_factory=dict)  # word id -> 0 exact, 1 prefix, 2 typo
    synonyms: dict[int, tuple[int, int]] = field(default_factory=dict)  # row -> weight, 0/2
    size: int = 0  # postings to walk when this term drives the search
    size_of: dict[int, int] = field(default_factory=dict, repr=False)  # postings per word

    def exact(self) -> _Term:
        """Only the exact ways to match (the word itself, its synonyms), if there are any."""
        words = {w: q for w, q in self.words.items() if q == 0}
        synonyms = {r: v for r, v in self.synonyms.items() if v[1] == 0}
        if (words, synonyms) == (self.words, self.synonyms) or not (words or synonyms):
            return self
        size = len(synonyms) + sum(self.size_of.get(w, 0) for w in words)
        return _Term(self.text, self.weight, words, synonyms, size, self.size_of)

    def matches(self, row: int, row_words: tuple[int, ...]) -> bool:
        return row in self.synonyms or not self.words.keys().isdisjoint(row_words)

    def score(self, row: int, row_words: tuple[int, ...], content: int) -> tuple[int, int, int]:
        """(explained words, typo 1/0, prefix 1/0) of the best way this row matches; a word
        outside the title's content ("acute" in "Bronchitis, not specified as acute or
        chronic") matches but explains nothing."""
        best = (-1, 1, 1)
        if row in self.synonyms:
            weight, quality = self.synonyms[row]
            best = (weight, quality // 2, 0)
        for position, word in enumerate(row_words):
            found = self.words.get(word)
            if found is not None:
                weight = self.weight if position < content else 0
                candidate = (weight, found // 2, found & 1)
                if (candidate[1], -candidate[0], candidate[2]) < (best[1], -best[0], best[2]):
                    best = candidate
        return best


class CodeIndex:
    """Exact lookup, typeahead search and the parent/children tree of one set version."""

    def __init__(
        self,
        rows: Iterable[CodeRow],
        *,
        system: str = ICD10CM,
        synonyms: Sequence[Synonym] | None = None,
    ) -> None:
        self.system = system
        # A row's id is its rank before any query: billable first, then the fewest content
        # words, general before specific, shorter code, code. Within one query's matches this
        # is the order coverage gives when every row explains the same number of words.
        keyed = []
        for row in rows:
            folded = fold(row.title)
            title = _WORD.findall(folded)
            content = _content_of(folded)
            general = _is_general(set(title))
            key = (not row.billable, len(content), not general, len(row.code), row.code)
            keyed.append((key, row, content, title))
        keyed.sort(key=lambda item: item[0])
        ranked = [item[1] for item in keyed]
        self._rows = ranked
        self._content = bytes(min(255, max(1, item[0][1])) for item in keyed)
        self._content_words = bytes(min(255, item[0][1]) for item in keyed)
        self._general = bytes(not item[0][2] for item in keyed)
        self._id_of = {row.code: i for i, row in enumerate(ranked)}
        if len(self._id_of) != len(ranked):
            raise ValueError("duplicate codes in one set version")

        # Code queries list the codes below in code order's own rank: billable, shorter, code.
        by_code = sorted(range(len(ranked)), key=lambda i: ranked[i].code)
        code_rank = sorted(by_code, key=lambda i: (not ranked[i].billable, len(ranked[i].code)))
        self._code_rank = [0] * len(ranked)
        for position, i in enumerate(code_rank):
            self._code_rank[i] = position
        self._sorted_codes = [ranked[i].code for i in by_code]
        self._ids_by_code = by_code
        self._prefix_head: dict[str, list[int]] = {}
        for length in range(1, _PRECOMPUTED_PREFIX_LENGTH + 1):
            groups = itertools.groupby(by_code, key=lambda i: ranked[i].code[:length])
            for prefix, members in groups:
                ids = list(members)
                if len(ids) > _BIG_PREFIX:
                    self._prefix_head[prefix] = self._by_code_rank(ids, MAX_LIMIT)

        titles = [item[3] for item in keyed]
        postings: defaultdict[str, list[int]] = defaultdict(list)
        for i, title in enumerate(titles):
            for word in sorted(set(title)):
                postings[word].append(i)  # ids ascend, so each list is sorted
        self._vocab = sorted(postings)
        self._word_id = {word: n for n, word in enumerate(self._vocab)}
        self._postings = [postings[word] for word in self._vocab]
        self._cumulative = [0, *itertools.accumulate(len(p) for p in self._postings)]
        # Title words as word ids in title order; the ints are the dictionary's own objects,
        # shared by every row, so a row costs a tuple of pointers.
        word_id = self._word_id
        self._row_words = [tuple(word_id[w] for w in title) for title in titles]
        del titles, postings

        self._synonyms: dict[str, dict[int, int]] = {}
        self._aliases: dict[str, set[int]] = {}
        table = synonyms_for(system) if synonyms is None else synonyms
        for synonym in table:
            self._add_synonym(synonym)
        # Synonym phrases needed the titles in order; scoring needs to know which of a row's
        # words are content: its distinct content words first, then the rest.
        for i, (_, _, content, _) in enumerate(keyed):
            first = [word_id[w] for w in sorted(content)]
            rest = set(self._row_words[i]).difference(first)
            self._row_words[i] = (*first, *sorted(rest))
        del keyed
        keys = [*self._synonyms, *self._aliases]
        self._synonym_words = max((len(key.split()) for key in keys), default=0)

        children: defaultdict[str, list[int]] = defaultdict(list)
        for i in by_code:
            parent = ranked[i].parent
            if parent:
                children[parent].append(i)
        self._children = dict(children)

    def _add_synonym(self, synonym: Synonym) -> None:
        """Index the rows the expansion reaches under the term (expansion in the index, so a
        query stays one search)."""
        reached: dict[int, int] = {}
        if synonym.expansion.startswith("code:"):
            i = self._id_of.get(normalize_code(synonym.expansion[5:]))
            if i is not None:
                reached[i] = 255  # the term names the code: its whole title is explained
        else:
            phrase = words(synonym.expansion)
            if not phrase or any(word not in self._word_id for word in phrase):
                return  # not in this version's titles
            ids = [self._word_id[word] for word in phrase]
            if len(ids) == 1:
                # One word for another (`fx` fracture): an alias of that word's postings.
                self._aliases.setdefault(" ".join(words(synonym.term)), set()).add(ids[0])
                return
            weight = max(1, sum(w not in STOP_WORDS and w not in NEUTRAL_WORDS for w in phrase))
            rarest = min(ids, key=lambda w: len(self._postings[w]))
            span = len(ids)
            for i in self._postings[rarest]:
                title = self._row_words[i]
                if any(list(title[k : k + span]) == ids for k in range(len(title) - span + 1)):
                    reached[i] = weight
        if reached:
            entry = self._synonyms.setdefault(" ".join(words(synonym.term)), {})
            for i, weight in reached.items():
                entry[i] = max(weight, entry.get(i, 0))

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

        def take(ids: Iterable[int]) -> None:
            for i in ids:
                if len(found) >= limit:
                    return
                if i not in seen:
                    seen.add(i)
                    found.append(i)

        tokens = query.split()
        code = normalize_code(query)
        if limit and len(tokens) == 1 and _CODE.fullmatch(code):
            exact = self._id_of.get(code)
            take([] if exact is None else [exact])
            take(self._prefix_ids(code, limit + 1))
        if len(found) < limit:
            take(self._text_ids(query, limit + len(found)))
        return [self._rows[i] for i in found]

    # --- codes -----------------------------------------------------------------------------

    def _by_code_rank(self, ids: Iterable[int], count: int) -> list[int]:
        return heapq.nsmallest(count, ids, key=self._code_rank.__getitem__)

    def _prefix_ids(self, prefix: str, count: int) -> list[int]:
        head = self._prefix_head.get(prefix)
        if head is not None:
            return head[:count]
        lo = bisect_left(self._sorted_codes, prefix)
        hi = bisect_left(self._sorted_codes, prefix + _AFTER_CODE_CHARS, lo)
        return self._by_code_rank(self._ids_by_code[lo:hi], count)

    # --- words -----------------------------------------------------------------------------

    def _terms(self, query: str) -> list[_Term] | None:
        """The query's terms, synonym phrases first (longest wins); None when a word matches
        nothing at all (then nothing is shown rather than a guess)."""
        tokens = words(query)
        terms: list[_Term] = []
        i = 0
        while i < len(tokens):
            size = min(self._synonym_words, len(tokens) - i)
            while size > 1 and not self._is_synonym(" ".join(tokens[i : i + size])):
                size -= 1
            if size > 1:
                terms.append(self._term(" ".join(tokens[i : i + size]), phrase=True))
                i += size
                continue
            token = tokens[i]
            i += 1
            if token in STOP_WORDS:
                continue
            term = self._term(token)
            if not term.words and not term.synonyms:
                return None
            terms.append(term)
        return terms

    def _is_synonym(self, key: str) -> bool:
        return key in self._synonyms or key in self._aliases

    def _term(self, token: str, *, phrase: bool = False) -> _Term:
        term = _Term(token, 0 if token in NEUTRAL_WORDS else 1)
        forms = [token]
        if not phrase:
            exact = self._word_id.get(token)
            if exact is not None:
                term.words[exact] = 0
                term.size_of[exact] = len(self._postings[exact])
            # A single letter or a number is a whole word (`vitamin d`, `bmi 35`); longer
            # words may be the start of a title word (typeahead).
            if len(token) > 1 and not token.isdigit():
                lo = bisect_left(self._vocab, token)
                hi = bisect_left(self._vocab, token + _AFTER_CODE_CHARS, lo)
                for word in range(lo, hi):
                    term.words.setdefault(word, 1)
                term.size += self._cumulative[hi] - self._cumulative[lo]
            elif exact is not None:
                term.size += len(self._postings[exact])
            if exact is None and len(token) >= _TYPO_MIN_LENGTH:
                for near in edits1(token):
                    word_id = self._word_id.get(near)
                    if word_id is not None and word_id not in term.words:
                        term.words[word_id] = 2
                        term.size += len(self._postings[word_id])
                    if self._is_synonym(near):
                        forms.append(near)
        for form in forms:
            quality = 0 if form == token else 2
            for word_id in self._aliases.get(form, ()):
                if term.words.get(word_id, 3) > quality:
                    term.words[word_id] = quality
                    term.size += len(self._postings[word_id])
                    term.size_of[word_id] = len(self._postings[word_id])
            for row, weight in self._synonyms.get(form, {}).items():
                if row not in term.synonyms or term.synonyms[row][1] > quality:
                    term.synonyms[row] = (weight, quality)
        term.size += len(term.synonyms)
        return term

    def _candidates(self, term: _Term) -> Iterable[int]:
        """Rows matching `term`, ascending (base order), duplicates possible."""
        lists: list[Sequence[int]] = [self._postings[w] for w in term.words]
        if term.synonyms:
            lists.append(sorted(term.synonyms))
        if len(lists) == 1:
            return lists[0]
        if term.size <= _SORT_UNION:
            return sorted(itertools.chain.from_iterable(lists))
        return heapq.merge(*lists)

    def _postings_of(self, term: _Term) -> Iterable[int]:
        """Rows matching `term`, unordered, duplicates possible."""
        return itertools.chain(
            itertools.chain.from_iterable(self._postings[w] for w in term.words), term.synonyms
        )

    def _matching(self, terms: list[_Term], exclude: set[int]) -> list[int]:
        """Rows matching every term, the first _MATCH_CAP in base order.

        Two ways, whichever walks fewer postings: from the rarest term's rows, checking each
        against the other terms' words (cheap when that term is rare); or set intersections
        in C over every term's postings (when all terms are common, as `dis col` is).
        """
        ordered = sorted(terms, key=lambda t: t.size)
        driver, others = ordered[0], ordered[1:]
        if not others or driver.size * len(others) * 20 <= sum(t.size for t in ordered):
            return self._matching_from(driver, others, exclude)
        found = set(self._postings_of(driver))
        for term in others:
            found = found.intersection(self._postings_of(term))
            if not found:
                return []
        found -= exclude
        return heapq.nsmallest(_MATCH_CAP, found)

    def _matching_from(self, driver: _Term, others: list[_Term], exclude: set[int]) -> list[int]:
        checks = [(t.words.keys(), t.synonyms) for t in others]
        row_words = self._row_words
        matched: list[int] = []
        last = -1
        for i in self._candidates(driver):
            if i == last or i in exclude:
                continue
            last = i
            title = row_words[i]
            if all(i in synonyms or not keys.isdisjoint(title) for keys, synonyms in checks):
                matched.append(i)
                if len(matched) >= _MATCH_CAP:
                    break
        return matched

    def _rank_key(
        self, i: int, terms: list[_Term]
    ) -> tuple[bool, int, int, float, float, bool, int]:
        row_words = self._row_words[i]
        content_words = self._content_words[i]
        explained = typos = prefixes = asked = answered = 0
        for term in terms:
            weight, typo, prefix = term.score(i, row_words, content_words)
            explained += max(weight, 0)
            typos += typo
            prefixes += prefix
            asked += term.weight > 0
            answered += term.weight > 0 and weight > 0
        content = self._content[i]
        title_coverage = min(explained, content) / content
        query_coverage = answered / asked if asked else 1.0
        billable = self._rows[i].billable
        return (
            not billable,
            typos,
            prefixes,
            -query_coverage,
            -title_coverage,
            not self._general[i],
            i,
        )

    def _text_ids(self, query: str, count: int) -> list[int]:
        terms = self._terms(query)
        if not terms:
            return []
        # Exact matches (words as typed, synonyms) first: a prefix match of an abbreviation
        # ("pe" -> pediculosis) must not crowd out what it stands for (pulmonary embolism).
        exact = [term.exact() for term in terms]
        narrower = any(e is not t for e, t in zip(exact, terms, strict=True))
        matched = self._matching(exact, set()) if narrower else []
        if len(matched) < _MATCH_CAP:
            matched += self._matching(terms, set(matched))
        if not matched and len(terms) > 1:
            # No row has every word: the rows with all words but one (best first).
            partial: set[int] = set()
            for left_out in range(len(terms)):
                rest = terms[:left_out] + terms[left_out + 1 :]
                partial.update(self._matching(rest, partial))
            matched = list(partial)
        ranked = sorted(matched, key=lambda i: self._rank_key(i, terms))
        return ranked[:count]
