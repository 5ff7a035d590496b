"""Finding topic words in text, minus the same words used in another sense.

All topics' keywords, and the first words of their patterns and excludes, are
found in one scan of the lower-cased text (see `literals`); each pattern is
then tried only where one of its first words stands. A topic word inside a
match of one of the topic's exclude patterns does not count ("peace prize",
"trade truce", "UEFA sanctions").
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sources.extraction.literals import (
    LiteralScanner,
    case_plain,
    compile_kept,
    literal_prefixes,
    lower_same_length,
    lowered,
)
from sources.records import TopicSpec

_ANCHORED = compile_kept(r"(?:\(\?[aiLmsux]+\))*\\A")


_new = tuple.__new__
"""Builds a NamedTuple from a tuple of its fields, without the Python-level `__new__`
that calling the class goes through (a fifth of the cost of building one)."""

_MAX_PREPARED = 100_000
"""More distinct chains than this means callers build their own: start the cache over."""


class TopicHit(NamedTuple):
    """One topic word or phrase found in a text."""

    start: int
    end: int
    topic: str
    words: str
    """The words as written in the text."""


@dataclass(frozen=True, slots=True)
class _Rule:
    topic: str
    kind: str
    """"kw" (keyword), "pat" (pattern) or "exc" (exclude)."""
    regex: re.Pattern[str] | None
    number: int
    """Tells rules apart, so one is tried once per position."""
    anchored: bool = False
    """Matches only at the start of the text: tried once, with `match`."""
    fast: re.Pattern[str] | None = None
    """`lowered(regex)`, for the lower-cased text, when the pattern allows it."""


_Matcher = Callable[[str, int], "re.Match[str] | None"]
_Attempt = tuple[_Matcher | None, _Matcher, str]
"""A pattern or exclude to try at a position: (`fast.match` for the lower-cased
text if there is one, `regex.match` for the text, topic)."""
_Prepared = tuple[tuple[tuple[int, str], ...], tuple[_Attempt, ...], tuple[_Attempt, ...]]
"""(keyword lengths and topics, patterns to try, excludes to try later) for one chain."""


def _anchored(pattern: str) -> bool:
    """Whether a pattern can only match at the start of the text (`\\A...`)."""
    return bool(_ANCHORED.match(pattern))


def _attempt(rule: _Rule) -> _Attempt:
    fast = rule.fast.match if rule.fast is not None else None
    return (fast, rule.regex.match, rule.topic)  # type: ignore[union-attr]


def _all_matches(rule: _Rule, text: str) -> list[re.Match[str]]:
    if rule.regex is None:
        return []
    if rule.anchored:
        # One attempt, not one per position: an item-level rule such as
        # "an item about another war" reads the whole text once.
        match = rule.regex.match(text)
        return [match] if match is not None else []
    return list(rule.regex.finditer(text))


class TopicMatcher:
    """All configured topics, compiled once."""

    def __init__(self, topics: Sequence[TopicSpec]) -> None:
        """Compile each topic's keywords, patterns and excludes.

        Args:
            topics: the configured topics.

        Raises:
            ValueError: a pattern is not a valid regular expression (the
                message names the topic and the pattern).
        """
        entries: dict[str, list[_Rule]] = {}
        self._full_patterns: list[_Rule] = []
        self._full_excludes: dict[str, list[_Rule]] = {}
        number = 0
        for topic in topics:
            for keyword in topic.keywords:
                key = lower_same_length(keyword.strip())
                if key:
                    entries.setdefault(key, []).append(_Rule(topic.id, "kw", None, number))
                    number += 1
            for kind, patterns in (("pat", topic.patterns), ("exc", topic.exclude)):
                for pattern in patterns:
                    regex = _compile(topic.id, pattern)
                    rule = _Rule(topic.id, kind, regex, number, _anchored(pattern), _lowered(regex))
                    number += 1
                    prefixes = literal_prefixes(pattern)
                    if prefixes is None:
                        if kind == "pat":
                            self._full_patterns.append(rule)
                        else:
                            self._full_excludes.setdefault(topic.id, []).append(rule)
                        continue
                    for prefix in prefixes:
                        entries.setdefault(prefix, []).append(rule)
        self.literals: dict[str, tuple[_Rule, ...]] = {k: tuple(v) for k, v in entries.items()}
        """Lower-case literal -> the rules it starts, for a scanner shared with aliases and cues."""
        self._scanner: LiteralScanner[_Rule] | None = None
        self.ids = tuple(topic.id for topic in topics)
        self._prepared: dict[int, tuple[object, _Prepared]] = {}

    def prepare(self, chain: Sequence[tuple[str, _Rule]]) -> _Prepared:
        """A chain of rules split by kind, each rule once: the per-position loop stays short.

        Args:
            chain: the rules whose literal starts at one position, as a scanner gives them.

        Returns:
            (keyword lengths and topics, patterns to try, excludes to try
            later; the last two as bound `match` methods and topics), as
            `find_prepared` takes them.

        Chains come from a scanner's fixed table, so each is split once; the
        cache holds the chain itself, so an id is never reused while cached.
        """
        cached = self._prepared.get(id(chain))
        if cached is not None and cached[0] is chain:
            return cached[1]
        keywords: list[tuple[int, str]] = []
        patterns: list[_Rule] = []
        excludes: list[_Rule] = []
        seen: set[int] = set()
        for literal, rule in chain:
            if rule.kind == "kw":
                keywords.append((len(literal), rule.topic))
                continue
            if rule.regex is None or rule.number in seen:
                continue
            seen.add(rule.number)
            (excludes if rule.kind == "exc" else patterns).append(rule)
        prepared = (tuple(keywords), tuple(map(_attempt, patterns)), tuple(map(_attempt, excludes)))
        if len(self._prepared) > _MAX_PREPARED:
            self._prepared.clear()
        self._prepared[id(chain)] = (chain, prepared)
        return prepared

    def find(
        self,
        text: str,
        low: str | None = None,
        found: Sequence[tuple[int, Sequence[tuple[str, _Rule]]]] | None = None,
    ) -> list[TopicHit]:
        """Every topic word in the text that is not used in an excluded sense.

        Args:
            text: the text to scan.
            low: `lower_same_length(text)`, if the caller has it already.
            found: the literals a shared scan found: (position, rules whose
                literal starts there); scanned here when None.

        Returns:
            Hits sorted by position, the longest per topic and start; one
            position may carry several topics.
        """
        if low is None:
            low = lower_same_length(text)
        if found is None:
            if self._scanner is None:
                self._scanner = LiteralScanner(self.literals)
            scanner = self._scanner
            found = [(start, scanner.at(longest)) for start, longest in scanner.scan(low)]
        prepare = self.prepare
        return self.find_prepared(
            text, low, [(position, prepare(chain)) for position, chain in found]
        )

    def find_prepared(
        self,
        text: str,
        low: str,
        found: Sequence[tuple[int, _Prepared]],
        plain: bool | None = None,
    ) -> list[TopicHit]:
        """`find`, given each position's chain already split by `prepare`.

        Args:
            text: the text to scan.
            low: `lower_same_length(text)`.
            found: (position, `prepare(chain)`) for each position a shared scan found.
            plain: `case_plain(text)`, if the caller has it already.

        Returns:
            As `find`.
        """
        spans: dict[tuple[str, int], int] = {}
        excluded: dict[str, list[tuple[int, int]]] = {}
        pending: list[tuple[tuple[_Attempt, ...], int]] = []
        size = len(low)
        if plain is None:
            plain = case_plain(text)
        for position, (keywords, patterns, excludes) in found:
            for length, topic in keywords:
                end = position + length
                # `\w` is exactly `isalnum()` or "_" (checked over every code point).
                if end < size and (low[end].isalnum() or low[end] == "_"):
                    continue
                key = (topic, position)
                if spans.get(key, -1) < end:  # the longest per start
                    spans[key] = end
            for fast, slow, topic in patterns:
                # The lowered pattern on the lower-cased text: the same spans, faster.
                match = fast(low, position) if plain and fast is not None else slow(text, position)
                if match is not None:
                    # A match at `position` starts there.
                    end = match.end()
                    if end > position:
                        key = (topic, position)
                        if spans.get(key, -1) < end:
                            spans[key] = end
            if excludes:
                # Tried later, and only for topics that matched at all.
                pending.append((excludes, position))
        for rule in self._full_patterns:
            for match in _all_matches(rule, text):
                if match.end() > match.start():
                    _keep(spans, rule.topic, match.start(), match.end())
        if not spans:
            return []
        # Topics often share an item-level exclude ("an item about another war"):
        # the same regex over the same text is run once. Run before the
        # excludes at positions, so those can skip the hits these cover.
        shared: dict[str, list[tuple[int, int]]] = {}
        if self._full_excludes:
            matched_topics = {topic for topic, _ in spans}
            for topic in matched_topics & self._full_excludes.keys():
                for rule in self._full_excludes[topic]:
                    # Keyed by the pattern: all are compiled with the same
                    # flags, and whether a rule is anchored follows from its
                    # pattern. Not by the regex object, whose hash runs over
                    # its compiled code at every lookup; not by a (str, bool)
                    # tuple, which fails in the code mypyc 2.4 compiles.
                    pattern = rule.regex.pattern if rule.regex is not None else ""
                    found_spans = shared.get(pattern)
                    if found_spans is None:
                        found_spans = [m.span() for m in _all_matches(rule, text)]
                        shared[pattern] = found_spans
                    if found_spans:
                        excluded.setdefault(topic, []).extend(found_spans)
        if pending:
            # An exclude starting after every hit of its topic not yet excluded
            # has ended cannot exclude any more: it is not tried. `reach` is
            # the last end of those hits, or more (which only tries more).
            reach: dict[str, int] = {}
            for (topic, start), end in spans.items():
                if reach.get(topic, -1) < end and not (
                    topic in excluded and _overlaps(start, end, excluded[topic])
                ):
                    reach[topic] = end
            for excludes, position in pending:
                for fast, slow, topic in excludes:
                    if position >= reach.get(topic, -1):
                        continue
                    if plain and fast is not None:
                        match = fast(low, position)
                    else:
                        match = slow(text, position)
                    if match is None:
                        continue
                    stop = match.end()
                    if stop > position:
                        excluded.setdefault(topic, []).append((position, stop))
                        # The hits this match leaves open include all that
                        # remain open: the last end among them bounds `reach`.
                        bound = -1
                        for (other, start), end in spans.items():
                            if (
                                other == topic
                                and end > bound
                                and not (start < stop and position < end)
                            ):
                                bound = end
                        if bound < reach[topic]:
                            reach[topic] = bound
        hits = [
            _new(TopicHit, (start, end, topic, text[start:end]))
            for (topic, start), end in spans.items()
            if not excluded or topic not in excluded or not _overlaps(start, end, excluded[topic])
        ]
        hits.sort(key=_START_AND_TOPIC)
        return hits


_WORDS_AHEAD = compile_kept(
    r"(?<!\\)\(\?([=!])\.\*\?(\\b)?\(\?:([A-Za-z][\w '-]*(?:\|[A-Za-z][\w '-]*)*)\)\)"
)
"""A lookaround `(?!.*?(?:Word|Other words))`: does any of these words occur further on."""
_DOTALL_OFF = compile_kept(r"\(\?[a-zA-Z]*-[a-zA-Z]*s")


def _fast_lookarounds(pattern: str) -> str:
    """The same pattern with "any of these words further on" tests the engine runs fast.

    `.*?(?:Ukrain|Kyiv|...)` makes the regex engine try every alternative at
    every character of the text. Skipping, possessively, over characters that
    cannot start any of the words finds the same first occurrence (and a
    lookaround only asks whether there is one) in a C loop: an item-level
    exclude ("an item about another war") costs a sixth as much.
    Only applies where `.` matches everything (a leading `(?s)`).
    """
    if not pattern.startswith("(?s)") or _DOTALL_OFF.search(pattern):
        return pattern

    def rewrite(match: re.Match[str]) -> str:
        sign, boundary, words = match.group(1), match.group(2) or "", match.group(3)
        # The first letters as written: under IGNORECASE the class folds case
        # exactly as the words do; inside `(?-i:...)` lower case is skipped fast.
        firsts = "".join(sorted({w[0] for w in words.split("|")}))
        alternatives = f"{boundary}(?:{words})"
        return (
            f"(?{sign}[^{firsts}]*+(?:(?!{alternatives})[{firsts}][^{firsts}]*+)*+{alternatives})"
        )

    return _WORDS_AHEAD.sub(rewrite, pattern)


def _compile(topic_id: str, pattern: str) -> re.Pattern[str]:
    try:
        compile_kept(pattern, re.IGNORECASE)  # errors name the pattern as written
        return compile_kept(_fast_lookarounds(pattern), re.IGNORECASE)
    except re.error as error:
        raise ValueError(f"topic {topic_id!r}: bad pattern {pattern!r}: {error}") from error


def _lowered(regex: re.Pattern[str]) -> re.Pattern[str] | None:
    try:
        return lowered(regex)
    except ValueError:
        return None


_START_AND_TOPIC = operator.itemgetter(0, 2)
"""`TopicHit` (start, topic), the order hits are given in."""


def _keep(spans: dict[tuple[str, int], int], topic: str, start: int, end: int) -> None:
    if spans.get((topic, start), -1) < end:
        spans[(topic, start)] = end


def _overlaps(start: int, end: int, excluded: Sequence[tuple[int, int]]) -> bool:
    # A loop, not `any` over a generator: no generator frame per call.
    for ex_start, ex_end in excluded:
        if ex_start < end and start < ex_end:
            return True
    return False
