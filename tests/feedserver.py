"""A real HTTP server on loopback for tests that fetch feeds.

Bound to 127.0.0.1:0 and served from threads, it records every request and
serves two kinds of path:

- resources registered with `FeedServer.add` (a body, its type, validators),
  answering conditional GETs with 304 as a well-behaved server would;
- built-in misbehaviours, as encode/httpx's `tests/conftest.py` routes paths
  to behaviours:

  ``/drip?seconds=N&interval=S``  headers at once, then one byte every S
      seconds (default 1) for N seconds (default 10);
  ``/hang?seconds=N``  reads the request and never answers (default 30 s);
  ``/redirect-loop``  302 to itself, forever (a counter keeps the URLs distinct);
  ``/redirect-to?url=U&status=302``  a redirect to U;
  ``/status/<code>?retry_after=V&phrase=P``  that status, with reason
      phrase P if given (sent raw: escapes and all); 429 and 503 carry
      Retry-After (V, default "7");
  ``/gzip-bomb?mib=N``  a ~130 KiB gzip body that expands to N MiB (default 128);
  ``/huge?bytes=N``  N bytes (default 64 MiB), chunked, no Content-Length.
  ``/cut?path=P&at=N``  the resource registered at P, announced with its
      full Content-Length but cut off after N bytes (default half), as a
      server that dies mid-body.

Every behaviour is bounded and watches the server's stop flag, so `stop()`
returns within about a second and no thread outlives the test: it shuts the
accept loop down, shuts down every open connection (unblocking handlers
waiting on a read) and joins each handler thread.

Use as ``with FeedServer() as srv:`` or through the `feed_server` fixture.
"""

from __future__ import annotations

import email.utils
import functools
import gzip as gzip_module
import http.server
import socket
import threading
import urllib.parse
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType

import pytest

RecordedRequest = tuple[str, str, dict[str, str]]
"""(method, path with query, headers with lowercased names)."""

_JOIN_TIMEOUT = 2.0
"""Longest wait for one handler thread at stop; behaviours poll every ≤1 s."""


@dataclass(frozen=True, slots=True)
class _Resource:
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    status: int
    headers: tuple[tuple[str, str], ...]
    gzip: bool
    delay: float


@functools.cache
def gzip_bomb(mib: int = 128) -> bytes:
    """A gzip stream of `mib` MiB of zeros, built a MiB at a time.

    The expanded data is never held in memory; the result (~1/1000 of the
    expanded size) is cached per size for the test session.
    """
    # Run-length strategy: the same ratio as the default on zeros, in half the time.
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16, 9, zlib.Z_RLE)
    zeros = bytes(1 << 20)
    parts = [packer.compress(zeros) for _ in range(mib)]
    parts.append(packer.flush())
    return b"".join(parts)


def refused_url(path: str = "/") -> str:
    """A loopback URL on a port nothing listens on, for "connection refused".

    The port is taken from the OS and released; another process could grab it
    in between, which on a test machine is vanishingly rare.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


class _HTTPServer(http.server.ThreadingHTTPServer):
    """Tracks each connection's thread and socket so `stop()` can end them all."""

    daemon_threads = True
    feed_server: FeedServer

    def __init__(self, feed_server: FeedServer) -> None:
        self.feed_server = feed_server
        self.connections: dict[threading.Thread, socket.socket] = {}
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        assert isinstance(request, socket.socket)
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"feedserver-conn-{client_address}",
            daemon=True,
        )
        with self.connections_lock:
            self.connections[thread] = request
        thread.start()

    def _serve_connection(self, request: socket.socket, client_address: object) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self.connections_lock:
                self.connections.pop(threading.current_thread(), None)

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up mid-body (the point of /drip and /huge) is
        # expected; a traceback on stderr per test would only be noise.
        pass

    def end_connections(self) -> None:
        with self.connections_lock:
            open_now = list(self.connections.items())
        for _, sock in open_now:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread, _ in open_now:
            thread.join(_JOIN_TIMEOUT)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    request_headers: dict[str, str]
    # An idle keep-alive connection gives up after this; a safety net only,
    # since stop() shuts connections down itself.
    timeout = 10

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass

    def do_GET(self) -> None:
        srv = self.server.feed_server
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.request_headers = headers
        srv._record(self.command, self.path, headers)
        try:
            self._dispatch(srv)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True
        finally:
            srv._leave()

    # --- routing ------------------------------------------------------------

    def _dispatch(self, srv: FeedServer) -> None:
        parts = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query).items()}
        resource = srv._resource(parts.path)
        if resource is not None:
            self._serve_resource(srv, resource)
        elif parts.path == "/drip":
            self._drip(srv, float(query.get("seconds", 10)), float(query.get("interval", 1)))
        elif parts.path == "/hang":
            srv._stopping.wait(float(query.get("seconds", 30)))
            self.close_connection = True
        elif parts.path == "/redirect-loop":
            hop = int(query.get("n", 0)) + 1
            self._redirect(302, f"/redirect-loop?n={hop}")
        elif parts.path == "/redirect-to":
            self._redirect(int(query.get("status", 302)), query.get("url", "/"))
        elif parts.path.startswith("/status/"):
            self._status(
                parts.path.removeprefix("/status/"), query.get("retry_after"), query.get("phrase")
            )
        elif parts.path == "/gzip-bomb":
            body = gzip_bomb(int(query.get("mib", 128)))
            self._send(
                200, body, {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"}
            )
        elif parts.path == "/huge":
            self._huge(srv, int(query.get("bytes", 64 << 20)))
        elif parts.path == "/cut":
            self._cut(srv, query.get("path", ""), query.get("at"))
        else:
            self._send(404, b"not found\n", {"Content-Type": "text/plain"})

    def _send(
        self,
        status: int,
        body: bytes,
        headers: Mapping[str, str] | None = None,
        extra: Sequence[tuple[str, str]] = (),
        *,
        phrase: str | None = None,
    ) -> None:
        self.send_response(status, phrase)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        for name, value in extra:
            self.send_header(name, value)
        if status != 304 and status >= 200:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def _serve_resource(self, srv: FeedServer, res: _Resource) -> None:
        if res.delay and srv._stopping.wait(res.delay):
            self.close_connection = True
            return
        validators = {}
        if res.etag is not None:
            validators["ETag"] = res.etag
        if res.last_modified is not None:
            validators["Last-Modified"] = res.last_modified
        if res.status == 200 and _not_modified(res, self.request_headers):
            self._send(304, b"", validators, res.headers)
            return
        body = res.body
        head = {"Content-Type": res.content_type, **validators}
        if res.gzip:
            head["Vary"] = "Accept-Encoding"
            if "gzip" in self.request_headers.get("accept-encoding", ""):
                body = gzip_module.compress(body)
                head["Content-Encoding"] = "gzip"
        self._send(res.status, body, head, res.headers)

    # --- behaviours -----------------------------------------------------------

    def _drip(self, srv: FeedServer, seconds: float, interval: float) -> None:
        # Steps of at most a second, so stop() is noticed within one.
        interval = min(max(interval, 0.01), 1.0)
        count = max(1, int(seconds / interval))
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(count))
        self.end_headers()
        self.wfile.flush()
        for _ in range(count):
            self.wfile.write(b" ")
            self.wfile.flush()
            if srv._stopping.wait(interval):
                break
        self.close_connection = True

    def _redirect(self, status: int, location: str) -> None:
        self._send(status, b"", {"Location": location})

    def _status(self, code_text: str, retry_after: str | None, given: str | None) -> None:
        if not code_text.isdigit() or not 200 <= int(code_text) <= 599:
            self._send(400, b"bad status\n", {"Content-Type": "text/plain"})
            return
        code = int(code_text)
        head = {"Content-Type": "text/plain"}
        if code in (429, 503):
            head["Retry-After"] = retry_after if retry_after is not None else "7"
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Status"
        self._send(code, f"{code} {phrase}\n".encode(), head, phrase=given)

    def _huge(self, srv: FeedServer, total: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        block = b"<!-- padding -->" * 4096  # 64 KiB
        sent = 0
        while sent < total and not srv._stopping.is_set():
            piece = block[: total - sent]
            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            sent += len(piece)
        if sent >= total:
            self.wfile.write(b"0\r\n\r\n")
        # Cut short by stop(): no final chunk, so the client sees a truncated body.
        self.close_connection = True

    def _cut(self, srv: FeedServer, path: str, at: str | None) -> None:
        resource = srv._resource(path)
        if resource is None:
            self._send(404, b"no resource to cut\n", {"Content-Type": "text/plain"})
            return
        body = resource.body
        keep = int(at) if at is not None and at.isdigit() else len(body) // 2
        self.send_response(200)
        self.send_header("Content-Type", resource.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: min(keep, max(0, len(body) - 1))])
        self.wfile.flush()
        # Hang up without the rest: the client must notice the short body.
        self.close_connection = True


def _not_modified(res: _Resource, request_headers: Mapping[str, str]) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match wins over If-Modified-Since.

    `request_headers` has lowercased names.
    """
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        if res.etag is None:
            return False
        tags = [tag.strip() for tag in if_none_match.split(",")]
        # Weak comparison, as the RFC requires for If-None-Match.
        return "*" in tags or res.etag.removeprefix("W/") in {t.removeprefix("W/") for t in tags}
    if_modified_since = request_headers.get("if-modified-since")
    if if_modified_since and res.last_modified:
        try:
            since = email.utils.parsedate_to_datetime(if_modified_since)
            modified = email.utils.parsedate_to_datetime(res.last_modified)
        except (TypeError, ValueError):
            return False
        return modified <= since
    return False


class FeedServer:
    """A loopback HTTP server serving feeds and misbehaviours, for tests.

    Start it with `start()` or `with FeedServer() as srv:`; `stop()` shuts it
    down and joins every thread it started.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._resources: dict[str, _Resource] = {}
        self._requests: list[RecordedRequest] = []
        self._in_flight = 0
        self._max_in_flight = 0
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------

    def start(self) -> FeedServer:
        """Bind 127.0.0.1 on a free port and serve from a thread.

        Returns:
            The server itself, started.
        """
        if self._httpd is not None:
            raise RuntimeError("FeedServer already started")
        self._stopping.clear()
        self._httpd = _HTTPServer(self)
        # A short poll interval: shutdown() waits up to one interval, per test.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="feedserver",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end open connections and join every thread. Idempotent."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.end_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(_JOIN_TIMEOUT)
            self._thread = None

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- setup and inspection ---------------------------------------------------

    @property
    def port(self) -> int:
        """The port bound on 127.0.0.1."""
        if self._httpd is None:
            raise RuntimeError("FeedServer is not running")
        return int(self._httpd.server_address[1])

    def url(self, path: str = "/") -> str:
        """The full URL of a path on this server ("/feed.xml" → "http://127.0.0.1:N/feed.xml")."""
        if not path.startswith("/"):
            path = "/" + path
        return f"http://127.0.0.1:{self.port}{path}"

    def add(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str = "application/rss+xml",
        etag: str | None = None,
        last_modified: str | None = None,
        status: int = 200,
        headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        gzip: bool = False,
        delay: float = 0.0,
    ) -> str:
        """Serve `body` at `path` (replacing what was there).

        Args:
            path: the path, without query ("/feeds/a.xml"); a query in the
                request is ignored when matching.
            body: the bytes to serve, before any gzip.
            content_type: the Content-Type header.
            etag: sent as ETag and compared with If-None-Match (304 on a match).
            last_modified: an HTTP-date, sent as Last-Modified and compared
                with If-Modified-Since when there is no If-None-Match.
            status: the status of a full answer; conditional GET applies to 200 only.
            headers: more headers to send with every answer.
            gzip: compress with gzip when the request accepts it.
            delay: seconds to wait before answering (cut short by `stop()`),
                to make requests overlap in time.

        Returns:
            The resource's full URL.
        """
        pairs = tuple((headers.items() if isinstance(headers, Mapping) else headers) or ())
        resource = _Resource(body, content_type, etag, last_modified, status, pairs, gzip, delay)
        with self._lock:
            self._resources[path] = resource
        return self.url(path)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request so far: (method, path, lowercased headers)."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """The recorded requests whose path, without query, is `path`."""
        return [r for r in self.requests if urllib.parse.urlsplit(r[1]).path == path]

    @property
    def max_in_flight(self) -> int:
        """The most requests being answered at the same moment since start or reset."""
        with self._lock:
            return self._max_in_flight

    def reset(self) -> None:
        """Forget recorded requests and the in-flight maximum."""
        with self._lock:
            self._requests.clear()
            self._max_in_flight = self._in_flight

    # --- called from handler threads ------------------------------------------

    def _record(self, method: str, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self._requests.append((method, path, headers))
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _resource(self, path: str) -> _Resource | None:
        with self._lock:
            return self._resources.get(path)


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A loopback feed server for one test; stopped and its threads joined at teardown."""
    with FeedServer() as srv:
        yield srv
