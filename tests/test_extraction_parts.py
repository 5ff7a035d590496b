"""The extractor's parts: sentence splitting, the alias trie, literal prefixes, scanning."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sources.extraction import Extractor, actors, load_default_specs, stance
from sources.extraction.actors import AliasIndex, backwards
from sources.extraction.literals import (
    LiteralScanner,
    case_plain,
    literal_prefixes,
    lower_same_length,
    needed_strings,
)
from sources.extraction.sentences import MAX_SENTENCE_CHARS, split_sentences
from sources.extraction.trie import trie_pattern
from sources.records import ActorSpec, PersonSpec


def texts(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)]


# --- sentences -------------------------------------------------------------------


def test_abbreviations_and_initials_do_not_end_sentences() -> None:
    text = (
        "Mr. Donald J. Trump met Gen. Kellogg at 10 a.m. on Jan. 3 in the U.S. capital. It rained."
    )
    assert texts(text) == [
        "Mr. Donald J. Trump met Gen. Kellogg at 10 a.m. on Jan. 3 in the U.S. capital.",
        "It rained.",
    ]


def test_an_abbreviation_before_a_sentence_opener_ends_the_sentence() -> None:
    assert texts("Talks were held in the U.S. The next round is in Europe.") == [
        "Talks were held in the U.S.",
        "The next round is in Europe.",
    ]


def test_nothing_ends_a_sentence_inside_a_quotation() -> None:
    text = "“We are ready. We always were,” he said. Then he left."
    assert texts(text) == ["“We are ready. We always were,” he said.", "Then he left."]


def test_a_question_or_exclamation_keeps_its_attribution() -> None:
    assert texts('"Is this peace?" asked Rutte. "No!" Lavrov said. Silence followed.') == [
        '"Is this peace?" asked Rutte.',
        '"No!" Lavrov said.',
        "Silence followed.",
    ]


def test_a_line_break_ends_a_sentence_and_an_open_quote() -> None:
    assert texts('He said "this never closes\nNext line. Another.') == [
        'He said "this never closes',
        "Next line.",
        "Another.",
    ]


def test_a_line_without_end_punctuation_is_a_headline() -> None:
    sentences = split_sentences("Russia: no talks\nBody text here.")
    assert [s.headline for s in sentences] == [True, False]


@given(st.text(max_size=400))
@settings(max_examples=200, deadline=None)
def test_sentences_are_in_order_inside_the_text_and_not_empty(text: str) -> None:
    previous_end = 0
    for sentence in split_sentences(text):
        assert sentence.text and sentence.text == text[sentence.start : sentence.end]
        assert sentence.start >= previous_end
        previous_end = sentence.end


# --- trie and literals --------------------------------------------------------------


@given(st.lists(st.text(alphabet="abc. -", min_size=1, max_size=6), min_size=1, max_size=30))
@settings(max_examples=200, deadline=None)
def test_a_trie_pattern_matches_exactly_its_phrases(phrases: list[str]) -> None:
    regex = re.compile(trie_pattern(phrases))
    for phrase in phrases:
        assert regex.fullmatch(phrase)
    for other in ("zz", "abcabcabc-x"):
        if other not in phrases:
            assert not regex.fullmatch(other)


def test_a_trie_pattern_prefers_the_longest_phrase() -> None:
    regex = re.compile(trie_pattern(["russia", "russian", "russian foreign ministry"]))
    match = regex.match("russian foreign ministry said")
    assert match is not None and match.group() == "russian foreign ministry"


@pytest.mark.parametrize(
    ("pattern", "prefixes"),
    [
        (r"\bveto(?:es|ed|ing)?\b", ("veto",)),
        (r"\b(?:send|sending|deploy)\s+troops", ("deploy", "send")),
        (r"['’]s\s+position", ("'s", "’s")),
        (r"\w+\s+sanctions", None),
        (r"\b(?:a|the)\s+force", None),
    ],
)
def test_literal_prefixes_cover_every_match_or_give_up(
    pattern: str, prefixes: tuple[str, ...] | None
) -> None:
    assert literal_prefixes(pattern) == prefixes


@pytest.mark.parametrize(
    ("pattern", "needed"),
    [
        (r"(?<!\w)veto(?:es|ed|ing)?\b", ("veto",)),
        (r"(?:a\s+|the\s+)?(?:pre)?conditions?\s+(?:of|for)", ("condition",)),
        (r"pre(?:condition|requisite)", ("condition", "requisite")),
        (r"but\s+(?:\w+\s+){0,3}?(?:has|have|must)", ("but",)),
        (r"(?:send|sending|deploy)\s+troops", ("troops",)),
        (r"(?=only)\w+", None),
        (r"\w+\s+sanctions?|no", ("no", "sanction")),
        (r"\w+|no", None),
        (r";|:|,\s*(?:but|and|yet)\b", (",", ":", ";")),
    ],
)
def test_needed_strings_are_in_every_match(pattern: str, needed: tuple[str, ...] | None) -> None:
    assert needed_strings(re.compile(pattern)) == needed


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_the_prefilters_let_every_condition_and_clause_break_through(data: st.DataObject) -> None:
    pieces = ["only", "if", "until", "unless", "but", "with", "a", "the", "key", "us", " ", ","]
    pieces += ["provided", "that", "as long as", "condition", "of", "requires", "mandate", "x"]
    pieces += ["and", "instead", "said", "adding", ";", ":", "-", "—", "\n", "whereas"]
    words = data.draw(st.lists(st.sampled_from(pieces) | st.text(max_size=3), max_size=12))
    claim = " ".join(words).lower()
    needs = stance._CONDITION_NEEDS
    assert needs is not None
    if not any(s in claim for s in needs):
        assert stance._LOWERED.condition.search(claim) is None
        assert stance._LOWERED.only_later.search(claim) is None
    needs = stance._CLAUSE_NEEDS
    assert needs is not None
    if not any(s in claim for s in needs):
        assert stance._LOWERED.clause_break.search(claim) is None


def test_a_scanner_reports_overlapping_literals_at_word_starts_only() -> None:
    scanner = LiteralScanner({"peace": ["p"], "peace talks": ["pt"], "talks": ["t"]})
    low = lower_same_length("Peace talks; peacetime talks")
    found = [
        (pos, [value for _, value in scanner.at(longest)]) for pos, longest in scanner.scan(low)
    ]
    assert found == [(0, ["pt", "p"]), (6, ["t"]), (13, ["p"]), (23, ["t"])]


def test_lower_case_keeps_every_position() -> None:
    text = "İstanbul talks"
    assert len(lower_same_length(text)) == len(text)


# --- aliases ------------------------------------------------------------------------


def test_an_accented_alias_also_matches_without_accents() -> None:
    index = AliasIndex([ActorSpec("hungary", "Hungary", people=(PersonSpec("Viktor Orbán"),))])
    found = index.find("Orban and Viktor Orban and Orbán spoke.")
    assert [m.text for m in found] == ["Orban", "Viktor Orban", "Orbán"]


def test_a_shared_surname_names_no_one() -> None:
    index = AliasIndex(
        [
            ActorSpec("a", "A", people=(PersonSpec("Anna Kovacs"),)),
            ActorSpec("b", "B", people=(PersonSpec("Bela Kovacs"),)),
        ]
    )
    assert index.find("Kovacs said so.") == []


def test_a_regex_backwards_spells_its_sequences_backwards() -> None:
    assert backwards(r"(?:ab|c\.?)\s+[A-Z][\w’'-]*(?:d|ef){0,2}?x") == (
        r"x(?:d|fe){0,2}?[\w’'-]*[A-Z]\s+(?:ba|\.?c)"
    )
    for unsupported in (r"a$", r"\ba", r"(?P<x>a)", r"(?=a)", r"a)", r"(?:a"):
        with pytest.raises(ValueError):
            backwards(unsupported)


_BEFORE_WORDS = st.sampled_from(
    ["to", "of", "in", "the", "an", "UN", "Kyiv", "envoy", "aide", "close", "said", "President"]
    + ["minister", "and", "de", "Russia's", "vs.", "ex-head", "it's-head", " ", "\n", "-", "("]
)


def _before_window(regex: re.Pattern[str]) -> st.SearchStrategy[str]:
    pieces = st.from_regex(regex) | _BEFORE_WORDS | st.text(max_size=3)
    return st.lists(pieces, max_size=7).map(" ".join) | st.lists(pieces, max_size=7).map("".join)


def _backwards_at(
    regex: re.Pattern[str], prefix: str, window: str, name: str
) -> re.Match[str] | None:
    """Run a backwards regex over the window as `find` does: in the whole reversed text."""
    text = prefix + window + name
    return regex.match(text[::-1], len(name), len(name) + len(window))


@given(st.data())
@settings(max_examples=500, deadline=None)
def test_the_regexes_before_a_name_find_the_same_run_backwards(data: st.DataObject) -> None:
    forward, backward = data.draw(
        st.sampled_from(
            [
                (actors._DEMOTED_BEFORE, actors._DEMOTED_BEFORE_BACKWARDS),
                (actors._OF_BEFORE, actors._OF_BEFORE_BACKWARDS),
                (actors._SHIFTED_BEFORE, actors._SHIFTED_BEFORE_BACKWARDS),
            ]
        )
    )
    window = data.draw(_before_window(forward))
    prefix = data.draw(st.sampled_from(["", "x", " ", "'", "\n"]))
    name = data.draw(st.sampled_from(["", "Kyiv", " ", "\n", "s"]))
    found = forward.search(window)
    back = _backwards_at(backward, prefix, window, name)
    assert (found is None) == (back is None)
    if found is not None and back is not None and "head" in forward.groupindex:
        start, end = back.span("head")
        assert found.group("head") == back.string[start:end][::-1]


@given(
    st.lists(
        _BEFORE_WORDS | st.sampled_from(["'s", "’S", "s'", "Foreign", "leader", "media", "state"]),
        max_size=6,
    )
)
@settings(max_examples=300, deadline=None)
def test_a_role_right_after_a_name_is_the_one_the_full_role_regex_finds(words: list[str]) -> None:
    text = "Russia" + " ".join(words)
    full = actors._FOLLOWED_BY_ROLE.match(text, 6)
    at_once = actors._ROLE_RIGHT_AFTER.match(text, 6)
    if at_once is not None:
        assert full is not None and full.span() == at_once.span()
    elif full is not None:
        assert actors._CAPITAL_AFTER.match(text, 6) is not None
    if not case_plain(text):
        return
    low = text.lower()
    both = actors._ROLE_OR_NON_SPEAKER_LOW.match(low, 6)
    if at_once is not None:
        assert both is not None and both.lastgroup is None and both.span() == at_once.span()
    else:
        # `find` starts the non-speaker regex after a possessive "'s".
        tail = 8 if text[6:8] in ("'s", "’s", "'S", "’S") else 6
        non_speaker = actors._FOLLOWED_BY_NON_SPEAKER.match(text, tail)
        assert (both is not None) == (non_speaker is not None)


# --- the whole extractor on any text -------------------------------------------------

_EXTRACTOR = Extractor(*load_default_specs())

_WORDS = st.sampled_from(
    """Russia Moscow said that " “ ” , . ? ! ceasefire sanctions NATO membership peacekeepers
    not only if unless He the envoy Lavrov Zelensky vetoed resolution according to : – ( )
    \n troops rejected would consider US us UN Security Council""".split(" ")
)


@given(st.lists(_WORDS, max_size=60).map(" ".join), st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_extract_never_raises_and_claims_come_from_the_text(body: str, title: str) -> None:
    for found in _EXTRACTOR.extract(body, title=title):
        assert found.claim and (found.claim in body or found.claim in title)
        assert found.actor and found.topic
        assert (found.condition is None) or found.stance.value == "conditional"


def test_an_overlong_sentence_is_cut_at_clause_breaks_into_bounded_pieces() -> None:
    text = "Russia said that peacekeepers would be welcome, " * 200 + "and that was all."
    pieces = split_sentences(text)
    assert len(pieces) > 1
    assert all(len(p.text) <= MAX_SENTENCE_CHARS for p in pieces)
    assert all(p.text.endswith(",") for p in pieces[:-1])
    assert "".join(p.text for p in pieces).replace(" ", "") == text.replace(" ", "")


def test_the_stance_word_lists_keep_their_literal_gates() -> None:
    # A word list with a one-letter first word ("a matter for") has no literal
    # prefixes: the shared gate then falls away (2% more instructions per item
    # on the news mix, callgrind). Edits to the lexicon must keep them.
    for name, words in stance._POLARITY_PARTS:
        assert literal_prefixes(r"\b(?:" + words + r")") is not None, name
    assert stance._CONDITION_NEEDS is not None
    assert stance._CLAUSE_NEEDS is not None


def test_the_default_topic_patterns_all_start_with_literal_words() -> None:
    # A pattern without literal first words runs over every item; one such
    # pattern ("\\d+th package") cost the news mix 11% more instructions.
    _, topics = load_default_specs()
    for topic in topics:
        for pattern in topic.patterns:
            assert literal_prefixes(pattern) is not None, (topic.id, pattern)


def test_a_second_extractor_from_the_same_specs_compiles_no_regex(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Parse workers forked after a build rely on this: their own build for
    # the same patterns finds every compiled regex kept.
    specs = load_default_specs()
    first = Extractor(*specs)
    compiled: list[str] = []
    real_compile = re.compile

    def counting_compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
        compiled.append(pattern)
        return real_compile(pattern, flags)

    monkeypatch.setattr(re, "compile", counting_compile)
    second = Extractor(*specs)
    assert compiled == []
    text = "Russia's Lavrov said Moscow would never accept peacekeepers in Ukraine."
    assert second.extract(text) == first.extract(text)
