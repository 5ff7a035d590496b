"""One exception family, so the CLI can turn any of them into one line on stderr."""

from __future__ import annotations


class StancewatchError(Exception):
    """Base of every error stancewatch raises on purpose; `str()` is one line."""

    exit_code = 1


class ConfigError(StancewatchError):
    """The config file cannot be used as it is.

    `str()` reads "FILE:LINE: key: message", leaving out what is unknown
    rather than inventing a line number.
    """

    exit_code = 2

    def __init__(
        self, path: str, message: str, *, key: str | None = None, line: int | None = None
    ) -> None:
        self.path = path
        self.key = key
        self.line = line
        self.message = message
        where = path if line is None else f"{path}:{line}"
        what = f"{key}: {message}" if key else message
        super().__init__(f"{where}: {what}")


class UsageError(StancewatchError):
    """The command line asks for something that cannot be done."""

    exit_code = 2


class FeedError(StancewatchError):
    """A feed could not be fetched or parsed; recorded on the feed, never fatal."""

    def __init__(self, url: str, message: str) -> None:
        self.url = url
        self.message = message
        super().__init__(f"{url}: {message}")


class StoreError(StancewatchError):
    """The database cannot be opened or written."""


class StoreLockedError(StoreError):
    """Another stancewatch process holds the database for writing."""


class StoreDamagedError(StoreError):
    """The database file could not be read; it has been moved aside."""
