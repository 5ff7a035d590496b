"""Finding reporting cues ("said", "ruled out", "according to") in a stretch of text.

The cue lexicon is dozens of patterns; trying them all at every position is
the slowest thing the extractor could do. Their first words are found in one
scan (see `literals`) and only the cues starting with that word are tried,
in lexicon order, so the most specific cue at a position still wins.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from sources.extraction.lexicon import CUES, CueKind
from sources.extraction.literals import LiteralScanner, compile_kept, literal_prefixes, lowered

_new = tuple.__new__
"""Builds a NamedTuple from a tuple of its fields, without the Python-level `__new__`
that calling the class goes through (a fifth of the cost of building one)."""


class CueMatch(NamedTuple):
    """One cue found in a text."""

    start: int
    end: int
    text: str
    kind: CueKind
    polarity: int | None


class CueFinder:
    """The cue lexicon, compiled once."""

    def __init__(self) -> None:
        """Compile every cue and index it by its first words."""
        entries: dict[str, list[int]] = {}
        self._regexes: list[re.Pattern[str]] = []
        self._unindexed: list[int] = []
        for number, (pattern, _, _) in enumerate(CUES):
            self._regexes.append(compile_kept(r"(?:" + pattern + r")(?!\w)", re.IGNORECASE))
            prefixes = literal_prefixes(pattern)
            if prefixes is None:
                self._unindexed.append(number)
                continue
            for prefix in prefixes:
                entries.setdefault(prefix, []).append(number)
        # For lower-cased text that `case_plain` allows: the same matches,
        # faster. A cue with a case-sensitive part runs over the text as written.
        self._plain: list[tuple[re.Pattern[str], bool]] = [
            _lowered_or(regex) for regex in self._regexes
        ]
        self._combined: tuple[dict[tuple[int, ...], _Combined], dict[tuple[int, ...], _Combined]]
        self._combined = ({}, {})
        self.literals: dict[str, tuple[int, ...]] = {k: tuple(v) for k, v in entries.items()}
        """Lower-case first words -> cue numbers, for a scanner shared with aliases and topics."""
        self._scanner: LiteralScanner[int] | None = None
        self._fallback = (
            compile_kept(
                "|".join(f"(?P<c{n}>{CUES[n][0]})" for n in self._unindexed) + r"(?!\w)",
                re.IGNORECASE,
            )
            if self._unindexed
            else None
        )

    def _combine(self, numbers: tuple[int, ...], plain: bool) -> _Combined:
        """One regex trying the cues in lexicon order: the first that matches wins.

        An alternation tries its branches in order and takes the first that
        matches, and nothing follows it, so group i matches exactly when the
        i-th cue is the first of them to match there, with the same end. One
        call instead of one per cue (a word like "was" starts six).
        """
        try:
            if plain:
                if not all(self._plain[n][1] for n in numbers):
                    return _NO_COMBINED
                sources = [self._plain[n][0].pattern for n in numbers]
                return compile_kept("|".join(f"({s})" for s in sources)), True
            sources = [self._regexes[n].pattern for n in numbers]
            return compile_kept("|".join(f"({s})" for s in sources), re.IGNORECASE), False
        except re.error:
            return _NO_COMBINED

    def find(
        self,
        text: str,
        low: str,
        start: int,
        end: int,
        found: Sequence[tuple[int, Sequence[int]]] | None = None,
        plain: bool = False,
        starts: Sequence[int] | None = None,
    ) -> Iterator[CueMatch]:
        """Cues in `text[start:end]`, left to right, not overlapping.

        Args:
            text: the whole text.
            low: the text lower-cased, same length.
            start: where to begin.
            end: where to stop.
            found: what a shared scan found: (position, cue numbers to try
                there, in lexicon order), covering at least `start:end`.
            plain: `case_plain(text)`, and `low` is `text.lower()`: the cues
                run lowered over `low`.
            starts: the positions of `found`, if the caller has them.

        Yields:
            Each cue with its kind and polarity.
        """
        if found is None:
            if self._scanner is None:
                self._scanner = LiteralScanner(self.literals)
            scanner = self._scanner
            found = [
                (position, tuple(sorted({number for _, number in scanner.at(longest)})))
                for position, longest in scanner.scan(low, start, end)
            ]
        matched: list[tuple[int, int, int]] = []
        regexes = self._regexes
        lowered_regexes = self._plain
        combined = self._combined[plain]
        first = (
            bisect.bisect_left(starts, start)
            if starts is not None
            else bisect.bisect_left(found, start, key=_position)
        )
        for index in range(first, len(found)):
            position, numbers = found[index]
            if position >= end:
                break
            if position and text[position - 1] in "’'" and text[position].isalpha():
                continue  # "Russia's", "don't": not a word of its own
            if len(numbers) > 1:
                key = tuple(numbers)
                tries = combined.get(key)
                if tries is None:
                    tries = combined[key] = self._combine(key, plain)
                if tries is not _NO_COMBINED:
                    regex, on_low = tries
                    match = regex.match(low if on_low else text, position, end)
                    if match is not None and match.lastindex is not None:
                        matched.append((position, match.end(), numbers[match.lastindex - 1]))
                    continue
            for number in numbers:
                if plain:
                    regex, on_low = lowered_regexes[number]
                    match = regex.match(low if on_low else text, position, end)
                else:
                    match = regexes[number].match(text, position, end)
                if match is not None:
                    matched.append((position, match.end(), number))
                    break
        if self._fallback is not None:
            for match in self._fallback.finditer(text, start, end):
                if match.lastgroup is not None:
                    matched.append((match.start(), match.end(), int(match.lastgroup[1:])))
        if self._fallback is not None:
            # Only the unindexed cues come out of order: the rest are found by position.
            matched.sort()
        taken_until = start
        for cue_start, cue_end, number in matched:
            if cue_start < taken_until:
                continue
            taken_until = cue_end
            _, kind, polarity = CUES[number]
            yield _new(CueMatch, (cue_start, cue_end, text[cue_start:cue_end], kind, polarity))


_Combined = tuple[re.Pattern[str], bool]
_NO_COMBINED: _Combined = (compile_kept(""), False)
"""The cues at a position cannot share one regex: they are tried one by one."""


def _position(item: tuple[int, Sequence[int]]) -> int:
    return item[0]


def _lowered_or(regex: re.Pattern[str]) -> tuple[re.Pattern[str], bool]:
    """The lowered regex and True, or the regex itself and False when it cannot be lowered."""
    try:
        return lowered(regex), True
    except ValueError:
        return regex, False


FINDER = CueFinder()
"""The one compiled cue lexicon, shared by every extractor."""
