"""Sentence splitting for news text.

A full stop ends a sentence unless it ends an abbreviation ("U.S.", "Gen.",
"a.m.") or an initial, and nothing ends a sentence inside a quotation. A
quotation that ends in "!" or "?" and is followed by its attribution
(`"...!" Lavrov said.`, `"...?" asked Rutte.`) stays one sentence with it. A
line break always ends a sentence: feeds put headlines and paragraphs on lines
of their own, and an unbalanced quote must not swallow the rest of the item.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from sources.extraction.lexicon import ABBREVIATIONS, SENTENCE_STARTERS
from sources.extraction.literals import compile_kept

OPEN_QUOTES = "“«„"
CLOSE_QUOTES = "”»"
_CLOSERS = frozenset(CLOSE_QUOTES + '"')
_LONGEST_ABBREVIATION = max(map(len, ABBREVIATIONS))
_QUOTES = OPEN_QUOTES + CLOSE_QUOTES + '"'
"""Every quote an event can start with: a string, for `in` on one character."""
_MAX_QUOTE_CHARS = 1500
MAX_SENTENCE_CHARS = 800
"""Longer sentences are cut at clause boundaries into pieces of at most this size."""
"""An opened quotation longer than this is taken to be unbalanced and closed."""

# An event is a quote, a run of line breaks, or terminal punctuation with any
# closing quotes or brackets after it (and followed by a space or the end).
# Events are found as the regex `_EVENT` would find them with `finditer`, but
# without running it: its first character class costs the regex engine some
# fifty instructions per character of text, while `str.find` skips to each
# occurrence of one character in C. Each position holding an event character
# is tried in order, except those inside the previous event (finditer resumes
# after a match); a full stop not followed by its tail is no event, as there.
_EVENT = compile_kept(
    r"[\"“”«»„\n.!?…]"
    r"(?:(?<=\n)\n*|(?<=[.!?…])[.!?…]*[\"'”’»)\]]*(?=\s|$)|(?<=[\"“”«»„]))"
)
"""What the events are, as one regex (the split does not run it)."""
_EVENT_CHARS = '\n".!?“”«»„…'
_ASCII_EVENT_CHARS = '\n".!?'
"""The event characters an ASCII text can hold."""
_NEWLINES = compile_kept(r"\n*")
_TERMINAL_TAIL = compile_kept(r"[.!?…]*[\"'”’»)\]]*(?=\s|$)()\s*(\S)?")
"""`_EVENT` after its first character, for terminal punctuation (the lookbehind
holds), up to group 1; then what `_NEXT_START` would find: the first character
after the spaces that follow (group 2), None if there is none."""
_NEXT_START = compile_kept(r"\s*(\S)(\S*)")
_ATTRIBUTION_TAIL = compile_kept(
    r"\s*(?:(?:[\w’'.-]+,?\s+){0,6}?(?:said|says|asked|asks|added|adds|told|wrote|stated|"
    r"warned|insisted|stressed|replied|declared|noted|argued|explained|continued)|"
    r"(?:said|asked|added|told|wrote|stated|warned|insisted|replied|declared)\s+)"
    r"[^.!?\n]{0,120}?[.!?](?=\s|$)",
    re.IGNORECASE,
)
"""After a closing quote: an attribution that belongs to it (`"...!" Lavrov said.`)."""


_new = tuple.__new__
"""Builds a NamedTuple from a tuple of its fields, without the Python-level `__new__`
that calling the class goes through (a fifth of the cost of building one)."""


class Sentence(NamedTuple):
    """One sentence of a text, by position, so mentions can be mapped onto it."""

    start: int
    end: int
    text: str
    headline: bool = False
    """A title or a line without end punctuation: headline templates apply."""


def split_sentences(text: str, *, offset: int = 0, until: int | None = None) -> list[Sentence]:
    """Split text into sentences, keeping quotations and their attributions whole.

    Args:
        text: plain text (one item's summary or body).
        offset: added to every position, when `text` is a slice of a larger string.
        until: stop once a sentence starting after this position (with the
            offset) is in the list: the rest is not split. The sentences
            given are the same first ones as without it.

    Returns:
        Sentences in order, whitespace-trimmed, none empty.
    """
    sentences: list[Sentence] = []
    start = 0
    in_quote = False
    quote_opened = 0
    after = 0  # where the last event ended: candidates before it are inside it
    for pos in _event_candidates(text):
        if pos < after:
            continue
        first = text[pos]
        if first == "\n":
            after = _NEWLINES.match(text, pos + 1).end()  # type: ignore[union-attr]
            _add(sentences, text, start, pos, offset)
            if until is not None and sentences and sentences[-1].start > until:
                return sentences
            start = after
            in_quote = False
            continue
        if first in _QUOTES:
            after = pos + 1
            if first in OPEN_QUOTES:
                in_quote, quote_opened = True, pos
            elif first in CLOSE_QUOTES:
                in_quote = False
            else:
                # A quotation open for too long is taken to be closed already.
                in_quote = not (in_quote and pos - quote_opened <= _MAX_QUOTE_CHARS)
                if in_quote:
                    quote_opened = pos
            continue
        # Terminal punctuation, possibly with closing quotes or brackets after it.
        tail = _TERMINAL_TAIL.match(text, pos + 1)
        if tail is None:
            continue  # no event: "U.S", "3.5"
        after = end = tail.end(1)
        token = text[pos:end]
        closes_quote = not _CLOSERS.isdisjoint(token)
        if closes_quote:
            in_quote = False
        elif in_quote:
            if pos - quote_opened <= _MAX_QUOTE_CHARS:
                continue
            in_quote = False
        if not _ends_sentence(text, pos, end, token, closes_quote, tail[2]):
            continue
        _add(sentences, text, start, end, offset)
        if until is not None and sentences and sentences[-1].start > until:
            return sentences
        start = end
    _add(sentences, text, start, len(text), offset)
    return sentences


def _event_candidates(text: str) -> list[int]:
    """Every position holding an event's first character, in order."""
    positions: list[int] = []
    find = text.find
    for char in _ASCII_EVENT_CHARS if text.isascii() else _EVENT_CHARS:
        at = find(char)
        while at != -1:
            positions.append(at)
            at = find(char, at + 1)
    positions.sort()
    return positions


def _ends_sentence(
    text: str, pos: int, end: int, token: str, closes_quote: bool, next_char: str | None
) -> bool:
    if next_char is None:
        return True
    if closes_quote:
        # `"...!" Lavrov said.` and `"...?" asked Rutte.` stay with their speaker.
        if _ATTRIBUTION_TAIL.match(text, end):
            return False
    if not (
        next_char.isupper()
        or next_char.isdigit()
        or next_char in OPEN_QUOTES
        or next_char in "\"'‘(["
    ):
        return False
    if token[0] != ".":
        return True
    if pos > _LONGEST_ABBREVIATION and text[pos - _LONGEST_ABBREVIATION - 1 : pos].isalpha():
        # The word before the full stop ends with more letters than any
        # abbreviation has, so the test below would find neither an initial
        # nor an abbreviation: the common case, decided without slicing.
        return True
    window = text[pos - 40 if pos > 40 else 0 : pos]
    parts = window.rsplit(None, 1)  # empty when the window is blank
    if not parts:
        return True
    word = parts[-1]
    word = word.lower().lstrip("(\"'“‘")
    if len(word) == 1 and word.isalpha():
        return False  # an initial: "Donald J. Trump"
    if word in ABBREVIATIONS:
        # "U.S." can end a sentence too; a common sentence opener after it says so.
        following = _NEXT_START.match(text, end).group(0)  # type: ignore[union-attr]
        if "." in word and following.strip().lower().strip("\"“‘'") in SENTENCE_STARTERS:
            return True
        return False
    return True


def _add(sentences: list[Sentence], text: str, start: int, end: int, offset: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end <= start:
        return
    while end - start > MAX_SENTENCE_CHARS:
        # A "sentence" this long is a list, a table or an attack; cutting it at
        # a clause boundary keeps the work per sentence bounded (attribution
        # compares every cue with every name in its sentence).
        cut = _cut_point(text, start, start + MAX_SENTENCE_CHARS)
        _add(sentences, text, start, cut, offset)
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end <= start:
        return
    chunk = text[start:end]
    headline = chunk[-1] not in ".!?…\"”'’»)" and len(chunk) < 250
    sentences.append(_new(Sentence, (start + offset, end + offset, chunk, headline)))


def _cut_point(text: str, start: int, limit: int) -> int:
    """Where to cut an overlong sentence: the last clause break, else space, before `limit`."""
    floor = start + MAX_SENTENCE_CHARS // 2
    for mark in ("; ", ", ", " - ", " "):
        at = text.rfind(mark, floor, limit)
        if at != -1:
            return at + len(mark.rstrip())
    return limit
