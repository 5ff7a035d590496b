"""The records that cross a boundary: config specs, feeds, items, statements.

Every record is a frozen, slotted dataclass holding tuples for sequences, so
it can be shared between the poll round, the store and the TUI without anyone
mutating it under the others. Datetimes are timezone-aware UTC; `store/`
owns their conversion to and from JSON.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

_Record = TypeVar("_Record")


def _pickled_as_arguments(cls: type[_Record]) -> type[_Record]:
    """Pickle a frozen slotted dataclass as its constructor's arguments.

    Items and statements cross the parse pool's pipe by the thousand. The
    state methods dataclasses gives a frozen slotted class call `fields()`
    for every object, both ways: ~7 of the ~9.5 us each object cost to
    pickle, and again to unpickle. Here one C call reads the values and the
    class's own `__init__` sets them. Only for classes whose fields are all
    `__init__` arguments, in order.
    """
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    assert all(f.init for f in fields(cls)) and len(names) > 1  # type: ignore[arg-type]
    values: Callable[[Any], tuple[Any, ...]] = operator.attrgetter(*names)

    def __reduce__(self: _Record) -> tuple[type[_Record], tuple[Any, ...]]:  # noqa: N807
        return cls, values(self)

    cls.__reduce__ = __reduce__  # type: ignore[assignment,method-assign]
    return cls


class Stance(StrEnum):
    """What an actor's statement says about a topic."""

    SUPPORTS = "supports"
    OPPOSES = "opposes"
    CONDITIONAL = "conditional"
    NEUTRAL = "neutral"


class Outcome(StrEnum):
    """How the last fetch of a feed ended."""

    NEW = "new"
    """Never polled yet."""
    OK = "ok"
    NOT_MODIFIED = "not-modified"
    ERROR = "error"


# --- config specs -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonSpec:
    """A named person who speaks for an actor."""

    name: str
    """Canonical full name, as shown: "Vassily Nebenzia"."""
    aliases: tuple[str, ...] = ()
    """Other spellings and the surname alone: "Nebenzya", "Nebenzia"."""
    role: str = ""
    """What they are, for display and for "the envoy"-style later mentions."""


@dataclass(frozen=True, slots=True)
class ActorSpec:
    """A state or organisation whose stated positions are tracked."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    """Names, capitals, demonyms, institutions: "Moscow", "the Kremlin"."""
    people: tuple[PersonSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A question on which actors state positions."""

    id: str
    name: str
    keywords: tuple[str, ...] = ()
    """Words or phrases matched case-insensitively on word boundaries."""
    patterns: tuple[str, ...] = ()
    """Regular expressions matched case-insensitively."""
    exclude: tuple[str, ...] = ()
    """Regular expressions for the topic words in other senses ("peace prize")."""


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """A feed as the user configured it."""

    url: str
    """http(s) URL, or a local file path the user configured."""
    name: str = ""
    interval: float = 1800.0
    """Seconds between polls."""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Settings:
    """Knobs of the poll loop; every one has a sensible default."""

    interval: float = 1800.0
    """Default seconds between polls of one feed."""
    concurrency: int = 8
    """Fetches in flight at once, across all hosts."""
    per_host: int = 2
    """Fetches in flight at once to one host."""
    timeout: float = 30.0
    """Whole-fetch deadline per feed, in seconds."""
    max_body_bytes: int = 10 * 1024 * 1024
    """Largest body accepted, counted after decompression."""
    retain_days: int = 180
    """Items older than this with no statement are retired from the store."""


# --- feeds, items, statements ------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the store knows about one feed. Datetimes are aware UTC."""

    url: str
    title: str = ""
    etag: str | None = None
    last_modified: str | None = None
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    """The last failure in words, cleared by the next success."""
    failures: int = 0
    """Consecutive failures; drives the backoff."""
    next_poll: datetime | None = None
    """None means as soon as possible (a feed just added)."""
    outcome: Outcome = Outcome.NEW
    new_items: int = 0
    """Items first seen in the last successful round."""
    seen_items: int = 0
    """Items in the last fetched document that were already stored."""
    total_items: int = 0


@_pickled_as_arguments
@dataclass(frozen=True, slots=True)
class Item:
    """One entry of a feed, cleaned. Datetimes are aware UTC."""

    id: str
    feed_url: str
    link: str
    title: str
    summary: str
    """Plain text: HTML removed, entities decoded, whitespace folded."""
    published: datetime
    fetched: datetime
    source: str = ""
    """The outlet: the feed's title, else the configured name, else its host."""
    topics: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    content_hash: str = ""
    """Hash of title, link and summary: a reused guid with new text shows here."""


@dataclass(frozen=True, slots=True)
class Extraction:
    """One statement as the extractor found it in a text, before it has an item."""

    actor: str
    speaker: str | None
    topic: str
    stance: Stance
    claim: str
    """The sentence or reported clause that states the position."""
    cue: str
    """The words that attributed it: "said", "according to", "warned"."""
    alias: str = ""
    """The words that named the actor or speaker in the text."""
    topic_words: tuple[str, ...] = ()
    condition: str | None = None
    """For a conditional stance, the condition as written."""
    carried: bool = False
    """The speaker was carried over from an earlier sentence ("He warned")."""


@_pickled_as_arguments
@dataclass(frozen=True, slots=True)
class Statement:
    """A position stated by an actor on a topic, as reported in an item."""

    id: str
    item_id: str
    actor: str
    speaker: str | None
    topic: str
    stance: Stance
    claim: str
    cue: str
    published: datetime
    source: str
    """The outlet that reported it."""
    link: str = ""
    alias: str = ""
    topic_words: tuple[str, ...] = ()
    condition: str | None = None
    carried: bool = False
    ordinal: int = 0
    """Where the claim stands among its item's statements (0 = first). Of
    statements published at the same moment, the earliest in the text (the
    item's lead) is the latest position, so the answer never depends on ids."""

    @classmethod
    def from_extraction(cls, found: Extraction, item: Item, ordinal: int = 0) -> Statement:
        """Give an extraction its place: the item it came from, its order there, a stable id."""
        return cls(
            id=stable_id("statement", item.id, found.actor, found.topic, found.claim),
            item_id=item.id,
            actor=found.actor,
            speaker=found.speaker,
            topic=found.topic,
            stance=found.stance,
            claim=found.claim,
            cue=found.cue,
            published=item.published,
            source=item.source,
            link=item.link,
            alias=found.alias,
            topic_words=found.topic_words,
            condition=found.condition,
            carried=found.carried,
            ordinal=ordinal,
        )


@dataclass(frozen=True, slots=True)
class Position:
    """The latest statement of an actor on a topic, and whether it moved."""

    statement: Statement
    previous: Statement | None = None
    changed: bool = False
    """The stance differs from the previous statement's."""
    count: int = 1
    """Statements on record for this (actor, topic)."""


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one fetch of a feed gave: a body, "not modified", or an error."""

    url: str
    status: int | None = None
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    error: str | None = None
    """One line saying what went wrong, for the feeds screen."""
    retry_after: float | None = None
    """Seconds the server asked us to wait (429/503 Retry-After)."""
    final_url: str = ""
    elapsed: float = 0.0


@_pickled_as_arguments
@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed document parsed into cleaned entries (no ids for the store yet)."""

    title: str = ""
    entries: tuple[ParsedEntry, ...] = ()
    warning: str | None = None
    """A recoverable problem (ill-formed XML that still gave entries)."""
    error: str | None = None
    """Set when the document gave nothing usable."""


@_pickled_as_arguments
@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """One entry of a parsed feed: cleaned text, dates in UTC."""

    guid: str | None
    link: str
    title: str
    summary: str
    published: datetime | None
    """None when the feed gave no usable date; the poll round uses fetch time."""
    extra: tuple[tuple[str, str], ...] = field(default=())


ID_SCHEME = "v1"


def stable_id(kind: str, *parts: str) -> str:
    """A deterministic id: sha256 over a versioned, unambiguous join of parts.

    Python's `hash()` is salted per process, so it would duplicate everything
    on the next run; sha256 of a canonical string is the same everywhere.

    Args:
        kind: what is identified ("item", "statement"), so ids never collide across kinds.
        parts: the identifying strings, in a fixed order.

    Returns:
        24 hex digits (96 bits): short for the screen, ample against collisions.
    """
    canonical = "\x1f".join((ID_SCHEME, kind, *parts))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:24]
