"""Judging the stance of a claim toward one topic.

The order of the tests is the order of precedence:

1. a condition on the claim ("only with a UN mandate", "until NATO membership
   is off the table") makes it conditional, and the condition is kept;
2. abstaining is neutral whatever follows;
3. a hedge ("is considering", "could be an option", "unlikely") is neutral,
   and a negated hedge ("is not contemplating") opposes;
4. denying a report is not opposition: neutral;
5. a cue that is itself a position (rejected, vetoed, called for) gives the
   stance; a negated one flips it, except that "did not rule out" is neutral;
6. otherwise the support and oppose words of the clause holding the topic
   word decide, with negation reaching a few words and stopped by "but",
   "while" and commas; then the words of the whole claim;
7. a position stated with no leaning at all counts as support: news reports
   an actor's line on a topic mostly when the actor pushes it.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from sources.extraction.lexicon import (
    CLAUSE_BREAKS,
    CLAUSE_BREAKS_LOWER,
    CONDITION_MARKERS,
    DENIAL_OBJECTS,
    HEDGE_WORDS,
    NEGATION_SCOPE_WORDS,
    NEGATORS,
    OPPOSE_WORDS,
    SCOPE_ENDERS,
    SUPPORT_WORDS,
    CueKind,
)
from sources.extraction.literals import (
    case_plain,
    compile_kept,
    literal_prefixes,
    lowered,
    needed_strings,
)
from sources.extraction.trie import trie_pattern
from sources.records import Stance

_CONDITION_GATE = (
    "only unless until provided providing as so on conditional conditioned contingent in "
    "subject condition conditions precondition prerequisite require requires required "
    "requiring without with backstop us u.s. american if but a an the one key main necessary "
    "essential basic need needs needed while"
).split()
"""Every condition marker starts with one of these words; elsewhere it is not tried."""
_CONDITION_WORD = (
    r"(?="
    + trie_pattern(sorted(_CONDITION_GATE))
    + r"\b)(?P<marker>"
    + CONDITION_MARKERS
    + r")(?!\w)"
)
_CONDITION = compile_kept(r"(?<!\w)" + _CONDITION_WORD, re.IGNORECASE)
_CONDITION_AFTER = compile_kept(r"\W(?=" + _CONDITION_WORD + ")", re.IGNORECASE)
"""`_CONDITION` where a non-word character comes before the word: see `_word_matches`."""
_ONLY_LATER = compile_kept(
    r"\bonly\s+(?:[\w-]+\s+){1,5}?(?P<tail>if|once|when|after|with|under|provided|until)\b",
    re.IGNORECASE,
)
_CONDITION_OF = compile_kept(
    r"(?:pre)?conditions?\s+(?:of|for)$|precondition$|prerequisite$", re.IGNORECASE
)
_CONDITION_END = compile_kept(
    r"[;.!?]|,\s*(?:but|and|while|although|whereas|according)\b|,\s+\w+ing\b"
    r"|\s+[-–—]\s+|,\s*[\"“”]",
    re.IGNORECASE,
)
_CLAUSE_BREAK = compile_kept(CLAUSE_BREAKS, re.IGNORECASE)
_POLARITY_PARTS = (
    ("hedge", HEDGE_WORDS),
    ("neg", NEGATORS),
    ("opp", OPPOSE_WORDS),
    ("sup", SUPPORT_WORDS),
    ("end", SCOPE_ENDERS),
)


def _polarity_regexes() -> tuple[re.Pattern[str], re.Pattern[str]]:
    # The word lists are long alternations; a lookahead over a trie of their
    # first letters lets the engine skip most words after a few steps.
    prefixes: set[str] = set()
    for _, words in _POLARITY_PARTS:
        found = literal_prefixes(r"\b(?:" + words + r")")
        if found is None:
            prefixes = set()
            break
        prefixes.update(found)
    gate = "(?=" + trie_pattern(sorted(prefixes)) + ")" if prefixes else ""
    # Each list gets a gate of its own too: past the shared gate ("and", "be"),
    # only lists that can start with the word are tried word by word.
    parts: list[str] = []
    for name, words in _POLARITY_PARTS:
        own = literal_prefixes(r"\b(?:" + words + r")") if prefixes else None
        own_gate = "(?=" + trie_pattern(sorted(own)) + ")" if own else ""
        parts.append(f"(?P<{name}>{own_gate}(?:{words}))")
    word = gate + r"(?:" + "|".join(parts) + r")(?!\w)"
    return (
        compile_kept(r"(?<!\w)" + word + r"|(?P<stop>[,;:])", re.IGNORECASE),
        compile_kept(r"\W(?:(?<=(?P<stop>[,;:]))|(?=" + word + "))", re.IGNORECASE),
    )


_POLARITY, _POLARITY_AFTER = _polarity_regexes()
_DENIAL = compile_kept(
    r"^\s*(?:the\s+|these\s+|such\s+|any\s+|western\s+|media\s+)?" + DENIAL_OBJECTS + r"\b",
    re.IGNORECASE,
)
_REFUSAL = compile_kept(
    r"\b(?:refus\w*|reject\w*|fail\w*\s+to|not\s+(?:agree|accept)\w*|n[’']t\s+(?:agree|accept)\w*|"
    r"rules?\s+out)\b",
    re.IGNORECASE,
)
_WORD = compile_kept(r"\w+")
_NOT_RULED_OUT_BACK = compile_kept(
    r"\b(?:not|n[’']t)\s+(?:yet\s+)?rul(?:e|ed|ing)\s+(?:it|them|this|that)\s+out\b",
    re.IGNORECASE,
)
_AUXILIARY = compile_kept(r"(?:is|are|was|were|be|been|has|have|had)\b", re.IGNORECASE)
_AGAINST_PROPOSAL = compile_kept(
    r"\s*(?:(?:the|a|an|any|all|these|those|such|its|their|western|new|repeated)\s+){0,2}"
    r"(?:[\w-]+\s+)?(?:proposals?|demands?|calls?|plans?|attempts?|efforts?|ideas?|suggestions?|"
    r"initiatives?|moves?|bids?|push|pressure)\s+(?:to|that|for)\b",
    re.IGNORECASE,
)
"""The object of a rejecting cue that is itself a move: "rejected calls to ..."."""
_MOVE_ENDS = compile_kept(
    r"[,;:]|\s(?:saying|calling|describing|arguing|insisting|noting|adding|as|because|since|"
    r"which|and)\b",
    re.IGNORECASE,
)
"""Where the move's own words end and the speaker's reasons begin."""
_NEGATOR_WORD = compile_kept(NEGATORS, re.IGNORECASE)
_NOUN_CONDITION = compile_kept(
    r"(?:mandate|approval|authori[sz]ation|consent|sanction|backstop|guarantees?|agreement|"
    r"withdrawal|decision|resolution)$",
    re.IGNORECASE,
)
_DEMAND = compile_kept(
    r"\b(?<!is\s)(?<!are\s)(?<!was\s)(?<!be\s)(?<!been\s)(?:agrees?|agreed|accepts?|accepted|"
    r"refuses?|refused|refusing|rejects?|rejected|rejecting|fails?|failed|failing|compl(?:y|ies|ied)|signs?|signed|commits?|"
    r"committed|withdraws?|withdrew|ends?|ended|stops?|stopped|halts?|halted|drops?|dropped|"
    r"removes?|removed|takes?|took)\b|\bremoved\s+from|\boff\s+the\s+table\b",
    re.IGNORECASE,
)
"""A condition that asks something of someone ("unless Moscow agrees to a ceasefire")."""


_POSITION_KINDS = (CueKind.STANCE, CueKind.FORMAL, CueKind.PASSIVE)
"""Cues that are themselves a position (made once: each `CueKind.X` is a lookup)."""


class _Regexes(NamedTuple):
    """The regexes run over a whole claim, for the claim as written or lower-cased."""

    condition: re.Pattern[str]
    condition_after: re.Pattern[str]
    only_later: re.Pattern[str]
    clause_break: re.Pattern[str]
    polarity: re.Pattern[str]
    polarity_after: re.Pattern[str]


_AS_WRITTEN = _Regexes(
    _CONDITION, _CONDITION_AFTER, _ONLY_LATER, _CLAUSE_BREAK, _POLARITY, _POLARITY_AFTER
)
_LOWERED = _Regexes(
    lowered(_CONDITION),
    lowered(_CONDITION_AFTER),
    lowered(_ONLY_LATER),
    compile_kept(CLAUSE_BREAKS_LOWER),
    lowered(_POLARITY),
    lowered(_POLARITY_AFTER),
)
"""The same regexes, case-sensitive, for the lower-cased claim: they run over every
character of every claim, and case-sensitive matching takes half the time."""

_NEEDS = [needed_strings(_LOWERED.condition), needed_strings(_LOWERED.only_later)]
_CONDITION_NEEDS = (
    tuple(sorted({s for strings in _NEEDS if strings for s in strings}))
    if None not in _NEEDS
    else None
)
"""One of these ("if", "until", "only"...) is in a lower-cased claim where `_conditions`
finds anything: `condition_after` only finds matches of `condition` (see `_word_matches`)."""
_CLAUSE_NEEDS = needed_strings(lowered(_CLAUSE_BREAK))
"""One of these ("," "and" "but"...) is in a lower-cased claim with a clause break: the
lower-case `CLAUSE_BREAKS_LOWER` finds the same breaks as `CLAUSE_BREAKS` (see `lexicon`)."""


def _subject(claim: str) -> tuple[str, _Regexes]:
    """The text the claim regexes run over and the regexes: the same spans either way."""
    if case_plain(claim):
        return claim.lower(), _LOWERED
    return claim, _AS_WRITTEN


class Verdict(NamedTuple):
    """A stance and, when conditional, the condition as written."""

    stance: Stance
    condition: str | None = None


class CueInfo(NamedTuple):
    """What the stance judge needs to know about the cue."""

    kind: CueKind
    polarity: int | None
    negated: bool
    text: str


def conditions(claim: str) -> list[tuple[int, int, int]]:
    """Condition spans in a claim: (marker start, marker end, clause end).

    Args:
        claim: the content of a claim.

    Returns:
        One triple per condition marker, in order.
    """
    return _conditions(claim, *_subject(claim))


def _conditions(claim: str, subject: str, regexes: _Regexes) -> list[tuple[int, int, int]]:
    if regexes is _LOWERED and _CONDITION_NEEDS is not None:
        # Most claims hold none of the strings a condition marker needs.
        for needed in _CONDITION_NEEDS:
            if needed in subject:
                break
        else:
            return []
    found: list[tuple[int, int, int]] = []
    for _, marker_start, marker_end in _word_matches(
        regexes.condition, regexes.condition_after, subject, 0, len(subject)
    ):
        stop = _CONDITION_END.search(claim, marker_end)
        end = stop.start() if stop is not None else len(claim)
        opening = claim[:marker_start]
        if _NOUN_CONDITION.search(claim[marker_start:marker_end]):
            # "a US backstop for any European force": the condition is the
            # noun phrase, and what it is for is the position.
            end = marker_end
        elif not opening.strip(" \"“‘'") or opening.rstrip().endswith(","):
            # A condition that opens its clause ("Without guarantees, any
            # ceasefire ...") ends at the first comma.
            comma = claim.find(",", marker_end)
            if comma != -1:
                end = min(end, comma)
        end = min(end, marker_end + 160)
        found.append((marker_start, marker_end, end))
    # Lowered, the regex starts with the word itself: no "only", no match.
    only_later = (
        regexes.only_later.finditer(subject)
        if (regexes is not _LOWERED or "only" in subject)
        else ()
    )
    for match in only_later:
        # "would only accept talks once troops have left": the condition is
        # what follows "once", the talks are what it conditions.
        tail = match.start("tail")
        if any(start <= tail < end for start, _, end in found):
            found = [c for c in found if not (c[0] <= tail < c[2])]
        stop = _CONDITION_END.search(claim, match.end())
        end = min(stop.start() if stop is not None else len(claim), match.end() + 160)
        found.append((tail, match.end(), end))
    found.sort()
    return found


def judge(claim: str, topic_spans: list[tuple[int, int]], cue: CueInfo) -> Verdict | None:
    """The stance a claim takes toward one topic.

    Args:
        claim: the content of the claim (the words the speaker is reported to have said).
        topic_spans: where the topic's words are in `claim`.
        cue: the cue that attributed the claim.

    Returns:
        The verdict, or None when the topic only appears inside a condition
        whose leaning cannot be told.
    """
    subject, regexes = _subject(claim)
    conds = _conditions(claim, subject, regexes)
    for start, end, clause_end in conds:
        if not _CONDITION_OF.search(claim[start:end]):
            continue
        # "a ban on NATO entry is a key condition of any ceasefire": the
        # ceasefire is conditional on the ban; the ban itself is a position.
        if any(end <= s < clause_end for s, _ in topic_spans):
            before = claim[:start].strip(" ,")
            return Verdict(Stance.CONDITIONAL, before[-160:] or None)
        conds = [c for c in conds if c[0] != start]
        break
    if conds:
        if any(not _in_conditions(span, conds) for span in topic_spans):  # one is outside
            marker_start, _, clause_end = conds[0]
            text = claim[marker_start:clause_end].strip(" ,.;")
            return Verdict(Stance.CONDITIONAL, text)
        # The topic is the condition itself: "sanctions unless it agrees to a
        # ceasefire" demands the ceasefire; "until NATO membership is off the
        # table" opposes the membership; "a key condition of any ceasefire"
        # makes the ceasefire conditional on what came before.
        start, end, clause_end = conds[0]
        if not _DEMAND.search(claim, end, clause_end):
            # "a peacekeeping mission if a ceasefire is reached": the ceasefire
            # is a circumstance, not something the speaker asks for.
            return None
        if _REFUSAL.search(claim, end, clause_end):
            return Verdict(Stance.SUPPORTS)
        _, leaning = _scan(subject, regexes, end, clause_end, topic_spans)
        return Verdict(Stance.OPPOSES if leaning < 0 else Stance.SUPPORTS)
    if cue.kind is CueKind.FORMAL and cue.polarity is None:
        return Verdict(Stance.NEUTRAL)
    if cue.kind is CueKind.PASSIVE and cue.polarity and not _AUXILIARY.match(cue.text):
        # "vetoed a resolution drafted by the United States": the agent backed
        # the noun before the participle; what the rest of the clause does to
        # it is someone else's act.
        return Verdict(Stance.SUPPORTS if cue.polarity > 0 else Stance.OPPOSES)
    if cue.kind is CueKind.HEDGE:
        if cue.negated and "rul" not in cue.text.lower():
            return Verdict(Stance.OPPOSES)
        return Verdict(Stance.NEUTRAL)
    if cue.text.lower().startswith(("denied", "denies", "denying", "refute")):
        return Verdict(Stance.NEUTRAL)
    if cue.polarity and cue.kind in _POSITION_KINDS:
        if cue.polarity < 0 and _DENIAL.match(
            claim[len(cue.text) :] if claim.lower().startswith(cue.text.lower()) else claim
        ):
            return Verdict(Stance.NEUTRAL)
    if "rul" in subject and _NOT_RULED_OUT_BACK.search(claim):
        # "..., though London had not ruled them out": the pronoun carries the
        # hedge back over the clause break to the topic.
        return Verdict(Stance.NEUTRAL)
    clause_start, clause_end = (
        _clause_of(subject, regexes, topic_spans[0][0]) if topic_spans else (0, len(claim))
    )
    # The topic's own words do not support it: "Ukraine joining NATO was out
    # of the question", "providing forces". (Its oppose words still count:
    # "not seeking a substitute for NATO" supports membership.)
    hedged, leaning = _scan(subject, regexes, clause_start, clause_end, topic_spans)
    if hedged is not None:
        return Verdict(Stance.OPPOSES if hedged else Stance.NEUTRAL)
    if cue.polarity and cue.kind in _POSITION_KINDS:
        if cue.polarity < 0:
            if cue.negated:
                return Verdict(Stance.NEUTRAL)
            # (Only where the object follows the cue: "was rejected by" has it before.)
            move = (
                _AGAINST_PROPOSAL.match(claim, len(cue.text))
                if claim.lower().startswith(cue.text.lower())
                else None
            )
            if move is not None:
                reasons = _MOVE_ENDS.search(claim, move.end(), clause_end)
                move_end = reasons.start() if reasons is not None else clause_end
                if _scan(subject, regexes, move.end(), move_end, topic_spans)[1] < 0:
                    # "dismissed proposals to limit the veto": rejecting a move
                    # against the topic defends it.
                    return Verdict(Stance.SUPPORTS)
            return Verdict(Stance.OPPOSES)
        if cue.negated:
            return Verdict(Stance.OPPOSES)
        return Verdict(Stance.OPPOSES if leaning < 0 else Stance.SUPPORTS)
    if cue.negated:
        leaning = -leaning
    if leaning == 0 and (clause_start, clause_end) != (0, len(claim)):
        # (When the clause was the whole claim, this is the scan above again: 0.)
        _, leaning = _scan(subject, regexes, 0, len(claim), topic_spans)
    if leaning < 0:
        return Verdict(Stance.OPPOSES)
    return Verdict(Stance.SUPPORTS)


def _word_matches(
    whole: re.Pattern[str], after: re.Pattern[str], text: str, start: int, end: int
) -> list[tuple[str | None, int, int]]:
    """`whole.finditer(text, start, end)` as (name of the last group, start, end).

    `whole` is `(?<!\\w)WORD`, maybe with `|(?P<stop>[,;:])` after it, and
    `after` is `\\W(?=WORD)`, or `\\W(?:(?<=(?P<stop>[,;:]))|(?=WORD))`, where
    every match of WORD is one named group. A regex that opens with a
    lookbehind is tried at every character; `after` opens with a character
    class, so the engine skips in C to each non-word character and tries the
    word after it (about a sixth less regex time on a claim). The words it cannot see (at
    `start`, and right after a stop it consumed) are tried with `whole`, and
    matches overlapping an earlier one are dropped, as `finditer` never
    gives them.
    """
    found: list[tuple[str | None, int, int]] = []
    taken = start
    first = whole.match(text, start, end)
    if first is not None and first.lastgroup != "stop":
        if first.end() == first.start():
            return [(m.lastgroup, m.start(), m.end()) for m in whole.finditer(text, start, end)]
        taken = first.end()
        found.append((first.lastgroup, first.start(), taken))
    for match in after.finditer(text, start, end):
        kind = match.lastgroup
        if kind == "stop":
            at = match.start()
            if at < taken:
                continue
            taken = at + 1
            found.append((kind, at, taken))
            follow = whole.match(text, taken, end)
            if follow is None or follow.lastgroup == "stop":
                continue
            match, kind = follow, follow.lastgroup
        if kind is None:
            break  # not the shape described: `whole` decides below
        word_start, word_end = match.span(kind)
        if word_start < taken:
            continue
        if word_end == word_start:
            break
        taken = word_end
        found.append((kind, word_start, word_end))
    else:
        return found
    # An empty word or an unnamed one: `finditer`'s own rules apply.
    return [(m.lastgroup, m.start(), m.end()) for m in whole.finditer(text, start, end)]


def _in_conditions(span: tuple[int, int], conds: list[tuple[int, int, int]]) -> bool:
    return any(start <= span[0] < end for start, _, end in conds)


def _clause_of(claim: str, regexes: _Regexes, position: int) -> tuple[int, int]:
    start = 0
    end = len(claim)
    if regexes is _LOWERED and _CLAUSE_NEEDS is not None:
        # Many claims hold none of the strings a clause break needs.
        for needed in _CLAUSE_NEEDS:
            if needed in claim:
                break
        else:
            return start, end
    for match in regexes.clause_break.finditer(claim):
        if match.end() <= position:
            start = match.end()
        elif match.start() >= position:
            end = match.start()
            break
    return start, end


def _scan(
    text: str, regexes: _Regexes, start: int, end: int, skip: list[tuple[int, int]]
) -> tuple[bool | None, int]:
    """Hedge and leaning of `text[start:end]`, ignoring words inside `skip` spans.

    `regexes` are `_AS_WRITTEN`, or `_LOWERED` when `text` is lower-cased.

    Returns:
        (hedge, leaning): hedge is None when there is no hedge, False for a
        hedge, True for a negated hedge ("not considering"); leaning is -1,
        0 or +1 from the support and oppose words, negation applied.
    """
    support = oppose = 0
    hedge: bool | None = None
    negation_left = 0
    negated_any = False
    open_negation = -1  # where a negator stands that no word has used yet
    topic_negated = False
    for kind, word_start, word_end in _word_matches(
        regexes.polarity, regexes.polarity_after, text, start, end
    ):
        if open_negation >= 0 and not topic_negated:
            topic_negated = _negates_topic(text, open_negation, word_start, skip)
        if kind == "sup" and any(a < word_end and word_start < b for a, b in skip):
            continue
        if kind in ("stop", "end"):
            negation_left = 0
            open_negation = -1
            continue
        if kind == "neg":
            negation_left = NEGATION_SCOPE_WORDS + 1
            negated_any = True
            open_negation = word_end
            continue
        negated = negation_left > 0 and _words_between(text, word_start) <= NEGATION_SCOPE_WORDS
        if negated:
            open_negation = -1
        if kind == "hedge":
            hedge = True if negated else (hedge or False)
        elif kind == "opp":
            if negated:
                support += 1
            else:
                oppose += 1
        elif kind == "sup":
            if negated:
                oppose += 1
            else:
                support += 1
        negation_left = 0 if negated else negation_left
    if open_negation >= 0 and not topic_negated:
        topic_negated = _negates_topic(text, open_negation, end, skip)
    if topic_negated:
        # "wants guarantees that Ukraine would never join NATO": what the other
        # words lean toward is the negated topic, so the leaning turns over;
        # "rejected demands that Ukraine never join" supports it.
        return hedge, 1 if oppose > support else -1
    if support == 0 and oppose == 0 and negated_any:
        # "no peacekeepers", "will not send troops": a negation with nothing to
        # flip negates the topic itself.
        oppose = 1
    leaning = -1 if oppose and oppose >= support else (1 if support else 0)
    return hedge, leaning


def _negates_topic(text: str, negator_end: int, limit: int, topics: list[tuple[int, int]]) -> bool:
    """Whether a negator that no word used reaches a topic span before `limit`."""
    for topic_start, _ in topics:
        if negator_end <= topic_start < limit:
            return len(_WORD.findall(text, negator_end, topic_start)) <= NEGATION_SCOPE_WORDS
    return False


def _words_between(text: str, start: int) -> int:
    # Negation reaches NEGATION_SCOPE_WORDS words; the scan resets it at
    # commas and "but", so only the distance back to the negator is left.
    window = text[max(0, start - 60) : start]
    # Typed: mypyc 2.4 cannot compile `reversed()` of the `list[Any]` findall gives.
    words: list[str] = _WORD.findall(window)
    count = 0
    for word in reversed(words):
        if _NEGATOR_WORD.fullmatch(word) or word.lower() in ("t",):
            return count
        count += 1
    return count
