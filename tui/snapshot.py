"""What the dashboard shows at one moment, read from the store in one go.

The screens never query the store on the event loop: a thread worker builds
a `Snapshot` after each round and the app hands it down to the screens.
Only history, activity and single statements are read on demand (also in
workers), because they depend on what the user is looking at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from sources.records import FeedState, Outcome, Position

if TYPE_CHECKING:
    from store import Store

Pair = tuple[str, str]
"""(actor id, topic id)."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every current position, every feed's health and the store's totals."""

    positions: Mapping[Pair, Position]
    feeds: tuple[FeedState, ...] = ()
    """Failing feeds first, as `Store.feed_health` orders them."""
    counts: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    taken: datetime | None = None
    by_actor: Mapping[str, Mapping[str, Position]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    """actor -> topic -> position, for the panel of one actor."""

    @classmethod
    def load(cls, store: Store, now: datetime) -> Snapshot:
        """Read a snapshot (blocking: call it from a thread worker)."""
        positions = store.positions()
        return cls.of(positions, store.feed_health(), store.counts(), now)

    @classmethod
    def of(
        cls,
        positions: list[Position],
        feeds: list[FeedState],
        counts: Mapping[str, int],
        now: datetime | None,
    ) -> Snapshot:
        """Index positions by pair and by actor."""
        by_pair: dict[Pair, Position] = {}
        by_actor: dict[str, dict[str, Position]] = {}
        for position in positions:
            statement = position.statement
            by_pair[(statement.actor, statement.topic)] = position
            by_actor.setdefault(statement.actor, {})[statement.topic] = position
        return cls(
            positions=MappingProxyType(by_pair),
            feeds=tuple(feeds),
            counts=MappingProxyType(dict(counts)),
            taken=now,
            by_actor=MappingProxyType(
                {actor: MappingProxyType(topics) for actor, topics in by_actor.items()}
            ),
        )

    def position(self, actor: str, topic: str) -> Position | None:
        """The current position of `actor` on `topic`, if it ever stated one."""
        return self.positions.get((actor, topic))

    def of_actor(self, actor: str) -> Mapping[str, Position]:
        """topic -> position for one actor."""
        return self.by_actor.get(actor, MappingProxyType({}))

    def feed(self, url: str) -> FeedState | None:
        """The stored state of one feed."""
        return next((f for f in self.feeds if f.url == url), None)


def is_failing(state: FeedState | None) -> bool:
    """A feed whose last fetch failed."""
    return state is not None and (state.outcome is Outcome.ERROR or state.failures > 0)
