"""App-wide messages: what the poller, the store loader and the config watcher report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from sources.config import Config
    from sources.poll import FeedReport, RoundReport
    from store import Store
    from tui.snapshot import Snapshot


class StoreOpened(Message):
    """The database is open and indexed."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store


class StoreFailed(Message):
    """The database could not be opened; the dashboard cannot run."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class SnapshotLoaded(Message):
    """Positions, feed health and counts were read from the store."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot


class RoundStarted(Message):
    """A poll round began on `total` feeds."""

    def __init__(self, total: int) -> None:
        super().__init__()
        self.total = total


class FeedPolled(Message):
    """One feed of the running round finished."""

    def __init__(self, report: FeedReport, done: int, total: int) -> None:
        super().__init__()
        self.report = report
        self.done = done
        self.total = total

    def can_replace(self, message: Message) -> bool:
        # Hundreds of feeds finish in a burst; only the latest count matters.
        return isinstance(message, FeedPolled)


class RoundFinished(Message):
    """A poll round ended; `report` is None when the round itself failed."""

    def __init__(self, report: RoundReport | None) -> None:
        super().__init__()
        self.report = report


class ConfigReloaded(Message):
    """The config file changed on disk and still validates."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config


class ConfigRejected(Message):
    """The config file changed on disk but does not validate; the old one stays."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error
