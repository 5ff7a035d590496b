"""Items and statements from a parsed feed, in the parse workers and in-process alike.

The poll round sends each fetched document to a parse worker together with
the ids and hashes of the feed's stored items; the worker parses, skips
what is stored, tags and extracts, and sends back only new and changed items.
These tests hold the worker's answer to what `itemize` gives in this process,
and check what it skips, what it marks as replaced, and what happens when the
config's actors change between rounds.
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from sources.extraction import Extractor, load_default_specs
from sources.itemize import AnalysisSpecs, FeedItems, content_hash, item_id, itemize
from sources.parse import parse_document
from sources.pool import ParsePool
from sources.records import ActorSpec, FeedSpec
from tests.hostile import Entry, rss

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
FEED = FeedSpec(url="https://gazette.example/rss", name="Gazette")
HEADERS = (("content-type", "application/rss+xml; charset=utf-8"),)

STATING = Entry(
    title="Envoy sets terms for any peacekeeping force",
    guid="terms-1",
    link="https://gazette.example/terms",
    description=(
        "Russia's UN ambassador Vassily Nebenzia said on Monday that Moscow would accept "
        "peacekeepers in Ukraine only with a UN Security Council mandate."
    ),
    pub_date="Mon, 02 Mar 2026 09:00:00 GMT",
)
WEATHER = Entry(
    title="Snow expected over the capital",
    guid="weather-1",
    link="https://gazette.example/snow",
    description="Forecasters expect ten centimetres of snow by the evening.",
    pub_date="Mon, 02 Mar 2026 08:00:00 GMT",
)


@pytest.fixture(scope="module")
def specs() -> AnalysisSpecs:
    return AnalysisSpecs.of(*load_default_specs())


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor(*load_default_specs())


@pytest.fixture
def pool() -> Iterator[ParsePool]:
    with ParsePool(workers=1, timeout=30.0) as shared:
        yield shared


async def test_the_worker_gives_what_itemize_gives_here(
    pool: ParsePool, specs: AnalysisSpecs, extractor: Extractor
) -> None:
    body = rss([STATING, WEATHER])
    from_worker = await pool.parse_items(
        body, HEADERS, FEED.url, NOW, feed=FEED, known={}, specs=specs
    )
    here = itemize(FEED, parse_document(body, HEADERS, FEED.url, NOW), {}, extractor, NOW)
    assert from_worker == here
    assert from_worker.error is None
    assert [i.title for i in from_worker.items] == [STATING.title, WEATHER.title]
    stated = {(s.actor, s.topic, s.stance.value) for s in from_worker.statements}
    assert ("russia", "peacekeeping", "conditional") in stated
    assert all(s.item_id == from_worker.items[0].id for s in from_worker.statements)
    assert from_worker.items[1].actors == () and from_worker.items[1].source == "Gazette"


async def test_stored_entries_are_counted_not_sent_back(
    pool: ParsePool, specs: AnalysisSpecs
) -> None:
    body = rss([STATING, WEATHER])
    parsed = parse_document(body, HEADERS, FEED.url, NOW)
    known = {item_id(FEED.url, entry): content_hash(entry) for entry in parsed.entries}
    found = await pool.parse_items(
        body, HEADERS, FEED.url, NOW, feed=FEED, known=known, specs=specs
    )
    assert found == FeedItems(title="Loopback Gazette", seen=2)


async def test_an_edited_entry_comes_back_as_a_replacement(
    pool: ParsePool, specs: AnalysisSpecs
) -> None:
    first = parse_document(rss([STATING]), HEADERS, FEED.url, NOW).entries[0]
    known = {item_id(FEED.url, first): content_hash(first)}
    edited = replace(STATING, description=STATING.description + " He repeated it on Tuesday.")
    found = await pool.parse_items(
        rss([edited, WEATHER]), HEADERS, FEED.url, NOW, feed=FEED, known=known, specs=specs
    )
    assert found.replaced == (item_id(FEED.url, first),)
    assert [i.title for i in found.items] == [STATING.title, WEATHER.title]
    assert found.seen == 0
    assert found.statements


async def test_the_same_guid_twice_in_a_document_keeps_the_first(
    pool: ParsePool, specs: AnalysisSpecs
) -> None:
    twin = replace(WEATHER, guid=STATING.guid, title="A later copy")
    found = await pool.parse_items(
        rss([STATING, twin]), HEADERS, FEED.url, NOW, feed=FEED, known={}, specs=specs
    )
    assert [i.title for i in found.items] == [STATING.title]


async def test_a_worker_follows_a_config_whose_actors_changed(pool: ParsePool) -> None:
    actors, topics = load_default_specs()
    body = rss([STATING])
    before = await pool.parse_items(
        body, HEADERS, FEED.url, NOW, feed=FEED, known={}, specs=AnalysisSpecs.of(actors, topics)
    )
    without_russia = tuple(a for a in actors if a.id != "russia")
    renamed = (*without_russia, ActorSpec(id="kremlin-watch", name="Kremlin", aliases=("Moscow",)))
    after = await pool.parse_items(
        body, HEADERS, FEED.url, NOW, feed=FEED, known={}, specs=AnalysisSpecs.of(renamed, topics)
    )
    assert "russia" in before.items[0].actors
    assert "russia" not in after.items[0].actors
    assert "kremlin-watch" in after.items[0].actors


async def test_a_document_that_is_not_a_feed_is_an_error_not_items(
    pool: ParsePool, specs: AnalysisSpecs
) -> None:
    page = b"<!doctype html><html><body><p>Not a feed</p></body></html>"
    found = await pool.parse_items(page, HEADERS, FEED.url, NOW, feed=FEED, known={}, specs=specs)
    assert found.error is not None and "HTML page" in found.error
    assert found.items == () and found.statements == ()


async def test_an_empty_body_never_reaches_a_worker(specs: AnalysisSpecs) -> None:
    before = {p.pid for p in multiprocessing.active_children()}
    with ParsePool(workers=1, timeout=5.0) as pool:
        found = await pool.parse_items(
            b"", HEADERS, FEED.url, NOW, feed=FEED, known={}, specs=specs
        )
        assert found.error is not None
        assert {p.pid for p in multiprocessing.active_children()} == before


def test_specs_of_equal_configs_share_a_key() -> None:
    actors, topics = load_default_specs()
    assert AnalysisSpecs.of(actors, topics).key == AnalysisSpecs.of(list(actors), topics).key
    assert AnalysisSpecs.of(actors, topics).key != AnalysisSpecs.of(actors[1:], topics).key
    assert AnalysisSpecs.of(actors, topics).specs() == (actors, topics)


def test_items_and_statements_cross_the_pipe_whole() -> None:
    # They pickle as their constructors' arguments (not dataclasses' state
    # methods): every field, None and defaults included, must come back.
    parsed = parse_document(rss([STATING]), HEADERS, FEED.url, NOW)
    found = itemize(FEED, parsed, {}, Extractor(*load_default_specs()), NOW)
    assert found.items and found.statements
    statement = replace(found.statements[0], condition="only with a mandate", carried=True)
    bare = replace(statement, speaker=None, condition=None, topic_words=())
    for record in (*found.items, statement, bare, parsed, *parsed.entries):
        for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
            copy = pickle.loads(pickle.dumps(record, protocol=protocol))
            assert copy == record and type(copy) is type(record)
