"""One poll round: due feeds → fetch → parse → items → statements → one write.

The same `poll_round` runs under `asyncio.run` in the headless CLI and in a
Textual worker in the dashboard. It talks to storage only through the small
`RoundSink` protocol, which `store.Store` satisfies, so it never imports
`store/` (reader's core reaches storage the same way, through `StorageType`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sources.config import Config
from sources.fetch import Fetcher
from sources.itemize import (
    AnalysisSpecs,
    FeedItems,
    outlet_name,
)
from sources.pool import ParsePool
from sources.records import (
    FeedSpec,
    FeedState,
    FetchResult,
    Item,
    Outcome,
    Statement,
)
from sources.schedule import backoff_until, feeds_to_poll, sure_to_parse


class RoundSink(Protocol):
    """Where a round reads feed state from and writes its results to."""

    def feed_states(self) -> dict[str, FeedState]:
        """Every known feed's state, by URL."""
        ...

    def known_items_of_feed(self, feed_url: str) -> dict[str, str]:
        """Id -> content hash of every stored item of the feed."""
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


async def poll_round(
    config: Config,
    sink: RoundSink,
    *,
    fetcher: Fetcher,
    parser: ParsePool,
    now: datetime | None = None,
    force: bool = False,
    ignore_interval: bool = False,
    only: Collection[str] | None = None,
    progress: Progress | None = None,
) -> RoundReport:
    """Poll the due feeds once and commit everything in one write.

    Each feed runs in its own task and every failure there becomes that feed's
    error, so a broken feed never stops the others. CPU work (parsing,
    extraction) runs in the parse pool's processes and the store write in a
    thread, which keeps the dashboard responsive while a round runs.

    Args:
        config: feeds, settings, and the actors and topics the extractor knows.
        sink: where feed states are read and results written (a `store.Store`).
        fetcher: an open `Fetcher` (one HTTP client per run).
        parser: the parse pool that bounds feedparser's time.
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
    specs = AnalysisSpecs.of(config.actors, config.topics)
    feeds: Sequence[FeedSpec] = config.feeds
    if only is not None:
        wanted = set(only)
        feeds = [f for f in feeds if f.url in wanted]
    todo = feeds_to_poll(
        feeds, states, started, force=force or only is not None, ignore_interval=ignore_interval
    )
    done = 0
    if sure_to_parse(todo, states):
        parser.warm_up()

    async def one(spec: FeedSpec) -> _FeedOutcome:
        nonlocal done
        state = states.get(spec.url) or FeedState(url=spec.url)
        try:
            outcome = await _poll_feed(spec, state, sink, fetcher, parser, specs, started)
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
    specs: AnalysisSpecs,
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

    known = await asyncio.to_thread(sink.known_items_of_feed, spec.url)
    found = await parser.parse_items(
        fetched.body or b"",
        fetched.headers,
        fetched.final_url or spec.url,
        now,
        feed=spec,
        known=known,
        specs=specs,
    )
    if found.error is not None:
        return _failed(spec, state, now, found.error, None, fetched.elapsed)
    return _stored(spec, state, fetched, found, now)


def _stored(
    spec: FeedSpec, state: FeedState, fetched: FetchResult, found: FeedItems, now: datetime
) -> _FeedOutcome:
    """The outcome of a feed whose document gave items (some maybe already stored)."""
    replaced = len(found.replaced)
    new_items = len(found.items) - replaced
    new_state = _succeeded(
        spec,
        state,
        now,
        Outcome.OK,
        title=found.title or state.title,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        new_items=new_items,
        seen_items=found.seen,
        total_items=state.total_items + new_items,
    )
    report = FeedReport(
        spec.url,
        outlet_name(spec, found.title),
        Outcome.OK,
        new_items=new_items,
        updated_items=replaced,
        seen_items=found.seen,
        statements=len(found.statements),
        warning=found.warning,
        elapsed=fetched.elapsed,
        next_poll=new_state.next_poll,
    )
    return _FeedOutcome(
        spec, new_state, report, list(found.items), list(found.statements), list(found.replaced)
    )


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
