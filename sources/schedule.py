"""When feeds are polled: which are due, when a failing one is tried again, what a round will do.

Kept apart from `sources.poll` (which brings in the HTTP client) so a
command can learn, right after opening the store, that the coming round
will parse documents, and start the parse workers while the rest loads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sources.records import FeedSpec, FeedState

MAX_BACKOFF = timedelta(days=1)


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


def feeds_to_poll(
    feeds: Sequence[FeedSpec],
    states: Mapping[str, FeedState],
    now: datetime,
    *,
    force: bool = False,
    ignore_interval: bool = False,
) -> list[FeedSpec]:
    """The feeds a round polls: every one when forced, else the due ones (see `due_feeds`)."""
    if force:
        return list(feeds)
    return due_feeds(feeds, states, now, ignore_interval=ignore_interval)


def sure_to_parse(feeds: Sequence[FeedSpec], states: Mapping[str, FeedState]) -> bool:
    """Whether polling these feeds is sure to bring a document to parse (see `sends_a_body`)."""
    return any(sends_a_body(states.get(feed.url)) for feed in feeds)


def sends_a_body(state: FeedState | None) -> bool:
    """Whether a feed is sure to answer with a body: new, or working and without validators."""
    if state is None:
        return True
    return state.failures == 0 and state.etag is None and state.last_modified is None


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
