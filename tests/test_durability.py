"""The database survives what a weeks-long run meets: kill -9, a second instance,
a damaged file, a full disk.

The kills are real SIGKILLs of real processes at random moments: a store
writer committing big rounds back to back (so most kills land inside a
write), and the `stancewatch poll --once` command mid-round. After each
kill the database must open and hold every round that finished, and the
round in flight must be there whole or not at all.
"""

from __future__ import annotations

import os
import random
import resource
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from sources.records import FeedState, Item, Outcome, stable_id
from store import Store, database_files
from tests.feedserver import FeedServer
from tests.hostile import (
    ROOT,
    WRITER_ITEMS,
    CliRun,
    Entry,
    feed_lines,
    healthy_feed,
    healthy_ids,
    poll_once,
    rss,
    run_cli,
    write_config,
    writer_item_ids,
)

SEED = int(os.environ.get("STANCEWATCH_KILL_SEED", "20250705"))
"""Seed of the kill times; set the variable to replay a failing sequence."""


# --- a child process we can kill and read ---------------------------------------------


class Child:
    """A subprocess whose stdout lines are collected without ever blocking for long."""

    def __init__(self, command: list[str]) -> None:
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.lines: list[str] = []
        self._partial = b""

    def read_for(self, seconds: float, until: str | None = None) -> bool:
        """Collect lines for up to `seconds`; True as soon as a line equals `until`."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if not ready:
                return False
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                return False
            *whole, self._partial = (self._partial + chunk).split(b"\n")
            for line in whole:
                self.lines.append(line.decode("utf-8", "replace"))
                if until is not None and self.lines[-1] == until:
                    return True

    def kill(self) -> None:
        """SIGKILL, reap, and collect what it printed before dying."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.read_for(0.5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def stderr(self) -> str:
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode("utf-8", "replace")


@pytest.fixture
def rng() -> random.Random:
    """Seeded randomness, so a failing kill sequence can be replayed (see SEED)."""
    return random.Random(SEED)


def temp_files(db: Path) -> list[Path]:
    return sorted(db.parent.glob(f"{db.name}.tmp-*"))


def leftovers(db: Path) -> list[Path]:
    """Files a write cut short leaves: head temp files, and parts no head names."""
    parts = db.parent / f"{db.name}.d"
    named = set(database_files(db)) if db.exists() else set()
    orphans = [p for p in parts.iterdir() if p not in named] if parts.exists() else []
    return temp_files(db) + sorted(orphans)


def stored_items(db: Path, feed_url: str) -> list[Item]:
    """The feed's items in the database, read as any reader would (empty if none yet)."""
    if not db.exists():
        return []
    with Store.open(db, readonly=True) as store:
        return store.all_items(feed_url)


# --- kill -9 ------------------------------------------------------------------------------


def test_kill_9_at_random_points_of_big_commits_never_loses_a_finished_round(
    tmp_path: Path, rng: random.Random
) -> None:
    db = tmp_path / "db.json"
    finished: list[int] = []
    next_round = 0
    mid_write = 0
    for kill_no in range(15):
        child = Child(
            [sys.executable, "-m", "tests.hostile", "write-rounds", str(db), str(next_round)]
        )
        try:
            assert child.read_for(30, until="ready"), f"the writer did not start: {child.lines}"
            # Each round writes the whole (growing) file; kill anywhere in the
            # next few rounds, most often inside a write.
            child.read_for(rng.uniform(0.0, 0.6))
        finally:
            child.kill()
        committed = [int(line.split()[1]) for line in child.lines if line.startswith("committed ")]
        finished += committed
        in_flight = (committed[-1] + 1) if committed else next_round
        mid_write += bool(leftovers(db))

        with Store.open(db, readonly=True) as store:
            for round_no in finished:
                missing = [i for i in writer_item_ids(round_no) if store.item(i) is None]
                assert not missing, f"kill {kill_no} (seed {SEED}) lost round {round_no}"
            present = sum(store.item(i) is not None for i in writer_item_ids(in_flight))
            assert present in (0, WRITER_ITEMS), f"round {in_flight} stored in part: {present}"
        next_round = in_flight + 1
    # The writer's next open clears what a killed write left behind.
    with Store.open(db):
        assert not leftovers(db)
    assert len(finished) >= 6, "the kills came too early to test anything"
    assert mid_write, "no kill landed inside a write: make the rounds bigger"


def _changing_feeds(
    srv: FeedServer, run_no: int, feeds: int, per_feed: int
) -> dict[str, list[str]]:
    """Serve `feeds` feeds whose items are all new in run `run_no`; return their guids."""
    filler = "Negotiators traded drafts of the text through the night in the capital. " * 6
    served: dict[str, list[str]] = {}
    for f in range(feeds):
        guids = [f"run{run_no}-feed{f}-item{k}" for k in range(per_feed)]
        url = srv.add(
            f"/busy-{f}.xml",
            rss([Entry(title=f"Story {g}", guid=g, description=filler) for g in guids]),
        )
        served[url] = guids
    return served


def test_kill_9_during_cli_polls_keeps_every_finished_poll(
    feed_server: FeedServer, tmp_path: Path, rng: random.Random
) -> None:
    db = tmp_path / "db.json"
    config = tmp_path / "c.toml"
    finished: list[dict[str, list[str]]] = []
    durations: list[float] = []
    for run_no in range(8):
        served = _changing_feeds(feed_server, run_no, feeds=30, per_feed=20)
        write_config(config, served, settings={"per_host": 8, "concurrency": 8})
        command = [sys.executable, "-m", "tui.cli", "--config", str(config), "--db", str(db)]
        child = Child([*command, "poll", "--once"])
        # Every third run is let finish: its items are then owed forever.
        if run_no % 3 == 0 or not durations:
            started = time.monotonic()
            child.proc.wait(60)
            durations.append(time.monotonic() - started)
            assert child.proc.returncode == 0, child.stderr()
            child.kill()
            finished.append(served)
        else:
            try:
                child.read_for(rng.uniform(0.0, max(durations) * 1.2))
            finally:
                child.kill()
        with Store.open(db, readonly=True) as store:
            for owed in finished:
                for url, guids in owed.items():
                    for guid in guids:
                        item_id = stable_id("item", url, "guid", guid)
                        assert store.item(item_id) is not None, f"run {run_no}: lost {guid}"
            this_run = [
                store.item(stable_id("item", url, "guid", guid)) is not None
                for url, guids in served.items()
                for guid in guids
            ]
        # One round is one write: all of it or none of it.
        assert all(this_run) or not any(this_run), f"run {run_no} stored in part"
    final = poll_once(config, db)
    assert final.returncode == 0, final.stderr
    assert "in use" not in final.stderr


# --- two instances ----------------------------------------------------------------------


@pytest.fixture
def running_poller(feed_server: FeedServer, tmp_path: Path) -> Iterator[tuple[Path, Path, Child]]:
    """A `stancewatch poll` left running on a database (stopped with SIGTERM at the end)."""
    url = feed_server.add("/healthy.xml", healthy_feed())
    config = write_config(tmp_path / "c.toml", [url])
    db = tmp_path / "db.json"
    child = Child(
        [sys.executable, "-m", "tui.cli", "--config", str(config), "--db", str(db), "poll"]
    )
    try:
        # The feed's line on stdout comes before the round is written; wait
        # for the round to be on disk as well.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (
            db.exists() and stored_items(db, url) and any(url in line for line in child.lines)
        ):
            child.read_for(0.2)
        assert stored_items(db, url), "the poller did not finish its first round"
        yield config, db, child
    finally:
        if child.proc.poll() is None:
            child.proc.send_signal(signal.SIGTERM)
            try:
                child.proc.wait(15)
            except subprocess.TimeoutExpired:
                pass
        child.kill()


def test_a_second_poller_is_refused_in_one_line_while_readers_still_work(
    running_poller: tuple[Path, Path, Child],
) -> None:
    config, db, child = running_poller
    args = ("--config", str(config), "--db", str(db))

    second = run_cli(*args, "poll", "--once", timeout=30)

    assert second.returncode == 1
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert "in use" in lines[0] and str(db) in lines[0]
    assert f"pid {child.proc.pid}" in lines[0]
    # Readers take no lock: positions and the feeds list still answer.
    for command in (["positions", "--format", "json"], ["feeds", "list"]):
        reader = run_cli(*args, *command, timeout=30)
        assert reader.returncode == 0, reader.stderr
    assert "Healthy Herald" in run_cli(*args, "feeds", "list", timeout=30).stdout


def test_the_lock_is_free_again_once_the_poller_stops_or_is_killed(
    running_poller: tuple[Path, Path, Child],
) -> None:
    config, db, child = running_poller
    child.proc.send_signal(signal.SIGKILL)
    child.proc.wait(10)
    after = poll_once(config, db)
    assert after.returncode == 0, after.stderr


# --- damaged files ------------------------------------------------------------------------

DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "cut-in-half": lambda good: good[: len(good) // 2],
    "garbage": lambda good: bytes(range(256)) * 16,
    "zeroed-block": lambda good: good[:10] + b"\x00" * 512 + good[522:],
    "not-an-object": lambda good: b"[1, 2, 3]",
    "table-not-an-object": lambda good: b'{"meta": {"1": {"schema": 1}}, "items": [1]}',
    "no-schema": lambda good: b'{"items": {"a": {"title": "x"}}}',
    "bad-feed-record": lambda good: good.replace(b'"failures":0', b'"failures":"lots"', 1),
}


def _good_database(srv: FeedServer, tmp_path: Path) -> tuple[Path, Path, str]:
    """A config polling the healthy feed, and a database already holding its items.

    Written in this process through the store (a CLI run would cost a second
    per test for the same file).
    """
    url = srv.add("/healthy.xml", healthy_feed())
    config = write_config(tmp_path / "c.toml", [url])
    db = tmp_path / "db.json"
    now = datetime.now(UTC)
    items = [
        Item(id=i, feed_url=url, link=f"https://healthy.example/{n}", title=f"Story {n}",
             summary="Delegates met.", published=now, fetched=now)
        for n, i in enumerate(healthy_ids(url))
    ]  # fmt: skip
    state = FeedState(url=url, title="Healthy Herald", last_attempt=now, last_success=now,
                      next_poll=now, outcome=Outcome.OK, new_items=3, total_items=3)  # fmt: skip
    with Store.open(db) as store:
        store.commit_round([state], items, [], now=now)
    return config, db, url


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_database_is_kept_aside_with_a_clear_message(
    feed_server: FeedServer, tmp_path: Path, damage: str
) -> None:
    config, db, url = _good_database(feed_server, tmp_path)
    damaged = DAMAGE[damage](db.read_bytes())
    db.write_bytes(damaged)
    args = ("--config", str(config), "--db", str(db))

    # A reader leaves it where it is and says why.
    reader = run_cli(*args, "positions", timeout=30)
    assert reader.returncode == 1
    assert len(reader.stderr.strip().splitlines()) == 1, reader.stderr
    assert "damaged" in reader.stderr and str(db) in reader.stderr
    assert db.read_bytes() == damaged

    # A writer moves it aside, says where, and carries on with a new one.
    run = poll_once(config, db)
    assert run.returncode == 0, run.stderr
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("db.json.damaged-")]
    assert len(aside) == 1, list(tmp_path.iterdir())
    assert aside[0].read_bytes() == damaged, "the damaged file was altered"
    notes = [line for line in run.stderr.splitlines() if str(aside[0]) in line]
    assert len(notes) == 1 and str(db) in notes[0], run.stderr
    with Store.open(db, readonly=True) as store:
        assert all(store.item(i) is not None for i in healthy_ids(url))


def test_a_database_from_a_newer_version_is_refused_and_left_alone(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    config, db, _ = _good_database(feed_server, tmp_path)
    data = orjson.loads(db.read_bytes())
    data["meta"] = {"1": {"schema": 99}}
    newer = orjson.dumps(data)
    db.write_bytes(newer)

    run = poll_once(config, db)

    assert run.returncode == 1
    assert len(run.stderr.strip().splitlines()) == 1 and "newer" in run.stderr, run.stderr
    assert db.read_bytes() == newer
    assert not [p for p in tmp_path.iterdir() if ".damaged-" in p.name]


# --- a full disk ----------------------------------------------------------------------------


def _file_size_limit(limit: int) -> Callable[[], None]:
    """A preexec_fn: writes past `limit` bytes fail with EFBIG, as on a full disk."""

    def apply() -> None:
        # Without this, the kernel kills the writer with SIGXFSZ instead of
        # letting the write fail.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _poll_limited(config: Path, db: Path, limit: int) -> CliRun:
    return run_cli(
        "--config", str(config), "--db", str(db), "poll", "--once",
        timeout=60, preexec_fn=_file_size_limit(limit),
    )  # fmt: skip


def test_a_full_disk_loses_nothing_and_says_so_in_one_line(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    config, db, url = _good_database(feed_server, tmp_path)
    before = db.read_bytes()
    every_file = {path: path.read_bytes() for path in database_files(db)}
    filler = "A long dispatch about the state of the talks, repeated to take room. " * 10
    big = rss(
        [Entry(title=f"Bulky {n}", guid=f"bulky-{n}", description=filler) for n in range(200)]
    )
    bulky = feed_server.add("/bulky.xml", big)
    write_config(config, [url, bulky])

    full = _poll_limited(config, db, len(before) + 4096)

    assert full.returncode == 1, (full.stdout, full.stderr)
    lines = full.stderr.strip().splitlines()
    assert len(lines) == 1, full.stderr
    assert "cannot write database" in lines[0] and str(db) in lines[0]
    assert "too large" in lines[0].lower() or "no space" in lines[0].lower(), lines[0]
    assert db.read_bytes() == before, "the earlier data was touched"
    assert {path: path.read_bytes() for path in database_files(db)} == every_file
    assert not leftovers(db)

    # Room again: the next round stores everything.
    again = poll_once(config, db)
    assert again.returncode == 0, again.stderr
    assert len(stored_items(db, bulky)) == 200
    assert len(stored_items(db, url)) == 3


def test_no_room_for_a_new_database_is_one_line_and_no_file(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    url = feed_server.add("/healthy.xml", healthy_feed())
    config = write_config(tmp_path / "c.toml", [url])
    db = tmp_path / "db.json"

    run = _poll_limited(config, db, 8)

    assert run.returncode == 1
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "cannot write database" in run.stderr
    assert not db.exists() or db.stat().st_size == 0
    assert not temp_files(db)
    assert feed_lines(run.stdout) == {}
