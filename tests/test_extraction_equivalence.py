"""The extractor's speed-ups find what the plain form would: the premises they rest on.

`tests/bench/extract_equivalence.py` compares whole outputs with an earlier
commit's; these tests check, over every character or over generated text,
the facts each faster form relies on.
"""

from __future__ import annotations

import functools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from sources.extraction import Extractor, actors, extractor, load_default_specs, stance
from sources.extraction.cues import FINDER
from sources.extraction.literals import ODD_CASE, case_plain, lower_same_length, lowered
from sources.extraction.sentences import split_sentences

_PUNCTUATION_IN_PATTERNS = "’‘“”–—«»„"


@functools.cache
def _every_character() -> tuple[str, str]:
    """Every code point but the surrogates, and each one lower-cased on its own."""
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    low = "".join(c.lower() if len(c.lower()) == 1 else c for c in every)
    return every, low


def _starts(regex: re.Pattern[str], text: str) -> set[int]:
    return {m.start() for m in regex.finditer(text)}


def test_only_one_character_lower_cases_to_two() -> None:
    every, _ = _every_character()
    assert [c for c in every if len(c.lower()) != 1] == ["\u0130"]


def test_case_insensitive_ascii_matches_the_lower_case_but_for_three_characters() -> None:
    every, low = _every_character()
    odd: set[str] = set()
    for char in [chr(c) for c in range(128)] + list(_PUNCTUATION_IN_PATTERNS):
        insensitive = _starts(re.compile(re.escape(char), re.IGNORECASE), every)
        exact = _starts(re.compile(re.escape(char.lower())), low)
        odd.update(every[i] for i in insensitive ^ exact)
    assert odd == {"\u0130", "\u0131", "\u017f"}
    assert all(ODD_CASE.fullmatch(c) for c in odd)


def test_a_case_insensitive_range_of_letters_matches_the_lower_case_but_for_three() -> None:
    every, low = _every_character()
    exact = _starts(re.compile("[a-z]"), low)
    for cls in ("[A-Z]", "[a-z]"):
        insensitive = _starts(re.compile(cls, re.IGNORECASE), every)
        assert {every[i] for i in insensitive ^ exact} == {"\u0130", "\u0131", "\u017f"}


def test_lower_casing_keeps_word_space_digit_and_line_characters() -> None:
    every, low = _every_character()
    for cls in (r"\w", r"\s", r"\d", r"."):
        regex = re.compile(cls)
        assert _starts(regex, every) == _starts(regex, low), cls


def _regex_words(patterns: list[str]) -> list[str]:
    return sorted(
        {w for p in patterns for w in re.findall(r"[A-Za-z][\w'-]*", p) if len(w) > 1}
        | {"’s", "'s", ",", ".", ";", ":", "-", "–", "”", '"', "n't", "the", "a", "of", "to"}
        | {"Lavrov", "Kyiv", "EU", "US", "U.S.", "ſ", "ı", "İ", "\u212a", "ß", "Σ", "é"}
    )


_PAIRS: list[tuple[re.Pattern[str], re.Pattern[str], bool]] = [
    *(
        (written, fast, True)
        for written, fast in zip(stance._AS_WRITTEN, stance._LOWERED, strict=True)
    ),
    *(
        (written, fast, True)
        for written, fast in zip(extractor._AS_WRITTEN, extractor._LOWERED, strict=True)
    ),
    *(
        (written, fast, on_low)
        for written, (fast, on_low) in zip(FINDER._regexes, FINDER._plain, strict=True)
    ),
    (actors._FOLLOWED_BY_NON_SPEAKER, actors._FOLLOWED_BY_NON_SPEAKER_LOW, True),
]
"""(regex as written, its fast form, whether the fast form runs over the lower-cased text)."""
_PAIR_WORDS = st.sampled_from(_regex_words([w.pattern for w, _, _ in _PAIRS]))


@functools.cache
def _around(regex: re.Pattern[str], words: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Text holding matches of the regex among other words and odd characters."""
    if len(regex.pattern) > 2000:
        # Generating from a long alternation takes seconds per example: its
        # words, drawn at random, reach it well enough.
        return st.lists(words | st.text(max_size=4), min_size=1, max_size=40).map(" ".join)
    piece = st.from_regex(regex) | words | st.text(max_size=4)
    return st.lists(piece, min_size=1, max_size=8).map(" ".join)


@given(data=st.data())
@settings(max_examples=600, deadline=None)
def test_a_lowered_regex_on_lower_cased_text_finds_the_same_spans(data: st.DataObject) -> None:
    written, fast, on_low = data.draw(st.sampled_from(_PAIRS))
    text = data.draw(_around(written, _PAIR_WORDS))
    if not case_plain(text):
        return
    low = text.lower()
    assert [(m.regs, m.lastgroup) for m in written.finditer(text)] == [
        (m.regs, m.lastgroup) for m in fast.finditer(low if on_low else text)
    ]


def test_lowered_refuses_what_lower_casing_could_change() -> None:
    for pattern in (r"(?-i:A)b", r"[!-Z]", r"é", r"\x41", r"\u00C9", r"[À-ÿ]", r"(a)\1"):
        try:
            lowered(re.compile(pattern, re.IGNORECASE))
        except ValueError:
            continue
        raise AssertionError(pattern)
    assert lowered(re.compile(r"(?P<Word>EU|U\.S\.)\b\W[A-Z]", re.IGNORECASE)).pattern == (
        r"(?P<Word>eu|u\.s\.)\b\W[a-z]"
    )


_TOPIC_RULES = list(
    {
        rule.number: rule
        for rules in Extractor(*load_default_specs())._topics.literals.values()
        for rule in rules
        if rule.kind != "kw"
    }.values()
)
_TOPIC_WORDS = st.sampled_from(
    _regex_words([rule.regex.pattern for rule in _TOPIC_RULES if rule.regex is not None])
)


@given(data=st.data())
@settings(max_examples=400, deadline=None)
def test_a_lowered_topic_pattern_on_lower_cased_text_finds_the_same_spans(
    data: st.DataObject,
) -> None:
    rule = data.draw(st.sampled_from([r for r in _TOPIC_RULES if r.fast is not None]))
    text = data.draw(_around(rule.regex, _TOPIC_WORDS))
    if not case_plain(text):
        return
    low = text.lower()
    assert [m.span() for m in rule.regex.finditer(text)] == [
        m.span() for m in rule.fast.finditer(low)
    ]


_KEY = extractor._ANAPHORA_HEADS | extractor._CARRY_PRONOUNS | extractor._ROLE_HEADS


@given(
    st.lists(
        st.sampled_from(sorted(_KEY)) | st.sampled_from(["-", "’", "'", ".", " ", "x", "İ"]),
        max_size=30,
    ).map("".join)
    | st.lists(st.sampled_from(sorted(_KEY)) | st.text(max_size=5), max_size=20).map(" ".join)
)
@settings(max_examples=400, deadline=None)
def test_the_key_words_of_a_sentence_are_its_tokens_in_the_three_sets(text: str) -> None:
    assert extractor._words(text) == set(re.split(r"[^\w-]+", text.lower())) & _KEY


_CUE_CHAINS = sorted({numbers for numbers in FINDER.literals.values() if len(numbers) > 1})


@given(st.data())
@settings(max_examples=400, deadline=None)
def test_one_regex_for_the_cues_at_a_position_picks_the_first_that_matches(
    data: st.DataObject,
) -> None:
    numbers = data.draw(st.sampled_from(_CUE_CHAINS))
    written = [FINDER._regexes[n] for n in numbers]
    text = data.draw(_around(data.draw(st.sampled_from(written)), _PAIR_WORDS))
    for plain in (False, True):
        if plain and not case_plain(text):
            continue
        combined, on_low = FINDER._combine(numbers, plain)
        subject = text.lower() if on_low else text
        if not combined.pattern:
            continue  # no shared regex: the cues are tried one by one
        for position in range(len(text)):
            expected = next(
                (
                    (m.end(), n)
                    for n, r in zip(numbers, written, strict=True)
                    if (m := r.match(text, position)) is not None
                ),
                None,
            )
            match = combined.match(subject, position)
            found = None if match is None else (match.end(), numbers[(match.lastindex or 0) - 1])
            assert found == expected


def test_a_word_character_is_one_that_is_alphanumeric_or_an_underscore() -> None:
    every, _ = _every_character()
    word = _starts(re.compile(r"\w"), every)
    assert word == {i for i, c in enumerate(every) if c.isalnum() or c == "_"}
    space = _starts(re.compile(r"\s"), every)
    assert space == {i for i, c in enumerate(every) if c.isspace()}


@given(
    st.lists(
        _PAIR_WORDS | st.sampled_from(['."', ". ", "! ", "? ", "\n", "“", "”"]), max_size=60
    ).map(" ".join),
    st.integers(min_value=-5, max_value=400),
)
@settings(max_examples=400, deadline=None)
def test_splitting_until_a_position_gives_the_first_sentences_up_to_the_one_after_it(
    text: str, until: int
) -> None:
    whole = split_sentences(text, offset=3)
    cut = split_sentences(text, offset=3, until=until)
    assert cut == whole[: len(cut)]
    assert [s for s in whole if s.start <= until] == [s for s in cut if s.start <= until]
    after = [s for s in whole if s.start > until]
    assert not after or after[0] in cut


_EXTRACTOR = Extractor(*load_default_specs())
_ALIAS_WORDS = st.sampled_from(
    sorted({key for key in _EXTRACTOR._aliases.literals if len(key) < 30})
    + ["US", "us", "UN", "un", "EU", "’s", "'s", ",", ".", "-", "Kremlin's", "the"]
)


@given(st.lists(_ALIAS_WORDS | st.text(max_size=4), max_size=30).map(" ".join))
@settings(max_examples=400, deadline=None)
def test_the_actors_of_an_item_are_those_its_mentions_name(text: str) -> None:
    low = lower_same_length(text)
    found, _, _ = _EXTRACTOR._scan(low)
    expected = {m.actor for m in _EXTRACTOR._aliases.find(text, low, found) if m.actor}
    assert _EXTRACTOR._aliases.actors(text, low, found) == expected
