"""The whole shared feed corpus, served over loopback and polled in one round.

`../shared/feed-corpus/` holds the ~2,100 test documents of the feedparser
project (well-formed, ill-formed, every encoding and entity trick it was ever
bitten by) and 26 real news feeds. They are read by path and served as they
are, with the HTTP headers their `Header:` comments ask for; nothing is
copied into the project.

One `poll --once` over all of them must not crash or hang, and must leave
every feed with items or a readable per-feed error.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from collections import Counter
from pathlib import Path

import feedparser
import pytest

from sources.records import Outcome
from tests.feedserver import FeedServer
from tests.hostile import (
    MEMORY_BOUND_MIB,
    SHARED,
    assert_no_controls,
    assert_readable,
    feed_lines,
    poll_once,
    stored_feeds,
    stored_items,
    write_config,
)

CORPUS = SHARED / "feed-corpus"
ROUND_BOUND = 300.0
"""Seconds the one round over ~2,100 documents may take before it counts as hung."""

_HEADER = re.compile(rb"^Header:\s*([A-Za-z-]+):\s*(.*?)\s*$", re.MULTILINE)
_NOT_FEEDS = {"COUNTS.txt", "SOURCES.txt"}


def corpus_files() -> list[Path]:
    """Every document of the corpus, in a stable order; skips if the corpus is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"the feed corpus is not at {CORPUS}")
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name not in _NOT_FEEDS)
    if len(files) < 100:
        pytest.skip(f"the feed corpus at {CORPUS} is incomplete ({len(files)} files)")
    return files


def serve(srv: FeedServer, path: Path) -> str:
    """Serve one document with the headers its `Header:` comment names, if any."""
    body = path.read_bytes()
    content_type = "application/xml"
    etag = last_modified = None
    headers: list[tuple[str, str]] = []
    for name_raw, value_raw in _HEADER.findall(body[:4096]):
        name = name_raw.decode("ascii").lower()
        value = value_raw.decode("latin-1")
        if name == "content-type":
            content_type = value
        elif name == "etag":
            etag = value
        elif name == "last-modified":
            last_modified = value
        else:
            headers.append((name, value))
    relative = path.relative_to(CORPUS).as_posix()
    return srv.add(
        "/" + urllib.parse.quote(relative),
        body,
        content_type=content_type,
        etag=etag,
        last_modified=last_modified,
        headers=headers,
    )


@pytest.mark.slow
def test_the_whole_corpus_polls_in_one_round_with_items_or_an_error_for_each(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    files = corpus_files()
    urls = {serve(feed_server, path): path for path in files}
    config = write_config(
        tmp_path / "corpus.toml",
        urls,
        timeout=20,
        settings={"concurrency": 16, "per_host": 16},
    )
    db = tmp_path / "db.json"

    run = poll_once(config, db, timeout=ROUND_BOUND)

    assert not run.timed_out, f"the round hung past {ROUND_BOUND:.0f} s"
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.max_rss_mib < MEMORY_BOUND_MIB, run.max_rss_mib
    assert_no_controls(run.stdout)
    assert set(feed_lines(run.stdout)) == set(urls), "a feed has no line in the poll output"
    states = stored_feeds(db)
    items = stored_items(db)
    per_feed = Counter(item.feed_url for item in items)
    outcomes: Counter[str] = Counter()
    for url, path in urls.items():
        state = states.get(url)
        assert state is not None, f"{path} left no state"
        outcomes[state.outcome] += 1
        if state.outcome is Outcome.ERROR:
            assert_readable(state.last_error)
        else:
            assert state.outcome is Outcome.OK, (path, state)
    for item in items:
        assert_no_controls(item.title)
        assert_no_controls(item.summary)
        assert item.link == "" or item.link.startswith(("http://", "https://")), item.link
        assert item.published.utcoffset() is not None
    # Real feeds are news: each must give its stories (the one copied without its
    # first "<" too: the loose parser recovers it).
    real = [url for url, path in urls.items() if path.parent.name == "real-feeds"]
    barren = [urls[url].name for url in real if per_feed[url] == 0]
    assert not barren, f"real news feeds that gave no items: {barren}"
    # Every document in which feedparser itself finds an entry with something to
    # show must give items; one whose entries are only markup (much of
    # wellformed/sanitize) may give none.
    lost = [
        urls[url].relative_to(CORPUS).as_posix()
        for url in urls
        if per_feed[url] == 0 and shows_something(urls[url])
    ]
    assert not lost, f"documents whose entries were lost: {lost[:20]} ({len(lost)} in all)"
    assert sum(1 for url in urls if per_feed[url]) >= 500, outcomes


_TAG = re.compile(r"<[^>]*(?:>|$)")


def _visible(value: object) -> bool:
    # A crude reading of HTML, independent of sources.clean: tags (an unclosed
    # one runs to the end, as in a browser) go, references are decoded.
    return isinstance(value, str) and bool(html.unescape(_TAG.sub("", value)).strip())


def shows_something(path: Path) -> bool:
    """Whether feedparser finds an entry in `path` with a title, link or text to show."""
    parsed = feedparser.parse(path.read_bytes(), sanitize_html=False, resolve_relative_uris=False)
    for entry in parsed.entries:
        link = entry.get("link")
        if isinstance(link, str) and link.startswith(("http://", "https://")):
            return True
        contents = [c.get("value") for c in entry.get("content", []) if isinstance(c, dict)]
        if any(_visible(v) for v in (entry.get("title"), entry.get("summary"), *contents)):
            return True
    return False
