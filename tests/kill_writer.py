"""A writer for `test_store_kill.py` to SIGKILL: it commits rounds until killed.

    python tests/kill_writer.py DB TAG [--rounds N] [--items N] [--statements N]
        [--die-at segment|catalog|head|cleanup --die-round R]

Opens DB as the writer, prints `open` once it holds the lock, then commits
rounds of made-up items and statements, printing `done TAG R` (flushed)
after each `commit_round` returns. A line printed is a promise: that round
is on disk. `round_records` is imported by the test to know what each round
must have stored.

With `--die-at`, the writer SIGKILLs itself at that point of the first
round numbered R or later that reaches it: right after writing a segment,
right after writing a catalog part (delta or bases), just before renaming
the new head into place, or after that rename but before deleting the
parts the round made obsolete. Random kills rarely land exactly between
two files of a round; this puts one there every time, in a real process
writing real files.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sources.records import FeedState, Item, Outcome, Stance, Statement, stable_id
from store import Store

START = datetime(2025, 1, 1, tzinfo=UTC)
STANCES = tuple(Stance)


def round_records(
    tag: str, number: int, items: int, statements: int
) -> tuple[FeedState, list[Item], list[Statement]]:
    """The records of round `number` of the writer run `tag`; the same every time."""
    when = START + timedelta(minutes=number)
    feed = f"https://{tag}.example/rss"
    made = [
        Item(
            id=stable_id("item", tag, str(number), str(i)),
            feed_url=feed,
            link=f"https://{tag}.example/{number}/{i}",
            title=f"Round {number} item {i} of run {tag}",
            # Some bulk, so a write takes long enough to be hit mid-way.
            summary=f"Text of item {i} in round {number}. " * 6,
            published=when,
            fetched=when,
            source=tag,
            content_hash=stable_id("content", tag, str(number), str(i)),
        )
        for i in range(items)
    ]
    said = [
        Statement(
            id=stable_id("statement", tag, str(number), str(j)),
            item_id=made[j % len(made)].id,
            actor=("russia", "france", "nato")[j % 3],
            speaker=None,
            topic=("peacekeeping", "ceasefire")[j % 2],
            stance=STANCES[(number + j) % len(STANCES)],
            claim=f"Claim {j} of round {number} in run {tag}.",
            cue="said",
            published=when,
            source=tag,
        )
        for j in range(statements)
    ]
    state = FeedState(url=feed, title=tag, last_attempt=when, outcome=Outcome.OK)
    return state, made, said


DIE_POINTS = ("segment", "catalog", "head", "cleanup")


def arm(point: str, db: Path, die_round: int, current: list[int]) -> None:
    """SIGKILL this process at `point` once the round in `current[0]` is `die_round` or later."""
    import store.parts as parts

    def due() -> bool:
        return current[0] >= die_round

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    if point in ("segment", "catalog"):
        kinds = ("seg-",) if point == "segment" else ("delta-", "index-", "statements-")
        real_write = parts.PartsDir.write

        def write(self: parts.PartsDir, name: str, pieces: Sequence[bytes], mode: int) -> int:
            size = real_write(self, name, pieces, mode)
            if due() and name.startswith(kinds):
                die()
            return size

        parts.PartsDir.write = write  # type: ignore[method-assign]
    elif point == "head":
        real_replace = os.replace

        def replace(src: Any, dst: Any, **kwargs: Any) -> None:
            if due() and Path(dst) == db:
                die()
            real_replace(src, dst, **kwargs)

        os.replace = replace
    elif point == "cleanup":
        real_remove = parts.PartsDir.remove

        def remove(self: parts.PartsDir, names: Iterable[str]) -> None:
            names = list(names)
            if due() and names:
                die()
            real_remove(self, names)

        parts.PartsDir.remove = remove  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("tag")
    parser.add_argument("--rounds", type=int, default=1_000_000, help="stop after this many")
    parser.add_argument("--items", type=int, default=300, help="items per round")
    parser.add_argument("--statements", type=int, default=30, help="statements per round")
    parser.add_argument("--die-at", choices=DIE_POINTS, help="SIGKILL at this point of a round")
    parser.add_argument("--die-round", type=int, default=0, help="from this round on")
    args = parser.parse_args(argv)
    current = [0]
    if args.die_at:
        arm(args.die_at, Path(args.db).expanduser(), args.die_round, current)
    with Store.open(args.db) as store:
        print("open", flush=True)
        for number in range(args.rounds):
            current[0] = number
            state, items, statements = round_records(args.tag, number, args.items, args.statements)
            store.commit_round([state], items, statements, now=START)
            print(f"done {args.tag} {number}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
