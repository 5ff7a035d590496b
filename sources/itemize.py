"""A parsed feed to items and statements: ids, content hashes, tags, extraction.

This is the CPU-heavy half of a feed's work after the fetch, and it needs
nothing from the round but the feed's spec, the ids and hashes of the items
already stored, and an extractor. So the parse workers run it right after
parsing (`ParsePool.parse_items`): both cores share parsing and extraction,
and the process that runs the event loop only fetches and commits.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from sources.records import (
    ActorSpec,
    Extraction,
    FeedSpec,
    Item,
    ParsedEntry,
    ParsedFeed,
    Statement,
    TopicSpec,
    stable_id,
)

__all__ = [
    "AnalysisSpecs",
    "Analyser",
    "FeedItems",
    "content_hash",
    "item_from_entry",
    "item_id",
    "itemize",
    "outlet_name",
]


class Analyser(Protocol):
    """What itemizing needs of the extractor: tags and statements from one scan."""

    def analyse(
        self, text: str, *, title: str = ""
    ) -> tuple[tuple[str, ...], tuple[str, ...], list[Extraction]]:
        """(actor ids, topic ids, extractions) of the text; never raises."""
        ...


@dataclass(frozen=True, slots=True)
class AnalysisSpecs:
    """The actors and topics an extractor is built from, ready to send to a worker.

    A worker keeps the extractor it built for a `key` and builds a new one
    only when the key changes (the config was edited), since building one
    costs 70-300 ms and a round sends hundreds of feeds.
    """

    key: str
    """A digest of `blob`: equal specs give equal keys."""
    blob: bytes
    """`pickle` of (actors, topics)."""

    @classmethod
    def of(cls, actors: Sequence[ActorSpec], topics: Sequence[TopicSpec]) -> AnalysisSpecs:
        """Pack the specs of a config.

        Args:
            actors: the config's actors.
            topics: the config's topics.
        """
        blob = pickle.dumps((tuple(actors), tuple(topics)), protocol=pickle.HIGHEST_PROTOCOL)
        return cls(hashlib.sha256(blob).hexdigest(), blob)

    def specs(self) -> tuple[tuple[ActorSpec, ...], tuple[TopicSpec, ...]]:
        """The actors and topics again."""
        actors, topics = pickle.loads(self.blob)  # noqa: S301 - our own bytes, from our parent
        return actors, topics


@dataclass(frozen=True, slots=True)
class FeedItems:
    """What one fetched document gave: its new and changed items and their statements."""

    title: str = ""
    """The feed's own title, as parsed."""
    warning: str | None = None
    """The parse warning, if the document was ill-formed but gave entries."""
    error: str | None = None
    """Set when the document gave nothing usable (then everything else is empty)."""
    items: tuple[Item, ...] = ()
    """New items and items whose content changed under the same id."""
    statements: tuple[Statement, ...] = ()
    replaced: tuple[str, ...] = ()
    """Ids among `items` that were stored before with other content."""
    seen: int = 0
    """Entries already stored with the same content."""


def outlet_name(spec: FeedSpec, feed_title: str) -> str:
    """The name items of a feed are credited to: configured name, feed title, else host."""
    if spec.name:
        return spec.name
    if feed_title:
        return feed_title
    host = urlsplit(spec.url).hostname
    return host or spec.url.rsplit("/", 1)[-1]


def item_id(feed_url: str, entry: ParsedEntry) -> str:
    """A stable id scoped to the feed: from the guid, else the link, else the content."""
    if entry.guid:
        return stable_id("item", feed_url, "guid", entry.guid)
    if entry.link:
        return stable_id("item", feed_url, "link", entry.link)
    return stable_id("item", feed_url, "content", entry.title, entry.summary)


def content_hash(entry: ParsedEntry) -> str:
    """What changes when a publisher edits an entry under the same guid."""
    canonical = "\x1f".join((entry.title, entry.link, entry.summary))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def item_from_entry(
    feed_url: str,
    identifier: str,
    entry: ParsedEntry,
    *,
    source: str,
    now: datetime,
    analyser: Analyser,
    digest: str | None = None,
) -> tuple[Item, list[Statement]]:
    """The stored item for a parsed entry, tagged, with the statements it reports.

    An entry without a usable date is dated by when it was fetched. Only an
    item that names both an actor and a topic can state a position, so the
    statements of any other item are dropped.
    """
    actors, topics, found = analyser.analyse(entry.summary, title=entry.title)
    item = Item(
        id=identifier,
        feed_url=feed_url,
        link=entry.link,
        title=entry.title,
        summary=entry.summary,
        published=entry.published or now,
        fetched=now,
        source=source,
        topics=topics,
        actors=actors,
        content_hash=digest or content_hash(entry),
    )
    if not (actors and topics):
        return item, []
    return item, [
        Statement.from_extraction(extraction, item, ordinal)
        for ordinal, extraction in enumerate(found)
    ]


def itemize(
    spec: FeedSpec,
    parsed: ParsedFeed,
    known: Mapping[str, str],
    analyser: Analyser,
    now: datetime,
) -> FeedItems:
    """Turn a parsed document into the items and statements a round stores.

    Entries already stored with the same content are only counted; the same
    id twice in one document keeps the first.

    Args:
        spec: the feed.
        parsed: its parsed document (with `error` unset).
        known: id -> content hash of the feed's stored items.
        analyser: tags items and finds statements.
        now: the round's time.

    Returns:
        The new and changed items, their statements, and what was skipped.
    """
    source = outlet_name(spec, parsed.title)
    first_by_id: dict[str, ParsedEntry] = {}
    for entry in parsed.entries:
        first_by_id.setdefault(item_id(spec.url, entry), entry)
    items: list[Item] = []
    statements: list[Statement] = []
    replaced: list[str] = []
    seen = 0
    for identifier, entry in first_by_id.items():
        digest = content_hash(entry)
        previous = known.get(identifier)
        if previous == digest:
            seen += 1
            continue
        if previous is not None:
            replaced.append(identifier)
        item, found = item_from_entry(
            spec.url, identifier, entry, source=source, now=now, analyser=analyser, digest=digest
        )
        items.append(item)
        statements.extend(found)
    return FeedItems(
        title=parsed.title,
        warning=parsed.warning,
        items=tuple(items),
        statements=tuple(statements),
        replaced=tuple(replaced),
        seen=seen,
    )
