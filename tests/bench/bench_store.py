"""How fast the store opens, commits and answers at the scale of issue 4/6.

Builds a database of 100,000 items and 20,000 statements (200 feeds, 12
actors, 5 topics, half a year of dates) in a temp dir, then prints medians
of several runs for: opening (writer and reader), a typical poll round's
`commit_round`, and the queries the dashboard makes.

    .venv/bin/python tests/bench/bench_store.py [--items N] [--statements N] [--runs N]

Not collected by pytest (timings are not tests); the figures go in reports.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sources.records import FeedState, Item, Outcome, Stance, Statement, stable_id
from store import Store

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ACTORS = (
    "russia ukraine united-states france nato un germany united-kingdom china "
    "poland turkey eu".split()
)
TOPICS = ("peacekeeping", "nato-membership", "un-veto", "ceasefire", "sanctions")
WORDS = (
    "envoy minister talks council troops border deal proposal summit delegation "
    "guarantee monitoring mission negotiators statement briefing ministry capital "
    "security treaty framework withdrawal observers corridor timetable agreement"
).split()


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def make_round(
    rng: random.Random, n_items: int, n_statements: int, feeds: list[str], tag: str, now: datetime
) -> tuple[list[Item], list[Statement]]:
    items = []
    for i in range(n_items):
        feed = rng.choice(feeds)
        published = now - timedelta(seconds=rng.randrange(180 * 86400))
        items.append(
            Item(
                id=stable_id("item", feed, f"{tag}-{i}"),
                feed_url=feed,
                link=f"https://news.example/{tag}/{i}/{rng.randrange(10**9)}",
                title=sentence(rng, 10),
                summary=" ".join(sentence(rng, 12) for _ in range(5)),
                published=published,
                fetched=published + timedelta(minutes=rng.randrange(60)),
                source=feed.split("/")[2],
                topics=(rng.choice(TOPICS),),
                actors=(rng.choice(ACTORS), rng.choice(ACTORS)),
                content_hash=stable_id("content", tag, str(i)),
            )
        )
    statements = []
    for j in range(n_statements):
        item = items[rng.randrange(len(items))]
        claim = sentence(rng, 14)
        actor, topic = rng.choice(ACTORS), rng.choice(TOPICS)
        statements.append(
            Statement(
                id=stable_id("statement", item.id, actor, topic, claim, str(j)),
                item_id=item.id,
                actor=actor,
                speaker=rng.choice((None, "A. Speaker", "B. Envoy")),
                topic=topic,
                stance=rng.choice(list(Stance)),
                claim=claim,
                cue=rng.choice(("said", "warned", "according to")),
                published=item.published,
                source=item.source,
                link=item.link,
            )
        )
    return items, statements


def feed_states(feeds: list[str], now: datetime) -> list[FeedState]:
    return [
        FeedState(url=f, title=f"Feed {k}", last_attempt=now, last_success=now, outcome=Outcome.OK)
        for k, f in enumerate(feeds)
    ]


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--statements", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    rng = random.Random(4)
    feeds = [f"https://feed{k}.example/rss" for k in range(200)]

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.json"
        items, statements = make_round(rng, args.items, args.statements, feeds, "base", NOW)
        start = time.perf_counter()
        with Store.open(path) as store:
            store.commit_round(feed_states(feeds, NOW), items, statements, now=NOW)
        built = time.perf_counter() - start
        del items, statements
        size = path.stat().st_size
        print(f"database: {args.items} items, {args.statements} statements, {size / 1e6:.1f} MB")
        print(f"  build (one commit_round of everything):  {built * 1000:8.1f} ms")

        for readonly in (False, True):
            opens, closes = [], []
            for _ in range(args.runs):
                start = time.perf_counter()
                store = Store.open(path, readonly=readonly)
                opens.append(time.perf_counter() - start)
                start = time.perf_counter()
                store.close()
                del store
                closes.append(time.perf_counter() - start)
            who = "reader" if readonly else "writer"
            print(
                f"  open, {who}  {statistics.median(opens) * 1000:8.1f} ms"
                f"   (close {statistics.median(closes) * 1000:.1f} ms)"
            )

        with Store.open(path) as store:
            # A typical round: 300 new items, 60 statements, every feed's state,
            # with retirement on (so its scan of all items is in the figure).
            rounds = [
                make_round(rng, 300, 60, feeds, f"round{r}", NOW + timedelta(minutes=30 * r))
                for r in range(args.runs)
            ]
            pending = iter(rounds)

            def commit() -> None:
                new_items, new_statements = next(pending)
                store.commit_round(
                    feed_states(feeds, NOW), new_items, new_statements, now=NOW, retain_days=180
                )

            print(
                f"  commit_round (300 items, 60 statements, retire on) "
                f"{median_ms(commit, args.runs):8.1f} ms"
            )

        with Store.open(path, readonly=True) as store:
            actor, topic = "russia", "peacekeeping"
            start = time.perf_counter()
            store.positions(actor=actor)
            cold = (time.perf_counter() - start) * 1000
            some = store.history(actor, topic, limit=1)[0]
            queries: list[tuple[str, Callable[[], object]]] = [
                ("positions()  (all pairs)", lambda: store.positions()),
                ("positions(actor=...)", lambda: store.positions(actor=actor)),
                ("history(actor, topic)  (all)", lambda: store.history(actor, topic)),
                ("history(actor, topic, limit=50)", lambda: store.history(actor, topic, limit=50)),
                ("actors_summary()", lambda: store.actors_summary()),
                ("activity(actor, topic, 30 days)", lambda: store.activity(actor, topic, 30, NOW)),
                ("items_of(statement)", lambda: store.items_of(some.id)),
                ("search('envoy', 200)", lambda: store.search("envoy")),
                ("search('no such words')", lambda: store.search("no such words")),
                ("feed_health()", lambda: store.feed_health()),
            ]
            print(f"  positions(actor=...) first call after open {cold:8.2f} ms")
            for name, query in queries:
                first = median_ms(query, 1)
                warm = median_ms(query, max(args.runs, 20))
                print(f"  {name:40s} first {first:8.2f} ms   then {warm:8.3f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
