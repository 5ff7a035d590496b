"""From a news item's text to statements: who stated what position on which topic.

One pass per item finds every actor name (one trie regex) and every topic
word (one regex per topic). Sentences without a topic word, and not just
before one, cost nothing more: attribution (cues, subjects, asides, carry-over)
only runs where a statement could come out. Each statement keeps why it
matched: the cue, the alias, the topic words, the condition, and whether the
speaker was carried over from an earlier sentence.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sources.extraction.actors import AliasIndex, Mention, role_groups
from sources.extraction.cues import FINDER
from sources.extraction.lexicon import (
    ANAPHORA,
    ASIDE_OPENERS,
    CARRY_SENTENCES,
    COMMENTARY_OPENERS,
    PARTICIPLE_CUE,
    PRONOUNS,
    ROLE_NOUNS,
    CueKind,
)
from sources.extraction.literals import (
    LiteralScanner,
    case_plain,
    compile_kept,
    lower_same_length,
    lowered,
)
from sources.extraction.sentences import Sentence, split_sentences
from sources.extraction.stance import CueInfo, judge
from sources.extraction.topics import TopicHit, TopicMatcher
from sources.extraction.trie import trie_pattern
from sources.records import ActorSpec, Extraction, PersonSpec, TopicSpec

MAX_CHARS = 50_000
"""Text beyond this many characters is not read: bounded time per item."""

_PASSIVE_AUXILIARIES = frozenset("is are was were be been being get gets got".split())
_ABILITY_MODALS = frozenset(("can", "could", "may", "might"))
_GERUND_PREPOSITIONS = frozenset(
    "for of by about after before without on in against from over despite instead".split()
)
_DETERMINERS = frozenset("the a an its his her their our these those such any no of".split())
_BEFORE_NAMED_NOUN = frozenset("any no such its their his her our with without under".split())
"""Before "UN backing" they make the name a modifier and the cue word a noun ("the" does
not: "the Kremlin demands" is a verb with its subject)."""
_NOUNISH_CUES = frozenset(
    """calls call demands demand offers offer pledges vows promises warning warnings comments block
    reports states say vetoes backing support supports proposals proposal statements statement
    remarks claims""".split()
)
"""Cue words that are also nouns: "its calls for", "the repeated warnings"."""
_NEGATION_WORDS = frozenset(
    """not never no neither nor cannot can't won't don't doesn't didn't isn't wasn't aren't
    weren't hasn't haven't hadn't wouldn't shouldn't couldn't refused refuses refuse refusing
    failed fails fail unwilling without hardly""".split()
)
_NEGATED_INSIDE = compile_kept(r"\b(?:not|never|n[’']t|no)\b", re.IGNORECASE)
_PARTICIPLE = compile_kept(r",\s*(?:\w+ly\s+)?$")
_PARTICIPLE_WORD = compile_kept(PARTICIPLE_CUE + r"$", re.IGNORECASE)
_PRONOUN_SUBJECT = compile_kept(
    r"(?:^|[\s,;:\"“”(])(?P<pro>" + PRONOUNS + r")\s+(?:[\w’'-]+\s+){0,3}$", re.IGNORECASE
)
_ROLE_SUBJECT = compile_kept(
    r"(?:^|[\s,;:\"“”(])(?:the|that|this)\s+(?P<role>" + ROLE_NOUNS + r")\s+(?:[\w’'-]+\s+){0,3}$",
    re.IGNORECASE,
)
_ASIDE = compile_kept(r",\s+(?:" + ASIDE_OPENERS + r")\b[^,;]*(?:,|(?=;)|$)", re.IGNORECASE)
_COMMENTARY = compile_kept(COMMENTARY_OPENERS, re.IGNORECASE)
_ANAPHORA = compile_kept(r"\b" + ANAPHORA + r"\b", re.IGNORECASE)
_NP_TOKEN = compile_kept(r"[\w’'.-]+")
_NP_LOWER_OK = frozenset(
    """the a an foreign defence defense minister prime president secretary general spokesman
    spokeswoman spokesperson ambassador envoy chief deputy senior top of state ministry
    affairs permanent representative special former acting vice chancellor leader premier
    official officials aide adviser advisor head press security council un u.n. and policy
    interior finance economy trade energy justice armed forces""".split()
)
_SEPARATOR = compile_kept(
    r"^(?:\s*(?:,\s*(?:and\s+)?|\s+and\s+|\s*&\s*)(?:(?-i:[A-Z])[\w-]*(?:\s+(?-i:[A-Z])[\w-]*)?"
    r"(?=\s*,|\s+and\b))?)+\s*$"
)
_SPEAKER_BEFORE_COLON = compile_kept(r"(?:[’']s)?(?:\s+[A-Z][\w.-]*){0,3}\s*")
_HEADLINE_COLON = compile_kept(r"^\s*[^:]{1,60}?:\s+\S")
_HEADLINE_DASH = compile_kept(r"\s[-–—]\s+([^-–—]{1,60})$")
_QUOTE_CHAR = compile_kept(r"[\"“”«»]")
_QUOTE_CHARS = '"“”«»'
_TEMPORAL_BEFORE = compile_kept(
    r"(?:\b(?:after|once|following|post|before|during|in\s+the\s+event\s+of|in\s+case\s+of)\s+"
    r"(?:a|an|the|any|such\s+a)?\s*(?:[\w-]+\s+)?|\b(?:as|since|because|while)\s+there\s+"
    r"(?:is|are|was|were|has\s+been)\s+(?:still\s+)?(?:no|not\s+yet\s+an?|not\s+an?)\s+"
    r"(?:[\w-]+\s+)?(?:(?:ceasefire|truce)\s+or\s+)?|\b(?:to|would|could|will)\s+(?:help\s+)?"
    r"(?:enforce|monitor|police|uphold|oversee|guarantee|safeguard|observe|patrol)\s+"
    r"(?:a|an|the|any|such\s+a)?\s*(?:[\w-]+\s+)?)$",
    re.IGNORECASE,
)
_TRAILING_BUT = compile_kept(r"(?:\s+\w+ly|\s+on\s+\w+day)?\s*,?\s*(but\s)", re.IGNORECASE)
_GOES_ON = compile_kept(
    r"(?:\s+on\s+\w+day)?\s*,\s*(?:\w+ly\s+)?(?:adding|saying|stressing|noting|insisting|warning)\b",
    re.IGNORECASE,
)
"""", adding that ...": a cue of its own follows, so the claim before the speaker stands."""
_CONTENT_AFTER = compile_kept(r"(?:\s*[\w’'.-]+){0,6}?\s*(?:that\b|:|[\"“«])", re.IGNORECASE)
"""A reporting verb's content clause: "told reporters on Friday that", "said:"."""
_CLOSING_QUOTE_ENDS = (",", ',"', ",”", "”", '"', ",’", ".”", '."', "!”", '!"', ",'", ".'", "!'")
_ENDS_WITH_THAT = compile_kept(r"\b(?:that|which)$", re.IGNORECASE)
_SUBORDINATE_BEFORE = compile_kept(
    r"\b(?:when|whether|if|once|unless|until|before|after)\s+(?:[\w’'-]+\s+){0,4}$", re.IGNORECASE
)
_CLAUSE_PUNCTUATION = compile_kept(r"[,;:\"“”()]")
_PRONOUN_WORDS = frozenset(("he", "she", "they", "it", "we"))
_ROLE_OPENERS = frozenset(("the", "that", "this"))
_AND_BEFORE = compile_kept(r"\band\s+(?:\w+ly\s+)?$", re.IGNORECASE)
_PRONOUN_LEAD = compile_kept(r"\s*(?P<pro>he|she|they)\s", re.IGNORECASE)
_CLAUSE_OPENER = compile_kept(
    r"(?:^|[,;:]\s*(?:where|when|while|as|after|before|and)?\s)", re.IGNORECASE
)
_FOR_SPEAKER = compile_kept(r"(?:For|In\s+the\s+(?:view|eyes)\s+of)\s+")
_RELATIVE = compile_kept(r",?\s+(?:that|which)\s+(?!is\b|was\b)", re.IGNORECASE)
_CARRY_HINT = compile_kept(
    r"\b(?:he|she|they|we)\b|\b(?:the|that|this)\s+(?:[\w-]+\s+){0,2}?" + ROLE_NOUNS + r"\b",
    re.IGNORECASE,
)
"""A reference back to an earlier speaker; only then are earlier sentences attributed."""
_CARRY_PRONOUNS = frozenset(("he", "she", "they", "we"))
_ROLE_HEADS = frozenset(
    """minister ministers president presidents premier chancellor leader leaders envoy envoys
    ambassador ambassadors representative representatives diplomat spokesman spokeswoman
    spokesperson secretary official officials aide aides adviser advisers advisor advisors
    negotiator negotiators chief chiefs head heads government administration ministry office
    embassy mission delegation delegate source sources country side authorities leadership
    cabinet presidency commission military army diplomats secretary-general""".split()
)
_ANAPHORA_HEADS = frozenset(
    """idea ideas proposal proposals plan plans initiative initiatives offer move call
    suggestion demand demands option approach deal scheme force mission measure measures step
    request draft text document framework deployment proposition""".split()
)
_NOT_NOUN_CHECKED = (CueKind.ACCORDING, CueKind.POSITION, CueKind.NULL)
_ACTING = (CueKind.STANCE, CueKind.FORMAL)
_NEGATABLE = (CueKind.HEDGE, CueKind.STANCE)
"""Kinds of cue, as tuples made once: each `CueKind.X` costs an attribute lookup."""
_SUBJECT_GAP = 90
"""Characters between a subject and its cue beyond which they are unrelated."""
_SPOKESMAN = compile_kept(
    r",[\"”’']?\s+(?:(?:a|an|the|his|her|its|their)\s+)?"
    r"(?:(?i:foreign|defen[cs]e|interior|finance|ministry|prime|deputy|first|senior|top|chief|"
    r"government|press|presidential|state|vice|acting|affairs|of)\s+)*"
    r"(?i:spokes(?:man|woman|person)|ministers?|secretary|president|premier|chancellor|"
    r"ambassador|envoy|representative|government|ministry)"
    r"(?:\s+(?-i:[A-Z\u00c0-\u00de])[\w’'.-]+){0,4}\s*"
)
"""What stands between the comma and the verb in "CONTENT, a government spokesman said"."""
_OPENING_CHARS = " \"“«'‘("
_KEY_SET = _ANAPHORA_HEADS | _CARRY_PRONOUNS | _ROLE_HEADS
_KEY_WORDS = compile_kept(r"[^a-z\w-](" + trie_pattern(sorted(_KEY_SET)) + r")(?![a-z\w-])")
"""The words of the three sets above that a lower-cased sentence holds, as whole tokens:
the same as splitting it at non-word, non-hyphen runs and keeping those words, at half
the cost. The range a-z is inside the word class, so each class is the same set; but
the engine tests a class's items in order, and the range answers for a lower-case
letter, most of the text, before the Unicode database is asked (a third less time)."""
_ASCII_WORDS = (
    bytes(
        ord(chr(code).lower()) if chr(code).isalnum() or chr(code) in "_-" else ord(" ")
        for code in range(128)
    )
    + b" " * 128
)
"""For `bytes.translate` on ASCII text: word characters and "-" lower-cased, the rest blanked."""


class _Regexes(NamedTuple):
    """Case-insensitive regexes run over item text, as written or lowered."""

    temporal_before: re.Pattern[str]
    subordinate_before: re.Pattern[str]
    carry_hint: re.Pattern[str]
    anaphora: re.Pattern[str]


_AS_WRITTEN = _Regexes(_TEMPORAL_BEFORE, _SUBORDINATE_BEFORE, _CARRY_HINT, _ANAPHORA)
_LOWERED = _Regexes(*(lowered(regex) for regex in _AS_WRITTEN))
"""For the lower-cased text of an item that `case_plain` allows: the same spans, faster."""


@dataclass(slots=True)
class _Cue:
    start: int
    end: int
    text: str
    kind: CueKind
    polarity: int | None
    negated: bool


@dataclass(slots=True)
class _Subject:
    actor: str
    person: PersonSpec | None
    alias: str
    carried: bool = False
    np_start: int = 0
    np_end: int = 0


@dataclass(slots=True)
class _Attribution:
    cue: _Cue
    subjects: list[_Subject]
    spans: list[tuple[int, int]] = field(default_factory=list)


@dataclass(slots=True)
class _Context:
    """Per-item state: the text, what was found in it, and who spoke last."""

    text: str
    low: str
    cue_found: list[tuple[int, tuple[int, ...]]]
    sentences: list[Sentence]
    mentions: list[Mention]
    mention_starts: list[int]
    hits: list[TopicHit]
    hit_starts: list[int]
    subject: str
    """What the `rx` regexes run over: `low` when `case_plain(text)`, else `text`."""
    rx: _Regexes
    last_subject: tuple[_Subject, int] | None = None
    cue_starts: list[int] | None = None
    """The positions of `cue_found`, for bisecting; made when first needed."""
    sentence_topics: dict[int, list[TopicHit]] = field(default_factory=dict)


@dataclass(slots=True)
class _Scanned:
    """One item's scan, kept per thread so `tag` then `extract` on it scans once."""

    text: str
    title: str
    whole: str
    low: str
    alias_found: list[Any]
    cue_found: list[tuple[int, tuple[int, ...]]]
    hits: list[TopicHit]
    plain: bool
    """`case_plain(whole)`: lowered regexes may run over `low`."""
    mentions: list[Mention] | None = None
    """Found on first use: `extract` on an item without topic words never needs them."""


class Extractor:
    """Turns text into statements, for the actors and topics it was built with."""

    def __init__(self, actors: Sequence[ActorSpec], topics: Sequence[TopicSpec]) -> None:
        """Compile the alias and topic regexes once.

        Args:
            actors: the actors to find, with aliases and people.
            topics: the topics to find, with keywords, patterns and excludes.

        Raises:
            ValueError: a topic pattern is not a valid regular expression.
        """
        self._aliases = AliasIndex(actors)
        self._topics = TopicMatcher(topics)
        self._people_roles = {
            id(person): role_groups(person.role) for _, person in self._aliases.people
        }
        # One scan of each text finds aliases, topic words and cue words
        # together: a pass of the regex engine costs about as much as all the
        # Python work on a short item, so three passes would triple it.
        merged: dict[str, list[tuple[int, Any]]] = {}
        sources: tuple[Mapping[str, Sequence[Any]], ...] = (
            self._aliases.literals,
            self._topics.literals,
            FINDER.literals,
        )
        for tag, literals in enumerate(sources):
            for key, values in literals.items():
                merged.setdefault(key, []).extend((tag, value) for value in values)
        self._scanner: LiteralScanner[tuple[int, Any]] = LiteralScanner(merged)
        self._local = threading.local()
        # Per literal: the aliases, the topic rules (split by kind once, not
        # per position) and the cue numbers that start with it.
        self._chains: dict[str, tuple[tuple[Any, ...], Any, tuple[int, ...]]] = {}
        for key in merged:
            chain = self._scanner.at(key)
            topic_chain = tuple((k, v) for k, (tag, v) in chain if tag == 1)
            self._chains[key] = (
                tuple((k, v) for k, (tag, v) in chain if tag == 0),
                self._topics.prepare(topic_chain) if topic_chain else (),
                tuple(sorted({v for _, (tag, v) in chain if tag == 2})),
            )

    def _scan(self, low: str) -> tuple[list[Any], list[Any], list[tuple[int, tuple[int, ...]]]]:
        return self._scanner.scan_split(low, self._chains)

    def _scanned(self, text: str, title: str) -> _Scanned:
        # The poll round tags an item and then extracts from it: the second
        # call reuses the first one's scan. Per thread, as rounds run several.
        last: _Scanned | None = getattr(self._local, "last", None)
        if last is not None and last.text == text and last.title == title:
            return last
        whole = _join(title, text)
        low = lower_same_length(whole)
        alias_found, topic_found, cue_found = self._scan(low)
        plain = case_plain(whole)
        hits = self._topics.find_prepared(whole, low, topic_found, plain)
        scanned = _Scanned(text, title, whole, low, alias_found, cue_found, hits, plain)
        self._local.last = scanned
        return scanned

    def _mentions(self, scanned: _Scanned) -> list[Mention]:
        if scanned.mentions is None:
            scanned.mentions = self._aliases.find(
                scanned.whole, scanned.low, scanned.alias_found, scanned.plain
            )
        return scanned.mentions

    def _tags(self, scanned: _Scanned) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if scanned.mentions is not None or scanned.hits:
            # An item with topic words needs its mentions for `extract` anyway.
            actors = {m.actor for m in self._mentions(scanned) if m.actor}
        else:
            actors = self._aliases.actors(scanned.whole, scanned.low, scanned.alias_found)
        topics = {hit.topic for hit in scanned.hits}
        return tuple(sorted(actors)), tuple(sorted(topics))

    def tag(self, text: str, *, title: str = "") -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Actors and topics mentioned anywhere in an item, for tagging it.

        Args:
            text: the item's plain-text summary or body.
            title: the item's title.

        Returns:
            (actor ids, topic ids), each sorted and without repeats.
        """
        try:
            return self._tags(self._scanned(text, title))
        except Exception:  # noqa: BLE001 - tagging must never stop a poll round
            return (), ()

    def extract(self, text: str, *, title: str = "") -> list[Extraction]:
        """The statements an item makes: actor, speaker, topic, stance, claim, and why.

        Args:
            text: the item's plain-text summary or body (read up to `MAX_CHARS`).
            title: the item's title; headline forms ("Russia: ...", "... - Lavrov") apply.

        Returns:
            One extraction per (actor, topic, claim sentence), in text order.
            Never raises: text it cannot read gives no statements.
        """
        try:
            return self._extract(self._scanned(text, title))
        except Exception:  # noqa: BLE001 - one odd item must never stop a poll round
            return []

    def analyse(
        self, text: str, *, title: str = ""
    ) -> tuple[tuple[str, ...], tuple[str, ...], list[Extraction]]:
        """`tag` and `extract` together, from one scan of the item.

        Args:
            text: the item's plain-text summary or body.
            title: the item's title.

        Returns:
            (actor ids, topic ids, extractions), each as `tag` and `extract` give them.
            Never raises.
        """
        try:
            scanned = self._scanned(text, title)
        except Exception:  # noqa: BLE001 - one odd item must never stop a poll round
            return (), (), []
        try:
            actors, topics = self._tags(scanned)
        except Exception:  # noqa: BLE001
            actors, topics = (), ()
        try:
            found = self._extract(scanned)
        except Exception:  # noqa: BLE001
            found = []
        return actors, topics, found

    # --- the pipeline --------------------------------------------------------

    def _extract(self, scanned: _Scanned) -> list[Extraction]:
        whole, low, cue_found, hits = scanned.whole, scanned.low, scanned.cue_found, scanned.hits
        if not hits:
            return []
        title_len = len(scanned.title[:500].strip())
        sentences: list[Sentence] = []
        if title_len:
            sentences.append(Sentence(0, title_len, whole[:title_len], headline=True))
        body_offset = title_len + 2 if title_len else 0
        # Sentences after the one following the last topic word are never
        # attributed: they are not split.
        sentences.extend(
            split_sentences(whole[body_offset:], offset=body_offset, until=hits[-1].start)
        )
        mentions = self._mentions(scanned)
        ctx = _Context(
            whole,
            low,
            cue_found,
            sentences,
            mentions,
            [m.start for m in mentions],
            hits,
            [h.start for h in hits],
            low if scanned.plain else whole,
            _LOWERED if scanned.plain else _AS_WRITTEN,
        )
        # Attribution runs only where a statement can come out: sentences with
        # topic words, the one after them if it points back ("rejected the
        # initiative"), and the sentences before any of those that refer back
        # to a speaker ("He warned", "the minister added", a quote running on).
        wanted: set[int] = set()
        words: dict[int, AbstractSet[str]] = {}  # each sentence's words, split once
        hit_starts = ctx.hit_starts
        hit_count = len(hit_starts)
        next_hit = 0
        count = len(sentences)
        has_hit = [False] * count
        for index, sentence in enumerate(sentences):
            # Sentences and hits are both in text order: one walk finds which
            # sentences hold a topic word.
            while next_hit < hit_count and hit_starts[next_hit] < sentence.start:
                next_hit += 1
            has_hit[index] = next_hit < hit_count and hit_starts[next_hit] < sentence.end
        for index in range(count):
            if has_hit[index]:
                wanted.add(index)
                following = index + 1
                # A following sentence with a topic word of its own is wanted anyway.
                if following < count and not has_hit[following]:
                    words[following] = _words(sentences[following].text)
                    if _points_back(ctx, sentences[following], words[following]):
                        wanted.add(following)
        for index in range(count - 1, 0, -1):
            if index not in wanted:
                continue
            earlier = range(max(0, index - CARRY_SENTENCES), index)
            if all(i in wanted for i in earlier):
                continue  # nothing left to add: whether it refers back does not matter
            if sentences[index].text[:1] in _QUOTE_CHARS or _refers_back(
                ctx,
                sentences[index],
                words[index] if index in words else _words(sentences[index].text),
            ):
                wanted.update(earlier)
        results: dict[tuple[str, str, int], Extraction] = {}
        previous_quote_speaker: tuple[_Subject, _Cue, int] | None = None
        for index, sentence in enumerate(sentences):
            if index == 1 and title_len:
                ctx.last_subject = None  # the headline's speaker does not carry into the body
            if index not in wanted:
                continue
            attributions = self._attribute(ctx, index, sentence)
            if not attributions and previous_quote_speaker is not None:
                attributions = self._quote_run_on(ctx, index, sentence, previous_quote_speaker)
            previous_quote_speaker = None
            for attribution in attributions:
                if attribution.subjects and _QUOTE_CHAR.search(sentence.text):
                    previous_quote_speaker = (attribution.subjects[0], attribution.cue, index)
                self._emit(ctx, index, sentence, attribution, results)
        return list(results.values())

    def _quote_run_on(
        self, ctx: _Context, index: int, sentence: Sentence, previous: tuple[_Subject, _Cue, int]
    ) -> list[_Attribution]:
        # A quotation that runs on into the next sentence is still the speaker's.
        subject, cue, at = previous
        if at != index - 1 or sentence.text[:1] not in _QUOTE_CHARS:
            return []
        carried = _Subject(subject.actor, subject.person, subject.alias, True)
        return [_Attribution(cue, [carried], [(sentence.start, sentence.end)])]

    def _hits_in(self, ctx: _Context, start: int, end: int) -> list[TopicHit]:
        low = bisect.bisect_left(ctx.hit_starts, start)
        high = bisect.bisect_left(ctx.hit_starts, end)
        return ctx.hits[low:high]

    def _mentions_in(self, ctx: _Context, start: int, end: int) -> list[Mention]:
        low = bisect.bisect_left(ctx.mention_starts, start)
        high = bisect.bisect_left(ctx.mention_starts, end)
        return ctx.mentions[low:high]

    # --- attribution ----------------------------------------------------------

    def _attribute(self, ctx: _Context, index: int, sentence: Sentence) -> list[_Attribution]:
        text = ctx.text
        s_start, s_end = sentence.start, sentence.end
        if ctx.cue_starts is None:
            ctx.cue_starts = [position for position, _ in ctx.cue_found]
        cues = self._cues(
            text, ctx.low, s_start, s_end, ctx.cue_found, ctx.rx is _LOWERED, ctx.cue_starts
        )
        opener = _FOR_SPEAKER.match(sentence.text)
        if not cues and not sentence.headline and opener is None:
            return []  # nothing attributes anything here: the common case, kept cheap
        mentions = [m for m in self._mentions_in(ctx, s_start, s_end) if m.actor]
        quotes = _quote_spans(text, s_start, s_end)
        asides = [(m.start() + s_start, m.end() + s_start) for m in _ASIDE.finditer(sentence.text)]
        attributions: list[_Attribution] = []
        if sentence.headline:
            headline = self._headline(ctx, sentence, mentions)
            if headline is not None:
                attributions.append(headline)
        if opener is not None and mentions and mentions[0].start - s_start <= opener.end() + 30:
            named = mentions[0]
            if text[named.end : named.end + 1] == "," or text[named.end : named.end + 3] in (
                "'s,",
                "’s,",
            ):
                cues.insert(
                    0,
                    _Cue(
                        s_start,
                        s_start + opener.end(),
                        opener.group().strip(),
                        CueKind.ACCORDING,
                        0,
                        False,
                    ),
                )
        for cue in cues:
            subjects = self._subjects(
                ctx, index, sentence, cue, mentions, quotes, asides, attributions
            )
            if not subjects:
                continue
            attributions.append(_Attribution(cue, subjects))
        self._assign_spans(ctx, sentence, attributions, asides)
        kept = [a for a in attributions if a.cue.kind is not CueKind.NULL]
        if kept:
            # The sentence's last speaker is the one a later "he" refers to.
            ctx.last_subject = (kept[-1].subjects[0], index)
        return kept

    def _cues(
        self,
        text: str,
        low: str,
        start: int,
        end: int,
        found: list[tuple[int, tuple[int, ...]]],
        plain: bool,
        starts: list[int],
    ) -> list[_Cue]:
        cues: list[_Cue] = []
        for match in FINDER.find(text, low, start, end, found, plain, starts):
            kind = match.kind
            cue_start = match.start
            before = text[start if start > cue_start - 40 else cue_start - 40 : cue_start]
            words = _CLAUSE_PUNCTUATION.split(before)[-1].split()[-3:]
            if kind not in _NOT_NOUN_CHECKED:
                first = match.text.split(None, 1)[0].lower()
                if _noun_use(before, words, first) or _gerund_after_preposition(words, first):
                    # "its plans to", "the calls for": a noun, not a verb with a subject.
                    continue
                if (
                    kind in _ACTING
                    and words
                    and words[-1].lower() in _PASSIVE_AUXILIARIES
                    and first.endswith("ed")
                ):
                    continue  # "once a ceasefire is agreed": nobody acts here
                if kind in _ACTING and words and words[-1].lower() in _ABILITY_MODALS:
                    continue  # "any permanent member can block a resolution": a power, not an act
            negated = any(w.lower().replace("’", "'") in _NEGATION_WORDS for w in words) or (
                kind in _NEGATABLE and bool(_NEGATED_INSIDE.search(match.text))
            )
            cues.append(_Cue(cue_start, match.end, match.text, kind, match.polarity, negated))
        return cues

    def _headline(
        self, ctx: _Context, sentence: Sentence, mentions: list[Mention]
    ) -> _Attribution | None:
        # "Russia: no peacekeepers without UN mandate" and "... - Lavrov".
        if not mentions:
            return None
        colon = _HEADLINE_COLON.match(sentence.text)
        if colon is not None:
            colon_at = sentence.text.index(":") + sentence.start
            before = [m for m in mentions if m.end <= colon_at and not m.demoted]
            all_names = self._mentions_in(ctx, colon_at, sentence.end)
            opens_with_name = (
                bool(all_names) and not ctx.text[colon_at + 1 : all_names[0].start].strip()
            )
            # "Russia: no peacekeepers ..." names a speaker; "Ukraine war: ..." and
            # "Ukraine: General Assembly passes ..." only name a subject.
            if (
                before
                and _SPEAKER_BEFORE_COLON.fullmatch(ctx.text[before[-1].end : colon_at])
                and not opens_with_name
            ):
                m = before[-1]
                cue = _Cue(colon_at, colon_at + 1, ":", CueKind.SAY, 0, False)
                subject = self._subject_of(ctx, m, m.start)
                return _Attribution(cue, [subject], [(colon_at + 1, sentence.end)])
        dash = _HEADLINE_DASH.search(sentence.text)
        if dash is not None:
            dash_at = sentence.start + dash.start()
            after = [m for m in mentions if m.start >= dash_at]
            if after:
                cue = _Cue(
                    dash_at + 1, dash_at + 2, sentence.text[dash.start() + 1], CueKind.SAY, 0, False
                )
                subject = self._subject_of(ctx, _best_in_np(after), dash_at)
                return _Attribution(cue, [subject], [(sentence.start, dash_at)])
        return None

    def _subjects(
        self,
        ctx: _Context,
        index: int,
        sentence: Sentence,
        cue: _Cue,
        mentions: list[Mention],
        quotes: list[tuple[int, int]],
        asides: list[tuple[int, int]],
        earlier: list[_Attribution],
    ) -> list[_Subject]:
        text = ctx.text
        if cue.kind is CueKind.ACCORDING or cue.kind is CueKind.PASSIVE:
            np_end = _np_end(text, cue.end, sentence.end)
            after = [m for m in mentions if cue.end <= m.start < np_end and not m.non_speaker]
            if not after:
                return []
            subjects = [self._subject_of(ctx, _best_in_np(after), cue.end)]
            # "rejected by Berlin and Warsaw": every listed actor.
            for previous, mention in zip(after, after[1:], strict=False):
                if (
                    mention.actor not in {s.actor for s in subjects}
                    and mention.person is None
                    and _SEPARATOR.match(text[previous.end : mention.start])
                ):
                    subjects.append(self._subject_of(ctx, mention, mention.start))
            for subject in subjects:
                subject.np_start, subject.np_end = cue.start, np_end
            return subjects
        if cue.kind is CueKind.POSITION:
            owner = [m for m in mentions if m.end == cue.start or m.end + 1 == cue.start]
            if not owner:
                return []
            subject = self._subject_of(ctx, owner[-1], owner[-1].start)
            subject.np_start, subject.np_end = owner[-1].start, cue.start
            return [subject]
        cue_in_quote = _inside(cue.start, quotes)
        cue_aside = next((a for a in asides if a[0] <= cue.start < a[1]), None)
        before_text = text[sentence.start : cue.start]
        # A participle after a comma ("..., stating that") shares the main clause's subject.
        if (
            earlier
            and _PARTICIPLE.search(before_text)
            and cue.text.split(None, 1)[0].lower().endswith("ing")
        ):
            # Its claim is what follows it: the subject stands at the cue.
            return [
                _Subject(s.actor, s.person, s.alias, s.carried, cue.start, cue.start)
                for s in earlier[-1].subjects
            ]
        candidates = [
            m
            for m in mentions
            if m.end <= cue.start
            and not m.demoted
            and not m.non_speaker
            and _inside(m.start, quotes) == cue_in_quote
            and (
                cue_aside is not None
                and cue_aside[0] <= m.start
                or not asides
                or not any(a[0] <= m.start < a[1] for a in asides)
            )
        ]
        nearest = candidates[-1] if candidates else None
        if nearest is not None and any(
            m.non_speaker and nearest.end <= m.start < cue.start for m in mentions
        ):
            # "Washington - U.S. Democratic lawmakers criticized ...": the noun
            # next to the verb is its subject, and it is not the state.
            nearest = None
        if nearest is not None and cue.kind is CueKind.SAY:
            spoken = self._spokesman_of_subject(ctx, sentence, cue, mentions)
            if spoken:
                return spoken
        gap_start = nearest.end if nearest is not None else sentence.start
        if cue_aside is not None and nearest is None:
            gap_start = sentence.start
        gap = text[gap_start : cue.start]
        gap_clean = _remove_spans(gap, gap_start, asides if cue_aside is None else [])
        gap_words = set(gap_clean.lower().split())
        pronoun = _PRONOUN_SUBJECT.search(gap_clean) if gap_words & _PRONOUN_WORDS else None
        pronoun_at = gap_start + pronoun.start("pro") if pronoun is not None else -1
        if pronoun is None and _AND_BEFORE.search(gap_clean):
            # "he met with President Zelensky and suggested": the subject is the
            # clause's, not the object of the first verb.
            clause_from = _clause_start(text, sentence.start, cue.start)
            lead = _PRONOUN_LEAD.match(text, clause_from, cue.start)
            if lead is not None:
                pronoun, pronoun_at = lead, lead.start("pro")
            else:
                first = [m for m in candidates if m.start >= clause_from]
                if first and first[0] is not nearest:
                    nearest = first[0]
                    gap_clean = ""
        role = (
            _ROLE_SUBJECT.search(gap_clean)
            if pronoun is None and gap_words & _ROLE_OPENERS
            else None
        )
        if nearest is not None and pronoun is None and role is None:
            if len(gap_clean) <= _SUBJECT_GAP and not _breaks_subject(gap_clean):
                if ctx.rx.subordinate_before.search(
                    ctx.subject, max(sentence.start, nearest.start - 60), nearest.start
                ):
                    return []
                subject = self._subject_of(ctx, nearest, nearest.start)
                return self._coordinated(ctx, nearest, subject, candidates, cue.start)
        if pronoun is not None or role is not None:
            if pronoun is not None:
                at_pronoun = pronoun_at
                if ctx.rx.subordinate_before.search(
                    ctx.subject, max(sentence.start, at_pronoun - 60), at_pronoun
                ):
                    # "... when he commits to a truce": a supposition, not a statement.
                    return []
            resolved = self._resolve_reference(ctx, index, cue.start, pronoun, role, earlier)
            if resolved is None:
                return []
            # Where the pronoun or "the minister" stands: what comes before it
            # may be the claim ("..., the minister added").
            if pronoun is not None:
                resolved.np_start = pronoun_at
            elif role is not None:
                resolved.np_start = max(gap_start, gap_start + role.start("role") - 4)
            resolved.np_end = cue.start
            return [resolved]
        if cue.kind is CueKind.SAY:
            # `"...," said Lavrov` and `asked Rutte`: the speaker follows the verb.
            np_end = _np_end(text, cue.end, sentence.end)
            after = [
                m
                for m in mentions
                if cue.end <= m.start < min(np_end, cue.end + 60)
                and not m.non_speaker
                and not m.demoted
            ]
            if after and _right_np(text[cue.end : after[0].start]):
                subject = self._subject_of(ctx, _best_in_np(after), cue.end)
                subject.np_start, subject.np_end = cue.end, np_end
                return [subject]
        return []

    def _spokesman_of_subject(
        self, ctx: _Context, sentence: Sentence, cue: _Cue, mentions: list[Mention]
    ) -> list[_Subject]:
        """CONTENT, SPOKESMAN said: an official the config does not know speaks for the
        actor the content opens with ("Hungary will not send troops, Defence Minister
        Kristof Szalay-Bobrovniczky said"; "..., a government spokesman said").

        Only official titles count: "a Western diplomat" or "an analyst" may be talking
        about the actor, not for it.
        """
        text = ctx.text
        comma = text.rfind(",", sentence.start, cue.start)
        if comma < 0 or cue.start - comma > _SUBJECT_GAP:
            return []
        if not _SPOKESMAN.fullmatch(text, comma, cue.start):
            return []
        if self._mentions_in(ctx, comma, cue.start):
            return []  # a named actor in the title is the ordinary case, handled before
        first = next((m for m in mentions if m.start >= sentence.start), None)
        if (
            first is None
            or first.end > comma
            or text[sentence.start : first.start].strip(_OPENING_CHARS)
            or first.possessive
            or first.demoted
            or first.non_speaker
        ):
            return []
        subject = _Subject(first.actor, None, first.text, False)
        subject.np_start, subject.np_end = comma + 1, cue.start
        return [subject]

    def _subject_of(self, ctx: _Context, mention: Mention, np_from: int) -> _Subject:
        """The speaker a mention stands for, resolving "the Ukrainian leader" to a person."""
        person = None if mention.office else mention.person
        carried = False
        if person is None and mention.role and not mention.office:
            person = self._person_by_role(ctx, mention.actor, mention.role, mention.start)
            carried = person is not None
        subject = _Subject(mention.actor, person, mention.text, carried)
        subject.np_start = _np_start(ctx.text, min(np_from, mention.start))
        subject.np_end = mention.end
        return subject

    def _person_by_role(
        self, ctx: _Context, actor: str | None, role: str, before: int
    ) -> PersonSpec | None:
        groups = role_groups(role)
        if not groups:
            return None
        low = bisect.bisect_left(ctx.mention_starts, before)
        for mention in reversed(ctx.mentions[:low]):
            person = mention.person
            if person is None or mention.office:
                continue
            if actor is not None and mention.actor != actor:
                continue
            if groups & self._people_roles.get(id(person), frozenset()):
                return person
        return None

    def _resolve_reference(
        self,
        ctx: _Context,
        index: int,
        at: int,
        pronoun: re.Match[str] | None,
        role: re.Match[str] | None,
        earlier: list[_Attribution],
    ) -> _Subject | None:
        recent: _Subject | None = None
        if earlier and earlier[-1].subjects:
            recent = earlier[-1].subjects[0]
        elif ctx.last_subject is not None and index - ctx.last_subject[1] <= CARRY_SENTENCES:
            recent = ctx.last_subject[0]
        if role is not None:
            person = self._person_by_role(ctx, None, role.group("role"), at)
            if person is not None:
                actor = next(a for a, p in self._aliases.people if p is person)
                return _Subject(actor, person, role.group().strip(), True)
            if recent is not None:
                groups = role_groups(role.group("role"))
                person_groups = (
                    self._people_roles.get(id(recent.person), frozenset())
                    if recent.person is not None
                    else frozenset()
                )
                if recent.person is None or not groups or groups & person_groups:
                    return _Subject(recent.actor, recent.person, role.group().strip(), True)
            return None
        if pronoun is None:
            return None
        if recent is None:
            # No speaker yet: "Orban visited Kyiv, where he ... suggested" - the
            # pronoun is the person the sentence (or the one before) is about.
            person_mention = self._recent_person(ctx, index, at)
            if person_mention is None:
                return None
            recent = self._subject_of(ctx, person_mention, person_mention.start)
        word = pronoun.group("pro").lower()
        person = recent.person if word in ("he", "she") else None
        if word in ("he", "she") and recent.person is None and recent.alias[:1].isupper() is False:
            return None
        return _Subject(recent.actor, person, pronoun.group("pro"), True)

    def _recent_person(self, ctx: _Context, index: int, at: int) -> Mention | None:
        sentence = ctx.sentences[index]
        here = [
            m
            for m in self._mentions_in(ctx, sentence.start, at)
            if m.person is not None and not m.office and not m.demoted
        ]
        if here:
            return here[0]
        if index == 0:
            return None
        previous = ctx.sentences[index - 1]
        there = [
            m
            for m in self._mentions_in(ctx, previous.start, previous.end)
            if m.person is not None and not m.office and not m.demoted
        ]
        return there[0] if there else None

    def _coordinated(
        self,
        ctx: _Context,
        nearest: Mention,
        subject: _Subject,
        candidates: list[Mention],
        cue_start: int,
    ) -> list[_Subject]:
        # "Germany, Italy and Poland have ruled out ...": every listed actor.
        subjects = [subject]
        right = nearest
        # "Germany, Italy, Poland, Spain, and Croatia": the "and" may come after
        # the last listed actor.
        after_list = ctx.text[nearest.end : cue_start]
        joined = " and " in after_list or "&" in after_list
        for mention in reversed(candidates[:-1]):
            between = ctx.text[mention.end : right.start]
            if mention.possessive or not _SEPARATOR.match(between):
                break
            # A list ends in "and": "Moscow, Sybiha said" is a claim and its speaker.
            joined = joined or "&" in between or " and " in f" {between} "
            if mention.actor not in {s.actor for s in subjects}:
                subjects.append(self._subject_of(ctx, mention, mention.start))
            right = mention
        if not joined:
            subjects = subjects[:1]
        first = min(s.np_start for s in subjects)
        for s in subjects:
            s.np_start = first
        return subjects

    # --- what each attribution claims -----------------------------------------

    def _assign_spans(
        self,
        ctx: _Context,
        sentence: Sentence,
        attributions: list[_Attribution],
        asides: list[tuple[int, int]],
    ) -> None:
        text = ctx.text
        ordered = (
            sorted(range(len(attributions)), key=lambda i: attributions[i].cue.start)
            if len(attributions) > 1
            else [0] * len(attributions)
        )
        for position, i in enumerate(ordered):
            attribution = attributions[i]
            if attribution.spans:
                continue
            cue = attribution.cue
            subject = attribution.subjects[0]
            np_start = subject.np_start if subject.np_start else cue.start
            aside = next((a for a in asides if a[0] <= cue.start < a[1]), None) if asides else None
            next_start = sentence.end
            for j in ordered[position + 1 :]:
                other = attributions[j]
                other_start = other.subjects[0].np_start or other.cue.start
                if other_start > cue.end and not _same_subject(other.subjects[0], subject):
                    next_start = min(next_start, other_start)
                    break
            # What another actor was reported to say earlier in the sentence is
            # theirs: a later "..., Zelensky said" does not take it over.
            before_start = sentence.start
            for j in ordered[:position]:
                other = attributions[j]
                if other.subjects[0].actor != subject.actor and other.spans:
                    before_start = max(before_start, min(other.spans[-1][1], np_start))
            if aside is not None:
                spans = [(cue.start, min(aside[1], next_start))]
            elif cue.kind is CueKind.PASSIVE:
                # What was ruled out stands before the verb, whoever spoke there.
                spans = [(sentence.start, cue.end)]
            elif cue.kind is CueKind.ACCORDING:
                if (
                    text[before_start : cue.start].strip(' ,"“”') == ""
                    or cue.start - sentence.start < 3
                ):
                    spans = [(subject.np_end, next_start)]
                else:
                    spans = [(before_start, cue.start)]
            elif np_start == cue.start == subject.np_end:
                spans = [(cue.start, next_start)]  # a participle: "..., calling for ..."
            elif np_start <= cue.start and self._content_before(
                ctx, before_start, np_start, cue, next_start
            ):
                spans = [(before_start, np_start), (cue.start, cue.end)]
                tail = _TRAILING_BUT.match(text, cue.end, next_start)
                if tail is not None:
                    spans.append((tail.start(1), next_start))
            elif np_start >= cue.end:
                # `"...," said Lavrov`: the claim is what came before.
                spans = [(before_start, cue.start)]
            else:
                spans = [(cue.start, next_start)]
            if aside is None:
                spans = _subtract(spans, asides)
            if cue.kind is CueKind.FORMAL:
                # "vetoed a resolution that would have demanded a ceasefire": what
                # the resolution said is not the vetoing actor's position.
                spans = _cut_relative(text, spans, cue.end)
            attribution.spans = _cut_commentary(text, spans)

    def _content_before(
        self, ctx: _Context, before_start: int, np_start: int, cue: _Cue, next_start: int
    ) -> bool:
        """CONTENT, SPEAKER CUE: the claim comes before its speaker."""
        text = ctx.text
        before = text[before_start:np_start].rstrip()
        if len(before) < 12:
            return False
        if before.endswith(_CLOSING_QUOTE_ENDS[1:]):
            return True
        after = text[cue.end : next_start]
        if before.endswith(","):
            # "Last week, Macron insisted that ..." opens with an adverbial; the
            # claim is then after the cue, where the topic words are. But
            # "..., Hegseth said, but ..." goes on with the same claim.
            if _TRAILING_BUT.match(text, cue.end, next_start) or _GOES_ON.match(
                text, cue.end, next_start
            ):
                return True
            if not self._hits_in(ctx, cue.end, next_start):
                return True
            # "Beijing opposes sanctions, X said on Friday, after the U.S. added
            # ...": topic words on both sides, and what follows the cue is
            # no content clause ("that ...", a colon, a quotation): the claim
            # is the clause before.
            return bool(self._hits_in(ctx, before_start, np_start)) and not _CONTENT_AFTER.match(
                text, cue.end, next_start
            )
        # "an idea that Russia vehemently opposes." - the object comes before.
        return bool(_ENDS_WITH_THAT.search(before)) and len(after.strip(" .,;").split()) <= 2

    def _emit(
        self,
        ctx: _Context,
        index: int,
        sentence: Sentence,
        attribution: _Attribution,
        results: dict[tuple[str, str, int], Extraction],
    ) -> None:
        text = ctx.text
        spans = attribution.spans
        if not spans:
            return
        claim_text = " ".join(text[a:b] for a, b in spans)
        if "?" in claim_text:
            # A question states nothing; a "?" inside a quoted question still is
            # one. The claim is the spans joined by spaces: a "?" in it is one in
            # a span.
            return
        topic_hits: dict[str, list[TopicHit]] = {}
        for a, b in spans:
            for hit in self._hits_in(ctx, a, b):
                if hit.end <= b and not ctx.rx.temporal_before.search(
                    ctx.subject[max(a, hit.start - 60) : hit.start]
                ):
                    topic_hits.setdefault(hit.topic, []).append(hit)
        if topic_hits:
            ctx.sentence_topics.setdefault(index, []).extend(
                h for hs in topic_hits.values() for h in hs
            )
        inherited = False
        if not topic_hits:
            inherited_hits = self._anaphora(ctx, index, sentence, spans)
            if not inherited_hits:
                return
            topic_hits = inherited_hits
            inherited = True
        # The claim for stance: the spans, joined, with positions mapped.
        offsets: list[tuple[int, int, int]] = []
        cursor = 0
        for a, b in spans:
            offsets.append((a, b, cursor))
            cursor += b - a + 1
        claim = claim_text  # the spans joined by spaces, as above
        cue = attribution.cue
        cue_info = CueInfo(cue.kind, cue.polarity, cue.negated, cue.text)
        for topic, hits in topic_hits.items():
            if inherited:
                local = []
                anchor = ctx.rx.anaphora.search(" ".join(ctx.subject[a:b] for a, b in spans))
                if anchor is not None:
                    local = [(anchor.start(), anchor.end())]
            else:
                local = [_map(offsets, h.start, h.end) for h in hits]
            verdict = judge(claim, local, cue_info)
            if verdict is None:
                continue
            words = tuple(dict.fromkeys(h.words for h in hits))
            condition = verdict.condition
            if condition is not None and condition.endswith(cue.text) and len(spans) > 1:
                # "CONTENT, SPEAKER said": the claim runs on into the cue; the
                # condition is the content's.
                condition = condition[: -len(cue.text)].rstrip(" ,") or None
            for subject in attribution.subjects:
                key = (subject.actor, topic, index)
                found = Extraction(
                    actor=subject.actor,
                    speaker=subject.person.name if subject.person is not None else None,
                    topic=topic,
                    stance=verdict.stance,
                    claim=sentence.text,
                    cue=cue.text.strip(),
                    alias=subject.alias,
                    topic_words=words,
                    condition=condition,
                    carried=subject.carried,
                )
                existing = results.get(key)
                if existing is None:
                    results[key] = found
                elif existing.speaker is None and found.speaker is not None:
                    # A named speaker's cue is the attribution proper; what an
                    # earlier cue in the same sentence read ("Russia is ready",
                    # inside Peskov's quote) was part of it.
                    results[key] = found

    def _anaphora(
        self, ctx: _Context, index: int, sentence: Sentence, spans: list[tuple[int, int]]
    ) -> dict[str, list[TopicHit]]:
        # "Kiev rejected the initiative": the topic is the previous sentence's.
        claim = " ".join(ctx.subject[a:b] for a, b in spans)
        if not ctx.rx.anaphora.search(claim):
            return {}
        for back in (index - 1, index):
            hits = ctx.sentence_topics.get(back)
            if hits is None and back >= 0 and back != index:
                previous = ctx.sentences[back]
                hits = self._hits_in(ctx, previous.start, previous.end)
            if hits:
                inherited: dict[str, list[TopicHit]] = {}
                for hit in hits:
                    inherited.setdefault(hit.topic, []).append(hit)
                return inherited
        return {}


# --- helpers -------------------------------------------------------------------

_SUBJECT_BREAK = compile_kept(r"[;:?!]|[”\"]\s*\w|\bthat\s+\w+\s+\w+")
_NP_STOP = compile_kept(r"[,;:.!?\"“”]|\s(?:that|who|which|on|in|at|as|said|says)\s")


def _words(text: str) -> AbstractSet[str]:
    # Only ever compared with the three word sets: the others are not kept.
    if text.isascii():
        # An ASCII text's words are its runs of [A-Za-z0-9_-]: one C pass of
        # `bytes.translate` lower-cases them and blanks everything else, and
        # `split` cuts at the blanks. Half the cost of the regex, which tries
        # a match at every character between words.
        return _KEY_SET.intersection(text.encode().translate(_ASCII_WORDS).decode().split())
    # The character before each word is consumed rather than looked behind
    # at, and a space stands in for the start: a pattern that opens with a
    # character class lets the engine skip through the sentence in C
    # instead of trying the lookbehind at every character (a third as long).
    return set(_KEY_WORDS.findall(" " + text.lower()))


def _points_back(ctx: _Context, sentence: Sentence, words: AbstractSet[str]) -> bool:
    """ "Kiev rejected the initiative": a noun phrase standing for an earlier topic."""
    return not _ANAPHORA_HEADS.isdisjoint(words) and bool(
        ctx.rx.anaphora.search(ctx.subject[sentence.start : sentence.end])
    )


def _refers_back(ctx: _Context, sentence: Sentence, words: AbstractSet[str]) -> bool:
    """ "He warned", "the minister added": a subject standing for an earlier speaker."""
    if not _CARRY_PRONOUNS.isdisjoint(words):
        return True
    return not _ROLE_HEADS.isdisjoint(words) and bool(
        ctx.rx.carry_hint.search(ctx.subject[sentence.start : sentence.end])
    )


def _join(title: str, text: str) -> str:
    title = title[:500].strip()
    text = text[:MAX_CHARS]
    return f"{title}\n\n{text}" if title else text


def _quote_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    open_at: int | None = None
    for match in _QUOTE_CHAR.finditer(text, start, end):
        char = match.group()
        at = match.start()
        if char in "“«":
            open_at = at
        elif char in "”»":
            if open_at is not None:
                spans.append((open_at, at + 1))
                open_at = None
        elif open_at is None:
            open_at = at
        else:
            spans.append((open_at, at + 1))
            open_at = None
    return spans


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return bool(spans) and any(a <= position < b for a, b in spans)


def _remove_spans(gap: str, offset: int, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return gap
    chars = list(gap)
    for a, b in spans:
        for i in range(max(a, offset), min(b, offset + len(gap))):
            chars[i - offset] = ""
    return "".join(chars)


def _clause_start(text: str, start: int, end: int) -> int:
    found = start
    for match in _CLAUSE_OPENER.finditer(text, start, end):
        found = match.end()
    return found


def _breaks_subject(gap: str) -> bool:
    # A subject does not reach its verb across a semicolon, a closed quotation,
    # or a clause opened by "that" ("Russia insists that Kyiv ... rejected").
    return bool(_SUBJECT_BREAK.search(gap))


def _gerund_after_preposition(words: list[str], first: str) -> bool:
    """ "criticised Trump for not imposing sanctions": a gerund, not the subject's act.

    `first` is the cue's first word, lower-cased.
    """
    if not first.endswith("ing"):
        return False
    for word in reversed(words):
        bare = word.lower()
        if bare in _GERUND_PREPOSITIONS:
            return True
        if bare not in ("not", "never") and not bare.endswith("ly"):
            return False
    return False


def _noun_use(before: str, words: list[str], first: str) -> bool:
    """Whether a cue word is used as a noun: "its calls for", "Russia's demands".

    `first` is the cue's first word, lower-cased.
    """
    if not words or not before[-1:].isspace():
        return False
    last = words[-1].lower()
    if first.endswith("ed") and last in _DETERMINERS:
        return True  # "the proposed ceasefire", "the imposed sanctions"
    if first not in _NOUNISH_CUES:
        return False
    if last in _DETERMINERS or last.endswith(("'s", "’s")):
        return True
    if len(words) >= 2 and words[-2].lower() in _BEFORE_NAMED_NOUN and words[-1][:1].isupper():
        return True  # "lacking any UN backing", "with US support"
    return (
        len(words) >= 2
        and words[-2].lower() in _DETERMINERS
        and last.isalpha()
        and last.islower()
        and last not in _NP_LOWER_OK
    )


def _np_start(text: str, start: int) -> int:
    # Walk left over title words: "Prime Minister Donald Tusk", "the NATO Secretary General".
    position = start
    while position > 0:
        window = text[position - 40 if position > 40 else 0 : position]
        stripped = window.rstrip()
        if not stripped:
            break
        cut = stripped.rfind(" ")
        word = stripped[cut + 1 :]
        if "\n" in word or "\t" in word:
            # A line break or tab after the last space: the word starts after it.
            cut = max(cut, stripped.rfind("\n"), stripped.rfind("\t"))
            word = stripped[cut + 1 :]
        # `word` is not empty: `stripped` ends with a character that is not a
        # space. A word with a comma in it fails the pattern.
        if not _NP_TOKEN.fullmatch(word):
            break
        if word[0].isupper():
            position = position - len(window) + cut + 1
            continue
        bare = word.lower()
        if bare in _NP_LOWER_OK or bare.endswith(("'s", "’s")):
            position = position - len(window) + cut + 1
            continue
        break
    return position


def _np_end(text: str, start: int, limit: int) -> int:
    match = _NP_STOP.search(text, start, limit)
    return match.start() if match is not None else limit


def _right_np(between: str) -> bool:
    # What may stand between "said" and the speaker's name: titles and demonyms.
    words = between.split()
    return len(words) <= 5 and all(w[:1].isupper() or w.lower() in _NP_LOWER_OK for w in words)


def _best_in_np(mentions: list[Mention]) -> Mention:
    # In "Moscow's UN ambassador Vassily Nebenzia" the person is the speaker.
    people = [m for m in mentions if m.person is not None and not m.office]
    if people:
        return people[0]
    return mentions[0]


def _same_subject(a: _Subject, b: _Subject) -> bool:
    return a.actor == b.actor and (a.person is None or b.person is None or a.person is b.person)


def _subtract(spans: list[tuple[int, int]], holes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    if not holes:
        return [span for span in spans if span[1] > span[0]]
    result: list[tuple[int, int]] = []
    for a, b in spans:
        pieces = [(a, b)]
        for h_start, h_end in holes:
            next_pieces: list[tuple[int, int]] = []
            for p_start, p_end in pieces:
                if h_end <= p_start or h_start >= p_end:
                    next_pieces.append((p_start, p_end))
                    continue
                if p_start < h_start:
                    next_pieces.append((p_start, h_start))
                if h_end < p_end:
                    next_pieces.append((h_end, p_end))
            pieces = next_pieces
        result.extend(p for p in pieces if p[1] > p[0])
    return result


def _cut_relative(text: str, spans: list[tuple[int, int]], after: int) -> list[tuple[int, int]]:
    result: list[tuple[int, int]] = []
    for a, b in spans:
        match = _RELATIVE.search(text, max(a, after), b) if b > after else None
        result.append((a, match.start()) if match is not None else (a, b))
    return [s for s in result if s[1] > s[0]]


def _cut_commentary(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    result: list[tuple[int, int]] = []
    for a, b in spans:
        match = _COMMENTARY.search(text, a, b)
        result.append((a, match.start()) if match is not None else (a, b))
    return [s for s in result if s[1] > s[0]]


def _map(offsets: list[tuple[int, int, int]], start: int, end: int) -> tuple[int, int]:
    for a, b, at in offsets:
        if a <= start < b:
            return at + start - a, at + min(end, b) - a
    return 0, 0
