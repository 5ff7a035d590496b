"""SIGKILL a writer at random moments: the database must always open, whole.

`tests/kill_writer.py` commits rounds in a loop and prints a line after
each. The test kills it (half the time during start-up and the first round,
half the time some way into the rounds), then checks that the database
opens without damage, holds every round the writer reported finished, holds
the round in flight either entirely or not at all, and that the lock was
freed by the kernel. The same database is reused across 20 kills, so every
writer starts on a file its predecessor was killed over.

STANCEWATCH_KILL_RUNS sets the number of kills (default 20, about 15 s);
a stress run can ask for hundreds.
"""

from __future__ import annotations

import fcntl
import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sources.errors import StoreDamagedError
from store import Store, database_files
from tests.kill_writer import round_records

WRITER = Path(__file__).with_name("kill_writer.py")
ROOT = Path(__file__).parent.parent
ITEMS, STATEMENTS = 300, 30
RUNS = int(os.environ.get("STANCEWATCH_KILL_RUNS", "20"))
PER_DATABASE = 20


def read_lines(proc: subprocess.Popen[bytes], buffer: bytearray, timeout: float) -> None:
    """Add what the writer printed within `timeout` seconds to `buffer`."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if not ready:
            return
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            return
        buffer += chunk


def finished_rounds(buffer: bytearray, tag: str) -> list[int]:
    # Only whole lines count: a line cut by the kill was never a promise.
    lines = bytes(buffer).decode().split("\n")[:-1]
    return [int(line.split()[2]) for line in lines if line.startswith(f"done {tag} ")]


def run_and_kill(db: Path, tag: str, rng: random.Random, late: bool) -> list[int]:
    """Start a writer, SIGKILL it at a random moment, return the rounds it finished."""
    proc = subprocess.Popen(
        [
            sys.executable,
            str(WRITER),
            str(db),
            tag,
            "--items",
            str(ITEMS),
            "--statements",
            str(STATEMENTS),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    buffer = bytearray()
    try:
        if late:
            # Into the rounds: after the first one is reported, then a bit more.
            while not finished_rounds(buffer, tag) and proc.poll() is None:
                read_lines(proc, buffer, 0.05)
                assert len(buffer) < 10**6
            read_lines(proc, buffer, rng.uniform(0.0, 0.4))
        else:
            # Anywhere from interpreter start-up through open and round one.
            read_lines(proc, buffer, rng.uniform(0.05, 0.6))
        if proc.poll() is not None:
            pytest.fail(f"the writer exited by itself: {proc.communicate()[1].decode()}")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()  # whatever happened above, no writer outlives the test
        rest, err = proc.communicate(timeout=20)
    assert proc.returncode == -signal.SIGKILL, err.decode()
    buffer += rest
    return finished_rounds(buffer, tag)


def leftovers(db: Path) -> list[Path]:
    """What a write cut short leaves: head temp files, and parts the head does not name."""
    parts = db.parent / f"{db.name}.d"
    named = set(database_files(db)) if db.exists() else set()
    orphans = [p for p in parts.iterdir() if p not in named] if parts.exists() else []
    return sorted(db.parent.glob(f"{db.name}.tmp-*")) + sorted(orphans)


def assert_lock_is_free(db: Path) -> None:
    lock = db.with_name(db.name + ".lock")
    if not lock.exists():
        return
    with open(lock, "rb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if still held
        fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.mark.slow
def test_a_killed_writer_never_leaves_a_damaged_or_partial_database(tmp_path: Path) -> None:
    seed = int(os.environ.get("STANCEWATCH_KILL_SEED", str(random.randrange(10**6))))
    rng = random.Random(seed)
    finished: dict[str, list[int]] = {}
    db = tmp_path / "killed.json"
    cut_short = 0
    for run in range(RUNS):
        if run % PER_DATABASE == 0:
            # A fresh file now and then, so a stress run of hundreds of kills
            # does not grow one database without end.
            db = tmp_path / f"killed-{run // PER_DATABASE}.json"
            finished = {}
        tag = f"run{run}"
        done = run_and_kill(db, tag, rng, late=run % 2 == 1)
        finished[tag] = done
        assert done == list(range(len(done))), f"seed {seed}: rounds out of order {done}"
        assert_lock_is_free(db)
        cut_short += bool(leftovers(db))
        try:
            store = Store.open(db)
        except StoreDamagedError as error:
            pytest.fail(f"seed {seed}, kill {run}: {error}")
        with store:
            assert not leftovers(db), "the writer's open left a killed round's files"
            for old_tag, rounds in finished.items():
                for number in rounds:
                    _, items, statements = round_records(old_tag, number, ITEMS, STATEMENTS)
                    known = store.known_items(i.id for i in items)
                    assert len(known) == ITEMS, f"seed {seed}: {old_tag} round {number} lost"
                    assert all(store.statement(s.id) == s for s in statements)
            # The round in flight when the kill came: all of it or none of it.
            _, items, statements = round_records(tag, len(done), ITEMS, STATEMENTS)
            stored = len(store.known_items(i.id for i in items))
            present = sum(store.statement(s.id) is not None for s in statements)
            assert (stored, present) in ((0, 0), (ITEMS, STATEMENTS)), (
                f"seed {seed}: round {len(done)} of {tag} half stored: {stored} items, "
                f"{present} statements"
            )
    total = sum(len(r) for r in finished.values())
    print(
        f"\n{RUNS} kills (seed {seed}): {total} rounds confirmed, "
        f"{cut_short} kills left a round's files half written"
    )


@pytest.mark.parametrize(
    ("point", "kept"),
    [("segment", False), ("catalog", False), ("head", False), ("cleanup", True)],
)
def test_a_writer_killed_between_the_files_of_a_round_leaves_the_round_whole_or_absent(
    tmp_path: Path, point: str, kept: bool
) -> None:
    """Killed after the segment, after the catalog delta, before or after the head's rename.

    Until the new head is renamed into place the round is absent and its
    files are orphans; after it the round is whole and only the clean-up of
    obsolete parts is left. Either way the next writer opens a database
    with every finished round, and removes the leftovers.
    """
    db = tmp_path / "db.json"
    items, statements, die_round = 40, 6, 18
    run = subprocess.run(
        [
            sys.executable,
            str(WRITER),
            str(db),
            point,
            "--rounds",
            "80",
            "--items",
            str(items),
            "--statements",
            str(statements),
            "--die-at",
            point,
            "--die-round",
            str(die_round),
        ],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert run.returncode == -signal.SIGKILL, run.stderr.decode()
    done = finished_rounds(bytearray(run.stdout), point)
    assert done == list(range(len(done))) and len(done) >= die_round, done
    assert_lock_is_free(db)
    assert leftovers(db), "the kill left no file of the round behind"
    with Store.open(db) as store:
        assert not leftovers(db)
        for number in done:
            _, made, said = round_records(point, number, items, statements)
            assert len(store.known_items(i.id for i in made)) == items, f"round {number} lost"
            assert all(store.statement(s.id) == s for s in said)
            assert store.item(made[-1].id) == made[-1]
        state, made, said = round_records(point, len(done), items, statements)
        stored = len(store.known_items(i.id for i in made))
        present = sum(store.statement(s.id) is not None for s in said)
        assert (stored, present) == ((items, statements) if kept else (0, 0))
        # The feed's state is the one saved with the last whole round: never
        # a newer one without its items.
        last_whole, _, _ = round_records(point, len(done) - 1 + kept, items, statements)
        assert store.feed_states()[state.url] == last_whole
        assert store.counts()["items"] == items * (len(done) + kept)
