"""Finding actors and their people in text: one compiled alias regex and role rules.

Every alias of every actor and person goes into one trie-built regex, so the
cost of a scan grows with the length of the text, not with the number of
aliases. The regex matches case-insensitively; aliases written in capitals
only ("US", "UN", "EU") are then checked against the exact text, so "us" and
"un" never count. Venues ("the Security Council") are in the same regex as
non-actors: being longer, they win over the "UN" inside them.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sources.extraction.lexicon import (
    DEMOTING_PREPOSITIONS,
    INSTITUTION_NOUNS,
    NON_SPEAKER_HEADS,
    ROLE_GROUPS,
    ROLE_NOUNS,
    SHIFTING_PREPOSITIONS,
)
from sources.extraction.literals import (
    LiteralScanner,
    case_plain,
    compile_kept,
    lower_same_length,
    lowered,
)
from sources.records import ActorSpec, PersonSpec

VENUES: tuple[str, ...] = (
    "Security Council",
    "UN Security Council",
    "U.N. Security Council",
    "United Nations Security Council",
    "UNSC",
    "General Assembly",
    "UN General Assembly",
    "U.N. General Assembly",
    "United Nations General Assembly",
    "UNGA",
    "Human Rights Council",
    "UN Human Rights Council",
    "UN ambassador",
    "U.N. ambassador",
    "UN envoy",
    "U.N. envoy",
    "UN representative",
    "UN mission",
    "UN delegation",
    "UN headquarters",
    "UN summit",
    "UN Charter",
    "ambassador to the UN",
    "ambassador to the U.N.",
    "ambassador to the United Nations",
    "envoy to the UN",
    "envoy to the U.N.",
    "envoy to the United Nations",
    "representative to the UN",
    "representative to the United Nations",
    "UN diplomats",
    "U.N. diplomats",
    "UN diplomat",
    "U.N. diplomat",
    "NATO summit",
    "Nato summit",
    "EU summit",
    "NATO ambassador",
    "EU ambassador",
    "NATO membership",
    "Nato membership",
    "NATO accession",
    "NATO troops",
    "Nato troops",
    "NATO forces",
    "NATO territory",
    "NATO allies' territory",
    "EU membership",
    "EU accession",
    "EU sanctions",
    "US sanctions",
    "U.S. sanctions",
    "UN peacekeepers",
    "UN peacekeeping",
    "U.N. peacekeepers",
    "White House Correspondents",
    "Trump Tower",
    "Washington Post",
    "New York",
    "Kyiv Independent",
    "Kyiv Post",
    "Moscow Times",
    "Paris Agreement",
    "Berlin Wall",
    "London School",
    "Turkish Stream",
    "TurkStream",
    "China Daily",
    "Chinese New Year",
    "Polish zloty",
    "French Foreign Legion",
    "Hungarian forint",
    "Russian rouble",
    "Russian ruble",
    "Ukrainian hryvnia",
    "Warsaw Pact",
    "Brussels Airlines",
    "Budapest Memorandum",
    "Minsk agreements",
    "American Enterprise Institute",
    "Voice of America",
    "Radio Free Europe",
    "America First",
    "Make America Great Again",
    "Chinese Communist Party",
)
"""Places and things named after an actor that are not the actor speaking.

"NATO membership" is a topic phrase, "the Security Council" a venue: matching
them as wholes keeps "NATO" and "UN" in them from counting as speakers.
"""

_AFTER_POSSESSIVE_ROLE = compile_kept(r"\s+" + INSTITUTION_NOUNS + r"\b", re.IGNORECASE)
_FOLLOWED_BY_ROLE = compile_kept(
    r"(?:[’']s)?\s+(?:(?-i:[A-Z])[\w.-]*\s+){0,2}?" + ROLE_NOUNS + r"\b", re.IGNORECASE
)
_ROLE_RIGHT_AFTER = compile_kept(r"(?:[’']s)?\s+" + ROLE_NOUNS + r"\b", re.IGNORECASE)
_ROLE_RIGHT_AFTER_LOW = lowered(_ROLE_RIGHT_AFTER)
_CAPITAL_AFTER = compile_kept(r"(?:[’']s)?\s+(?-i:[A-Z])", re.IGNORECASE)
"""`_FOLLOWED_BY_ROLE` tries its role noun right after the name first: where
`_ROLE_RIGHT_AFTER` matches, it finds that same match (the possessive and the spaces
after the name can be read only one way before a letter). Otherwise it can match only
where a capitalised word follows, where `_CAPITAL_AFTER` matches. The role regex as
written cannot be lowered (its capitals are case-sensitive), this first part can."""
_LEADING_POSSESSIVE = compile_kept(r"^[’']s")
_FOLLOWED_BY_NON_SPEAKER = compile_kept(
    r"\s+(?:[\w-]+\s+)?" + NON_SPEAKER_HEADS + r"\b", re.IGNORECASE
)
_DEMOTED_BODY = (
    DEMOTING_PREPOSITIONS + r"\s+(?:the\s+|a\s+|an\s+)?"
    r"(?:(?:[A-Z][\w’'.-]*|of|the|and|de|von|der|\w+[’']s)\s+){0,4}"
)
_DEMOTED_BEFORE = compile_kept(r"(?:^|\W)" + _DEMOTED_BODY + "$")
"""A preposition, then up to four name words, ending the text: the regex as read;
`find` runs `_DEMOTED_BEFORE_BACKWARDS`, tested to find the same."""
_DATELINE_AFTER = compile_kept(
    r",?\s*(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2}\s*)?(?:\([^()\n]{1,40}\))?\s*[-–—]"
)
_OF_BODY = r"\s+(?:of|in)\s+(?:the\s+)?(?:(?:[A-Z][\w’'.-]*|and)\s+){0,3}"
_OF_BEFORE = compile_kept(r"(?<![\w’'])(?P<head>[\w-]+)" + _OF_BODY + "$")
_ROLE_HEAD = compile_kept(ROLE_NOUNS + r"$", re.IGNORECASE)
_FOLLOWED_BY_NON_SPEAKER_LOW = lowered(_FOLLOWED_BY_NON_SPEAKER)
_ROLE_OR_NON_SPEAKER_LOW = compile_kept(
    _ROLE_RIGHT_AFTER_LOW.pattern
    + r"|(?P<non_speaker>(?:[’']s)?"
    + _FOLLOWED_BY_NON_SPEAKER_LOW.pattern
    + ")"
)
"""`_ROLE_RIGHT_AFTER_LOW`, else `_FOLLOWED_BY_NON_SPEAKER_LOW` after the possessive "'s"
(where `find` starts it): one call for both on the lower-cased text."""
_SHIFTED_BODY = SHIFTING_PREPOSITIONS + r"\s+(?:(?:[A-Z][\w’'.-]*)\s+){0,3}"
_SHIFTED_BEFORE = compile_kept(r"\b" + _SHIFTED_BODY + "$", re.IGNORECASE)
"""`_OF_BEFORE` and this one as read; `find` runs their `_BACKWARDS` forms."""


def backwards(pattern: str) -> str:
    r"""A regex for the same strings spelled backwards.

    The three regexes above that end at the end of the text (`$`) are run
    backwards over the reversed text by `AliasIndex.find`, anchored where the
    name starts: the regex engine then reads only the few words the match can
    span, where a forward search tries every word of the window. A match
    exists exactly when the forward regex has one, since the strings matched
    are the same read backwards.

    Args:
        pattern: a sequence of characters, escapes (`\s`, `\.`), character
            classes and non-capturing groups with alternatives, each
            optionally quantified (`?`, `*`, `+`, `{m,n}`, lazy or not).

    Returns:
        The reversed pattern: each sequence in reverse order, groups reversed inside.

    Raises:
        ValueError: the pattern holds anything else (anchors, captures, lookarounds).
    """
    reversed_pattern, at = _backwards_alternatives(pattern, 0)
    if at != len(pattern):
        raise ValueError(f"unbalanced ')' in {pattern!r}")
    return reversed_pattern


_QUANTIFIER = compile_kept(r"(?:[?*+]|\{\d*(?:,\d*)?\})\??")
_CLASS = compile_kept(r"\[\^?\]?(?:\\.|[^\]\\])*\]")


def _backwards_alternatives(pattern: str, at: int) -> tuple[str, int]:
    """Reverse the alternatives from `at` to the end or an unmatched ")"."""
    alternatives: list[str] = []
    atoms: list[str] = []
    while True:
        if at == len(pattern) or pattern[at] == ")":
            alternatives.append("".join(reversed(atoms)))
            return "|".join(alternatives), at
        char = pattern[at]
        if char == "|":
            alternatives.append("".join(reversed(atoms)))
            atoms = []
            at += 1
            continue
        if pattern.startswith("(?:", at):
            inner, at = _backwards_alternatives(pattern, at + 3)
            if at == len(pattern):
                raise ValueError(f"unclosed group in {pattern!r}")
            atom, at = "(?:" + inner + ")", at + 1
        elif char == "[":
            found = _CLASS.match(pattern, at)
            if found is None:
                raise ValueError(f"unclosed class in {pattern!r}")
            atom, at = found.group(), found.end()
        elif char == "\\":
            atom, at = pattern[at : at + 2], at + 2
            if not re.fullmatch(r"\\[sSwWdD.\\\-'’\[\](){}|?*+^$ ]", atom):
                raise ValueError(f"cannot reverse {atom!r}")
        elif char in "()^$?*+{}":
            raise ValueError(f"cannot reverse {pattern[at:]!r}")
        else:
            atom, at = char, at + 1
        quantifier = _QUANTIFIER.match(pattern, at)
        if quantifier is not None:
            atom, at = atom + quantifier.group(), quantifier.end()
        atoms.append(atom)


_DEMOTED_BEFORE_BACKWARDS = compile_kept(r"\n?" + backwards(_DEMOTED_BODY) + r"(?:\W|\Z)")
r"""`_DEMOTED_BEFORE` backwards: `\n?` is its `$` (which also matches before a final line
break), `(?:\W|\Z)` its `(?:^|\W)`, the window's start being where the reversed text ends."""
_OF_BEFORE_BACKWARDS = compile_kept(r"\n?" + backwards(_OF_BODY) + r"(?P<head>[\w-]+)(?![\w’'])")
"""`_OF_BEFORE` backwards. At most one "of" or "in" can have only names after it, and the
greedy head, backwards, is the longest that passes the lookaround: the leftmost head
`search` finds, spelled backwards."""
_SHIFTED_BEFORE_BACKWARDS = compile_kept(r"\n?" + backwards(_SHIFTED_BODY) + r"\b", re.IGNORECASE)
r"""`_SHIFTED_BEFORE` backwards; `\b` sees the same two characters either way."""


_new = tuple.__new__
"""Builds a NamedTuple from a tuple of its fields, without the Python-level `__new__`
that calling the class goes through (a fifth of the cost of building one)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """What one alias names."""

    actor: str
    """Actor id, or "" for a venue or a thing named after an actor."""
    person: PersonSpec | None
    exact: str | None
    """For all-capitals aliases: the only spelling that counts."""


class Mention(NamedTuple):
    """An actor, person or venue named in a text."""

    start: int
    end: int
    """End of the name itself, before any possessive "'s"."""
    text: str
    actor: str
    person: PersonSpec | None
    possessive: bool
    demoted: bool
    """Object of a preposition ("the US ambassador to Russia"): never the speaker."""
    office: bool
    """Names an office, not the person: "Putin's administration", "an aide to Putin"."""
    role: str
    """Role noun right after the mention ("the Ukrainian leader"), lower case, else ""."""
    non_speaker: bool
    """A demonym before media, troops, drones: not the state speaking."""


def fold(text: str) -> str:
    """Strip accents and unify apostrophes, so "Orbán" and "Orban" are one key.

    Args:
        text: any string.

    Returns:
        The string lower-cased, without combining marks, with ’ as '.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.replace("’", "'").replace("‘", "'").lower()


def _is_acronym(alias: str) -> bool:
    letters = [c for c in alias if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters) and len(letters) <= 6


def _surname(person: PersonSpec) -> str | None:
    """A person's last name, added as an alias when they have no one-word alias."""
    if any(" " not in alias.strip() for alias in person.aliases):
        return None
    parts = person.name.split()
    if len(parts) < 2:
        return None
    last = parts[-1]
    if len(last) < 4 or not last[0].isupper():
        return None
    return last


class AliasIndex:
    """All aliases of all actors, compiled once into one regex."""

    def __init__(self, actors: Sequence[ActorSpec]) -> None:
        """Compile the alias regex.

        Args:
            actors: the configured actors with their aliases and people. On a
                clash the first actor (in config order) keeps the alias, and a
                person's alias wins over an actor's.
        """
        table: dict[str, Entry] = {}

        def add(alias: str, entry: Entry, *, override: bool = False) -> None:
            alias = alias.strip()
            if not alias:
                return
            for form in {
                alias,
                fold(alias),
                alias.replace("'", "’"),
                fold(alias).replace("'", "’"),
            }:
                key = form.lower()
                if key in table and not override:
                    continue
                table[key] = entry

        surnames: dict[str, list[tuple[str, PersonSpec, str]]] = {}
        for actor in actors:
            for alias in (actor.name, *actor.aliases):
                add(alias, Entry(actor.id, None, alias if _is_acronym(alias) else None))
        for actor in actors:
            for person in actor.people:
                for alias in (person.name, *person.aliases):
                    add(alias, Entry(actor.id, person, None), override=True)
                surname = _surname(person)
                if surname is not None:
                    surnames.setdefault(fold(surname), []).append((actor.id, person, surname))
        for key, owners in surnames.items():
            # A surname two people share names neither.
            if len(owners) == 1 and key not in table:
                actor_id, person, surname = owners[0]
                add(surname, Entry(actor_id, person, None))
        for venue in VENUES:
            add(venue, Entry("", None, venue if _is_acronym(venue) else None), override=True)
        self._table = table
        self.people: tuple[tuple[str, PersonSpec], ...] = tuple(
            (actor.id, person) for actor in actors for person in actor.people
        )
        self.literals: dict[str, tuple[Entry, ...]] = {
            key: (entry,) for key, entry in table.items()
        }
        """Lower-case alias -> what it names, for a scanner shared with topics and cues."""
        self._scanner: LiteralScanner[Entry] | None = None

    def entry(self, matched: str) -> Entry | None:
        """What a matched alias names, or None when its case rules it out."""
        entry = self._table.get(matched.lower())
        if entry is None:
            entry = self._table.get(fold(matched))
        if entry is None:
            return None
        if (
            entry.exact is not None
            and matched != entry.exact
            and matched.replace("’", "'") != entry.exact
        ):
            return None
        return entry

    def actors(
        self,
        text: str,
        low: str,
        found: Sequence[tuple[int, Sequence[tuple[str, Entry]]]],
    ) -> set[str]:
        """The actors `find` would name, without what it works out about each mention.

        The same choice of alias at each position as `find` (longest first,
        whole words, capitals where the alias is an acronym, no overlaps),
        and none of the regexes that decide whether a mention can speak:
        tagging an item needs only who is named.

        Args:
            text: the text.
            low: `lower_same_length(text)`.
            found: the aliases a shared scan found, as `find` takes them.

        Returns:
            `{m.actor for m in find(text, low, found) if m.actor}`.
        """
        actors: set[str] = set()
        size = len(low)
        taken_until = 0
        for start, chain in found:
            if start < taken_until:
                continue
            for key, entry in chain:
                end = start + len(key)
                if end < size and (low[end].isalnum() or low[end] == "_"):
                    continue
                if entry.exact is not None and text[start:end].replace("’", "'") != entry.exact:
                    continue
                taken_until = end
                if entry.actor:
                    actors.add(entry.actor)
                break
        return actors

    def find(
        self,
        text: str,
        low: str | None = None,
        found: Sequence[tuple[int, Sequence[tuple[str, Entry]]]] | None = None,
        plain: bool | None = None,
    ) -> list[Mention]:
        """Every actor, person and venue named in the text, in order.

        Args:
            text: the text to scan.
            low: `lower_same_length(text)`, if the caller has it already.
            found: the aliases a shared scan found: (position, aliases
                starting there, longest first); scanned here when None.
            plain: `case_plain(text)`, if the caller has it already.

        Returns:
            Mentions, including venues (actor "") so callers can tell an
            actor's name inside "the UN Security Council" from the actor.
        """
        if low is None:
            low = lower_same_length(text)
        if plain is None:
            plain = case_plain(text)
        mentions: list[Mention] = []
        previous_end = 0
        previous_demoted = False
        if found is None:
            if self._scanner is None:
                self._scanner = LiteralScanner(self.literals)
            scanner = self._scanner
            found = [(start, scanner.at(longest)) for start, longest in scanner.scan(low)]
        size = len(low)
        # The regexes for the words before a name run backwards from the name's start
        # (see `backwards`): position `start` of the text is `size - start` here.
        backwards_text = text[::-1]
        taken_until = 0
        for start, chain in found:
            if start < taken_until:
                continue
            for key, entry in chain:
                end = start + len(key)
                # `\w` is exactly `isalnum()` or "_" (checked over every code point).
                if end < size and (low[end].isalnum() or low[end] == "_"):
                    continue
                if entry.exact is not None and text[start:end].replace("’", "'") != entry.exact:
                    continue
                break
            else:
                continue
            taken_until = end
            after = text[end : end + 2]
            possessive = after in ("'s", "’s", "'S", "’S") or (
                low[end - 1] == "s" and after[:1] in ("'", "’") and not after[1:].isalnum()
            )
            tail_start = end + 2 if possessive and after[1:2] in "sS" else end
            # The words between the previous name and this one decide whether this
            # one is an object ("the envoy to Russia"); words before the previous
            # name belong to that one ("ambassador to the UN Vasily Nebenzya").
            # Backwards, that window runs from `before` to `window_end`.
            before = size - start
            window_end = size - previous_end if previous_end > start - 60 else before + 60
            # "the envoy for Ukraine and Russia": a name joined by "and" to an
            # object is one too.
            joined_to_object = previous_demoted and text[previous_end:start] in (" and ", " & ")
            previous_end = end
            demoted = (
                joined_to_object
                or _DEMOTED_BEFORE_BACKWARDS.match(backwards_text, before, window_end) is not None
                or (
                    # A dateline: "WASHINGTON (Reuters) -", "Kyiv, May 3 (AP) —".
                    (start == 0 or text[start - 1] == "\n")
                    and bool(_DATELINE_AFTER.match(text, end))
                )
            )
            if not demoted:
                # "the capital of Kiev" is an object; "the President of Ukraine" speaks.
                of_match = _OF_BEFORE_BACKWARDS.match(backwards_text, before, window_end)
                if of_match is not None:
                    head_start, head_end = of_match.span("head")
                    demoted = not _ROLE_HEAD.search(text, size - head_end, size - head_start)
            office = False
            role = ""
            non_speaker = False
            if entry.person is not None:
                if possessive and _AFTER_POSSESSIVE_ROLE.match(text, tail_start):
                    office = True
                elif _SHIFTED_BEFORE_BACKWARDS.match(backwards_text, before, window_end):
                    office, demoted = True, False
            elif entry.actor:
                if plain:
                    after_name = _ROLE_OR_NON_SPEAKER_LOW.match(low, end)
                    follow = after_name if after_name and after_name.lastgroup is None else None
                else:
                    after_name = None
                    follow = _ROLE_RIGHT_AFTER.match(text, end)
                if follow is None and _CAPITAL_AFTER.match(text, end):
                    follow = _FOLLOWED_BY_ROLE.match(text, end)
                if follow is not None:
                    # From the text as written: `_LEADING_POSSESSIVE` keeps an "'S".
                    role = _LEADING_POSSESSIVE.sub("", text[end : follow.end()]).strip().lower()
                elif (
                    after_name is not None
                    if plain
                    else _FOLLOWED_BY_NON_SPEAKER.match(text, tail_start)
                ):
                    non_speaker = True
            previous_demoted = demoted
            mentions.append(
                _new(
                    Mention,
                    (
                        start,
                        end,
                        text[start:end],
                        entry.actor,
                        entry.person,
                        possessive,
                        demoted,
                        office,
                        role,
                        non_speaker,
                    ),
                )
            )
        return mentions


@functools.lru_cache(maxsize=4096)
def role_groups(role: str) -> frozenset[str]:
    """The office groups a role string belongs to ("UN ambassador" -> {"envoy"}).

    Args:
        role: a role as configured or as written ("the Ukrainian leader").

    Returns:
        Group names from `ROLE_GROUPS`; empty when none applies.
    """
    lowered = role.lower()
    return frozenset(
        group
        for group, words in ROLE_GROUPS.items()
        if any(re.search(r"\b" + re.escape(word) + r"\b", lowered) for word in words)
    )
