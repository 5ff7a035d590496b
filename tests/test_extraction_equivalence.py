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

from sources.extraction import Extractor, load_default_specs, stance
from sources.extraction.literals import ODD_CASE, case_plain, lowered

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


_CLAIM_WORDS = st.sampled_from(
    """only if unless until provided that as long as without approval mandate not no never
    support supports reject rejected opposes backing considering could be an option but while
    and instead; : , - – ” " ’s n't don't EU Ukraine Kyiv U.S. US on the table off ready
    willing Sanctions CEASEFIRE ſ ı İ K ß Σ é""".split()
)


@given(st.lists(_CLAIM_WORDS | st.text(max_size=6), max_size=40).map(" ".join))
@settings(max_examples=400, deadline=None)
def test_a_lowered_regex_on_lower_cased_text_finds_the_same_spans(text: str) -> None:
    if not case_plain(text):
        return
    low = text.lower()
    for regex in (stance._CONDITION, stance._ONLY_LATER, stance._CLAUSE_BREAK, stance._POLARITY):
        fast = lowered(regex)
        assert [(m.span(), m.regs, m.lastgroup) for m in regex.finditer(text)] == [
            (m.span(), m.regs, m.lastgroup) for m in fast.finditer(low)
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


_TOPIC_RULES = [
    rule
    for chain in Extractor(*load_default_specs())._chains.values()
    if chain[1]
    for rule in (*chain[1][1], *chain[1][2])
]
_TOPIC_WORDS = st.sampled_from(
    sorted(
        {
            word
            for rule in _TOPIC_RULES
            if rule.regex is not None
            for word in re.findall(r"[A-Za-z][\w'-]*", rule.regex.pattern)
            if len(word) > 1
        }
        | {"’s", "'s", ",", ".", ";", "-", "the", "a", "of", "to", "ſ", "İ", "K"}
    )
)


@given(st.lists(_TOPIC_WORDS | st.text(max_size=4), max_size=30).map(" ".join))
@settings(max_examples=150, deadline=None)
def test_a_lowered_topic_pattern_on_lower_cased_text_finds_the_same_spans(text: str) -> None:
    if not case_plain(text):
        return
    low = text.lower()
    for rule in _TOPIC_RULES:
        if rule.fast is not None and rule.regex is not None:
            assert [m.span() for m in rule.regex.finditer(text)] == [
                m.span() for m in rule.fast.finditer(low)
            ], rule.regex.pattern
