"""`poll_round` with its real parts: a loopback feed server, a Fetcher, a ParsePool, a Store."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from pathlib import Path

from sources.config import parse_config
from sources.fetch import Fetcher
from sources.poll import poll_round
from sources.pool import ParsePool
from sources.records import Outcome
from store import Store
from tests.feedserver import FeedServer

FEEDS = Path(__file__).parent / "data" / "feeds"
NOW = datetime(2025, 3, 12, 9, 0, tzinfo=UTC)


def parse_workers() -> set[int | None]:
    return {p.pid for p in multiprocessing.active_children() if p.name == "stancewatch-parse"}


async def test_a_round_of_304s_starts_no_parse_worker_and_a_new_feed_does(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.add("/wire.rss", (FEEDS / "wire.rss").read_bytes(), etag='"wire-v1"')
    config_path = tmp_path / "config.toml"
    config = parse_config(f'[[feeds]]\nurl = "{url}"\n', config_path)
    others = parse_workers()
    store = Store.open(tmp_path / "db.json")
    try:
        for round_number in (1, 2):
            with ParsePool(workers=2, timeout=30.0) as parser:
                async with Fetcher(config.settings) as fetcher:
                    report = await poll_round(
                        config, store, fetcher=fetcher, parser=parser, now=NOW, force=True
                    )
                    started = parse_workers() - others
            (feed,) = report.feeds
            if round_number == 1:
                # A feed never fetched will send a body: both workers were
                # warmed, though one feed needs only one.
                assert feed.new_items > 0
                assert len(started) == 2
            else:
                # Every feed has a validator and answers 304: nothing to parse.
                assert feed.outcome is Outcome.NOT_MODIFIED
                assert started == set()
    finally:
        store.close()
