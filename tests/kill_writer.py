"""A writer for `test_store_kill.py` to SIGKILL: it commits rounds until killed.

    python tests/kill_writer.py DB TAG [--rounds N] [--items N] [--statements N]

Opens DB as the writer, prints `open` once it holds the lock, then commits
rounds of made-up items and statements, printing `done TAG R` (flushed)
after each `commit_round` returns. A line printed is a promise: that round
is on disk. `round_records` is imported by the test to know what each round
must have stored.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta

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


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("tag")
    parser.add_argument("--rounds", type=int, default=1_000_000, help="stop after this many")
    parser.add_argument("--items", type=int, default=300, help="items per round")
    parser.add_argument("--statements", type=int, default=30, help="statements per round")
    args = parser.parse_args(argv)
    with Store.open(args.db) as store:
        print("open", flush=True)
        for number in range(args.rounds):
            state, items, statements = round_records(args.tag, number, args.items, args.statements)
            store.commit_round([state], items, statements, now=START)
            print(f"done {args.tag} {number}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
