"""Finding reporting cues ("said", "ruled out", "according to") in a stretch of text.

The cue lexicon is dozens of patterns; trying them all at every position is
the slowest thing the extractor could do. Their first words are found in one
scan (see `literals`) and only the cues starting with that word are tried,
in lexicon order, so the most specific cue at a position still wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from sources.extraction.lexicon import CUES, CueKind
from sources.extraction.literals import LiteralScanner, literal_prefixes


@dataclass(frozen=True, slots=True)
class CueMatch:
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
            self._regexes.append(re.compile(r"(?:" + pattern + r")(?!\w)", re.IGNORECASE))
            prefixes = literal_prefixes(pattern)
            if prefixes is None:
                self._unindexed.append(number)
                continue
            for prefix in prefixes:
                entries.setdefault(prefix, []).append(number)
        self._scanner: LiteralScanner[int] = LiteralScanner(entries)
        # Cues to try where each literal is found, in lexicon order.
        self._order = {
            key: tuple(sorted({number for _, number in self._scanner.at(key)})) for key in entries
        }
        self._fallback = (
            re.compile(
                "|".join(f"(?P<c{n}>{CUES[n][0]})" for n in self._unindexed) + r"(?!\w)",
                re.IGNORECASE,
            )
            if self._unindexed
            else None
        )

    def find(self, text: str, low: str, start: int, end: int) -> Iterator[CueMatch]:
        """Cues in `text[start:end]`, left to right, not overlapping.

        Args:
            text: the whole text.
            low: the text lower-cased, same length.
            start: where to begin.
            end: where to stop.

        Yields:
            Each cue with its kind and polarity.
        """
        found: list[tuple[int, int, int]] = []
        for position, longest in self._scanner.scan(low, start, end):
            if position and text[position - 1] in "’'" and text[position].isalpha():
                continue  # "Russia's", "don't": not a word of its own
            for number in self._order.get(longest, ()):
                match = self._regexes[number].match(text, position, end)
                if match is not None:
                    found.append((position, match.end(), number))
                    break
        if self._fallback is not None:
            for match in self._fallback.finditer(text, start, end):
                if match.lastgroup is not None:
                    found.append((match.start(), match.end(), int(match.lastgroup[1:])))
        found.sort()
        taken_until = start
        for cue_start, cue_end, number in found:
            if cue_start < taken_until:
                continue
            taken_until = cue_end
            _, kind, polarity = CUES[number]
            yield CueMatch(cue_start, cue_end, text[cue_start:cue_end], kind, polarity)


FINDER = CueFinder()
"""The one compiled cue lexicon, shared by every extractor."""
