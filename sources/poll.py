"""One poll round: due feeds → fetch → parse → items → statements → one write.

The same `poll_round` runs under `asyncio.run` in the headless CLI and in a
Textual worker in the dashboard. It talks to storage only through the small
`RoundSink` protocol, which `store.Store` satisfies, so it never imports
`store/` (reader's core reaches storage the same way, through `StorageType`).
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from sources.config import Config
from sources.extraction import Extractor
from sources.fetch import Fetcher
from sources.parse import ParsePool
from sources.records import (
    ActorSpec,
    Extraction,
    FeedSpec,
    FeedState,
    FetchResult,
    Item,
    Outcome,
    ParsedEntry,
    ParsedFeed,
    Statement,
    TopicSpec,
    stable_id,
)

MAX_BACKOFF = timedelta(days=1)


class Analyser(Protocol):
    """What a round needs of the extractor: tagging and statements."""

    def tag(self, text: str, *, title: str = "") -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Actor ids and topic ids mentioned in the text."""
        ...

    def extract(self, text: str, *, title: str = "") -> list[Extraction]:
        """The statements the text reports."""
        ...


class LazyExtractor:
    """An `Extractor` built on first use.

    Compiling the alias and topic scanners takes 70-300 ms; a round where
    every feed answers 304 never needs them. Rounds run extraction in
    threads, so the first build is guarded by a lock.
    """

    def __init__(self, actors: Sequence[ActorSpec], topics: Sequence[TopicSpec]) -> None:
        self.actors = tuple(actors)
        self.topics = tuple(topics)
        self._built: Extractor | None = None
        self._lock = threading.Lock()

    def _get(self) -> Extractor:
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = Extractor(self.actors, self.topics)
        return self._built

    def tag(self, text: str, *, title: str = "") -> tuple[tuple[str, ...], tuple[str, ...]]:
        """See `Extractor.tag`."""
        return self._get().tag(text, title=title)

    def extract(self, text: str, *, title: str = "") -> list[Extraction]:
        """See `Extractor.extract`."""
        return self._get().extract(text, title=title)


class RoundSink(Protocol):
    """Where a round reads feed state from and writes its results to."""

    def feed_states(self) -> dict[str, FeedState]:
        """Every known feed's state, by URL."""
        ...

    def known_items(self, ids: Collection[str]) -> dict[str, str]:
        """For the ids already stored, their content hash."""
        ...

    def commit_round(
        self,
        feeds: Sequence[FeedState],
        items: Sequence[Item],
        statements: Sequence[Statement],
        *,
        now: datetime,
        retain_days: int | None = None,
        replaced_items: Sequence[str] = (),
    ) -> None:
        """Write the round's results at once."""
        ...


@dataclass(frozen=True, slots=True)
class FeedReport:
    """How one feed fared in a round, for the `poll` output and the status line."""

    url: str
    name: str
    outcome: Outcome
    new_items: int = 0
    updated_items: int = 0
    seen_items: int = 0
    statements: int = 0
    error: str | None = None
    warning: str | None = None
    elapsed: float = 0.0
    next_poll: datetime | None = None


@dataclass(frozen=True, slots=True)
class RoundReport:
    """What a round did; `feeds` is in config order."""

    started: datetime
    finished: datetime
    feeds: tuple[FeedReport, ...] = ()
    new_statements: tuple[Statement, ...] = ()

    @property
    def failed(self) -> int:
        """Feeds that ended in an error."""
        return sum(1 for f in self.feeds if f.outcome is Outcome.ERROR)

    @property
    def new_items(self) -> int:
        """Items stored for the first time."""
        return sum(f.new_items for f in self.feeds)


Progress = Callable[[FeedReport, int, int], None]
"""Called as each feed finishes: (its report, feeds done, feeds in the round)."""


@dataclass(slots=True)
class _FeedOutcome:
    spec: FeedSpec
    state: FeedState
    report: FeedReport
    items: list[Item] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)


def due_feeds(
    feeds: Sequence[FeedSpec],
    states: Mapping[str, FeedState],
    now: datetime,
    *,
    ignore_interval: bool = False,
) -> list[FeedSpec]:
    """The feeds to poll now: new ones (never polled) and those whose time has come.

    Args:
        feeds: the configured feeds.
        states: what the store knows of them, by URL.
        now: the round's clock.
        ignore_interval: also poll healthy feeds whose interval has not come
            round (a one-off `poll --once`); failing feeds still wait out
            their backoff, so a one-off run never hammers a broken server.
    """
    due = []
    for feed in feeds:
        state = states.get(feed.url)
        if (
            state is None
            or state.next_poll is None
            or state.next_poll <= now
            or (ignore_interval and state.failures == 0)
        ):
            due.append(feed)
    return due


def next_wakeup(
    feeds: Sequence[FeedSpec], states: Mapping[str, FeedState], now: datetime
) -> datetime:
    """When the next feed falls due (now, if one already is)."""
    times = []
    for feed in feeds:
        state = states.get(feed.url)
        if state is None or state.next_poll is None:
            return now
        times.append(state.next_poll)
    return max(now, min(times)) if times else now + timedelta(minutes=30)


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
    tagger: Analyser,
    digest: str | None = None,
) -> Item:
    """The stored item for a parsed entry, tagged with the actors and topics it mentions.

    An entry without a usable date is dated by when it was fetched.
    """
    actors, topics = tagger.tag(entry.summary, title=entry.title)
    return Item(
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


def backoff_until(
    spec: FeedSpec, failures: int, now: datetime, retry_after: float | None
) -> datetime:
    """When a failing feed is tried again.

    interval × failures, at most a day, and never before the server's Retry-After.
    """
    wait = min(timedelta(seconds=spec.interval) * max(1, failures), MAX_BACKOFF)
    if retry_after is not None:
        wait = max(wait, timedelta(seconds=min(retry_after, MAX_BACKOFF.total_seconds())))
    return now + wait


async def poll_round(
    config: Config,
    sink: RoundSink,
    *,
    fetcher: Fetcher,
    parser: ParsePool,
    extractor: Analyser,
    now: datetime | None = None,
    force: bool = False,
    ignore_interval: bool = False,
    only: Collection[str] | None = None,
    progress: Progress | None = None,
) -> RoundReport:
    """Poll the due feeds once and commit everything in one write.

    Each feed runs in its own task and every failure there becomes that feed's
    error, so a broken feed never stops the others. CPU work (parsing,
    extraction) and the store write run off the event loop, which keeps the
    dashboard responsive while a round runs.

    Args:
        config: feeds, settings, and the actors and topics the extractor knows.
        sink: where feed states are read and results written (a `store.Store`).
        fetcher: an open `Fetcher` (one HTTP client per run).
        parser: the parse pool that bounds feedparser's time.
        extractor: tags items and finds statements.
        now: the round's clock, in UTC (tests pass a fixed one).
        force: poll every feed, due or not, failing or not.
        ignore_interval: poll healthy feeds now; failing ones wait out their backoff.
        only: poll just these feed URLs.
        progress: called as each feed finishes.

    Returns:
        What happened to each polled feed, and the statements that are new.
    """
    started = now or datetime.now(UTC)
    states = sink.feed_states()
    feeds: Sequence[FeedSpec] = config.feeds
    if only is not None:
        wanted = set(only)
        feeds = [f for f in feeds if f.url in wanted]
    if force or only is not None:
        todo = list(feeds)
    else:
        todo = due_feeds(feeds, states, started, ignore_interval=ignore_interval)
    done = 0

    async def one(spec: FeedSpec) -> _FeedOutcome:
        nonlocal done
        state = states.get(spec.url) or FeedState(url=spec.url)
        try:
            outcome = await _poll_feed(spec, state, sink, fetcher, parser, extractor, started)
        except Exception as exc:  # a bug for one feed must not cost the round
            outcome = _failed(
                spec, state, started, f"internal error: {type(exc).__name__}: {exc}", None, 0.0
            )
        done += 1
        if progress is not None:
            progress(outcome.report, done, len(todo))
        return outcome

    outcomes = await asyncio.gather(*(one(spec) for spec in todo))

    items = [item for o in outcomes for item in o.items]
    statements = [s for o in outcomes for s in o.statements]
    replaced = [i for o in outcomes for i in o.replaced]
    finished = datetime.now(UTC) if now is None else started
    await asyncio.to_thread(
        sink.commit_round,
        [o.state for o in outcomes],
        items,
        statements,
        now=started,
        retain_days=config.settings.retain_days,
        replaced_items=replaced,
    )
    return RoundReport(
        started=started,
        finished=finished,
        feeds=tuple(o.report for o in outcomes),
        new_statements=tuple(statements),
    )


async def _poll_feed(
    spec: FeedSpec,
    state: FeedState,
    sink: RoundSink,
    fetcher: Fetcher,
    parser: ParsePool,
    extractor: Analyser,
    now: datetime,
) -> _FeedOutcome:
    fetched = await fetcher.fetch(spec, state)
    if fetched.error is not None:
        return _failed(spec, state, now, fetched.error, fetched.retry_after, fetched.elapsed)
    if fetched.not_modified:
        new_state = _succeeded(
            spec,
            state,
            now,
            Outcome.NOT_MODIFIED,
            etag=fetched.etag or state.etag,
            last_modified=fetched.last_modified or state.last_modified,
            new_items=0,
        )
        report = FeedReport(
            spec.url,
            outlet_name(spec, state.title),
            Outcome.NOT_MODIFIED,
            seen_items=state.seen_items,
            elapsed=fetched.elapsed,
            next_poll=new_state.next_poll,
        )
        return _FeedOutcome(spec, new_state, report)

    parsed = await parser.parse(
        fetched.body or b"", fetched.headers, fetched.final_url or spec.url, now
    )
    if parsed.error is not None:
        return _failed(spec, state, now, parsed.error, None, fetched.elapsed)
    return await asyncio.to_thread(
        _store_entries, spec, state, fetched, parsed, sink, extractor, now
    )


def _store_entries(
    spec: FeedSpec,
    state: FeedState,
    fetched: FetchResult,
    parsed: ParsedFeed,
    sink: RoundSink,
    extractor: Analyser,
    now: datetime,
) -> _FeedOutcome:
    """Turn parsed entries into items and statements (runs in a thread: CPU-bound)."""
    source = outlet_name(spec, parsed.title)
    first_by_id: dict[str, ParsedEntry] = {}
    for entry in parsed.entries:
        # The same guid twice in one document: the first one wins.
        first_by_id.setdefault(item_id(spec.url, entry), entry)
    known = sink.known_items(list(first_by_id))
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
        item = item_from_entry(
            spec.url, identifier, entry, source=source, now=now, tagger=extractor, digest=digest
        )
        items.append(item)
        if item.actors and item.topics:
            found = extractor.extract(entry.summary, title=entry.title)
            statements.extend(
                Statement.from_extraction(extraction, item, ordinal)
                for ordinal, extraction in enumerate(found)
            )
    new_state = _succeeded(
        spec,
        state,
        now,
        Outcome.OK,
        title=parsed.title or state.title,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        new_items=len(items) - len(replaced),
        seen_items=seen,
        total_items=state.total_items + len(items) - len(replaced),
    )
    report = FeedReport(
        spec.url,
        source,
        Outcome.OK,
        new_items=len(items) - len(replaced),
        updated_items=len(replaced),
        seen_items=seen,
        statements=len(statements),
        warning=parsed.warning,
        elapsed=fetched.elapsed,
        next_poll=new_state.next_poll,
    )
    return _FeedOutcome(spec, new_state, report, items, statements, replaced)


def _succeeded(
    spec: FeedSpec, state: FeedState, now: datetime, outcome: Outcome, **changes: Any
) -> FeedState:
    """A feed's state after a fetch that worked: failures cleared, next poll one interval on."""
    return replace(
        state,
        last_attempt=now,
        last_success=now,
        last_error=None,
        failures=0,
        next_poll=now + timedelta(seconds=spec.interval),
        outcome=outcome,
        **changes,
    )


def _failed(
    spec: FeedSpec,
    state: FeedState,
    now: datetime,
    error: str,
    retry_after: float | None,
    elapsed: float,
) -> _FeedOutcome:
    failures = state.failures + 1
    new_state = replace(
        state,
        last_attempt=now,
        last_error=error,
        failures=failures,
        next_poll=backoff_until(spec, failures, now, retry_after),
        outcome=Outcome.ERROR,
        new_items=0,
    )
    report = FeedReport(
        spec.url,
        outlet_name(spec, state.title),
        Outcome.ERROR,
        error=error,
        elapsed=elapsed,
        next_poll=new_state.next_poll,
    )
    return _FeedOutcome(spec, new_state, report)
