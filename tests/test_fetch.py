"""Fetching against a real loopback server: bodies, validators, and every way a feed misbehaves."""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import os
import re
import threading
import time
import tracemalloc
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sources.fetch import (
    MAX_RETRY_AFTER,
    Fetcher,
    default_user_agent,
    is_local_path,
    parse_retry_after,
)
from sources.records import FeedSpec, FeedState, FetchResult, Settings
from tests.feedserver import FeedServer, refused_url

MiB = 1 << 20
FEED = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
    b"<title>Loopback wire</title><item><title>Envoy speaks on ceasefire</title>"
    b"<link>http://127.0.0.1/a</link></item></channel></rss>\n"
)
LAST_MODIFIED = "Wed, 01 Oct 2025 08:00:00 GMT"
# Every fetch in this file gets a small deadline; a test that hangs anyway is
# cut off here rather than stalling the suite.
TEST_BOUND = 15.0


def fast_settings(**overrides: float) -> Settings:
    """Settings with a 2 s deadline and a 1 MiB cap, so misbehaviour is quick to see."""
    values: dict[str, float] = {"timeout": 2.0, "max_body_bytes": MiB}
    values.update(overrides)
    return Settings(
        concurrency=int(values.pop("concurrency", 8)),
        per_host=int(values.pop("per_host", 2)),
        timeout=values["timeout"],
        max_body_bytes=int(values["max_body_bytes"]),
    )


async def fetch_one(
    url: str, state: FeedState | None = None, settings: Settings | None = None
) -> FetchResult:
    async with asyncio.timeout(TEST_BOUND):
        async with Fetcher(settings or fast_settings(), trust_env=False) as fetcher:
            return await fetcher.fetch(FeedSpec(url=url), state)


def header(result: FetchResult, name: str) -> str | None:
    return next((value for key, value in result.headers if key == name), None)


# --- bodies and validators -------------------------------------------------------


async def test_a_feed_comes_back_with_body_status_and_lowercased_headers(
    feed_server: FeedServer,
) -> None:
    url = feed_server.add("/feed.xml", FEED, etag='"v1"', last_modified=LAST_MODIFIED)

    result = await fetch_one(url)

    assert result.error is None
    assert result.status == 200
    assert result.body == FEED
    assert not result.not_modified
    assert result.etag == '"v1"'
    assert result.last_modified == LAST_MODIFIED
    assert header(result, "content-type") == "application/rss+xml"
    assert all(name == name.lower() for name, _ in result.headers)
    assert result.url == url
    assert result.final_url == url
    assert result.elapsed > 0


async def test_a_second_fetch_sends_the_stored_validators_and_gets_not_modified(
    feed_server: FeedServer,
) -> None:
    url = feed_server.add("/feed.xml", FEED, etag='"v1"', last_modified=LAST_MODIFIED)
    first = await fetch_one(url)
    state = FeedState(url=url, etag=first.etag, last_modified=first.last_modified)

    second = await fetch_one(url, state)

    assert second.error is None
    assert second.not_modified
    assert second.status == 304
    assert second.body is None
    assert (second.etag, second.last_modified) == ('"v1"', LAST_MODIFIED)
    sent = [headers for _, _, headers in feed_server.requests_to("/feed.xml")]
    assert "if-none-match" not in sent[0]
    assert sent[1]["if-none-match"] == '"v1"'
    assert sent[1]["if-modified-since"] == LAST_MODIFIED


async def test_last_modified_alone_is_enough_for_not_modified(feed_server: FeedServer) -> None:
    url = feed_server.add("/dated.xml", FEED, last_modified=LAST_MODIFIED)

    result = await fetch_one(url, FeedState(url=url, last_modified=LAST_MODIFIED))

    assert result.not_modified
    assert "if-none-match" not in feed_server.requests_to("/dated.xml")[0][2]


async def test_a_changed_feed_is_fetched_again_with_its_new_etag(feed_server: FeedServer) -> None:
    url = feed_server.add("/feed.xml", FEED + b"<!-- v2 -->", etag='"v2"')

    result = await fetch_one(url, FeedState(url=url, etag='"v1"'))

    assert not result.not_modified
    assert result.body == FEED + b"<!-- v2 -->"
    assert result.etag == '"v2"'


async def test_a_304_without_validators_keeps_the_stored_ones(feed_server: FeedServer) -> None:
    url = feed_server.add("/bare-304.xml", b"", status=304)

    result = await fetch_one(url, FeedState(url=url, etag='"old"', last_modified=LAST_MODIFIED))

    assert result.not_modified
    assert (result.etag, result.last_modified) == ('"old"', LAST_MODIFIED)


async def test_a_gzip_body_is_decoded_and_content_encoding_dropped(
    feed_server: FeedServer,
) -> None:
    url = feed_server.add("/zipped.xml", FEED, gzip=True)

    result = await fetch_one(url)

    assert result.error is None
    assert result.body == FEED
    assert header(result, "content-encoding") is None
    assert "gzip" in feed_server.requests_to("/zipped.xml")[0][2]["accept-encoding"]


async def test_a_multi_member_gzip_body_is_decoded_whole(feed_server: FeedServer) -> None:
    halves = gzip.compress(FEED[:40]) + gzip.compress(FEED[40:])
    url = feed_server.add("/two-members.xml", halves, headers={"Content-Encoding": "gzip"})

    result = await fetch_one(url)

    assert result.body == FEED


async def test_a_corrupt_gzip_body_is_an_error(feed_server: FeedServer) -> None:
    url = feed_server.add(
        "/broken.gz", b"\x1f\x8b not gzip at all", headers={"Content-Encoding": "gzip"}
    )

    result = await fetch_one(url)

    assert result.body is None
    assert result.error is not None
    assert result.error.startswith("could not decode the gzip body")


async def test_the_user_agent_names_the_tool(feed_server: FeedServer) -> None:
    url = feed_server.add("/feed.xml", FEED)

    await fetch_one(url)
    async with Fetcher(fast_settings(), user_agent="custom-agent/1", trust_env=False) as fetcher:
        await fetcher.fetch(FeedSpec(url=url), None)

    agents = [headers["user-agent"] for _, _, headers in feed_server.requests_to("/feed.xml")]
    assert agents == [default_user_agent(), "custom-agent/1"]
    assert re.fullmatch(
        r"stancewatch/\S+ \(\+https://github\.com/stancewatch/stancewatch\)", agents[0]
    )


# --- size cap ---------------------------------------------------------------------


async def test_a_gzip_bomb_is_refused_at_the_cap_without_expanding_in_memory(
    feed_server: FeedServer,
) -> None:
    tracemalloc.start()
    try:
        result = await fetch_one(feed_server.url("/gzip-bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.error == "body larger than 1 MiB"
    assert result.body is None
    # The bomb expands to 128 MiB, and one 64 KiB network chunk of it to 64 MiB;
    # bounded decoding keeps the peak near the 1 MiB cap.
    assert peak < 8 * MiB


async def test_a_streamed_body_past_the_cap_is_cut_off(feed_server: FeedServer) -> None:
    result = await fetch_one(feed_server.url("/huge"))

    assert result.error == "body larger than 1 MiB"
    assert result.status == 200
    assert result.body is None


async def test_a_declared_length_past_the_cap_is_refused(feed_server: FeedServer) -> None:
    url = feed_server.add("/big.xml", bytes(2 * MiB))

    result = await fetch_one(url)

    assert result.error == "body larger than 1 MiB"


async def test_a_body_exactly_at_the_cap_is_accepted(feed_server: FeedServer) -> None:
    url = feed_server.add("/exact.xml", b"x" * 4096, gzip=True)

    result = await fetch_one(url, settings=fast_settings(max_body_bytes=4096))

    assert result.error is None
    assert result.body == b"x" * 4096


# --- deadlines ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/drip?seconds=20", "/hang?seconds=20"])
async def test_a_slow_server_is_cut_off_at_the_whole_fetch_deadline(
    feed_server: FeedServer, path: str
) -> None:
    started = time.monotonic()

    result = await fetch_one(feed_server.url(path))

    took = time.monotonic() - started
    assert result.error is not None
    assert result.error.startswith("timed out")
    assert result.body is None
    assert took < 6.0  # deadline 2 s; generous, this is not a benchmark


async def test_a_drip_reports_the_deadline_in_its_error(feed_server: FeedServer) -> None:
    result = await fetch_one(feed_server.url("/drip?seconds=20&interval=0.5"))

    assert result.error == "timed out after 2 s"
    assert 1.5 < result.elapsed < 6.0


async def test_cancelling_a_fetch_cancels_the_caller_not_a_result(
    feed_server: FeedServer,
) -> None:
    async with Fetcher(fast_settings(timeout=10.0), trust_env=False) as fetcher:
        task = asyncio.create_task(fetcher.fetch(FeedSpec(url=feed_server.url("/hang")), None))
        while not feed_server.requests_to("/hang"):
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            async with asyncio.timeout(TEST_BOUND):
                await task


# --- redirects ------------------------------------------------------------------------


async def test_a_redirect_is_followed_to_the_feed(feed_server: FeedServer) -> None:
    feed_server.add("/moved.xml", FEED)

    result = await fetch_one(feed_server.url("/redirect-to?url=/moved.xml&status=301"))

    assert result.error is None
    assert result.body == FEED
    assert result.final_url == feed_server.url("/moved.xml")


async def test_a_redirect_to_an_unparseable_url_is_an_error(feed_server: FeedServer) -> None:
    result = await fetch_one(feed_server.url("/redirect-to?url=http://[::1"))

    assert result.error == "invalid redirect target: http://[::1"
    assert result.status == 302


async def test_a_redirect_loop_stops_after_five_hops(feed_server: FeedServer) -> None:
    result = await fetch_one(feed_server.url("/redirect-loop"))

    assert result.error == "too many redirects (more than 5)"
    assert len(feed_server.requests_to("/redirect-loop")) == 6


@pytest.mark.parametrize(
    "target",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "ftp://127.0.0.1/feed.xml",
        "data:text/xml,<rss/>",
        "javascript:alert(1)",
        "mailto:editor@example.org",
    ],
)
async def test_a_redirect_to_a_non_http_url_is_refused(
    feed_server: FeedServer, target: str
) -> None:
    url = feed_server.url("/redirect-to?" + urllib.parse.urlencode({"url": target}))

    result = await fetch_one(url)

    assert result.error == f"redirect to a non-http URL refused: {target}"
    assert result.body is None


# --- statuses and connection failures --------------------------------------------------


@pytest.mark.parametrize(
    ("code", "message"),
    [(404, "HTTP 404 Not Found"), (500, "HTTP 500 Internal Server Error"), (410, "HTTP 410 Gone")],
)
async def test_an_error_status_is_reported_as_http_code_and_phrase(
    feed_server: FeedServer, code: int, message: str
) -> None:
    result = await fetch_one(feed_server.url(f"/status/{code}"))

    assert result.error == message
    assert result.status == code
    assert result.body is None
    assert result.retry_after is None


async def test_a_429_carries_its_retry_after_seconds(feed_server: FeedServer) -> None:
    result = await fetch_one(feed_server.url("/status/429?retry_after=120"))

    assert result.error == "HTTP 429 Too Many Requests"
    assert result.retry_after == 120.0


async def test_a_503_carries_its_retry_after_date(feed_server: FeedServer) -> None:
    later = datetime.now(UTC) + timedelta(minutes=10)
    date = email.utils.format_datetime(later, usegmt=True)

    result = await fetch_one(
        feed_server.url("/status/503?" + urllib.parse.urlencode({"retry_after": date}))
    )

    assert result.error == "HTTP 503 Service Unavailable"
    assert result.retry_after is not None
    assert 540 < result.retry_after <= 600


async def test_a_closed_port_is_connection_refused() -> None:
    result = await fetch_one(refused_url("/feed.xml"))

    assert result.error == "connection refused"
    assert result.status is None


async def test_an_unknown_host_is_a_dns_failure() -> None:
    # .invalid never resolves (RFC 6761); the fetch deadline bounds a slow resolver.
    result = await fetch_one("http://no-such-host.invalid/feed.xml")

    assert result.error is not None
    assert result.error in (
        "DNS lookup failed for host no-such-host.invalid",
        "timed out after 2 s",
    )


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/feed.xml", "feeds/relative.xml", "gopher://x"])
async def test_a_url_that_is_neither_web_nor_local_is_refused(url: str) -> None:
    result = await fetch_one(url)

    assert result.error is not None
    assert "only http, https and local file paths" in result.error


# --- local files --------------------------------------------------------------------------


@pytest.fixture
def feed_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A feed on disk under a throwaway HOME, so "~" paths resolve into tmp_path."""
    monkeypatch.setenv("HOME", str(tmp_path))
    path = tmp_path / "archive.xml"
    path.write_bytes(FEED)
    yield path


@pytest.mark.parametrize("form", ["absolute", "home", "file-url"])
async def test_a_local_file_is_read_by_every_form_of_path(feed_file: Path, form: str) -> None:
    url = {"absolute": str(feed_file), "home": "~/archive.xml", "file-url": feed_file.as_uri()}[
        form
    ]

    result = await fetch_one(url)

    assert result.error is None
    assert result.body == FEED
    assert result.url == url
    assert result.last_modified is not None


async def test_an_unchanged_local_file_is_not_modified_and_a_rewritten_one_is_read(
    feed_file: Path,
) -> None:
    first = await fetch_one(str(feed_file))
    state = FeedState(url=str(feed_file), etag=first.etag, last_modified=first.last_modified)

    unchanged = await fetch_one(str(feed_file), state)
    feed_file.write_bytes(FEED + b"<!-- more -->")
    changed = await fetch_one(str(feed_file), state)

    assert unchanged.not_modified and unchanged.body is None
    assert not changed.not_modified
    assert changed.body == FEED + b"<!-- more -->"


async def test_a_local_file_past_the_cap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    path.write_bytes(bytes(MiB + 1))

    result = await fetch_one(str(path))

    assert result.error == "body larger than 1 MiB"


async def test_a_missing_local_file_or_a_directory_is_an_error(tmp_path: Path) -> None:
    missing = await fetch_one(str(tmp_path / "gone.xml"))
    directory = await fetch_one(str(tmp_path))

    assert missing.error == f"no such file: {tmp_path / 'gone.xml'}"
    assert directory.error is not None and "not a regular file" in directory.error


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
async def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.xml"
    os.mkfifo(fifo)

    result = await fetch_one(str(fifo))

    assert result.error == f"not a regular file: {fifo}"


# --- limits and isolation --------------------------------------------------------------------


async def fetch_many(server: FeedServer, settings: Settings, count: int) -> list[FetchResult]:
    urls = [server.add(f"/slow-{n}.xml", FEED, delay=0.3) for n in range(count)]
    async with asyncio.timeout(TEST_BOUND):
        async with Fetcher(settings, trust_env=False) as fetcher:
            return await asyncio.gather(*(fetcher.fetch(FeedSpec(url=u), None) for u in urls))


async def test_the_per_host_limit_serialises_requests_to_one_host(
    feed_server: FeedServer,
) -> None:
    results = await fetch_many(feed_server, fast_settings(per_host=1, concurrency=8), 4)

    assert all(r.body == FEED for r in results)
    assert feed_server.max_in_flight == 1


async def test_requests_to_one_host_overlap_up_to_the_per_host_limit(
    feed_server: FeedServer,
) -> None:
    # The counterpart of the test above: the server does see overlap when allowed.
    await fetch_many(feed_server, fast_settings(per_host=3, concurrency=8), 6)

    assert 2 <= feed_server.max_in_flight <= 3


async def test_the_global_limit_holds_when_the_host_limit_is_higher(
    feed_server: FeedServer,
) -> None:
    await fetch_many(feed_server, fast_settings(per_host=8, concurrency=2), 6)

    assert feed_server.max_in_flight == 2


async def test_one_bad_feed_among_good_ones_does_not_affect_them(
    feed_server: FeedServer,
) -> None:
    good = [feed_server.add(f"/good-{n}.xml", FEED + bytes([65 + n])) for n in range(4)]
    bad = [
        feed_server.url("/hang?seconds=20"),
        feed_server.url("/gzip-bomb"),
        feed_server.url("/redirect-loop"),
        feed_server.url("/status/500"),
        refused_url(),
        "http://[::1",
    ]
    urls = [good[0], bad[0], good[1], bad[1], bad[2], good[2], bad[3], bad[4], good[3], bad[5]]

    async with asyncio.timeout(TEST_BOUND):
        async with Fetcher(fast_settings(per_host=8), trust_env=False) as fetcher:
            results = await asyncio.gather(*(fetcher.fetch(FeedSpec(url=u), None) for u in urls))

    by_url = dict(zip(urls, results, strict=True))
    for n, url in enumerate(good):
        assert by_url[url].error is None
        assert by_url[url].body == FEED + bytes([65 + n])
    for url in bad:
        error = by_url[url].error
        assert error, url
        assert "\n" not in error


async def test_fetching_outside_the_context_manager_is_a_programming_error() -> None:
    fetcher = Fetcher(fast_settings(), trust_env=False)

    with pytest.raises(RuntimeError, match="async with"):
        await fetcher.fetch(FeedSpec(url="http://127.0.0.1/"), None)


# --- pure helpers ---------------------------------------------------------------------------

NOW = datetime(2025, 10, 1, 8, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Wed, 01 Oct 2025 08:02:30 GMT", 150.0),
        ("Wed, 01 Oct 2025 07:00:00 GMT", 0.0),  # in the past: go now
        # RFC 9110 section 5.6.7: the two obsolete forms must be accepted too.
        ("Wednesday, 01-Oct-25 08:01:00 GMT", 60.0),
        ("Wed Oct  1 08:01:00 2025", 60.0),
        ("99999999999999999999", MAX_RETRY_AFTER),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after_reads_seconds_and_http_dates(
    value: str | None, expected: float | None
) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_parse_retry_after_takes_a_naive_now_as_utc() -> None:
    naive = NOW.replace(tzinfo=None)

    assert parse_retry_after("Wed, 01 Oct 2025 08:00:10 GMT", naive) == 10.0


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("/var/feeds/a.xml", True),
        ("~/feeds/a.xml", True),
        ("file:///var/feeds/a.xml", True),
        ("https://example.org/feed.xml", False),
        ("http://example.org/feed.xml", False),
        ("feeds/a.xml", False),
        ("ftp://example.org/a.xml", False),
    ],
)
def test_is_local_path_accepts_only_absolute_home_and_file_url_paths(url: str, local: bool) -> None:
    assert is_local_path(url) is local


# --- the test server itself -----------------------------------------------------------------


async def test_stopping_the_server_ends_its_misbehaving_routes_and_threads() -> None:
    # Other suites rely on this: a drip, a hang or a stream cut off by stop()
    # must not leave a thread running past the test.
    srv = FeedServer().start()
    paths = ["/drip?seconds=60", "/hang?seconds=60", "/huge?bytes=1000000000000"]
    settings = fast_settings(timeout=30.0, max_body_bytes=1 << 40, per_host=3)
    async with Fetcher(settings, trust_env=False) as fetcher:
        tasks = [asyncio.create_task(fetcher.fetch(FeedSpec(url=srv.url(p)), None)) for p in paths]
        async with asyncio.timeout(TEST_BOUND):
            while len(srv.requests) < len(paths):
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await asyncio.to_thread(srv.stop)
        stop_took = time.monotonic() - started
        async with asyncio.timeout(TEST_BOUND):
            results = await asyncio.gather(*tasks)

    assert stop_took < 3.0
    assert not [t.name for t in threading.enumerate() if t.name.startswith("feedserver")]
    assert all(r.error and r.body is None for r in results), results
    assert all("closed the connection" in (r.error or "") for r in results), results
