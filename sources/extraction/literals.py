"""Literal prefixes of regexes, and one scan that finds them all.

Python's regex engine tries every alternative of a pattern at every position
of the text, so twenty topic patterns cost twenty passes. Most patterns start
with one of a few words ("send", "deploy", "troops"); those words are found
in one pass of a trie regex over the lower-cased text, and each pattern is
then only tried with `match` where one of its first words occurs. A pattern
whose first words cannot be told (it starts with `\\w+` or a character class)
is simply run over the whole text, so any valid regex still works.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from sources.extraction import pattern_cache
from sources.extraction.trie import trie_pattern

try:  # The parser is private API; without it every pattern runs in full.
    from re import _constants as _c  # type: ignore[attr-defined]
    from re import _parser as _p  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - other Pythons
    _p = None
    _c = None

T = TypeVar("T")

_WORD_CHAR = re.compile(r"\w")
_MAX_PREFIXES = 300
_MAX_PREFIX_LEN = 12
_MIN_PREFIX_LEN = 2


_KEPT: dict[tuple[str, int], re.Pattern[str]] = {}


def compile_kept(source: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile`, with the result kept for the life of the process.

    An extractor is built from hundreds of patterns, some of them thousands
    of characters long, and compiling them is most of the cost of building
    one. `re`'s own cache holds 512 patterns and drops the oldest, so a
    second build, which compiles them in the same order, would find none;
    this one keeps every pattern. Processes forked after a build (the parse
    workers) inherit it, and a new process finds the compiled code in
    `pattern_cache`.

    Args:
        source: the pattern.
        flags: `re` flags.

    Returns:
        The compiled pattern.

    Raises:
        re.error: the pattern is not valid (an error is not kept).
    """
    key = (source, flags)
    regex = _KEPT.get(key)
    if regex is None:
        regex = _KEPT[key] = pattern_cache.compiled(source, flags)
    return regex


@functools.cache
def literal_prefixes(pattern: str, flags: int = re.IGNORECASE) -> tuple[str, ...] | None:
    """Lower-cased strings one of which every match of `pattern` starts with.

    Zero-width assertions at the start (`\\b`, lookarounds) are skipped, so a
    match begins exactly where its prefix does.

    Args:
        pattern: a regular expression.
        flags: the flags it is compiled with.

    Returns:
        The prefixes (none a prefix of another), or None when some match
        could start with something not literal or shorter than two characters.
    """
    return pattern_cache.remembered(
        "prefixes", pattern, flags, lambda: _literal_prefixes(pattern, flags)
    )


def _literal_prefixes(pattern: str, flags: int) -> tuple[str, ...] | None:
    if _p is None:
        return None
    try:
        parsed = _p.parse(pattern, flags)
    except (re.error, RecursionError, TypeError, ValueError):
        return None
    try:
        options = _sequence(list(parsed))
    except (RecursionError, _Unbounded):
        return None
    if options is None:
        return None
    strings = {text for text, _ in options}
    if not strings or min(len(s) for s in strings) < _MIN_PREFIX_LEN:
        return None
    # Keep only the shortest of strings that share a prefix: "send" covers "sending".
    kept: list[str] = []
    for text in sorted(strings, key=len):
        if not any(text.startswith(k) for k in kept):
            kept.append(text)
    return tuple(sorted(kept))


class _Unbounded(Exception):
    """A pattern's start cannot be reduced to literals."""


def _sequence(items: Sequence[tuple[Any, Any]]) -> list[tuple[str, bool]] | None:
    # Each option is (text, complete): complete means everything so far was
    # literal, so the next element may extend it.
    results: list[tuple[str, bool]] = [("", True)]
    for op, av in items:
        if op is _c.AT or op is _c.ASSERT or op is _c.ASSERT_NOT:
            if any(text for text, _ in results):
                # A zero-width test after the first literal: stop extending here.
                return [(text, False) for text, _ in results]
            continue
        element = _element(op, av)
        if element is None:
            return [(text, False) for text, _ in results]
        extended: list[tuple[str, bool]] = []
        for text, complete in results:
            if not complete:
                extended.append((text, False))
                continue
            for more, more_complete in element:
                extended.append((text + more, more_complete))
        if len(extended) > _MAX_PREFIXES:
            return [(text, False) for text, _ in results]
        results = extended
        if all(not complete for _, complete in results):
            break
        if min(len(text) for text, _ in results) >= _MAX_PREFIX_LEN:
            return [(text, False) for text, _ in results]
    return results


def _element(op: Any, av: Any) -> list[tuple[str, bool]] | None:
    if op is _c.LITERAL:
        return [(chr(av).lower(), True)]
    if op is _c.SUBPATTERN:
        return _sequence(list(av[-1]))
    if op is _c.BRANCH:
        options: list[tuple[str, bool]] = []
        for branch in av[1]:
            found = _sequence(list(branch))
            if found is None:
                return None
            options.extend(found)
        return options
    if op is _c.IN:
        chars: list[str] = []
        for inner_op, inner_av in av:
            if inner_op is _c.LITERAL:
                chars.append(chr(inner_av).lower())
            else:
                return None
        if not chars or len(chars) > 6:
            return None
        return [(c, True) for c in dict.fromkeys(chars)]
    if op is _c.MAX_REPEAT or op is _c.MIN_REPEAT:
        low, high, sub = av
        inner = _sequence(list(sub))
        if inner is None:
            return None
        repeated = [(text, complete and high == 1) for text, complete in inner]
        if low == 0:
            return [("", True), *repeated]
        if low > 1:
            repeated = [(text, False) for text, _ in repeated]
        return repeated
    return None


def needed_strings(regex: re.Pattern[str]) -> tuple[str, ...] | None:
    """Strings one of which the text holds wherever the case-sensitive `regex` matches.

    A few `in` tests cost a fraction of a regex pass over a claim, and when
    none of these strings is in it the regex cannot match. Only characters a
    match consumes count (not lookarounds), and only literals, so the strings
    are exactly in the text.

    Args:
        regex: a regex compiled without `re.IGNORECASE`.

    Returns:
        The strings (none holding another), or None when a match could hold none
        of them that can be told.
    """
    if _p is None or regex.flags & re.IGNORECASE:
        return None
    return pattern_cache.remembered(
        "needed", regex.pattern, regex.flags, lambda: _needed_strings(regex.pattern, regex.flags)
    )


def _needed_strings(pattern: str, flags: int) -> tuple[str, ...] | None:
    try:
        found = _needed_in(list(_p.parse(pattern, flags)))
    except (re.error, RecursionError):
        return None
    if not found:
        return None
    kept: list[str] = []
    for text in sorted(found, key=len):
        if not any(k in text for k in kept):
            kept.append(text)
    return tuple(sorted(kept))


def _needed_in(items: list[tuple[Any, Any]]) -> set[str] | None:
    # Each literal run of a sequence, or each part every match goes through,
    # is a candidate. Each string is one `in` test and a short one is in many
    # claims: the best has the fewest strings, all of four characters or more
    # if some candidate has (",\s*(?:but|and|yet)": the comma).
    candidates: list[set[str]] = []
    run = ""
    for op, av in items:
        if op is _c.LITERAL:
            run += chr(av)
            continue
        if run:
            candidates.append({run})
            run = ""
        inner: set[str] | None = None
        if op is _c.SUBPATTERN:
            inner = _needed_in(list(av[-1]))
        elif op is _c.BRANCH:
            inner = set()
            for branch in av[1]:
                found = _needed_in(list(branch))
                if found is None:
                    inner = None
                    break
                inner |= found
        elif op is _c.IN and all(inner_op is _c.LITERAL for inner_op, _ in av):
            inner = {chr(char) for _, char in av}  # `[;:]`, and `;|:` as the parser keeps it
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT) and av[0] >= 1:
            inner = _needed_in(list(av[2]))
        if inner:
            candidates.append(inner)
    if run:
        candidates.append({run})
    if not candidates:
        return None
    return max(candidates, key=_selectiveness)


def _selectiveness(strings: set[str]) -> tuple[bool, int, int]:
    shortest = min(len(t) for t in strings)
    return (shortest >= 4, -len(strings), shortest)


class LiteralScanner(Generic[T]):
    """Finds, in one pass, every place where one of many literals starts.

    Literals are matched on the lower-cased text at word starts (and at
    non-word characters, for prefixes like "'s"); the caller checks word
    boundaries and runs the full pattern where needed.
    """

    def __init__(self, entries: Mapping[str, Sequence[T]]) -> None:
        """Compile the literals into one trie regex.

        Args:
            entries: lower-case literal -> what it stands for (several may share one).
        """
        self._entries = {key: tuple(value) for key, value in entries.items() if key}
        # The trie regex only ever reports a whole literal, so every literal
        # that starts at the same place is a prefix of it: listed once, here.
        chains: dict[str, tuple[tuple[str, T], ...]] = {}
        for key in self._entries:
            chain: list[tuple[str, T]] = []
            for length in range(len(key), 0, -1):
                values = self._entries.get(key[:length])
                if values is not None:
                    chain.extend((key[:length], value) for value in values)
            chains[key] = tuple(chain)
        self._chains = chains
        # The scan consumes the non-word character before each word and looks
        # ahead for the longest literal there: starting with a character class
        # lets the regex engine skip through the text in C, and the lookahead
        # reports overlapping literals (every word start is tried).
        word_keys = sorted(k for k in self._entries if _WORD_CHAR.match(k))
        other_keys = sorted(k for k in self._entries if not _WORD_CHAR.match(k))
        word_body = _trie_of(tuple(word_keys))
        self._regex = compile_kept(
            _non_word_class() + "(?=(" + word_body + "))" + _NOT_AFTER_ASTRAL_WORD
        )
        # An ASCII text needs no test for characters past the BMP.
        self._regex_ascii = compile_kept(_ASCII_NON_WORD + "(?=(" + word_body + "))")
        self._longest_word_key = max(map(len, word_keys), default=0)
        # The other literals ("'s", "’s"), one regex per first character: a
        # regex starting with a literal character skips through the text in a
        # tight loop, one starting with a choice tests each character against
        # a set. A text without that character needs no pass (`in` looks at
        # memchr speed). The passes find what one regex for all would: two
        # matches from different passes cannot overlap, as no literal holds
        # another's first character after its own first.
        firsts = sorted({key[0] for key in other_keys})
        if any(char in firsts for key in other_keys for char in key[1:] if char != key[0]):
            groups = [(tuple(firsts), other_keys)]
        else:
            groups = [((first,), [k for k in other_keys if k[0] == first]) for first in firsts]
        self._others = tuple(
            (group_firsts, compile_kept("(" + _trie_of(tuple(keys)) + ")"))
            for group_firsts, keys in groups
        )

    def _literal_at_start(self, low: str, stop: int) -> str:
        """The longest literal starting the text and ending by `stop`, or ""."""
        # The scan regex reads the character before a word: a space stands in
        # for it, so the same compiled trie serves (a regex of its own for this
        # one position cost a fifth of building a scanner). Cut past the
        # longest literal, the copy is a few characters.
        match = self._regex_ascii.match(" " + low[: min(stop, self._longest_word_key)])
        return match.group(1) if match is not None else ""

    def _regex_for(self, low: str) -> re.Pattern[str]:
        # `isascii` reads a flag of the string: no pass over it.
        return self._regex_ascii if low.isascii() else self._regex

    def scan(self, low: str, start: int = 0, end: int | None = None) -> list[tuple[int, str]]:
        """Each start position in `low[start:end]` and the longest literal there.

        Args:
            low: lower-cased text.
            start: where to begin; a literal must start at a word start at or after it.
            end: where to stop; literals must end by it.

        Returns:
            (position, longest literal) pairs, in order.
        """
        stop = len(low) if end is None else end
        found: list[tuple[int, str]] = []
        if start == 0:
            first = self._literal_at_start(low, stop)
            if first:
                found.append((0, first))
        if start == 0 and stop == len(low):
            # The whole text (the common case): every literal found is in range.
            found.extend([(m.start() + 1, m.group(1)) for m in self._regex_for(low).finditer(low)])
        else:
            for match in self._regex_for(low).finditer(low, max(start - 1, 0), stop):
                literal = match.group(1)
                position = match.start() + 1
                if position >= start and position + len(literal) <= stop:
                    found.append((position, literal))
        other = False
        for firsts, regex in self._others:
            if any(first in low for first in firsts):
                found.extend((m.start(), m.group(1)) for m in regex.finditer(low, start, stop))
                other = True
        if other:
            found.sort()
        return found

    def scan_split(
        self, low: str, table: Mapping[str, tuple[Any, Any, Any]]
    ) -> tuple[list[tuple[int, Any]], list[tuple[int, Any]], list[tuple[int, Any]]]:
        """`scan` over the whole of `low`, each literal looked up in `table` and split three ways.

        The same as looping over `scan(low)` and appending `(position, part)`
        to the i-th list for each non-empty i-th part of `table[literal]`, in
        one loop over the regex's matches: a shared scan finds about fifty
        literals in an item, and a second loop over them cost a fifth as much
        as the scan itself.

        Args:
            low: lower-cased text.
            table: every literal of the scanner -> three parts (empty ones are skipped).

        Returns:
            Three lists of (position, part), each in order of position.
        """
        first: list[tuple[int, Any]] = []
        second: list[tuple[int, Any]] = []
        third: list[tuple[int, Any]] = []
        found: list[tuple[int, str]] = []
        at_start = self._literal_at_start(low, len(low))
        if at_start:
            found.append((0, at_start))
        for firsts, regex in self._others:
            if any(first in low for first in firsts):
                found.extend((m.start(), m.group(1)) for m in regex.finditer(low))
        for position, literal in found:
            a, b, c = table[literal]
            if a:
                first.append((position, a))
            if b:
                second.append((position, b))
            if c:
                third.append((position, c))
        # `split` rather than `finditer`: no match object per literal, and no
        # method calls on one. The pieces alternate: the text up to a match,
        # then the literal it looked ahead at; each match consumed exactly one
        # character, the one before its literal, so positions add up.
        pieces = self._regex_for(low).split(low)
        position = 0
        for index in range(1, len(pieces), 2):
            position += len(pieces[index - 1]) + 1
            a, b, c = table[pieces[index]]
            if a:
                first.append((position, a))
            if b:
                second.append((position, b))
            if c:
                third.append((position, c))
        if len(found) > 1 or found and found[0][0] != 0:
            # Literals that start with a non-word character ("'s") fall among
            # the others; every position holds one literal, so no ties.
            first.sort(key=_position)
            second.sort(key=_position)
            third.sort(key=_position)
        return first, second, third

    def at(self, longest: str) -> tuple[tuple[str, T], ...]:
        """Every literal that starts where `longest` was found, longest first."""
        return self._chains.get(longest, ())


@functools.cache
def _trie_of(keys: tuple[str, ...]) -> str:
    return trie_pattern(keys)


_ASCII_NON_WORD = "[^0-9A-Z_a-z]"
"""`\\W` on ASCII text. A set of listed characters is a bitmap the regex engine
tests in a few instructions; `\\W` asks the Unicode database for every character."""

_NOT_AFTER_ASTRAL_WORD = r"(?<!(?=[\U00010000-\U0010ffff])\w)"
"""After `_non_word_class()` and a lookahead: the character passed is not a word
character beyond the BMP. Tried only where the lookahead found a literal."""


@functools.cache
def _non_word_class() -> str:
    """A set that is `\\W` in the BMP and takes every character past it.

    The regex engine looks a BMP character up in a bitmap (`\\W` asks the
    Unicode database for each one, a third of a scan's work); beyond the BMP
    a set is a list of ranges, so all are taken and `_NOT_AFTER_ASTRAL_WORD`
    drops the word characters among them. Together: exactly `\\W`.
    """
    # Runs of non-word characters, found in one pass over every BMP character.
    bmp = "".join(map(chr, range(0x10000)))
    ranges = [f"\\u{m.start():04x}-\\u{m.end() - 1:04x}" for m in re.finditer(r"\W+", bmp)]
    return "[" + "".join(ranges) + "\\U00010000-\\U0010ffff]"


def _position(item: tuple[int, Any]) -> int:
    return item[0]


def lower_same_length(text: str) -> str:
    """`text.lower()`, keeping every character's position.

    A few characters lower-case to two ("İ" -> "i̇"); they are kept as they are
    so offsets in the lower-cased text stay valid in the original.

    Args:
        text: any string.

    Returns:
        A lower-cased string of the same length.
    """
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


ODD_CASE = re.compile("[\u0130\u0131\u017f]")
"""İ, ı and ſ: the only characters IGNORECASE matches to an ASCII letter that is not
their lower case ("i", "i" and "s"). For every other character, a case-insensitive
ASCII letter matches it exactly when its lower case is that letter; `str.lower`
keeps each of them one character and keeps whether it is a word, space or digit
character (checked over every code point in `tests/test_extraction_parts.py`)."""


def case_plain(text: str) -> bool:
    """Whether `lowered(regex)` on `text.lower()` finds exactly what `regex` finds on `text`.

    Args:
        text: any string.

    Returns:
        True unless the text holds one of the `ODD_CASE` characters.
    """
    return text.isascii() or ODD_CASE.search(text) is None


_TOKEN = re.compile(r"\\.|\(\?P[<=][^>)]*[>)]|\(\?\([^)]*\)|.", re.DOTALL)
"""An escape, a group name or a conditional's group: kept as written. Else one character."""


class _NotLowerable(Exception):
    """A regex part that lower-casing the pattern could change."""


@functools.cache
def lowered(regex: re.Pattern[str]) -> re.Pattern[str]:
    """The same case-insensitive regex for lower-cased text: letters lower-cased, case-sensitive.

    A case-insensitive regex run over a text finds the same spans, groups
    and all, as this one run over `text.lower()`, when `case_plain(text)`:
    each letter of the pattern then matches the same characters, and `\\w`,
    `\\s`, `\\d` and `\\b` see the same classes. Case-sensitive matching
    skips through text faster: the engine compares a literal directly
    instead of folding both sides, and tries only the branches of an
    alternation that start with the next character.

    Only characters outside escapes and group names are lower-cased, so
    the syntax stays the same. The result is then parsed and refused if a
    literal or a range could still need a case other than lower case: an
    upper-case or non-ASCII letter (from an escape such as `\\x41`), a range
    of letters outside a-z, `(?-i:...)`, or a backreference.

    Args:
        regex: a regex compiled with `re.IGNORECASE`.

    Returns:
        The regex without `re.IGNORECASE`, its letters lower-cased.

    Raises:
        ValueError: the regex is not case-insensitive, or has a part that
            lower-casing could change (a non-ASCII letter, a range across
            cases, `(?-i:...)`), or this Python's regex parser is unknown.
    """
    if not regex.flags & re.IGNORECASE or _p is None:
        raise ValueError(f"cannot lower {regex.pattern!r}")
    pieces: list[str] = []
    for match in _TOKEN.finditer(regex.pattern):
        token = match.group()
        # Escapes and group names are kept; the parse trees compared below
        # catch an escape that stands for a letter ("\\x41").
        pieces.append(token if len(token) > 1 else token.lower())
    source = "".join(pieces)
    flags = regex.flags & ~re.IGNORECASE
    problem = pattern_cache.remembered(
        "lowering", regex.pattern, regex.flags, lambda: _lowering_problem(source, flags)
    )
    if problem is not None:
        raise ValueError(f"cannot lower {regex.pattern!r}: {problem}")
    return compile_kept(source, flags)


def _lowering_problem(source: str, flags: int) -> str | None:
    """Why the lower-cased `source` might not match what its original did; None if it will."""
    try:
        _check_lower(_p.parse(source, flags))
    except (_NotLowerable, re.error, RecursionError) as error:
        return str(error)
    return None


def _check_char(code: int) -> None:
    char = chr(code)
    if char.lower() != char or (char.upper() != char and not char.isascii()):
        raise _NotLowerable(f"letter {char!r}")


def _check_lower(items: Any) -> None:
    """Raise `_NotLowerable` for a literal or range a lower-cased text might not match."""
    for op, av in items:
        if op is _c.LITERAL or op is _c.NOT_LITERAL:
            _check_char(av)
        elif op is _c.IN:
            for inner_op, inner_av in av:
                if inner_op is _c.LITERAL or inner_op is _c.NOT_LITERAL:
                    _check_char(inner_av)
                elif inner_op is _c.RANGE:
                    low, high = inner_av
                    if high > 127:
                        raise _NotLowerable("a non-ASCII range")
                    if any(chr(c).isupper() for c in range(low, high + 1)):
                        raise _NotLowerable("a range with upper-case letters")
                elif inner_op is not _c.CATEGORY and inner_op is not _c.NEGATE:
                    raise _NotLowerable(str(inner_op))
        elif op is _c.SUBPATTERN:
            if av[2] & re.IGNORECASE:
                raise _NotLowerable("(?-i:...)")
            _check_lower(av[3])
        elif op is _c.BRANCH:
            for branch in av[1]:
                _check_lower(branch)
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
            _check_lower(av[2])
        elif op is _c.ASSERT or op is _c.ASSERT_NOT:
            _check_lower(av[1])
        elif op is _c.ATOMIC_GROUP:
            _check_lower(av)
        elif op is _c.GROUPREF_EXISTS:
            _check_lower(av[1])
            if av[2]:
                _check_lower(av[2])
        elif op not in (_c.AT, _c.ANY, _c.CATEGORY):
            # Not a backreference either: `str.lower` writes a final sigma as
            # "ς", which a case-insensitive backreference to "Σ" would match.
            raise _NotLowerable(str(op))
