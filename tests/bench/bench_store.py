"""How fast the store opens, commits and answers, at 10k items against 100k.

Issue 6 wants a poll round on a big store (100,000 items and 20,000
statements already stored) to cost no more than 1.3x the same round on a
small one, and no event-loop stall over 100 ms in the dashboard while a
round is stored. This script measures the store's part of that.

It builds four databases through the store's own API (cached in
`--cache`, keyed by the store's source, so a change of format builds new
ones):

- empty: nothing (the small store before a cold round);
- filler: 100,000 items and 20,000 statements of 200 other feeds (the big
  store before a cold round);
- small: empty + one cold round (10,000 items, 4,600 statements);
- big: filler + the same cold round.

Then each scenario runs as its own process, as `stancewatch poll --once`
does, on a fresh copy of its database: open the writer, ask
`known_items_of_feed` for every feed that sent a body, `commit_round`,
close. Scenarios, as in `bench_poll.py`:

- cold: 10,000 new items + 4,600 statements + 200 feed states (on empty /
  filler);
- warm: 200 feed states only (on small / big);
- changed: 100 new items + 25 statements + 200 feed states (on small / big).

For each step it prints the median wall and CPU time over `--runs`
alternating runs, the whole process's peak RSS, and the longest gap seen
by a thread that sleeps 1 ms in a loop while the step runs: how long some
other thread held the GIL, which is the stall a dashboard's event loop
would see (gaps in which the process hardly ran, because other programs
had the CPUs, are counted apart as "starved"). It also times what a
dashboard does after opening (first `positions()`, `item`, `items_of`)
and the queries.

    .venv/bin/python tests/bench/bench_store.py [--runs 5] [--big-items 100000]
        [--scenarios cold,warm,changed] [--cache DIR] [--json FILE]

Not collected by pytest (timings are not tests); the figures go in
`RESULTS.md` and reports. The machine is shared: compare CPU times and
medians, and read wall times with the load average printed beside them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from sources.records import FeedState, Item, Outcome, Stance, Statement, stable_id  # noqa: E402
from store import Store  # noqa: E402

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
FEEDS = [f"https://feed{k}.bench.example/rss" for k in range(200)]
"""The feeds a round polls."""
FILLER_FEEDS = [f"https://filler{k}.bench.example/rss" for k in range(200)]
"""The big store's other feeds: nothing a round polls."""
COLD = (10_000, 4_600)
CHANGED = (100, 25)
CHANGED_FEEDS = 20
RETAIN_DAYS = 180
SCENARIOS = ("cold", "warm", "changed")
BASES = {"cold": ("empty", "filler"), "warm": ("small", "big"), "changed": ("small", "big")}


# --- made-up records ------------------------------------------------------------------


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def make_round(
    rng: random.Random,
    n_items: int,
    n_statements: int,
    feeds: list[str],
    tag: str,
    now: datetime,
    days_back: int = 60,
) -> tuple[list[Item], list[Statement]]:
    """Items of about 1.5 kB (the size of a cleaned news summary) and statements on them."""
    items = []
    for i in range(n_items):
        feed = feeds[i % len(feeds)]
        published = now - timedelta(seconds=rng.randrange(days_back * 86400))
        items.append(
            Item(
                id=stable_id("item", feed, f"{tag}-{i}"),
                feed_url=feed,
                link=f"https://news.example/{tag}/{i}/{rng.randrange(10**9)}",
                title=sentence(rng, 10),
                summary=" ".join(sentence(rng, 12) for _ in range(14)),
                published=published,
                fetched=min(now, published + timedelta(minutes=rng.randrange(60))),
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


def feed_states(feeds: list[str], now: datetime, tag: str) -> list[FeedState]:
    return [
        FeedState(
            url=f,
            title=f"Feed {k}",
            etag=f'"{tag}-{k}"',
            last_attempt=now,
            last_success=now,
            next_poll=now + timedelta(minutes=30),
            outcome=Outcome.OK,
            total_items=50,
        )
        for k, f in enumerate(feeds)
    ]


def round_of(scenario: str) -> tuple[list[FeedState], list[Item], list[Statement], list[str]]:
    """The records a scenario commits, and the feeds that sent a body."""
    now = NOW + timedelta(minutes=30)
    if scenario == "cold":
        items, statements = make_round(random.Random(1), *COLD, FEEDS, "cold", NOW)
        return feed_states(FEEDS, NOW, "cold"), items, statements, FEEDS
    if scenario == "warm":
        return feed_states(FEEDS, now, "warm"), [], [], []
    changed = FEEDS[:: len(FEEDS) // CHANGED_FEEDS]
    items, statements = make_round(random.Random(2), *CHANGED, changed, "changed", now, 1)
    return feed_states(FEEDS, now, "changed"), items, statements, changed


# --- the databases ----------------------------------------------------------------------


def database_files(path: Path) -> list[Path]:
    """The files of a database: `store.database_files` if the store has it, else the file."""
    import store

    listed = getattr(store, "database_files", None)
    if listed is not None:
        return list(listed(path))
    return [path]


def copy_database(source: Path, target: Path) -> None:
    import store

    copier = getattr(store, "copy_database", None)
    if copier is not None:
        copier(source, target)
    else:
        shutil.copyfile(source, target)


def database_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in database_files(path) if p.is_file())


def _source_key() -> str:
    digest = hashlib.sha256()
    for folder in (REPO / "store", REPO / "sources"):
        for file in sorted(folder.rglob("*.py")):
            if folder.name == "sources" and file.name != "records.py":
                continue
            digest.update(file.read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:10]


def build_bases(cache: Path, big_items: int, big_statements: int) -> dict[str, Path]:
    """The four databases (see the module docstring), built once per store source."""
    folder = cache / f"bases-{big_items}-{big_statements}-{_source_key()}"
    paths = {name: folder / name / "db.json" for name in ("empty", "filler", "small", "big")}
    if (folder / "done").exists():
        return paths
    shutil.rmtree(folder, ignore_errors=True)
    for path in paths.values():
        path.parent.mkdir(parents=True)
    started = time.perf_counter()
    with Store.open(paths["empty"]):
        pass
    items, statements = make_round(
        random.Random(4), big_items, big_statements, FILLER_FEEDS, "filler", NOW
    )
    with Store.open(paths["filler"]) as store:
        store.commit_round(
            feed_states(FILLER_FEEDS, NOW, "filler"),
            items,
            statements,
            now=NOW,
            retain_days=RETAIN_DAYS,
        )
    del items, statements
    cold_feeds, cold_items, cold_statements, _ = round_of("cold")
    for name, base in (("small", "empty"), ("big", "filler")):
        copy_database(paths[base], paths[name])
        with Store.open(paths[name]) as store:
            store.commit_round(
                cold_feeds, cold_items, cold_statements, now=NOW, retain_days=RETAIN_DAYS
            )
    (folder / "done").write_text("")
    print(f"built the databases in {time.perf_counter() - started:.1f} s: {folder}", flush=True)
    for name, path in paths.items():
        print(f"  {name:<7} {database_bytes(path) / 2**20:7.1f} MiB", flush=True)
    return paths


# --- one measured process -------------------------------------------------------------------


class GilTicker:
    """A thread that sleeps 1 ms in a loop and records how late it wakes.

    A wake later than the sleep means another thread held the GIL, or the
    machine kept this process off the CPUs. The two are told apart by the
    CPU time the process used meanwhile: a thread of ours holding the GIL
    keeps a core busy, so a gap in which the process used less than half a
    core is counted as starved (other programs), not as a hold. The holds
    are the stalls a dashboard's event loop would see from the store.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._worst = 0.0
        self._starved = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> GilTicker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        last, last_cpu = time.perf_counter(), time.process_time()
        while not self._stop.is_set():
            time.sleep(0.001)
            now, cpu = time.perf_counter(), time.process_time()
            late = now - last - 0.001
            with self._lock:
                if cpu - last_cpu >= 0.5 * (now - last):
                    self._worst = max(self._worst, late)
                else:
                    self._starved = max(self._starved, late)
            last, last_cpu = now, cpu

    def take(self) -> tuple[float, float]:
        """(longest hold, longest starved gap) since the last call, in seconds."""
        with self._lock:
            found = (self._worst, self._starved)
            self._worst = self._starved = 0.0
        return found


def peak_rss_mib() -> float:
    """This process's peak resident size so far, in MiB.

    From /proc (VmHWM) rather than `getrusage`: Linux carries `ru_maxrss`
    over from the parent across fork and exec, so a child started by a
    driver holding 300 MiB would report at least that.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def step(figures: dict[str, float], name: str, ticker: GilTicker) -> Iterator[None]:
    ticker.take()
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    figures[f"{name}.wall"] = time.perf_counter() - wall
    figures[f"{name}.cpu"] = time.process_time() - cpu
    figures[f"{name}.gil"], figures[f"{name}.starved"] = ticker.take()


def child(scenario: str, db: Path, out: Path) -> None:
    """One round on `db`, as a `poll --once` process would do it; figures to `out`."""
    feeds, items, statements, bodies = round_of(scenario)
    figures: dict[str, float] = {"rss.before": peak_rss_mib()}
    with GilTicker() as ticker:
        with step(figures, "open", ticker):
            store = Store.open(db)
        with step(figures, "known", ticker):
            for url in bodies:
                store.known_items_of_feed(url)
        with step(figures, "commit", ticker):
            store.commit_round(
                feeds,
                items,
                statements,
                now=NOW + timedelta(minutes=30),
                retain_days=RETAIN_DAYS,
            )
        with step(figures, "close", ticker):
            store.close()
    figures["rss.peak"] = peak_rss_mib()
    figures["store.wall"] = sum(figures[f"{s}.wall"] for s in ("open", "known", "commit", "close"))
    figures["store.cpu"] = sum(figures[f"{s}.cpu"] for s in ("open", "known", "commit", "close"))
    out.write_text(json.dumps(figures))


def dashboard_child(db: Path, out: Path) -> None:
    """What the dashboard does after opening: a snapshot, one card's items, a search."""
    figures: dict[str, float] = {}
    with GilTicker() as ticker:
        with step(figures, "open", ticker):
            store = Store.open(db, readonly=True)
        with step(figures, "positions", ticker):
            positions = store.positions()
            store.feed_health()
            store.counts()
        some = positions[len(positions) // 2].statement
        with step(figures, "items_of", ticker):
            store.items_of(some.id)
        with step(figures, "item", ticker):
            store.item(some.item_id)
        with step(figures, "search", ticker):
            store.search("envoy")
        store.close()
    figures["rss.peak"] = peak_rss_mib()
    out.write_text(json.dumps(figures))


def run_child(args: list[str]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.json"
        subprocess.run([sys.executable, __file__, *args, "--out", str(out)], check=True, cwd=REPO)
        figures: dict[str, float] = json.loads(out.read_text())
        return figures


# --- the driver -------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def run_scenarios(
    bases: dict[str, Path], scenarios: list[str], runs: int
) -> dict[str, dict[str, list[float]]]:
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(runs):
            for scenario in scenarios:
                for size, base in zip(("small", "big"), BASES[scenario], strict=True):
                    work = Path(tmp) / f"{scenario}-{size}-{run}"
                    work.mkdir()
                    db = work / "db.json"
                    copy_database(bases[base], db)
                    figures = run_child(["child", scenario, str(db)])
                    figures["db.mib.after"] = database_bytes(db) / 2**20
                    shutil.rmtree(work)
                    bucket = results.setdefault(f"{scenario}/{size}", {})
                    for key, value in figures.items():
                        bucket.setdefault(key, []).append(value)
                    print(
                        f"  {scenario:<8} {size:<5} run {run}: store {figures['store.wall']:.3f} s "
                        f"(cpu {figures['store.cpu']:.3f}), commit gil "
                        f"{figures['commit.gil'] * 1000:.0f} ms, peak {figures['rss.peak']:.0f} "
                        f"MiB, load {os.getloadavg()[0]:.2f}",
                        flush=True,
                    )
    return results


def print_scenarios(results: dict[str, dict[str, list[float]]], scenarios: list[str]) -> None:
    print("\nmedians (small = 10k items, big = 100k + 10k items, 20k statements)")
    header = (
        f"{'scenario':<9}{'step':<8}{'small wall':>11}{'cpu':>8}{'big wall':>10}{'cpu':>8}"
        f"{'big/small cpu':>15}{'longest GIL hold small/big':>29}"
    )
    print(header)
    for scenario in scenarios:
        small, big = results[f"{scenario}/small"], results[f"{scenario}/big"]
        for name in ("open", "known", "commit", "close", "store"):
            sw, sc = median(small[f"{name}.wall"]), median(small[f"{name}.cpu"])
            bw, bc = median(big[f"{name}.wall"]), median(big[f"{name}.cpu"])
            ratio = bc / sc if sc > 0.0005 else float("nan")
            gil = ""
            if name != "store":
                gil = (
                    f"{max(small[f'{name}.gil']) * 1000:6.0f} /"
                    f"{max(big[f'{name}.gil']) * 1000:5.0f} ms"
                )
            print(
                f"{scenario:<9}{name:<8}{sw * 1000:9.1f}ms{sc * 1000:6.0f}ms"
                f"{bw * 1000:8.1f}ms{bc * 1000:6.0f}ms{ratio:14.2f}x{gil:>29}"
            )
        print(
            f"{'':<9}peak RSS small {median(small['rss.peak']):.0f} MiB "
            f"(before open {median(small['rss.before']):.0f}), big "
            f"{median(big['rss.peak']):.0f} MiB (before open {median(big['rss.before']):.0f}); "
            f"database after: small {median(small['db.mib.after']):.1f} MiB, big "
            f"{median(big['db.mib.after']):.1f} MiB"
        )


def run_dashboard(bases: dict[str, Path], runs: int) -> None:
    print("\ndashboard, read-only open then one snapshot (medians; GIL: longest seen)")
    for size in ("small", "big"):
        got: dict[str, list[float]] = {}
        for _ in range(runs):
            for key, value in run_child(["dashboard-child", str(bases[size])]).items():
                got.setdefault(key, []).append(value)
        line = " ".join(
            f"{name} {median(got[f'{name}.wall']) * 1000:.0f} ms "
            f"(gil {max(got[f'{name}.gil']) * 1000:.0f}, "
            f"starved {max(got[f'{name}.starved']) * 1000:.0f})"
            for name in ("open", "positions", "items_of", "item", "search")
        )
        print(f"  {size:<5} {line}; peak {median(got['rss.peak']):.0f} MiB")


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def run_queries(db: Path, runs: int) -> None:
    print("\nqueries on the big store (reader, after the first positions())")
    with Store.open(db, readonly=True) as store:
        actor, topic = "russia", "peacekeeping"
        start = time.perf_counter()
        store.positions(actor=actor)
        first = (time.perf_counter() - start) * 1000
        print(f"  positions(actor=...) first call after open {first:8.1f} ms")
        some = store.history(actor, topic, limit=1)[0]
        queries: list[tuple[str, Callable[[], object]]] = [
            ("positions()  (all pairs)", lambda: store.positions()),
            ("positions(actor=...)", lambda: store.positions(actor=actor)),
            ("history(actor, topic)  (all)", lambda: store.history(actor, topic)),
            ("history(actor, topic, limit=50)", lambda: store.history(actor, topic, limit=50)),
            ("actors_summary()", lambda: store.actors_summary()),
            ("activity(actor, topic, 30 days)", lambda: store.activity(actor, topic, 30, NOW)),
            ("items_of(statement)", lambda: store.items_of(some.id)),
            ("item(id)", lambda: store.item(some.item_id)),
            ("search('envoy', 200)", lambda: store.search("envoy")),
            ("search('no such words')", lambda: store.search("no such words")),
            ("feed_health()", lambda: store.feed_health()),
            ("counts()", lambda: store.counts()),
        ]
        for name, query in queries:
            first = median_ms(query, 1)
            warm = median_ms(query, max(runs, 20))
            print(f"  {name:40s} first {first:8.2f} ms   then {warm:8.3f} ms")


def main(argv: list[str]) -> None:
    if argv and argv[0] in ("child", "dashboard-child"):
        parser = argparse.ArgumentParser()
        parser.add_argument("mode")
        parser.add_argument("rest", nargs="+")
        parser.add_argument("--out", type=Path, required=True)
        args = parser.parse_args(argv)
        if args.mode == "child":
            child(args.rest[0], Path(args.rest[1]), args.out)
        else:
            dashboard_child(Path(args.rest[0]), args.out)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-items", type=int, default=100_000)
    parser.add_argument("--big-statements", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--no-dashboard", action="store_true")
    parser.add_argument("--no-queries", action="store_true")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "stancewatch-bench-store"
    )
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args(argv)
    scenarios = [s for s in args.scenarios.split(",") if s]
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    bases = build_bases(args.cache, args.big_items, args.big_statements)
    results = run_scenarios(bases, scenarios, args.runs) if scenarios else {}
    if scenarios:
        print_scenarios(results, scenarios)
    if not args.no_dashboard:
        run_dashboard(bases, args.runs)
    if not args.no_queries:
        run_queries(bases["big"], args.runs)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
