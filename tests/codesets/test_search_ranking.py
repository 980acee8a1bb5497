"""The ranking of issue 21 on the bundled FY2027 list: synonyms in the index, coverage,
general codes first, typos below exact matches, whole-word letters and numbers."""

from functools import cache

from service.codesets.bundle import Synonym, read_rows, read_synonyms, synonyms_for
from service.codesets.evaluation import reference_rows
from service.codesets.search import CodeIndex, content_words, edits1


@cache
def icd2027() -> CodeIndex:
    return CodeIndex(read_rows("icd10cm", "2027"))


def codes(query: str, limit: int = 10) -> list[str]:
    return [row.code for row in icd2027().search(query, limit)]


def test_an_abbreviation_finds_what_it_stands_for_and_not_words_starting_with_it() -> None:
    assert codes("uti", 3)[0] == "N390"
    assert codes("afib", 1) == ["I4891"]  # not afibrinogenemia


def test_without_the_synonym_table_an_abbreviation_is_only_a_word_prefix() -> None:
    bare = CodeIndex(read_rows("icd10cm", "2027"), synonyms=())

    assert "N390" not in [row.code for row in bare.search("uti", 10)]


def test_a_synonym_phrase_of_several_words_is_one_term() -> None:
    # "annual physical" appears in no title: the table reaches Z00.0x through its phrase.
    assert set(codes("annual physical", 2)) == {"Z0000", "Z0001"}
    assert codes("physical exam", 1)[0] == "Z0000"  # not Z04.71, physical abuse


def test_a_term_may_name_a_code_the_titles_never_spell_out() -> None:
    assert codes("toothache", 1) == ["K0889"]


def test_the_general_code_comes_before_rarer_specific_ones() -> None:
    assert codes("fever unspecified", 1) == ["R509"]  # not A94 viral fever
    assert codes("migraine", 1) == ["G43909"]
    assert codes("acute bronchitis", 1) == ["J209"]


def test_single_letters_and_numbers_are_whole_words() -> None:
    assert codes("vitamin d deficiency", 1) == ["E559"]
    assert codes("ckd stage 3a", 1) == ["N1831"]
    assert codes("12 weeks gestation", 1) == ["Z3A12"]


def test_a_misspelled_word_of_five_letters_or_more_is_found_within_one_edit() -> None:
    assert codes("pnemonia", 3)[0] == "J189"
    assert codes("hypertention", 1) == ["I10"]
    assert codes("astma", 3)[0].startswith("J45")


def test_short_words_get_no_typo_tolerance() -> None:
    assert codes("gout") != []
    assert codes("gaut") == []  # four letters: an unknown word, not a guess


def test_typo_matches_rank_below_exact_ones() -> None:
    # "ileum" and "ilium" are both title words: typed exactly, each finds itself first.
    assert "ileum" in icd2027().search("ileum", 1)[0].title.lower()
    assert "ilium" in icd2027().search("ilium", 1)[0].title.lower()


def test_one_edit_means_deletions_transpositions_replacements_and_insertions() -> None:
    near = edits1("astma")

    assert {"asma", "satma", "asfma", "asthma"} <= near
    assert "astma" not in near


def test_when_no_title_has_every_word_the_titles_with_all_but_one_come_instead() -> None:
    assert codes("obesity bmi 35", 1) == ["Z6835"]


def test_billable_codes_come_before_headers() -> None:
    found = icd2027().search("chronic kidney disease", 30)
    flags = [row.billable for row in found]

    assert flags == sorted(flags, reverse=True)
    assert found[0].billable


def test_content_words_leave_out_defaults_and_nonessential_modifiers() -> None:
    assert content_words("Migraine, unspecified, not intractable, without status migrainosus") == {
        "migraine"
    }
    assert content_words("Essential (primary) hypertension") == {"essential", "hypertension"}


def test_the_same_engine_serves_place_of_service_and_procedure_codes() -> None:
    pos = CodeIndex(reference_rows("pos"), system="pos")
    cdt = CodeIndex(reference_rows("cdt"), system="cdt")

    assert [row.code for row in pos.search("er", 1)] == ["23"]
    assert [row.code for row in cdt.search("root canal molar", 1)] == ["D3330"]


def test_a_code_set_only_gets_its_own_and_the_shared_synonyms() -> None:
    systems = {synonym.system for synonym in synonyms_for("pos")}

    assert systems == {"pos", "*"}
    assert Synonym("pos", "er", "hospital emergency room") in read_synonyms()
