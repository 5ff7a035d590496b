"""Regular expressions built from a trie of literal phrases.

One alternation of thousands of aliases, tried alias by alias, costs time in
proportion to the number of aliases at every position of the text. A trie
shares prefixes, so the regex engine only follows the branch that matches the
next character, and a greedy optional tail after each complete phrase makes
the longest phrase win (the regex still backs off to a shorter phrase when the
longer one fails the word boundary that follows).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_END = ""
"""Trie key marking that a phrase ends at this node (no character is empty)."""


def trie_pattern(phrases: Iterable[str]) -> str:
    """Build a regex source matching any of the phrases, preferring the longest.

    Args:
        phrases: literal strings; empty ones are ignored. Case is kept as
            given, so lower-case them first for a case-insensitive regex.

    Returns:
        A non-capturing regex source, or a pattern that never matches when
        there is no phrase.
    """
    root: dict[str, dict] = {}  # type: ignore[type-arg]
    for phrase in phrases:
        if not phrase:
            continue
        node = root
        for char in phrase:
            node = node.setdefault(char, {})
        node[_END] = {}
    if not root:
        return r"(?!x)x"
    return _node_pattern(root)


def _node_pattern(node: dict[str, dict]) -> str:  # type: ignore[type-arg]
    # Iterative over the depth would be safer for pathological phrase lengths,
    # but aliases are short (a name, an institution) and the recursion depth is
    # the phrase length, far below Python's limit.
    ends_here = _END in node
    branches: list[str] = []
    single_chars: list[str] = []
    for char in sorted(key for key in node if key != _END):
        child = node[char]
        if len(child) == 1 and _END in child:
            # A leaf: gathering these into one character class keeps the
            # regex small for alias lists that differ only in the last letter.
            single_chars.append(char)
        else:
            branches.append(re.escape(char) + _node_pattern(child))
    if single_chars:
        if len(single_chars) == 1:
            branches.append(re.escape(single_chars[0]))
        else:
            branches.append("[" + "".join(_class_escape(c) for c in single_chars) + "]")
    if not branches:
        return ""
    if ends_here:
        if len(branches) == 1 and (len(branches[0]) == 1 or branches[0].startswith("[")):
            return branches[0] + "?"
        # An empty last branch rather than `(?:...)?`: the same choices in the
        # same order (the longer phrase first, then none), as no branch can
        # match empty; the regex engine runs a plain alternation with less
        # bookkeeping than a repeat of a group.
        return "(?:" + "|".join(branches) + "|)"
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


def _class_escape(char: str) -> str:
    return "\\" + char if char in "\\]^-[" else char
