"""The worker process's side of the parse pool: what it is sent, and its loop.

Kept apart from `sources.pool` so that a worker loads neither asyncio nor the
pool's threads, and the main process, which imports this module for the task
types, never loads the parser or the extractor (imported here only inside
the worker's functions).
"""

from __future__ import annotations

import signal
from collections.abc import Mapping
from datetime import datetime
from multiprocessing.connection import Connection

from sources.itemize import Analyser, AnalysisSpecs, FeedItems, itemize
from sources.records import FeedSpec, ParsedFeed

ItemsJob = tuple[FeedSpec, Mapping[str, str], AnalysisSpecs]
"""What a worker needs to turn a parsed document into items: see `ParsePool.parse_items`."""
Task = tuple[bytes, tuple[tuple[str, str], ...], str, datetime, ItemsJob | None]

READY = "ready"
_WORKER_MEMORY_LIMIT = 2 * 1024 * 1024 * 1024
"""Address space a worker may use. A 19 MiB feed peaks at ~160 MB resident
here; a blow-up past this limit is a MemoryError (an error for that feed)
instead of the whole machine swapping."""


def _limit_memory(limit: int) -> None:
    try:
        import resource
    except ImportError:  # not on Windows
        return
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY or soft > limit:
            if hard != resource.RLIM_INFINITY:
                limit = min(limit, hard)
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):  # macOS refuses RLIMIT_AS; the timeout still holds
        pass


def worker_main(conn: Connection) -> None:
    """A worker process: parse documents sent over `conn` until told to stop."""
    # Ctrl-C reaches the whole process group; the parent decides when we stop
    # (ParsePool.close), so a worker never prints a KeyboardInterrupt.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_memory(_WORKER_MEMORY_LIMIT)
    # Preloaded by the fork server: free there; a spawned worker imports it here.
    from sources.parse import parse_document

    extractors: dict[str, Analyser] = {}
    conn.send(READY)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        body, headers, url, now, job = task
        try:
            parsed = parse_document(body, headers, url, now)
        except Exception as exc:  # report it, never die silently
            parsed = ParsedFeed(error=f"feed parser failed: {type(exc).__name__}: {exc}")
        result = parsed if job is None else _itemize_in_worker(parsed, job, now, extractors)
        try:
            conn.send(result)
        except (OSError, ValueError):
            return


def _itemize_in_worker(
    parsed: ParsedFeed, job: ItemsJob, now: datetime, extractors: dict[str, Analyser]
) -> FeedItems:
    """Items and statements of a parsed document, with this worker's extractor for the specs."""
    if parsed.error is not None:
        return FeedItems(title=parsed.title, error=parsed.error)
    spec, known, specs = job
    extractor = extractors.get(specs.key)
    if extractor is None:
        from sources.extraction import Extractor, pattern_cache

        extractors.clear()  # the config changed: the old extractor is done with
        extractor = extractors[specs.key] = Extractor(*specs.specs())
        pattern_cache.save()  # the config's own patterns, for the next run's workers
    try:
        return itemize(spec, parsed, known, extractor, now)
    except Exception as exc:  # report it, never die silently
        return FeedItems(title=parsed.title, error=f"internal error: {type(exc).__name__}: {exc}")
