"""Loopback HTTP server for the issue 6 benchmarks: the generated feeds, served well.

A separate process (so its CPU shows up as neither client's), bound to
127.0.0.1, serving N generated feeds (see `gen_feeds.py`) the way a
well-behaved news site does: ETag and Last-Modified on every answer, 304 to a
conditional GET that matches, gzip when the client accepts it, HTTP/1.1
keep-alive, and an optional fixed latency per request.

Paths:

    /feed/<i>                  feed i (RSS or Atom), 0 <= i < N
    /_control/state/base       serve the base state
    /_control/state/changed    serve the changed state: 10% of the feeds have 5 new items
    /_control/stats            JSON counters since the last reset (requests, statuses,
                               conditional requests, gzip, bytes sent)
    /_control/reset            zero the counters
    /_control/quit             stop the server

Signals do the same as the control URLs: SIGUSR1 → changed, SIGUSR2 → base,
SIGTERM/SIGINT → stop.

Its lifetime is bounded: it stops after `--lifetime` seconds, and as soon as
the process that started it (`--parent-pid`) is gone, so a killed benchmark
never leaves it behind. On start it prints one line, `READY <base URL>`, on
standard output.

    .venv/bin/python tests/bench/bench_server.py --feeds 200 --items 50 [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import http.server
import json
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_feeds  # noqa: E402 - a sibling script, found through the path above


@dataclass(frozen=True, slots=True)
class Document:
    """One feed in one state, ready to send."""

    body: bytes
    gzipped: bytes
    content_type: str
    etag: str
    last_modified: str
    modified_at: float
    """Last-Modified as a POSIX timestamp, for If-Modified-Since."""


def _document(body: bytes, content_type: str, modified: float) -> Document:
    return Document(
        body=body,
        # mtime=0 keeps the gzip bytes, and so any cache keyed on them, stable.
        gzipped=gzip.compress(body, compresslevel=6, mtime=0),
        content_type=content_type,
        etag='"' + hashlib.sha1(body).hexdigest()[:20] + '"',
        last_modified=format_datetime(datetime.fromtimestamp(modified, UTC), usegmt=True),
        modified_at=modified,
    )


class FeedSet:
    """Every feed in both states, built once at start (a few seconds for 200 × 50)."""

    def __init__(self, n_feeds: int, n_items: int, seed: int) -> None:
        self.n_feeds = n_feeds
        self.changed_ids = gen_feeds.changed_feeds(n_feeds, seed)
        base_time = gen_feeds.newest_time(n_items, extra=0).timestamp()
        new_time = gen_feeds.newest_time(n_items, extra=gen_feeds.CHANGED_NEW_ITEMS).timestamp()
        self.base: list[Document] = []
        for feed in range(n_feeds):
            body, content_type = gen_feeds.feed_document(feed, n_items, seed)
            self.base.append(_document(body, content_type, base_time))
        self.changed = list(self.base)
        for feed in self.changed_ids:
            body, content_type = gen_feeds.feed_document(
                feed, n_items, seed, extra=gen_feeds.CHANGED_NEW_ITEMS
            )
            self.changed[feed] = _document(body, content_type, new_time)
        self.state = "base"
        self.lock = threading.Lock()
        self.stats: Counter[str] = Counter()

    def current(self, feed: int) -> Document:
        """Feed `feed` in the state being served."""
        return (self.changed if self.state == "changed" else self.base)[feed]

    def count(self, **amounts: int) -> None:
        """Add to the counters (thread-safe)."""
        with self.lock:
            self.stats.update(amounts)


def not_modified(doc: Document, headers: Message) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or doc.etag in tags
    if_modified_since = headers.get("If-Modified-Since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError):
            return False
        return doc.modified_at <= since
    return False


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves /feed/<i> and /_control/*; nothing else."""

    protocol_version = "HTTP/1.1"
    server: Server
    # An idle keep-alive connection is dropped after this long.
    timeout = 30

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path.startswith("/feed/"):
            self._feed(path.removeprefix("/feed/"))
        elif path.startswith("/_control/"):
            self._control(path.removeprefix("/_control/"))
        else:
            self._send(404, b"not found\n", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _feed(self, number: str) -> None:
        feeds = self.server.feeds
        if not number.isdigit() or int(number) >= feeds.n_feeds:
            feeds.count(requests=1, status_404=1)
            self._send(404, b"no such feed\n", "text/plain")
            return
        if self.server.latency > 0:
            time.sleep(self.server.latency)
        doc = feeds.current(int(number))
        conditional = "If-None-Match" in self.headers or "If-Modified-Since" in self.headers
        validators = {"ETag": doc.etag, "Last-Modified": doc.last_modified}
        if not_modified(doc, self.headers):
            feeds.count(requests=1, status_304=1, conditional=int(conditional))
            self.send_response(304)
            for name, value in validators.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        wants_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        body = doc.gzipped if wants_gzip else doc.body
        extra = {"Content_Encoding": "gzip"} if wants_gzip else {}
        feeds.count(
            requests=1,
            status_200=1,
            conditional=int(conditional),
            gzip=int(wants_gzip),
            bytes_sent=len(body),
        )
        self._send(200, body, doc.content_type, Vary="Accept-Encoding", **validators, **extra)

    def _control(self, command: str) -> None:
        feeds = self.server.feeds
        if command in ("state/base", "state/changed"):
            feeds.state = command.removeprefix("state/")
            reply: dict[str, object] = {"state": feeds.state}
        elif command == "stats":
            with feeds.lock:
                reply = {"state": feeds.state, **feeds.stats}
        elif command == "reset":
            with feeds.lock:
                feeds.stats.clear()
            reply = {"state": feeds.state}
        elif command == "quit":
            reply = {"stopping": True}
            threading.Thread(target=self.server.shutdown, daemon=True).start()
        else:
            self._send(404, b"unknown control\n", "text/plain")
            return
        self._send(200, json.dumps(reply).encode(), "application/json")


class Server(http.server.ThreadingHTTPServer):
    """A thread per connection; handler threads never keep the process alive."""

    daemon_threads = True
    # Many clients connect at once at the start of a round; the default
    # backlog of 5 makes some of them retry after a second.
    request_queue_size = 128

    def __init__(self, port: int, feeds: FeedSet, latency: float) -> None:
        self.feeds = feeds
        self.latency = latency
        super().__init__(("127.0.0.1", port), Handler)


def _watchdog(server: Server, deadline: float, parent: int | None) -> None:
    """Stop the server at the deadline or when the parent process is gone."""
    while time.monotonic() < deadline:
        if parent is not None and os.getppid() != parent:
            break
        time.sleep(0.5)
    server.shutdown()


def main(argv: Sequence[str] | None = None) -> int:
    """Build the feeds, print READY with the base URL, serve until told or timed out."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--seed", type=int, default=gen_feeds.DEFAULT_SEED)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay before each feed answer"
    )
    parser.add_argument(
        "--lifetime", type=float, default=3600.0, help="stop after this many seconds"
    )
    parser.add_argument("--parent-pid", type=int, default=None, help="stop when it exits")
    args = parser.parse_args(argv)

    feeds = FeedSet(args.feeds, args.items, args.seed)
    server = Server(args.port, feeds, args.latency_ms / 1000)

    def set_state(state: str) -> None:
        feeds.state = state

    signal.signal(signal.SIGUSR1, lambda *_: set_state("changed"))
    signal.signal(signal.SIGUSR2, lambda *_: set_state("base"))
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(
            signum,
            lambda *_: threading.Thread(target=server.shutdown, daemon=True).start(),
        )
    threading.Thread(
        target=_watchdog,
        args=(server, time.monotonic() + args.lifetime, args.parent_pid),
        daemon=True,
    ).start()
    host, port = server.server_address[:2]
    print(f"READY http://{host!s}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
