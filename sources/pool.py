"""The parse pool: feed documents parsed (and read for statements) in worker processes.

feedparser has no timeout and no size budget and is CPU-bound, so documents
are parsed in worker processes: the event loop stays free, both cores share
the work, and a pathological document holds up nothing but its own worker,
which is killed when its time is up. A poll round has the workers go on to
build the items and extract statements (`ParsePool.parse_items`), the other
half of a feed's CPU work.

The main process only needs the pool, not the parser: this module imports
neither feedparser nor the extractor (the workers import them, through
`sources.parse`), and the workers' preloaded modules do not include this
module's asyncio and threads.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from sources.documents import header_map, refuse_unread
from sources.itemize import AnalysisSpecs, FeedItems
from sources.records import FeedSpec, ParsedFeed
from sources.worker import READY, ItemsJob, Task, worker_main

if TYPE_CHECKING:  # Windows has no ForkServerContext
    from multiprocessing.context import ForkServerContext, SpawnContext

__all__ = ["ParsePool"]

_STARTUP_TIMEOUT = 60.0
"""Seconds a new worker may take to be ready: the first one waits for the fork
server's start (~1 s idle here: imports and a default extractor)."""
_PRELOAD = ["sources.worker_preload"]
_fork_server_users = 0
"""Open pools that fork their workers from the fork server."""
_fork_server_lock = threading.Lock()


def _worker_context() -> ForkServerContext | SpawnContext:
    global _fork_server_users
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    with _fork_server_lock:
        # Takes effect when the server starts; a running one keeps its modules.
        context.set_forkserver_preload(_PRELOAD)
        _fork_server_users += 1
    return context


def _release_fork_server() -> None:
    """Stop multiprocessing's fork server once the last pool using it is closed.

    A server left running would outlive the pools by the life of the
    process, holding ~60 MB, and its CPU time would be missing from the
    accounts of whoever reaps us. It exits only when every process it forked
    has (they hold its "alive" pipe), so it is stopped only after the last
    pool has killed its workers. `_stop` is private (the standard library's
    own tests use it), so its absence is tolerated: the server then exits
    with the process.
    """
    global _fork_server_users
    from multiprocessing import forkserver

    with _fork_server_lock:
        _fork_server_users -= 1
        if _fork_server_users > 0:
            return
        stop = getattr(forkserver._forkserver, "_stop", None)  # noqa: SLF001
        if stop is not None:
            try:
                stop()
            except OSError:
                pass


_Used = TypeVar("_Used")


class _Slot:
    """One worker process and its pipe; replaced whenever it is killed or dies."""

    __slots__ = ("conn", "process", "ready")

    def __init__(self) -> None:
        self.process: BaseProcess | None = None
        self.conn: Connection | None = None
        self.ready = False


class ParsePool:
    """Runs `parse_document` (and `itemize`) in worker processes, with a time budget.

    Each parse has a worker to itself for its duration: a document that runs
    over `timeout` gets its worker killed (and a fresh one started in its
    place) while the other parses in flight carry on in their own workers,
    untouched. `concurrent.futures.ProcessPoolExecutor` cannot do that: it
    has no way to kill one worker, and a killed worker breaks the whole pool
    and fails every future in it.

    Workers are forked by multiprocessing's fork server (forking the TUI's
    threaded process itself would be unsafe), which has imported
    `sources.worker_preload` once: each worker starts with the parser and the
    extractor's modules loaded and its pattern caches warm, where a `spawn`ed
    one spent ~1 s of CPU on that, every round. `close()` stops the server
    too. Where there is no fork server (Windows), workers are spawned.
    Workers start on first use and are reused. Waiting on a worker happens in
    one of this pool's threads, so the event loop only awaits.

    Use it as a context manager, or call `close()`: no worker outlives it.
    """

    def __init__(self, workers: int = 2, timeout: float = 20.0) -> None:
        """Set up the pool; worker processes start on first use.

        A round where every feed answers 304 parses nothing, so it should not
        pay ~0.3 s of CPU per worker to spawn them.

        Args:
            workers: parses that can run at once (one process each).
            timeout: seconds one parse may take before its worker is killed.

        Raises:
            ValueError: for fewer than one worker or a non-positive timeout.
        """
        if workers < 1:
            raise ValueError("a parse pool needs at least one worker")
        if timeout <= 0:
            raise ValueError("the parse timeout must be positive")
        self._timeout = timeout
        self._context = _worker_context()
        self._lock = threading.Lock()
        """Guards process starts and kills against `close()`."""
        self._closed = False
        self._slots = [_Slot() for _ in range(workers)]
        self._idle: queue.SimpleQueue[_Slot | None] = queue.SimpleQueue()
        # One thread per slot, so a thread that takes a task always finds an
        # idle slot; tasks beyond that wait in the executor's queue.
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="parse-pool")
        for slot in self._slots:
            self._idle.put(slot)

    @property
    def timeout(self) -> float:
        """Seconds one parse may take."""
        return self._timeout

    async def parse(
        self,
        body: bytes,
        headers: Sequence[tuple[str, str]],
        url: str,
        now: datetime,
    ) -> ParsedFeed:
        """Parse a document in a worker process, within the time budget.

        Args:
            body: the document as fetched (decompressed).
            headers: the response headers.
            url: the feed's URL, for relative links.
            now: the current time (aware UTC).

        Returns:
            What `parse_document` returns, or a `ParsedFeed` whose `error` says
            the parse took too long or its worker died.

        Raises:
            RuntimeError: if the pool is closed.
        """
        result = await self._in_a_worker(body, headers, url, now, None)
        if not isinstance(result, ParsedFeed):
            return ParsedFeed(error="the parser process sent something that is not a result")
        return result

    async def parse_items(
        self,
        body: bytes,
        headers: Sequence[tuple[str, str]],
        url: str,
        now: datetime,
        *,
        feed: FeedSpec,
        known: Mapping[str, str],
        specs: AnalysisSpecs,
    ) -> FeedItems:
        """Parse a document and turn it into items and statements, in a worker process.

        The whole job (parse, ids, hashes, tags, extraction) runs within the
        time budget, and only the new and changed items come back through
        the pipe.

        Args:
            body: the document as fetched (decompressed).
            headers: the response headers.
            url: the URL the document came from, for relative links.
            now: the round's time (aware UTC).
            feed: the feed, whose URL scopes the item ids.
            known: id -> content hash of the feed's stored items: these are
                only counted, never extracted again.
            specs: the actors and topics to extract with.

        Returns:
            The feed's items, or `error` set when the document gave nothing
            usable, took too long, or its worker died.

        Raises:
            RuntimeError: if the pool is closed.
        """
        job: ItemsJob = (feed, dict(known), specs)
        result = await self._in_a_worker(body, headers, url, now, job)
        if isinstance(result, ParsedFeed):  # refused, or the pool's own error: timeout, death
            return FeedItems(title=result.title, error=result.error or "no result")
        return result

    async def _in_a_worker(
        self,
        body: bytes,
        headers: Sequence[tuple[str, str]],
        url: str,
        now: datetime,
        job: ItemsJob | None,
    ) -> ParsedFeed | FeedItems:
        """Run one task in a worker; a body no parser needs to see is refused here."""
        if self._closed:
            raise RuntimeError("the parse pool is closed")
        refused = refuse_unread(body)
        if refused is not None:
            return refused  # no worker needed, and no 20 MiB through a pipe
        task: Task = (bytes(body), tuple(header_map(headers).items()), url, now, job)
        import asyncio  # here: a command starts the workers before it loads asyncio

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, self._run, task)

    def _run(self, task: Task) -> ParsedFeed | FeedItems:
        """Take an idle worker, parse with it, give it back (in a pool thread)."""
        closed: ParsedFeed | FeedItems = ParsedFeed(error="the parse pool was closed")
        return self._with_idle_slot(lambda slot: self._exchange(slot, task), closed)

    def _with_idle_slot(self, use: Callable[[_Slot], _Used], closed: _Used) -> _Used:
        """`use` an idle slot (waiting for one) and give it back; `closed` if the pool is."""
        slot = self._idle.get()
        if slot is None or self._closed:
            self._idle.put(None)  # let every other waiting thread see it too
            return closed
        try:
            return use(slot)
        finally:
            self._idle.put(slot)

    def warm_up(self) -> None:
        """Start every worker now, without waiting, for a round that is sure to parse.

        The first worker takes about a second to be ready (the fork server
        imports the parser and builds an extractor first). Started while the
        round's first feeds are still being fetched, that second is off the
        round's critical path. A round that then parses nothing has paid for
        it, so callers warm up only when some feed will send a body. Once every
        worker has been started, it does nothing (a command may warm the pool
        before its first round, which warms it again).
        """
        if all(slot.process is not None for slot in self._slots):
            return
        for _ in self._slots:
            if self._closed:
                return
            try:
                self._threads.submit(self._with_idle_slot, self._warm, None)
            except RuntimeError:  # closed meanwhile
                return

    def _warm(self, slot: _Slot) -> None:
        try:
            self._ready(slot)
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            self._restart(slot)  # a parse that needs this slot starts it again

    def _ready(self, slot: _Slot) -> str | None:
        """Start the slot's worker if need be and wait until it is ready; the error, if any."""
        if slot.process is None and not self._start(slot):
            return "could not start a parser process"
        conn = slot.conn
        assert conn is not None
        if not slot.ready:
            # The clock for the document starts once the worker is ready: a
            # slow start (the fork server's, the first time) is not the feed's fault.
            if not conn.poll(_STARTUP_TIMEOUT) or conn.recv() != READY:
                self._restart(slot)
                return "the parser process did not start"
            slot.ready = True
        return None

    def _exchange(self, slot: _Slot, task: Task) -> ParsedFeed | FeedItems:
        try:
            problem = self._ready(slot)
            if problem is not None:
                return ParsedFeed(error=problem)
            conn = slot.conn
            assert conn is not None
            conn.send(task)
            if not conn.poll(self._timeout):
                self._restart(slot)
                return ParsedFeed(error=f"parsing took longer than {self._timeout:g} s")
            result = conn.recv()
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            code = slot.process.exitcode if slot.process is not None else None
            self._restart(slot)
            if self._closed:
                return ParsedFeed(error="the parse pool was closed")
            return ParsedFeed(error=f"the parser process died (exit code {code})")
        if not isinstance(result, ParsedFeed | FeedItems):
            self._restart(slot)
            return ParsedFeed(error="the parser process sent something that is not a result")
        return result

    def _start(self, slot: _Slot) -> bool:
        """Start a worker in `slot`; False if the pool is closed or the start failed."""
        with self._lock:
            if self._closed:
                return False
            parent, child = self._context.Pipe(duplex=True)
            process = self._context.Process(
                target=worker_main, args=(child,), name="stancewatch-parse", daemon=True
            )
            try:
                process.start()
            except OSError:
                parent.close()
                return False
            finally:
                child.close()
            slot.process, slot.conn, slot.ready = process, parent, False
            return True

    def _stop(self, slot: _Slot) -> None:
        with self._lock:
            process, conn = slot.process, slot.conn
            slot.process, slot.conn, slot.ready = None, None, False
            if process is not None:
                process.kill()
                process.join(5)
            if conn is not None:
                conn.close()

    def _restart(self, slot: _Slot) -> None:
        # Start the replacement now, not on the next parse, so it has imported
        # feedparser by the time it is needed.
        self._stop(slot)
        self._start(slot)

    def close(self) -> None:
        """Kill every worker and stop the pool's threads; parses in flight get an error."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            processes = [slot.process for slot in self._slots if slot.process is not None]
            for process in processes:
                process.kill()
        # Threads blocked on a worker see its pipe close and return; threads
        # waiting for a worker find the closed marker.
        self._idle.put(None)
        self._threads.shutdown(wait=True)
        for process in processes:
            process.join(5)
        for slot in self._slots:
            if slot.conn is not None:
                slot.conn.close()
                slot.conn = None
            slot.process = None
        if self._context.get_start_method() == "forkserver":
            _release_fork_server()

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
