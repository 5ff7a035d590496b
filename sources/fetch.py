"""Fetch feeds over HTTP(S), or from local files the user configured.

One `Fetcher` holds one `httpx.AsyncClient` for a whole poll round so
connections are pooled (encode/httpx docs/advanced/resource-limits.md).
Every fetch ends as a `FetchResult`: a body, "not modified", or a one-line
error. Nothing a feed does (hang, drip, bomb, loop) raises into the caller,
but cancellation still does, because only `Exception` is caught.

Design notes:

- httpx's read timeout applies per chunk, so a server that drips a byte a
  second never trips it (encode/httpx docs/advanced/timeouts.md). Each fetch
  therefore runs under a whole-fetch `asyncio.timeout` as well.
- httpx decodes gzip with no output bound: one 64 KiB chunk of a gzip bomb
  becomes 64 MiB at once (`httpx._decoders.GZipDecoder`). We read the raw
  bytes with `aiter_raw()` and decompress them ourselves in slices of at most
  `_SLICE` bytes, so memory stays near the body cap whatever the ratio.
- Redirects are followed by hand so that each target's scheme is checked:
  only http and https, never `file:` or `data:` (a feed must not be able to
  make us read local files).
- A redirect may not lead into a more private network than the one it came
  from (server-side request forgery, OWASP "SSRF"): a public feed that
  redirects to 127.0.0.1, 10.x or 169.254.169.254 (cloud metadata) is
  refused before any packet goes there. A feed the user configured on a
  private or loopback host is theirs to fetch, and may redirect within that
  same kind of network. Hosts are resolved with the event loop's
  `getaddrinfo`; the connection resolves again, so a DNS server that answers
  differently the second time (rebinding) is not stopped by this check.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import ipaddress
import os
import re
import socket
import ssl
import stat
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import httpx

from sources import __version__
from sources.records import FeedSpec, FeedState, FetchResult, Settings

PROJECT_URL: Final = "https://github.com/stancewatch/stancewatch"
MAX_REDIRECTS: Final = 5
"""Redirects followed before a fetch gives up."""
MAX_RETRY_AFTER: Final = 30 * 24 * 3600.0
"""Longest Retry-After we honour, in seconds: beyond this a date is nonsense,
and an unbounded one would overflow `datetime + timedelta` in the caller."""
CONNECT_TIMEOUT: Final = 10.0
WRITE_TIMEOUT: Final = 10.0

_REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
_RETRY_STATUSES: Final = frozenset({429, 503})
_WEB_SCHEMES: Final = frozenset({"http", "https"})
_SLICE: Final = 64 * 1024
"""Most bytes one decompression step may produce."""
# Only what `_BodyDecoder` can decode with a bound; httpx would add "br" or
# "zstd" if those packages were installed, and decode them without one.
_ACCEPT_ENCODING: Final = "gzip, deflate"
_CONTROL_CHARS: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]+")

_PUBLIC: Final = "public"
_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")
"""RFC 6052's well-known prefix: the last 32 bits are an IPv4 address."""


def default_user_agent() -> str:
    """The User-Agent sent when none is given: names the tool and where to read about it.

    Returns:
        "stancewatch/<version> (+<project url>)".
    """
    return f"stancewatch/{__version__} (+{PROJECT_URL})"


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Read a Retry-After header (RFC 9110, section 10.2.3).

    Args:
        value: the header value: delay-seconds ("120") or an HTTP-date.
        now: the current time, aware (a naive one is taken as UTC).

    Returns:
        Seconds to wait, never negative and at most `MAX_RETRY_AFTER`; None
        when the header is absent or is neither form.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return min(float(int(text)), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # parsedate_to_datetime gives a naive datetime for "-0000"; HTTP-dates are GMT.
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER)


def is_local_path(url: str) -> bool:
    """Tell whether a configured feed location names a local file, not a web URL.

    Args:
        url: the feed's `url` as the user wrote it.

    Returns:
        True for an absolute path, a "~" path or a `file:` URL. Relative
        paths are not accepted: they would depend on the working directory.
    """
    if url.lower().startswith("file:"):
        return True
    if url.startswith("~"):
        return True
    return os.path.isabs(url)


def _one_line(text: str, limit: int = 200) -> str:
    """Fold text from a server or OS into one short printable line."""
    folded = " ".join(_CONTROL_CHARS.sub(" ", text).split())
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"


def _size_text(n: int) -> str:
    """Write a byte count the way a user configures it: "10 MiB", "512 KiB"."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


def _seconds_text(seconds: float) -> str:
    return f"{seconds:g} s"


def address_kind(address: str) -> str | None:
    """Name the kind of network an IP address is on, for the redirect rule.

    IPv4 addresses carried inside IPv6 (mapped, 6to4, Teredo, NAT64) are
    judged by the IPv4 address, since that is where the packets end up.

    Args:
        address: an IP address as text ("10.0.0.1", "::1", "fe80::1%eth0").

    Returns:
        "loopback", "link-local", "private" (RFC 1918, unique local,
        carrier-grade NAT and other non-global ranges), "reserved"
        (unspecified, multicast, reserved) or "public"; None when `address`
        is not an IP address.
    """
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
            address.split("%", 1)[0]
        )
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
        elif ip.teredo is not None:
            ip = ip.teredo[1]
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        return "reserved"
    if ip.is_private or not ip.is_global:
        return "private"
    return _PUBLIC


def redirect_refusal(source_kinds: frozenset[str], target_kinds: frozenset[str]) -> str | None:
    """Judge a redirect by the kinds of network it leaves and enters.

    A redirect may stay within the kind of network the previous URL was on,
    or go to the public internet; never into a more private one. When the
    source's kind is unknown (its host did not resolve here, as behind a
    proxy), it is taken as public, the strictest case.

    Args:
        source_kinds: `address_kind` of each address of the host redirecting.
        target_kinds: `address_kind` of each address the target host has.

    Returns:
        The kind of network refused ("private", "loopback", ...), or None if
        the redirect may be followed.
    """
    source = source_kinds or frozenset({_PUBLIC})
    for kind in sorted(target_kinds):
        if kind == _PUBLIC:
            continue
        # Every address of the source must share the kind: a host with one
        # public address is reachable from outside and gets no trust.
        if source != frozenset({kind}):
            return kind
    return None


async def _host_kinds(url: httpx.URL) -> frozenset[str]:
    """The kinds of network `url`'s host is on; empty if it does not resolve here."""
    kind = address_kind(url.host)
    if kind is not None:
        return frozenset({kind})
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(
            url.host, url.port or (443 if url.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except (OSError, UnicodeError):
        # Not resolvable here (a proxy may still reach it): the connection
        # attempt will say what is wrong, and a source we cannot place is
        # treated as public by `redirect_refusal`.
        return frozenset()
    kinds = {address_kind(str(info[4][0])) for info in infos}
    return frozenset(k for k in kinds if k is not None)


class _FetchFailedError(Exception):
    """A fetch ended in a way already put into words; carries the result fields."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        final_url: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.final_url = final_url


class _BodyDecoder:
    """Undo a Content-Encoding, yielding slices of at most `_SLICE` bytes.

    Feeding a whole compressed chunk to zlib at once would let a 64 KiB chunk
    expand without limit before we could count it; `max_length` plus
    `unconsumed_tail` keep each step small.
    """

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._raw_deflate_tried = False
        self._wbits = 0
        self._zlib: zlib._Decompress | None
        if encoding in ("gzip", "x-gzip"):
            self._wbits = zlib.MAX_WBITS | 16
        elif encoding == "deflate":
            # RFC 9110 says zlib-wrapped; some servers send raw deflate.
            self._wbits = zlib.MAX_WBITS
        self._zlib = None if encoding in ("", "identity") else zlib.decompressobj(self._wbits)

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decode one raw chunk.

        Raises:
            zlib.error: the body is not valid for its encoding.
        """
        if self._zlib is None:
            yield data
            return
        while data:
            try:
                out = self._zlib.decompress(data, _SLICE)
            except zlib.error:
                if self.encoding != "deflate" or self._raw_deflate_tried:
                    raise
                # Same retry as httpx's DeflateDecoder: restart as raw deflate.
                self._raw_deflate_tried = True
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                continue
            self._raw_deflate_tried = True
            if out:
                yield out
            if self._zlib.unconsumed_tail:
                data = self._zlib.unconsumed_tail
            elif self._zlib.eof and self._zlib.unused_data and self._wbits & 16:
                # A gzip file may hold several members one after the other.
                data = self._zlib.unused_data
                self._zlib = zlib.decompressobj(self._wbits)
            else:
                data = b""

    def flush(self) -> bytes:
        """The last decoded bytes; a truncated stream is accepted, as httpx does."""
        if self._zlib is None:
            return b""
        return self._zlib.flush()


class Fetcher:
    """Fetches feeds with one shared HTTP client, within global and per-host limits.

    Use as `async with Fetcher(settings) as fetcher:` and call `fetch` from
    as many tasks as you like; the limits in `settings` hold across them.
    """

    def __init__(
        self, settings: Settings, *, user_agent: str | None = None, trust_env: bool = True
    ) -> None:
        """Prepare a fetcher; the client opens in `__aenter__`.

        Args:
            settings: `concurrency`, `per_host`, `timeout` and `max_body_bytes` apply.
            user_agent: the User-Agent header; `default_user_agent()` when None.
            trust_env: honour proxy variables and `.netrc` from the environment,
                as a user expects; tests pass False to keep the machine out.
        """
        self.settings = settings
        self.user_agent = user_agent if user_agent is not None else default_user_agent()
        self.trust_env = trust_env
        self._client: httpx.AsyncClient | None = None
        self._global = asyncio.Semaphore(max(1, settings.concurrency))
        self._per_host: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> Fetcher:
        concurrency = max(1, self.settings.concurrency)
        # Fresh limits per use: a semaphore binds to the first loop that waits
        # on it, and the CLI may run several rounds with separate asyncio.run.
        self._global = asyncio.Semaphore(concurrency)
        self._per_host = {}
        self._client = httpx.AsyncClient(
            headers={"User-Agent": self.user_agent, "Accept-Encoding": _ACCEPT_ENCODING},
            timeout=httpx.Timeout(
                connect=CONNECT_TIMEOUT,
                read=self.settings.timeout,
                write=WRITE_TIMEOUT,
                pool=self.settings.timeout,
            ),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            follow_redirects=False,
            event_hooks={"response": [_vet_redirect]},
            trust_env=self.trust_env,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def fetch(self, feed: FeedSpec, state: FeedState | None) -> FetchResult:
        """Fetch one feed; every failure comes back as a result, never raised.

        Args:
            feed: the feed to fetch; its `url` is http(s) or a local path.
            state: what the store knows of the feed, for conditional GET; None
                for a feed never fetched.

        Returns:
            A `FetchResult`: `body` set on success, `not_modified` on a 304
            (or an unchanged local file), else `error` set to one line.
            `headers` are lowercased and lack Content-Encoding, since the body
            is already decoded.

        Raises:
            RuntimeError: the fetcher is used outside `async with`.
            asyncio.CancelledError: the calling task was cancelled.
        """
        if self._client is None:
            raise RuntimeError("Fetcher.fetch called outside 'async with Fetcher(...)'")
        if is_local_path(feed.url):
            return await self._fetch_local(feed.url, state)
        return await self._fetch_http(self._client, feed.url, state)

    # --- http ---------------------------------------------------------------

    def _host_limit(self, url: httpx.URL) -> asyncio.Semaphore:
        key = f"{url.host}:{url.port or ''}"
        sem = self._per_host.get(key)
        if sem is None:
            sem = self._per_host[key] = asyncio.Semaphore(max(1, self.settings.per_host))
        return sem

    async def _fetch_http(
        self, client: httpx.AsyncClient, url: str, state: FeedState | None
    ) -> FetchResult:
        loop = asyncio.get_running_loop()
        started: float | None = None
        current = url
        try:
            target = httpx.URL(url)
            if target.scheme not in _WEB_SCHEMES:
                raise _FetchFailedError(
                    f"unsupported URL scheme {target.scheme or '(none)'!r}: only http, https"
                    " and local file paths can be fetched"
                )
            if not target.host:
                raise _FetchFailedError("URL has no host")
            conditional: dict[str, str] = {}
            if state is not None and state.etag:
                conditional["If-None-Match"] = state.etag
            if state is not None and state.last_modified:
                conditional["If-Modified-Since"] = state.last_modified
            # The deadline starts once the first request may go out: time spent
            # queueing behind other feeds is not this feed's fault.
            async with asyncio.timeout(None) as deadline:
                source_kinds: frozenset[str] | None = None
                for hop in range(MAX_REDIRECTS + 1):
                    current = str(target)
                    # Host limit before the global one, so a feed waiting for a
                    # busy host does not sit on a global slot; both are released
                    # between hops, so one feed never holds two hosts (no deadlock).
                    async with self._host_limit(target), self._global:
                        if started is None:
                            started = loop.time()
                            deadline.reschedule(started + self.settings.timeout)
                        outcome = await self._one_request(client, target, conditional, state)
                    if isinstance(outcome, FetchResult):
                        return _with_elapsed(outcome, loop.time() - started, url=url)
                    if hop == MAX_REDIRECTS:
                        raise _FetchFailedError(
                            f"too many redirects (more than {MAX_REDIRECTS})", final_url=current
                        )
                    # Judged before the next request, so nothing is ever sent
                    # to an address the rule refuses.
                    if source_kinds is None:
                        source_kinds = await _host_kinds(target)
                    target_kinds = await _host_kinds(outcome)
                    refused = redirect_refusal(source_kinds, target_kinds)
                    if refused is not None:
                        raise _FetchFailedError(
                            f"redirect to a {refused} address refused: {_one_line(str(outcome))}",
                            final_url=current,
                        )
                    source_kinds = target_kinds
                    target = outcome
        except TimeoutError:
            message = f"timed out after {_seconds_text(self.settings.timeout)}"
            return self._failed(url, message, current, started, loop)
        except _FetchFailedError as exc:
            return FetchResult(
                url=url,
                status=exc.status,
                error=exc.message,
                retry_after=exc.retry_after,
                final_url=exc.final_url or current,
                elapsed=0.0 if started is None else loop.time() - started,
            )
        except Exception as exc:  # each feed's failure stays with that feed
            return self._failed(url, _describe(exc, current), current, started, loop)
        raise AssertionError("unreachable: the redirect loop always returns or raises")

    @staticmethod
    def _failed(
        url: str, message: str, current: str, started: float | None, loop: asyncio.AbstractEventLoop
    ) -> FetchResult:
        elapsed = 0.0 if started is None else loop.time() - started
        return FetchResult(url=url, error=message, final_url=current, elapsed=elapsed)

    async def _one_request(
        self,
        client: httpx.AsyncClient,
        target: httpx.URL,
        conditional: dict[str, str],
        state: FeedState | None,
    ) -> FetchResult | httpx.URL:
        """One GET: a finished result, or the next URL to follow."""
        async with client.stream("GET", target, headers=conditional) as resp:
            status = resp.status_code
            final = str(resp.url)
            if status in _REDIRECT_STATUSES:
                return _redirect_target(resp)
            if status == 304:
                return FetchResult(
                    url="",
                    status=status,
                    headers=_headers(resp),
                    etag=resp.headers.get("etag") or (state.etag if state else None),
                    last_modified=resp.headers.get("last-modified")
                    or (state.last_modified if state else None),
                    not_modified=True,
                    final_url=final,
                )
            if not 200 <= status < 300:
                retry_after = None
                if status in _RETRY_STATUSES:
                    retry_after = parse_retry_after(
                        resp.headers.get("retry-after"), datetime.now(UTC)
                    )
                phrase = httpx.codes.get_reason_phrase(status) or _one_line(resp.reason_phrase)
                raise _FetchFailedError(
                    f"HTTP {status} {phrase}".rstrip(),
                    status=status,
                    retry_after=retry_after,
                    final_url=final,
                )
            body = await self._read_body(resp)
            return FetchResult(
                url="",
                status=status,
                body=body,
                headers=_headers(resp),
                etag=resp.headers.get("etag"),
                last_modified=resp.headers.get("last-modified"),
                final_url=final,
            )

    async def _read_body(self, resp: httpx.Response) -> bytes:
        cap = self.settings.max_body_bytes
        too_big = f"body larger than {_size_text(cap)}"
        encoding = resp.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
            raise _FetchFailedError(
                f"unsupported Content-Encoding {_one_line(encoding, 40)!r}",
                status=resp.status_code,
            )
        declared = resp.headers.get("content-length", "")
        if encoding in ("identity", "") and declared.isdigit() and int(declared) > cap:
            raise _FetchFailedError(too_big, status=resp.status_code)
        decoder = _BodyDecoder(encoding)
        parts: list[bytes] = []
        total = 0
        try:
            async for raw in resp.aiter_raw():
                for piece in decoder.feed(raw):
                    total += len(piece)
                    if total > cap:
                        raise _FetchFailedError(too_big, status=resp.status_code)
                    parts.append(piece)
            tail = decoder.flush()
        except zlib.error as exc:
            raise _FetchFailedError(
                f"could not decode the {encoding} body: {_one_line(str(exc))}",
                status=resp.status_code,
            ) from exc
        total += len(tail)
        if total > cap:
            raise _FetchFailedError(too_big, status=resp.status_code)
        parts.append(tail)
        return b"".join(parts)

    # --- local files --------------------------------------------------------

    async def _fetch_local(self, url: str, state: FeedState | None) -> FetchResult:
        loop = asyncio.get_running_loop()
        async with self._global:
            started = loop.time()
            try:
                path = _local_path(url)
                async with asyncio.timeout(self.settings.timeout):
                    result = await asyncio.to_thread(
                        _read_local, path, self.settings.max_body_bytes, state
                    )
            except TimeoutError:
                message = f"timed out after {_seconds_text(self.settings.timeout)}"
                return FetchResult(url=url, error=message, elapsed=loop.time() - started)
            except _FetchFailedError as exc:
                return FetchResult(url=url, error=exc.message, elapsed=loop.time() - started)
            except Exception as exc:  # each feed's failure stays with that feed
                return FetchResult(
                    url=url, error=_describe(exc, url), elapsed=loop.time() - started
                )
            return _with_elapsed(result, loop.time() - started, url=url)


def _with_elapsed(result: FetchResult, elapsed: float, *, url: str) -> FetchResult:
    """Fill in the fields only the outer call knows."""
    return dataclasses.replace(result, url=url, elapsed=elapsed)


def _headers(resp: httpx.Response) -> tuple[tuple[str, str], ...]:
    # The body we hand on is decoded; feedparser would try to gunzip it again
    # if Content-Encoding stayed (lemon24/reader _parser/http.py does the same).
    return tuple(
        (name.lower(), value)
        for name, value in resp.headers.multi_items()
        if name.lower() != "content-encoding"
    )


def _redirect_target(resp: httpx.Response) -> httpx.URL:
    """Where a redirect points, refusing anything but http(s).

    The scheme is judged on the raw Location before any URL library sees it,
    so "FILE:", " file:" and "data:" are all refused the same way.
    """
    location = resp.headers.get("location")
    if not location:
        raise _FetchFailedError(
            f"HTTP {resp.status_code} redirect without a Location header",
            status=resp.status_code,
            final_url=str(resp.url),
        )
    shown = _one_line(location)
    try:
        scheme = urllib.parse.urlsplit(location.strip()).scheme.lower()
    except ValueError as exc:  # "http://[::1" and the like
        raise _FetchFailedError(
            f"invalid redirect target: {shown}", status=resp.status_code, final_url=str(resp.url)
        ) from exc
    if scheme and scheme not in _WEB_SCHEMES:
        raise _FetchFailedError(
            f"redirect to a non-http URL refused: {shown}",
            status=resp.status_code,
            final_url=str(resp.url),
        )
    try:
        target = resp.url.join(location)
    except httpx.InvalidURL as exc:
        raise _FetchFailedError(
            f"invalid redirect target: {shown}", status=resp.status_code, final_url=str(resp.url)
        ) from exc
    if target.scheme not in _WEB_SCHEMES or not target.host:
        raise _FetchFailedError(
            f"redirect to a non-http URL refused: {shown}",
            status=resp.status_code,
            final_url=str(resp.url),
        )
    return target


async def _vet_redirect(resp: httpx.Response) -> None:
    """Response hook: judge a redirect's Location before httpx itself parses it.

    Even with `follow_redirects=False`, httpx builds the next request (for
    `response.next_request`) and raises a bare `InvalidURL` on a Location such
    as "data:text/xml,<rss/>" (`httpx._client.AsyncClient._send_handling_redirects`).
    Hooks run first, so our refusal, with its clear message, wins.
    """
    if resp.status_code in _REDIRECT_STATUSES and "location" in resp.headers:
        _redirect_target(resp)


def _describe(exc: BaseException, url: str) -> str:
    """Say in one line what went wrong, naming the cause a user can act on."""
    try:
        return _describe_cause(exc, url)
    except Exception:  # a slip in wording must not turn a feed's failure into a crash
        return type(exc).__name__


def _describe_cause(exc: BaseException, url: str) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"timed out connecting (more than {_seconds_text(CONNECT_TIMEOUT)})"
    if isinstance(exc, httpx.ReadTimeout):
        return "timed out waiting for the server to send data"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return f"invalid URL: {_one_line(str(exc))}"
    cause = _os_cause(exc)
    if isinstance(cause, socket.gaierror):
        host = httpx.URL(url).host if "://" in url else url
        return f"DNS lookup failed for host {_one_line(host, 100)}"
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"TLS certificate not accepted: {_one_line(cause.verify_message or str(cause))}"
    if isinstance(cause, ssl.SSLError):
        return f"TLS error: {_one_line(cause.reason or str(cause))}"
    if isinstance(cause, FileNotFoundError):
        return f"no such file: {_one_line(str(cause.filename or url))}"
    if isinstance(cause, IsADirectoryError):
        return f"is a directory, not a file: {_one_line(str(cause.filename or url))}"
    if isinstance(cause, PermissionError):
        return f"permission denied: {_one_line(str(cause.filename or url))}"
    if isinstance(cause, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(exc, httpx.RemoteProtocolError):
        # h11's wording, via httpcore, for the two common ways a server hangs up.
        text = str(exc)
        if "without sending a response" in text:
            return "the server closed the connection without answering"
        if "without sending complete message body" in text:
            return "the server closed the connection before the whole body arrived"
        return f"the server broke the HTTP protocol: {_one_line(text)}"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return f"connection lost: {_one_line(str(exc)) or type(exc).__name__}"
    if cause is not None and cause.strerror:
        return _one_line(cause.strerror[0].lower() + cause.strerror[1:])
    text = _one_line(str(exc))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _os_cause(exc: BaseException) -> OSError | None:
    """The innermost OSError behind an httpx error (httpcore and anyio wrap it twice)."""
    found: OSError | None = None
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError):
            found = current
        current = current.__cause__ or current.__context__
    return found


# --- local files ---------------------------------------------------------------


def _local_path(url: str) -> Path:
    if url.lower().startswith("file:"):
        parts = urllib.parse.urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise _FetchFailedError(f"file URL on another host is not supported: {_one_line(url)}")
        return Path(urllib.request.url2pathname(parts.path))
    return Path(url).expanduser()


def _local_validator(st: os.stat_result) -> str:
    # An HTTP-date has one-second resolution; a file rewritten twice in one
    # second would look unchanged, so the validator also holds mtime in ns and size.
    return f'"{st.st_mtime_ns:x}-{st.st_size:x}"'


def _read_local(path: Path, cap: int, state: FeedState | None) -> FetchResult:
    """Read a local feed file, at most `cap` bytes; runs in a worker thread."""
    # O_NONBLOCK so a FIFO does not block the open forever; fstat then refuses it.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _FetchFailedError(f"not a regular file: {_one_line(str(path))}")
        fh = open(fd, "rb", closefd=True)  # owns fd from here on
    except BaseException:
        os.close(fd)
        raise
    with fh:
        etag = _local_validator(st)
        last_modified = email.utils.formatdate(st.st_mtime, usegmt=True)
        final = path.as_uri() if path.is_absolute() else str(path)
        if state is not None and state.etag == etag:
            return FetchResult(
                url=str(path),
                etag=etag,
                last_modified=last_modified,
                not_modified=True,
                final_url=final,
            )
        body = fh.read(cap + 1)
    if len(body) > cap:
        raise _FetchFailedError(f"body larger than {_size_text(cap)}")
    return FetchResult(
        url=str(path),
        body=body,
        etag=etag,
        last_modified=last_modified,
        final_url=final,
        headers=(("last-modified", last_modified),),
    )


__all__ = [
    "MAX_REDIRECTS",
    "MAX_RETRY_AFTER",
    "Fetcher",
    "address_kind",
    "default_user_agent",
    "is_local_path",
    "parse_retry_after",
    "redirect_refusal",
]
