"""The store against real TinyDB files in tmp_path: records, rounds, queries, safety."""

from __future__ import annotations

import dataclasses
import fcntl
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings

from sources.errors import StoreDamagedError, StoreError, StoreLockedError
from sources.records import FeedState, Item, Outcome, Stance, Statement, stable_id
from store import SCHEMA_VERSION, Store, copy_database, database_files
from store.catalog import MERGE_AT, SEGMENT_ITEMS
from store.codec import CodecError, from_doc, to_doc
from store.database import MAX_DELTAS
from store.storage import move_aside
from tests import strategies

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


# --- building records -----------------------------------------------------------


def make_item(
    key: str,
    *,
    feed: str = "https://wire.example/rss",
    published: datetime = NOW,
    fetched: datetime | None = None,
    title: str = "A headline",
    source: str = "Wire",
) -> Item:
    return Item(
        id=stable_id("item", feed, key),
        feed_url=feed,
        link=f"https://wire.example/{key}",
        title=title,
        summary=f"Summary of {key}.",
        published=published,
        fetched=fetched or published,
        source=source,
        topics=("peacekeeping",),
        actors=("russia",),
        content_hash=stable_id("content", key, title),
    )


def make_statement(
    item: Item,
    *,
    actor: str = "russia",
    topic: str = "peacekeeping",
    stance: Stance = Stance.OPPOSES,
    claim: str = "Foreign troops would be legitimate targets.",
    speaker: str | None = "Vassily Nebenzia",
    published: datetime | None = None,
) -> Statement:
    return Statement(
        id=stable_id("statement", item.id, actor, topic, claim),
        item_id=item.id,
        actor=actor,
        speaker=speaker,
        topic=topic,
        stance=stance,
        claim=claim,
        cue="said",
        published=published or item.published,
        source=item.source,
        link=item.link,
    )


def said(
    store: Store,
    when: datetime,
    stance: Stance,
    *,
    actor: str = "russia",
    topic: str = "peacekeeping",
    claim: str | None = None,
    source: str = "Wire",
) -> Statement:
    """Commit one item with one statement, published at `when`."""
    key = f"{actor}-{topic}-{when.isoformat()}-{stance}-{source}"
    item = make_item(key, published=when, source=source)
    statement = make_statement(
        item, actor=actor, topic=topic, stance=stance, claim=claim or f"Claim {key}."
    )
    store.commit_round([], [item], [statement], now=NOW)
    return statement


def parts_dir(db: Path) -> Path:
    return db.with_name(db.name + ".d")


def part_files(db: Path, kind: str = "") -> list[str]:
    """Names of the files in the database's parts folder (of one kind, if given)."""
    folder = parts_dir(db)
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(kind))


def file_bytes(db: Path) -> dict[str, bytes]:
    """Every file of the database (head and parts folder), by name, with its bytes."""
    found = {db.name: db.read_bytes()} if db.exists() else {}
    found.update((name, (parts_dir(db) / name).read_bytes()) for name in part_files(db))
    return found


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Where each test's database lives: a fresh temp dir, never the user's."""
    return tmp_path / "stancewatch.json"


@pytest.fixture
def store(db: Path) -> Iterator[Store]:
    """An open writer, closed (and its lock released) when the test ends."""
    opened = Store.open(db)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def count_replaces(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], int]:
    """Count `os.replace` calls onto a path: each one is one file write."""
    targets: list[str] = []
    real_replace = os.replace

    def counting_replace(src: Any, dst: Any, **kwargs: Any) -> None:
        targets.append(os.fspath(dst))
        real_replace(src, dst, **kwargs)

    monkeypatch.setattr(os, "replace", counting_replace)
    return lambda path: targets.count(os.fspath(path))


# --- codec ----------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(strategies.store_feed_states())
def test_a_feed_state_survives_the_codec(state: FeedState) -> None:
    assert from_doc(FeedState, orjson.loads(orjson.dumps(to_doc(state)))) == state


@settings(max_examples=150, deadline=None)
@given(strategies.store_items())
def test_an_item_survives_the_codec(item: Item) -> None:
    back = from_doc(Item, orjson.loads(orjson.dumps(to_doc(item))))
    assert back == item
    assert back.published.tzinfo is UTC and back.fetched.tzinfo is UTC
    assert isinstance(back.topics, tuple)


@settings(max_examples=150, deadline=None)
@given(strategies.store_statements())
def test_a_statement_survives_the_codec(statement: Statement) -> None:
    back = from_doc(Statement, orjson.loads(orjson.dumps(to_doc(statement))))
    assert back == statement
    assert type(back.stance) is Stance


def test_datetimes_are_stored_as_utc_iso_8601_with_the_offset() -> None:
    item = make_item("x", published=datetime.fromisoformat("2025-03-10T14:30:00+02:00"))
    assert to_doc(item)["published"] == "2025-03-10T12:30:00.000000+00:00"


def test_a_naive_datetime_is_refused_not_guessed() -> None:
    with pytest.raises(CodecError, match="naive"):
        to_doc(make_item("x", published=datetime(2025, 1, 1)))


def test_a_document_of_the_wrong_shape_is_named_in_the_error() -> None:
    doc = to_doc(make_item("x"))
    doc["topics"] = "peacekeeping"
    with pytest.raises(CodecError, match="Item.topics"):
        from_doc(Item, doc)
    del doc["title"]
    with pytest.raises(CodecError, match="Item.title: missing"):
        from_doc(Item, doc)


# --- rounds ---------------------------------------------------------------------


def test_every_record_kind_reads_back_the_same_after_reopening(db: Path) -> None:
    feed = FeedState(
        url="https://wire.example/rss",
        title="Wire",
        etag='"abc"',
        last_attempt=NOW,
        last_success=NOW,
        next_poll=NOW + timedelta(minutes=30),
        outcome=Outcome.OK,
        new_items=1,
        total_items=1,
    )
    item = make_item("one")
    statement = make_statement(item)
    with Store.open(db) as store:
        store.commit_round([feed], [item], [statement], now=NOW)
    with Store.open(db) as store:
        assert store.feed_states() == {feed.url: feed}
        assert store.item(item.id) == item
        assert store.statement(statement.id) == statement
        assert store.counts() == {"feeds": 1, "items": 1, "statements": 1}


def test_a_round_is_committed_by_one_rename_of_the_head(
    db: Path, count_replaces: Callable[[Path], int]
) -> None:
    with Store.open(db) as store:
        after_open = count_replaces(db)
        old = make_item("old", fetched=NOW - timedelta(days=400))
        store.commit_round([], [old], [], now=NOW)
        feeds = [FeedState(url=f"https://f{i}.example/rss") for i in range(20)]
        items = [make_item(f"item-{i}") for i in range(300)]
        statements = [make_statement(i) for i in items[:50]]
        before = count_replaces(db)
        store.commit_round(
            feeds, items, statements, now=NOW, retain_days=30, replaced_items=[items[0].id]
        )
        assert count_replaces(db) == before + 1
        assert store.item(old.id) is None  # retirement happened within that one commit
        store.remove_feed(feeds[0].url)
        assert count_replaces(db) == before + 2
    assert after_open == 1  # a new database is written once, with its schema


def test_a_round_with_nothing_to_store_writes_nothing(
    store: Store, db: Path, count_replaces: Callable[[Path], int]
) -> None:
    store.commit_round([], [], [], now=NOW, retain_days=30)
    store.remove_feed("https://never.example/rss")
    assert count_replaces(db) == 0


def test_records_are_upserted_by_id_never_duplicated(store: Store) -> None:
    item = make_item("same", title="First title")
    store.commit_round([], [item], [make_statement(item)], now=NOW)
    edited = make_item("same", title="Second title")
    store.commit_round([], [edited], [make_statement(edited)], now=NOW)
    assert store.counts()["items"] == 1
    assert store.counts()["statements"] == 1
    found = store.item(item.id)
    assert found is not None and found.title == "Second title"


def test_known_items_gives_the_hash_of_stored_ids_only(store: Store) -> None:
    item = make_item("known")
    store.commit_round([], [item], [], now=NOW)
    assert store.known_items([item.id, "never-seen"]) == {item.id: item.content_hash}


def test_known_items_of_feed_follows_rounds_edits_and_reopening(tmp_path: Path) -> None:
    other = "https://other.example/feed"
    first, second, elsewhere = make_item("a"), make_item("b"), make_item("c", feed=other)
    path = tmp_path / "db.json"
    with Store.open(path) as store:
        assert store.known_items_of_feed(first.feed_url) == {}
        store.commit_round([], [first, elsewhere], [], now=NOW)
        assert store.known_items_of_feed(first.feed_url) == {first.id: first.content_hash}
        edited = make_item("a", title="Edited")
        store.commit_round([], [edited, second], [], now=NOW, replaced_items=[first.id])
        assert store.known_items_of_feed(first.feed_url) == {
            first.id: edited.content_hash,
            second.id: second.content_hash,
        }
    with Store.open(path, readonly=True) as reader:
        assert reader.known_items_of_feed(other) == {elsewhere.id: elsewhere.content_hash}
        assert reader.known_items_of_feed("https://never.example/") == {}


def test_a_replaced_item_loses_its_old_statements(store: Store) -> None:
    item = make_item("reused-guid")
    old = make_statement(item, claim="The first version of the claim.")
    store.commit_round([], [item], [old], now=NOW)
    edited = make_item("reused-guid", title="Rewritten")
    new = make_statement(edited, claim="The rewritten claim.", stance=Stance.SUPPORTS)
    store.commit_round([], [edited], [new], now=NOW, replaced_items=[item.id])
    assert store.statement(old.id) is None
    assert store.history("russia", "peacekeeping") == [new]


def test_removing_a_feed_forgets_its_state_but_keeps_its_items(store: Store) -> None:
    feed = FeedState(url="https://wire.example/rss", title="Wire")
    item = make_item("kept")
    store.commit_round([feed], [item], [], now=NOW)
    store.remove_feed(feed.url)
    assert store.feed_states() == {}
    assert store.item(item.id) == item


def test_retirement_drops_old_items_but_keeps_those_a_statement_refers_to(
    store: Store, db: Path
) -> None:
    long_ago = NOW - timedelta(days=200)
    old_quiet = make_item("old-quiet", fetched=long_ago)
    old_quoted = make_item("old-quoted", fetched=long_ago)
    recent = make_item("recent", fetched=NOW - timedelta(days=10))
    evidence = make_statement(old_quoted)
    store.commit_round([], [old_quiet, old_quoted, recent], [evidence], now=NOW)
    store.commit_round([], [], [], now=NOW, retain_days=180)
    assert store.item(old_quiet.id) is None
    assert store.item(old_quoted.id) == old_quoted
    assert store.item(recent.id) == recent
    with Store.open(db, readonly=True) as reader:
        assert reader.counts()["items"] == 2


def test_retirement_runs_on_the_first_round_of_each_day(store: Store) -> None:
    store.commit_round([], [], [], now=NOW, retain_days=30)
    stale = make_item("stale", fetched=NOW - timedelta(days=90))
    store.commit_round([], [stale], [], now=NOW + timedelta(hours=1), retain_days=30)
    assert store.item(stale.id) == stale  # checked already today
    store.commit_round([], [], [], now=NOW + timedelta(days=1), retain_days=30)
    assert store.item(stale.id) is None


def test_a_failed_round_leaves_memory_and_file_as_they_were(store: Store, db: Path) -> None:
    kept = make_item("kept")
    store.commit_round([], [kept], [make_statement(kept)], now=NOW)
    before = db.read_bytes()
    every_file = file_bytes(db)
    bad = make_item("bad")
    # orjson refuses lone surrogates: the round fails after it was applied
    # in memory, which must then be rolled back.
    unwritable = make_statement(bad, claim="broken \ud800 text")
    with pytest.raises(StoreError, match="cannot write database"):
        store.commit_round([], [bad], [unwritable], now=NOW)
    assert db.read_bytes() == before
    assert file_bytes(db) == every_file  # no part written, none left behind
    assert store.item(bad.id) is None
    assert store.counts() == {"feeds": 0, "items": 1, "statements": 1}
    with pytest.raises(CodecError):
        store.commit_round([], [make_item("naive", published=datetime(2025, 1, 1))], [], now=NOW)
    assert store.counts()["items"] == 1


# --- queries --------------------------------------------------------------------


def test_a_position_is_the_latest_statement_and_says_whether_it_changed(store: Store) -> None:
    day = timedelta(days=1)
    said(store, NOW - 3 * day, Stance.OPPOSES)
    second = said(store, NOW - 2 * day, Stance.OPPOSES)
    said(store, NOW - 5 * day, Stance.SUPPORTS, topic="ceasefire")
    latest = said(store, NOW - day, Stance.CONDITIONAL, topic="ceasefire")
    said(store, NOW, Stance.NEUTRAL, actor="france")

    positions = store.positions()
    assert [(p.statement.actor, p.statement.topic) for p in positions] == [
        ("france", "peacekeeping"),
        ("russia", "ceasefire"),
        ("russia", "peacekeeping"),
    ]
    france, ceasefire, peacekeeping = positions
    assert (france.changed, france.previous, france.count) == (False, None, 1)
    assert ceasefire.statement == latest and ceasefire.changed and ceasefire.count == 2
    assert peacekeeping.statement == second and not peacekeeping.changed
    assert peacekeeping.count == 2


def test_positions_filter_by_actor_and_topic(store: Store) -> None:
    said(store, NOW, Stance.OPPOSES)
    said(store, NOW, Stance.SUPPORTS, topic="ceasefire")
    said(store, NOW, Stance.NEUTRAL, actor="france")
    assert [p.statement.topic for p in store.positions(actor="russia")] == [
        "ceasefire",
        "peacekeeping",
    ]
    assert [p.statement.actor for p in store.positions(topic="peacekeeping")] == [
        "france",
        "russia",
    ]
    assert len(store.positions(actor="russia", topic="ceasefire")) == 1
    assert store.positions(actor="nobody") == []
    assert store.positions(actor="france", topic="ceasefire") == []


def test_statements_published_at_the_same_moment_are_ordered_by_id(store: Store) -> None:
    a = said(store, NOW, Stance.OPPOSES, source="Alpha")
    b = said(store, NOW, Stance.SUPPORTS, source="Beta")
    first, second = sorted((a, b), key=lambda s: s.id)
    [position] = store.positions()
    assert position.statement == second and position.previous == first


def test_history_is_newest_first_and_can_be_limited(store: Store) -> None:
    made = [said(store, NOW - timedelta(hours=h), Stance.OPPOSES) for h in (5, 1, 3)]
    newest_first = sorted(made, key=lambda s: s.published, reverse=True)
    assert store.history("russia", "peacekeeping") == newest_first
    assert store.history("russia", "peacekeeping", limit=2) == newest_first[:2]
    assert store.history("russia", "sanctions") == []


def test_a_position_moves_when_a_newer_statement_arrives(db: Path) -> None:
    with Store.open(db) as store:
        said(store, NOW - timedelta(days=2), Stance.OPPOSES)
        assert not store.positions()[0].changed
        newer = said(store, NOW, Stance.SUPPORTS)
        assert store.positions()[0].statement == newer
        assert store.positions()[0].changed
    with Store.open(db, readonly=True) as reader:  # the indexes are rebuilt the same
        assert reader.positions()[0].statement == newer
        assert reader.actors_summary() == {"russia": (1, 1)}


def test_items_of_gives_the_own_item_then_other_outlets_with_the_same_claim(
    store: Store,
) -> None:
    claim = "NATO troops are a 'potential option' under consideration."
    own = make_item("own", published=NOW, source="Wire")
    echo_late = make_item("echo-late", published=NOW + timedelta(hours=2), source="Late")
    echo_early = make_item("echo-early", published=NOW - timedelta(hours=1), source="Early")
    other_stance = make_item("other-stance", published=NOW, source="Other")
    other_claim = make_item("other-claim", published=NOW, source="Elsewhere")
    statements = [
        make_statement(own, actor="france", claim=claim, stance=Stance.NEUTRAL),
        make_statement(
            echo_late,
            actor="france",
            claim="Nato troops are a potential option, under consideration",
            stance=Stance.NEUTRAL,
        ),
        make_statement(echo_early, actor="france", claim=claim.upper(), stance=Stance.NEUTRAL),
        make_statement(other_stance, actor="france", claim=claim, stance=Stance.SUPPORTS),
        make_statement(other_claim, actor="france", claim="Troops are out.", stance=Stance.NEUTRAL),
        # The same item saying it twice must not list the item twice.
        make_statement(echo_late, actor="france", claim=claim, stance=Stance.NEUTRAL),
    ]
    store.commit_round(
        [], [own, echo_late, echo_early, other_stance, other_claim], statements, now=NOW
    )
    assert store.items_of(statements[0].id) == [own, echo_early, echo_late]
    assert store.items_of("no-such-statement") == []


def test_activity_counts_statements_per_utc_day_oldest_first(store: Store) -> None:
    today = datetime(2025, 3, 10, 23, 30, tzinfo=UTC)
    for when in (
        today,
        today - timedelta(hours=1),
        today - timedelta(days=2),
        today - timedelta(days=3),  # outside a 3-day window
        today + timedelta(days=1),  # after `now`: not counted
    ):
        said(store, when, Stance.OPPOSES)
    assert store.activity("russia", "peacekeeping", 3, now=today) == [1, 0, 2]
    assert store.activity("russia", "peacekeeping", 0, now=today) == []
    assert store.activity("nobody", "peacekeeping", 2, now=today) == [0, 0]


def test_search_ignores_case_covers_speaker_and_source_and_is_newest_first(
    store: Store,
) -> None:
    old = said(store, NOW - timedelta(days=1), Stance.OPPOSES, claim="Peacekeepers are TARGETS.")
    new = said(store, NOW, Stance.SUPPORTS, topic="ceasefire", claim="Talks on targets resume.")
    by_source = said(store, NOW, Stance.NEUTRAL, actor="france", source="Le Monde")
    assert store.search("targets") == [new, old]
    assert store.search("targets", limit=1) == [new]
    same_moment = sorted((new, by_source), key=lambda s: s.id, reverse=True)
    assert store.search("NEBENZIA") == [*same_moment, old]  # every one has him as speaker
    assert store.search("le monde") == [by_source]
    assert store.search("nothing like this") == []


def test_search_finds_the_speaker(store: Store) -> None:
    item = make_item("speaker")
    quoted = make_statement(item, speaker="Jean-Noel Barrot", actor="france")
    store.commit_round([], [item], [quoted], now=NOW)
    assert store.search("BARROT") == [quoted]


def test_feed_health_lists_failing_feeds_first_then_by_title(store: Store) -> None:
    feeds = [
        FeedState(url="https://b.example/rss", title="bravo", outcome=Outcome.OK),
        FeedState(url="https://z.example/rss", title="", outcome=Outcome.NEW),
        FeedState(url="https://a.example/rss", title="Alpha", outcome=Outcome.OK),
        FeedState(
            url="https://d.example/rss",
            title="Down",
            outcome=Outcome.ERROR,
            failures=3,
            last_error="HTTP 503",
        ),
        FeedState(url="https://c.example/rss", title="Choppy", outcome=Outcome.OK, failures=1),
    ]
    store.commit_round(feeds, [], [], now=NOW)
    assert [f.title or f.url for f in store.feed_health()] == [
        "Choppy",
        "Down",
        "Alpha",
        "bravo",
        "https://z.example/rss",
    ]


def test_actors_summary_counts_positions_and_changes(store: Store) -> None:
    said(store, NOW - timedelta(days=1), Stance.OPPOSES)
    said(store, NOW, Stance.SUPPORTS)
    said(store, NOW, Stance.NEUTRAL, topic="ceasefire")
    said(store, NOW, Stance.NEUTRAL, actor="france")
    assert store.actors_summary() == {"france": (1, 0), "russia": (2, 1)}


# --- one writer, many readers ---------------------------------------------------


def test_a_second_writer_is_told_who_holds_the_database(store: Store, db: Path) -> None:
    with pytest.raises(StoreLockedError) as refused:
        Store.open(db)
    assert str(refused.value) == (
        f"database {db} is in use by another stancewatch (pid {os.getpid()}); "
        "close that one or pass --db to use another file"
    )
    assert (db.parent / f"{db.name}.lock").read_text().strip() == str(os.getpid())


def test_a_reader_may_open_while_a_writer_holds_the_lock(store: Store, db: Path) -> None:
    said(store, NOW, Stance.OPPOSES)
    with Store.open(db, readonly=True) as reader:
        assert len(reader.positions()) == 1


def test_closing_the_writer_frees_the_lock_and_ends_its_writing(db: Path) -> None:
    closed = Store.open(db)
    closed.close()
    with Store.open(db):
        pass
    with pytest.raises(StoreError, match="closed"):
        closed.commit_round([], [make_item("late")], [], now=NOW)


def test_queries_from_other_threads_run_safely_during_rounds(store: Store) -> None:
    errors: list[BaseException] = []
    stop = threading.Event()

    def query() -> None:
        try:
            while not stop.is_set():
                for position in store.positions():
                    store.history(position.statement.actor, position.statement.topic, limit=5)
                    store.items_of(position.statement.id)
                store.search("claim")
                store.actors_summary()
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    reader = threading.Thread(target=query)
    reader.start()
    try:
        for n in range(30):
            item = make_item(f"threaded-{n}", published=NOW + timedelta(minutes=n))
            statement = make_statement(
                item,
                topic=("peacekeeping", "ceasefire")[n % 2],
                stance=list(Stance)[n % 4],
                claim=f"Claim number {n}.",
            )
            store.commit_round([], [item], [statement], now=NOW, replaced_items=[item.id])
    finally:
        stop.set()
        reader.join(timeout=10)
    assert not reader.is_alive()
    assert errors == []
    assert store.counts()["statements"] == 30


def test_a_reader_never_writes(store: Store, db: Path) -> None:
    said(store, NOW, Stance.OPPOSES)
    before = db.read_bytes()
    with Store.open(db, readonly=True) as reader:
        with pytest.raises(StoreError, match="read-only"):
            reader.commit_round([], [make_item("x")], [], now=NOW)
        with pytest.raises(StoreError, match="read-only"):
            reader.remove_feed("https://wire.example/rss")
        assert reader.counts()["items"] == 1
    assert db.read_bytes() == before


def test_a_reader_of_a_missing_database_sees_it_empty_and_creates_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "nowhere" / "db.json"
    with Store.open(path, readonly=True) as reader:
        assert reader.counts() == {"feeds": 0, "items": 0, "statements": 0}
        assert reader.positions() == []
        assert reader.reload() is False
    assert not path.parent.exists()


def test_a_reader_reloads_only_when_the_writer_wrote(store: Store, db: Path) -> None:
    with Store.open(db, readonly=True) as reader:
        assert reader.reload() is False
        first = said(store, NOW, Stance.OPPOSES)
        assert reader.positions() == []
        assert reader.reload() is True
        assert reader.positions()[0].statement == first
        assert reader.reload() is False


# --- damage, versions, leftovers --------------------------------------------------


def _asides(db: Path) -> list[Path]:
    return sorted(db.parent.glob(f"{db.name}.damaged-*"))


@pytest.mark.parametrize(
    "content",
    [
        b'{"meta": {"1": {"schema": 1}}, "items": {"a": {"id": ',
        b"\x00\x01garbage",
        b"[1, 2, 3]",
        b'{"_default": {"1": {"x": 1}}}',
        b'{"meta": {"1": {"schema": 1}}, "statements": {"s": {"id": "s", "actor": 7}}}',
    ],
    ids=["cut-short", "binary", "a-list", "no-schema", "bad-statement"],
)
def test_a_damaged_database_is_moved_aside_with_its_bytes_and_a_message(
    db: Path, content: bytes
) -> None:
    db.write_bytes(content)
    with pytest.raises(StoreDamagedError) as damaged:
        Store.open(db)
    [aside] = _asides(db)
    assert aside.read_bytes() == content
    assert not db.exists()
    message = str(damaged.value)
    assert str(db) in message and str(aside) in message and "\n" not in message
    with Store.open(db) as fresh:  # the lock was released, and a new file starts
        assert fresh.counts()["items"] == 0
    assert aside.read_bytes() == content


def test_recover_moves_the_damaged_file_aside_and_starts_empty(db: Path) -> None:
    content = b'{"meta": {"1": {"schema": 1}}, "items": {'
    db.write_bytes(content)
    with Store.open(db, recover=True) as store:
        [aside] = _asides(db)
        assert store.recovered_from == aside
        assert store.counts() == {"feeds": 0, "items": 0, "statements": 0}
        said(store, NOW, Stance.OPPOSES)
    assert aside.read_bytes() == content
    with Store.open(db, readonly=True) as reader:
        assert reader.recovered_from is None
        assert len(reader.positions()) == 1


def test_a_reader_leaves_a_damaged_file_where_it_is(db: Path) -> None:
    db.write_bytes(b"not json")
    with pytest.raises(StoreDamagedError, match="left in place"):
        Store.open(db, readonly=True)
    assert db.read_bytes() == b"not json"
    assert _asides(db) == []


def test_two_damaged_files_in_the_same_second_are_both_kept(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    path.write_bytes(b"first")
    first = move_aside(path, NOW)
    path.write_bytes(b"second")
    second = move_aside(path, NOW)
    assert first != second
    assert (first.read_bytes(), second.read_bytes()) == (b"first", b"second")


def test_a_database_from_a_newer_version_is_refused_and_left_untouched(db: Path) -> None:
    content = orjson.dumps({"meta": {"1": {"schema": SCHEMA_VERSION + 1}}, "items": {}})
    db.write_bytes(content)
    for readonly in (False, True):
        with pytest.raises(StoreError, match="newer than this stancewatch") as refused:
            Store.open(db, readonly=readonly)
        assert not isinstance(refused.value, StoreDamagedError)
    assert db.read_bytes() == content
    assert _asides(db) == []
    with open(db.parent / f"{db.name}.lock", "rb") as lock:  # not left held
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_an_empty_file_is_an_empty_database(db: Path) -> None:
    db.touch()
    with Store.open(db) as store:
        assert store.counts()["statements"] == 0
    assert orjson.loads(db.read_bytes())["meta"]["1"]["schema"] == SCHEMA_VERSION


def test_a_writer_removes_temp_files_left_by_a_killed_writer(db: Path) -> None:
    with Store.open(db) as store:
        said(store, NOW, Stance.OPPOSES)
    stale = db.parent / f"{db.name}.tmp-k1ll3d"
    stale.write_bytes(b'{"half": ')
    unrelated = db.parent / "other.json.tmp-keep"
    unrelated.write_bytes(b"not ours")
    with Store.open(db, readonly=True):
        assert stale.exists()  # readers never touch the directory
    with Store.open(db) as store:
        assert not stale.exists()
        assert unrelated.exists()
        assert len(store.positions()) == 1


def test_of_statements_published_together_the_items_lead_is_the_position(
    store: Store, db: Path
) -> None:
    # One article, one timestamp, three statements on the same pair: the lead
    # (first in the text) must be the position whatever the ids sort like.
    item = make_item("one-article")
    claims = ["Lead paragraph claim.", "Second paragraph claim.", "Third paragraph claim."]
    statements = [
        dataclasses.replace(make_statement(item, claim=claim, stance=stance), ordinal=ordinal)
        for ordinal, (claim, stance) in enumerate(
            zip(claims, (Stance.CONDITIONAL, Stance.OPPOSES, Stance.NEUTRAL), strict=True)
        )
    ]
    store.commit_round([], [item], list(reversed(statements)), now=NOW)
    for reader in (store, Store.open(db, readonly=True)):
        (position,) = reader.positions(actor="russia", topic="peacekeeping")
        assert position.statement.claim == "Lead paragraph claim."
        # Later paragraphs of the same article are not an earlier position.
        assert position.previous is None and not position.changed
        assert [s.claim for s in reader.history("russia", "peacekeeping")] == claims
        if reader is not store:
            reader.close()


# --- the files: head, segments, catalog -------------------------------------------------


def items_and_statements(
    tag: str, count: int, *, every: int = 3, fetched: datetime | None = None
) -> tuple[list[Item], list[Statement]]:
    """`count` items of one round, with a statement on every `every`-th one."""
    items = [
        make_item(
            f"{tag}-{n}",
            published=NOW + timedelta(minutes=n),
            fetched=fetched,
            feed=f"https://wire{n % 3}.example/rss",
        )
        for n in range(count)
    ]
    statements = [
        make_statement(item, claim=f"Claim {n} of {tag}.", stance=list(Stance)[n % 4])
        for n, item in enumerate(items)
        if n % every == 0
    ]
    return items, statements


def answers(store: Store) -> tuple[object, ...]:
    """What the queries say about a store, to compare two stores or two moments."""
    positions = store.positions()
    return (
        store.counts(),
        positions,
        [store.history(p.statement.actor, p.statement.topic) for p in positions],
        [store.items_of(p.statement.id) for p in positions],
        store.search("claim", limit=1000),
        store.feed_health(),
        {url: store.known_items_of_feed(url) for url in store.feed_states()},
    )


def test_a_round_of_feed_states_only_rewrites_the_head_alone(store: Store, db: Path) -> None:
    items, statements = items_and_statements("first", 60)
    store.commit_round([], items, statements, now=NOW)
    parts = {name: os.stat(parts_dir(db) / name) for name in part_files(db)}
    contents = file_bytes(db)
    feed = FeedState(url="https://wire0.example/rss", etag='"v2"', outcome=Outcome.NOT_MODIFIED)
    # With retirement on: its daily check finds nothing to retire here, and
    # must not touch a part either.
    store.commit_round([feed], [], [], now=NOW, retain_days=180)
    assert part_files(db) == sorted(parts)
    for name, before in parts.items():
        after = os.stat(parts_dir(db) / name)
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert db.read_bytes() != contents[db.name]
    with Store.open(db, readonly=True) as reader:
        assert reader.feed_states()[feed.url] == feed


def test_a_round_of_new_items_adds_files_and_never_rewrites_an_old_segment(
    store: Store, db: Path
) -> None:
    first, first_said = items_and_statements("first", 50)
    store.commit_round([], first, first_said, now=NOW)
    old = {name: (parts_dir(db) / name).read_bytes() for name in part_files(db, "seg-")}
    inodes = {name: os.stat(parts_dir(db) / name).st_ino for name in old}
    second, second_said = items_and_statements("second", 50)
    store.commit_round([], second, second_said, now=NOW)
    assert len(part_files(db, "seg-")) == len(old) + 1
    for name, content in old.items():
        assert (parts_dir(db) / name).read_bytes() == content
        assert os.stat(parts_dir(db) / name).st_ino == inodes[name]
    with Store.open(db, readonly=True) as reader:
        assert [reader.item(i.id) for i in first + second] == first + second


def test_the_head_names_every_part_and_its_size(store: Store, db: Path) -> None:
    items, statements = items_and_statements("named", 30)
    store.commit_round([], items, statements, now=NOW)
    meta = orjson.loads(db.read_bytes())["meta"]["1"]
    assert meta["schema"] == SCHEMA_VERSION == 2
    assert meta["sizes"] == {name: (parts_dir(db) / name).stat().st_size for name in part_files(db)}
    assert database_files(db) == [db, *(parts_dir(db) / name for name in part_files(db))]


def test_opening_reads_no_item_damage_inside_a_segment_shows_when_that_item_is_read(
    db: Path,
) -> None:
    with Store.open(db) as store:
        early, early_said = items_and_statements("early", 20)
        store.commit_round([], early, early_said, now=NOW)
        [early_segment] = part_files(db, "seg-")
        late, late_said = items_and_statements("late", 20)
        store.commit_round([], late, late_said, now=NOW)
    segment = parts_dir(db) / early_segment
    content = bytearray(segment.read_bytes())
    middle = len(content) // 2
    content[middle : middle + 200] = b"\x00" * 200  # same size: only reading finds it
    segment.write_bytes(bytes(content))
    head = db.read_bytes()

    with Store.open(db) as store:
        # Everything but the damaged bodies answers.
        assert store.counts()["items"] == 40
        assert len(store.positions()) == 1
        assert store.known_items([late[0].id]) == {late[0].id: late[0].content_hash}
        assert [store.item(i.id) for i in late] == late
        with pytest.raises(StoreDamagedError) as damaged:
            for item in early:
                store.item(item.id)
        message = str(damaged.value)
        assert early_segment in message and str(db) in message and "\n" not in message
        # A writer moves the whole database aside at once and refuses the rest.
        [aside] = _asides(db)
        assert aside.read_bytes() == head and str(aside) in message
        assert (parts_dir(db).parent / f"{parts_dir(db).name}.damaged-{aside.name[-16:]}").is_dir()
        with pytest.raises(StoreDamagedError):
            store.positions()
        with pytest.raises(StoreDamagedError):
            store.commit_round([], [make_item("after")], [], now=NOW)
    with Store.open(db) as fresh:
        assert fresh.counts() == {"feeds": 0, "items": 0, "statements": 0}


def test_a_reader_finding_damage_in_a_part_leaves_everything_in_place(db: Path) -> None:
    with Store.open(db) as store:
        items, statements = items_and_statements("kept", 20)
        store.commit_round([], items, statements, now=NOW)
    [delta] = part_files(db, "delta-")
    path = parts_dir(db) / delta
    path.write_bytes(b"\x00" * path.stat().st_size)
    before = file_bytes(db)
    with Store.open(db, readonly=True) as reader:
        with pytest.raises(StoreDamagedError, match=f"{delta}.*left in place"):
            reader.positions()
    assert file_bytes(db) == before and _asides(db) == []


@pytest.mark.parametrize("damage", ["missing-delta", "segment-cut-short", "no-parts-folder"])
def test_a_part_missing_or_cut_short_is_found_on_open(db: Path, damage: str) -> None:
    with Store.open(db) as store:
        items, statements = items_and_statements("whole", 20)
        store.commit_round([], items, statements, now=NOW)
    if damage == "missing-delta":
        (parts_dir(db) / part_files(db, "delta-")[0]).unlink()
    elif damage == "segment-cut-short":
        segment = parts_dir(db) / part_files(db, "seg-")[0]
        segment.write_bytes(segment.read_bytes()[:-10])
    else:
        for name in part_files(db):
            (parts_dir(db) / name).unlink()
        parts_dir(db).rmdir()
    before = file_bytes(db)
    with pytest.raises(StoreDamagedError, match="left in place"):
        Store.open(db, readonly=True)
    assert file_bytes(db) == before
    with pytest.raises(StoreDamagedError) as damaged:
        Store.open(db)
    [aside] = _asides(db)
    assert str(aside) in str(damaged.value) and "part" in str(damaged.value)
    assert aside.read_bytes() == before[db.name]
    with Store.open(db, recover=True) as fresh:
        assert fresh.counts()["items"] == 0


def test_parts_no_head_names_are_removed_by_the_next_writer_only(db: Path) -> None:
    with Store.open(db) as store:
        items, statements = items_and_statements("kept", 20)
        store.commit_round([], items, statements, now=NOW)
    named = part_files(db)
    orphans = ["seg-999999.json", "delta-999998.json", "index-999997.json"]
    for name in orphans:
        (parts_dir(db) / name).write_bytes(b'{"half": ')
    (parts_dir(db) / "notes.txt").write_text("the user's own file")
    with Store.open(db, readonly=True) as reader:
        assert reader.counts()["items"] == 20
        assert set(orphans) <= set(part_files(db))  # readers never touch the folder
    with Store.open(db) as store:
        assert part_files(db) == sorted([*named, "notes.txt"])
        assert [store.item(i.id) for i in items] == items


def test_a_reader_keeps_its_round_while_the_writer_merges_and_compacts(
    store: Store, db: Path
) -> None:
    first, first_said = items_and_statements("first", 30)
    store.commit_round([], first, first_said, now=NOW)
    with Store.open(db, readonly=True) as reader:
        then = answers(store)
        pinned = set(part_files(db))
        for r in range(MAX_DELTAS + 4):
            items, said = items_and_statements(f"later-{r}", 30)
            store.commit_round([], items, said, now=NOW, replaced_items=[first[r].id])
        assert not pinned & set(part_files(db)), "every part the reader opened is gone"
        # The reader reads what its head named, from the files it holds open.
        assert answers(reader) == then
        assert [reader.item(i.id) for i in first] == first
        assert reader.reload() is True
        assert answers(reader) == answers(store)
        assert reader.counts()["items"] == 30 * (MAX_DELTAS + 5)


def test_readers_opened_while_rounds_are_written_see_whole_rounds(store: Store, db: Path) -> None:
    per_round, rounds = 30, 3 * MAX_DELTAS
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for r in range(rounds):
                items, said = items_and_statements(f"round-{r}", per_round, every=6)
                store.commit_round([], items, said, now=NOW)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    writer = threading.Thread(target=write)
    writer.start()
    seen: set[int] = set()
    try:
        while writer.is_alive() or len(seen) < 2:
            with Store.open(db, readonly=True) as reader:
                counts = reader.counts()
                whole_rounds, rest = divmod(counts["items"], per_round)
                assert rest == 0 and counts["statements"] == whole_rounds * 5, counts
                stored = sum(
                    len(reader.known_items_of_feed(f"https://wire{n}.example/rss"))
                    for n in range(3)
                )
                assert stored == counts["items"]
                for position in reader.positions():
                    assert reader.items_of(position.statement.id)
                seen.add(whole_rounds)
            if not writer.is_alive():
                break
    finally:
        writer.join(timeout=60)
    assert not writer.is_alive() and errors == []
    assert len(seen) > 1


def test_retirement_drops_items_across_segments_and_the_segments_it_empties(db: Path) -> None:
    long_ago = NOW - timedelta(days=200)
    with Store.open(db) as store:
        quiet, _ = items_and_statements("quiet", 40, fetched=long_ago)
        store.commit_round([], quiet, [], now=NOW)
        [quiet_segment] = part_files(db, "seg-")
        quoted, quoted_said = items_and_statements("quoted", 40, fetched=long_ago, every=2)
        store.commit_round([], quoted, quoted_said, now=NOW)
        recent, _ = items_and_statements("recent", 40, fetched=NOW - timedelta(days=3))
        store.commit_round([], recent, [], now=NOW)
        store.commit_round([], [], [], now=NOW, retain_days=180)
        kept = [i for i in quoted if any(s.item_id == i.id for s in quoted_said)] + recent
        assert store.counts()["items"] == len(kept) == 60
        assert quiet_segment not in part_files(db, "seg-")
    with Store.open(db, readonly=True) as reader:
        assert [reader.item(i.id) for i in quiet] == [None] * len(quiet)
        assert [reader.item(i.id) for i in kept] == kept
        assert (
            sum(len(reader.known_items_of_feed(f"https://wire{n}.example/rss")) for n in range(3))
            == 60
        )


def test_the_daily_retirement_check_is_remembered_across_processes(db: Path) -> None:
    feed = FeedState(url="https://wire.example/rss", title="Wire")
    with Store.open(db) as store:
        store.commit_round([feed], [], [], now=NOW, retain_days=30)
    stale = make_item("stale", fetched=NOW - timedelta(days=90))
    with Store.open(db) as store:
        store.commit_round([feed], [stale], [], now=NOW + timedelta(hours=1), retain_days=30)
    with Store.open(db) as store:  # a new process the same day: no new scan
        store.commit_round([feed], [], [], now=NOW + timedelta(hours=2), retain_days=30)
        assert store.item(stale.id) == stale
    with Store.open(db) as store:
        store.commit_round([feed], [], [], now=NOW + timedelta(days=1), retain_days=30)
        assert store.item(stale.id) is None


def test_small_segments_are_merged_and_every_item_stays_readable(db: Path) -> None:
    made: list[Item] = []
    with Store.open(db) as store:
        for r in range(3 * MERGE_AT):
            items, said = items_and_statements(f"small-{r}", 12)
            made += items
            store.commit_round([], items, said, now=NOW)
            assert len(part_files(db, "seg-")) <= MERGE_AT
        # An edited item moves to the new segment; its old bytes are garbage.
        edited = make_item("small-0-0", title="Edited", feed="https://wire0.example/rss")
        store.commit_round([], [edited], [], now=NOW, replaced_items=[edited.id])
        made[0] = edited
        assert [store.item(i.id) for i in made] == made
    with Store.open(db, readonly=True) as reader:
        assert [reader.item(i.id) for i in made] == made
        assert reader.counts()["items"] == len(made)


def test_a_round_of_many_items_is_split_into_segments_of_bounded_size(
    store: Store, db: Path
) -> None:
    items = [make_item(f"bulk-{n}") for n in range(SEGMENT_ITEMS + 10)]
    store.commit_round([], items, [], now=NOW)
    assert len(part_files(db, "seg-")) == 2
    assert store.item(items[0].id) == items[0] and store.item(items[-1].id) == items[-1]


def test_deltas_are_folded_into_new_bases_and_nothing_is_lost(store: Store, db: Path) -> None:
    for r in range(MAX_DELTAS + 3):
        items, said = items_and_statements(f"fold-{r}", 10)
        store.commit_round([], items, said, now=NOW)
        assert len(part_files(db, "delta-")) <= MAX_DELTAS
    # A replaced item's statements and an upserted statement, across the fold.
    target = items_and_statements("fold-0", 10)[0][0]
    rewritten = make_statement(target, claim="A new claim.", stance=Stance.SUPPORTS)
    store.commit_round([], [target], [rewritten], now=NOW, replaced_items=[target.id])
    assert part_files(db, "index-") and part_files(db, "statements-")
    expected = answers(store)
    assert store.statement(rewritten.id) == rewritten
    assert [s.claim for s in store.history("russia", "peacekeeping") if s.item_id == target.id] == [
        "A new claim."
    ]
    with Store.open(db, readonly=True) as reader:
        assert answers(reader) == expected


def test_a_copy_of_a_database_answers_the_same(store: Store, db: Path, tmp_path: Path) -> None:
    items, statements = items_and_statements("copied", 40)
    store.commit_round([FeedState(url="https://wire0.example/rss")], items, statements, now=NOW)
    copy = tmp_path / "elsewhere" / "copy.json"
    copy_database(db, copy)
    with Store.open(copy) as copied:
        assert answers(copied) == answers(store)


# --- schema 1: one file, migrated by the first writer ---------------------------------------


def write_schema_1(
    path: Path, feeds: list[FeedState], items: list[Item], statements: list[Statement]
) -> bytes:
    """A database as stancewatch wrote it before schema 2: everything in one file."""
    content = orjson.dumps(
        {
            "meta": {"1": {"schema": 1}},
            "feeds": {f.url: to_doc(f) for f in feeds},
            "items": {i.id: to_doc(i) for i in items},
            "statements": {s.id: to_doc(s) for s in statements},
        }
    )
    path.write_bytes(content)
    return content


def schema_1_records() -> tuple[list[FeedState], list[Item], list[Statement]]:
    items, statements = items_and_statements("legacy", 45)
    feeds = [FeedState(url=f"https://wire{n}.example/rss", title=f"Wire {n}") for n in range(3)]
    return feeds, items, statements


def test_a_schema_1_database_is_read_as_it_is_and_migrated_by_the_first_writer(
    db: Path, tmp_path: Path
) -> None:
    feeds, items, statements = schema_1_records()
    with Store.open(tmp_path / "reference.json") as reference:
        reference.commit_round(feeds, items, statements, now=NOW)
        expected = answers(reference)
    content = write_schema_1(db, feeds, items, statements)

    with Store.open(db, readonly=True) as reader:
        assert answers(reader) == expected
        assert [reader.item(i.id) for i in items] == items
    assert db.read_bytes() == content and not parts_dir(db).exists()

    with Store.open(db) as store:
        assert orjson.loads(db.read_bytes())["meta"]["1"]["schema"] == SCHEMA_VERSION
        assert "items" not in orjson.loads(db.read_bytes())
        assert part_files(db, "seg-") and part_files(db, "statements-")
        assert answers(store) == expected
        more, more_said = items_and_statements("after", 6)
        store.commit_round([], more, more_said, now=NOW)
    with Store.open(db, readonly=True) as reader:
        assert [reader.item(i.id) for i in items + more] == items + more
        assert reader.counts()["items"] == 51


def test_a_migration_cut_short_leaves_the_schema_1_file_as_it_was(db: Path) -> None:
    feeds, items, statements = schema_1_records()
    content = write_schema_1(db, feeds, items, statements)
    limit = 2048  # far less than the items' segment: its write fails, as on a full disk
    code = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n"
        "from store import Store\n"
        "try:\n"
        "    Store.open(sys.argv[1]).close()\n"
        "except Exception as error:\n"
        "    print(error)\n"
        "    sys.exit(3)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(db)],
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 3, run.stderr
    assert "cannot write database" in run.stdout and str(db) in run.stdout
    assert db.read_bytes() == content
    assert part_files(db) == []  # what it had written is gone again
    with Store.open(db) as store:
        assert [store.item(i.id) for i in items] == items
        assert store.counts() == {"feeds": 3, "items": 45, "statements": 15}
