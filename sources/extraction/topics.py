"""Finding topic words in text, minus the same words used in another sense.

Each topic compiles to one regex: its keywords as a trie (case-insensitive,
word-bounded) plus its patterns. Its exclude patterns are run only when the
topic matched at all, and a topic word inside an exclude match does not count
("peace prize", "trade truce", "UEFA sanctions").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sources.extraction.trie import trie_pattern
from sources.records import TopicSpec


@dataclass(frozen=True, slots=True)
class TopicHit:
    """One topic word or phrase found in a text."""

    start: int
    end: int
    topic: str
    words: str
    """The words as written in the text."""


@dataclass(frozen=True, slots=True)
class _Compiled:
    topic: str
    regex: re.Pattern[str]
    exclude: re.Pattern[str] | None


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
        compiled: list[_Compiled] = []
        for topic in topics:
            parts: list[str] = []
            keywords = [k.strip().lower() for k in topic.keywords if k.strip()]
            if keywords:
                parts.append(r"(?<!\w)(?:" + trie_pattern(sorted(set(keywords))) + r")(?!\w)")
            for pattern in topic.patterns:
                _check(topic.id, pattern)
                parts.append("(?:" + pattern + ")")
            if not parts:
                continue
            exclude = None
            if topic.exclude:
                for pattern in topic.exclude:
                    _check(topic.id, pattern)
                exclude = re.compile("|".join(f"(?:{p})" for p in topic.exclude), re.IGNORECASE)
            compiled.append(
                _Compiled(topic.id, re.compile("|".join(parts), re.IGNORECASE), exclude)
            )
        self._topics = tuple(compiled)
        self.ids = tuple(topic.id for topic in topics)

    def find(self, text: str) -> list[TopicHit]:
        """Every topic word in the text that is not used in an excluded sense.

        Args:
            text: the text to scan.

        Returns:
            Hits sorted by position; one position may carry several topics.
        """
        hits: list[TopicHit] = []
        for topic in self._topics:
            found = [m for m in topic.regex.finditer(text) if m.end() > m.start()]
            if not found:
                continue
            if topic.exclude is not None:
                spans = [m.span() for m in topic.exclude.finditer(text)]
                if spans:
                    found = [m for m in found if not _inside(m.span(), spans)]
            hits.extend(TopicHit(m.start(), m.end(), topic.topic, m.group()) for m in found)
        hits.sort(key=lambda hit: (hit.start, hit.topic))
        return hits


def _check(topic_id: str, pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"topic {topic_id!r}: bad pattern {pattern!r}: {error}") from error


def _inside(span: tuple[int, int], excluded: list[tuple[int, int]]) -> bool:
    start, end = span
    return any(ex_start < end and start < ex_end for ex_start, ex_end in excluded)
