"""Soak: many poll rounds against feeds that change, fail and recover; memory and file size.

Runs what `stancewatch poll` runs for weeks (one `Fetcher`, one `ParsePool`,
one `Store`, `poll_round` after `poll_round`) against a
loopback server whose feeds move on every round. A fake clock advances
`--hours` per round, so `retain_days` retires old items during the run and
the database should level off instead of growing with every round.

Feeds, by their index modulo 10:

    0-5  news: a sliding window of items, 3 new ones per round (some with a
         statement), the oldest falling off;
    6    flaky: HTTP 500 one round in four, news otherwise (fails and recovers);
    7    hangs past the deadline one round in five;
    8    quiet: never changes, answered with 304 after the first round;
    9    hostile: a gzip bomb one round in three, markup titles otherwise.

Items that carry a statement are evidence and are never retired, so with
statements the file grows with them; `--statement-every 0` shows the
plateau of everything else.

Prints one line per round (RSS of this process and of the parse workers,
database size, items, statements, failing feeds, round time) and a verdict:
the growth of RSS and file size over the last half of the run.

    .venv/bin/python tests/bench/soak.py [--rounds 120] [--feeds 40] [--hours 6]
        [--retain-days 3] [--timeout 2]

Not collected by pytest: it prints figures, it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sources.config import load_config  # noqa: E402
from sources.fetch import Fetcher  # noqa: E402
from sources.poll import poll_round  # noqa: E402
from sources.pool import ParsePool  # noqa: E402
from store import Store  # noqa: E402
from tests.feedserver import FeedServer, gzip_bomb  # noqa: E402
from tests.hostile import MARKUP_TITLES, Entry, rss, write_config  # noqa: E402

START = datetime(2025, 1, 1, 6, 0, tzinfo=UTC)
WINDOW = 20
"""Items in a news feed's document at any time."""
STATEMENT = (
    "Russia's foreign minister Sergei Lavrov said on {day} that foreign peacekeepers "
    "would be legitimate targets without a UN Security Council mandate."
)
FILLER = (
    "Officials met again on {day} to discuss the wording of a joint text; "
    "no agreement was announced and talks are due to resume next week. "
)


def rss_kib(pid: int | str = "self") -> float:
    """Resident memory of a process in KiB, from /proc (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def worker_pids(pool: ParsePool) -> list[int]:
    """The parse pool's worker processes (read from its slots: a benchmark may peek)."""
    pids = []
    for slot in getattr(pool, "_slots", []):
        process = getattr(slot, "process", None)
        if process is not None and process.pid is not None:
            pids.append(process.pid)
    return pids


STATEMENT_EVERY = 15
"""One news item in this many states a position (0: none; `--statement-every`)."""


def news(feed: int, round_no: int, day: str, every: int = STATEMENT_EVERY) -> bytes:
    """A news feed's document in round `round_no`: a window sliding by 3 items per round."""
    newest = round_no * 3 + WINDOW
    entries = []
    for n in range(newest - WINDOW, newest):
        stated = every and n % every == 0
        text = STATEMENT if stated else FILLER * 3
        entries.append(
            Entry(
                title=f"Feed {feed} story {n}",
                guid=f"f{feed}-s{n}",
                link=f"https://soak.example/{feed}/{n}",
                description=text.format(day=day),
            )
        )
    return rss(entries, title=f"Soak feed {feed}")


def stage(srv: FeedServer, feeds: int, round_no: int, day: str, every: int) -> None:
    """Set every feed's behaviour for this round."""
    # The server runs in this process and logs every request; forget the log,
    # or its growth would read as the poller's.
    srv.reset()
    for feed in range(feeds):
        path = f"/soak/{feed}.xml"
        kind = feed % 10
        if kind == 6 and round_no % 4 == 1:
            srv.add(path, b"server on fire\n", status=500, content_type="text/plain")
        elif kind == 7 and round_no % 5 == 2:
            srv.add(path, news(feed, round_no, day, every), delay=60)
        elif kind == 8:
            srv.add(path, news(feed, 0, "Monday", every), etag='"quiet"')
        elif kind == 9 and round_no % 3 == 0:
            srv.add(
                path,
                gzip_bomb(256),
                headers={"Content-Encoding": "gzip"},
            )
        elif kind == 9:
            entries = [Entry(title=t, guid=f"{round_no}-{t}") for t in MARKUP_TITLES]
            srv.add(path, rss(entries, title="[bold red]Hostile[/]"))
        else:
            srv.add(path, news(feed, round_no, day, every))


async def soak(args: argparse.Namespace, folder: Path) -> None:
    db = folder / "soak.json"
    with FeedServer() as srv:
        urls = [srv.url(f"/soak/{feed}.xml") for feed in range(args.feeds)]
        config = load_config(
            write_config(
                folder / "soak.toml",
                urls,
                timeout=args.timeout,
                max_body_mb=1,
                settings={"retain_days": args.retain_days, "concurrency": 8, "per_host": 8},
            )
        )
        print(
            f"soak: {args.rounds} rounds, {args.feeds} feeds, clock +{args.hours} h per round, "
            f"retain {args.retain_days} d, database {db}"
        )
        print(
            "round   rss MiB  workers MiB   db KiB    items  stmts  failing  new   round s",
            flush=True,
        )
        rows: list[tuple[int, float, float, int]] = []
        with ParsePool(timeout=max(5.0, args.timeout)) as pool, Store.open(db) as store:
            async with Fetcher(config.settings, trust_env=False) as fetcher:
                for round_no in range(args.rounds):
                    now = START + timedelta(hours=args.hours * round_no)
                    stage(srv, args.feeds, round_no, now.strftime("%A %d %B"), args.statement_every)
                    started = time.monotonic()
                    report = await poll_round(
                        config, store, fetcher=fetcher, parser=pool,
                        now=now, force=True,
                    )  # fmt: skip
                    took = time.monotonic() - started
                    counts = store.counts()
                    rss = rss_kib() / 1024
                    workers = sum(rss_kib(pid) for pid in worker_pids(pool)) / 1024
                    size = db.stat().st_size
                    rows.append((round_no, rss, workers, size))
                    print(
                        f"{round_no:5}  {rss:8.1f}  {workers:11.1f}  {size / 1024:8.0f}  "
                        f"{counts.get('items', 0):7}  {counts.get('statements', 0):5}  "
                        f"{report.failed:7}  {report.new_items:4}  {took:8.2f}",
                        flush=True,
                    )
    verdict(rows)


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points) or 1.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var


def verdict(rows: list[tuple[int, float, float, int]]) -> None:
    """Summarise growth over the second half of the run, after warm-up."""
    if len(rows) < 8:
        print("too few rounds for a verdict")
        return
    half = rows[len(rows) // 2 :]
    rss_slope = slope([(r, rss) for r, rss, _, _ in half])
    worker_slope = slope([(r, w) for r, _, w, _ in half])
    size_slope = slope([(r, size / 1024) for r, _, _, size in half])
    first, last = rows[len(rows) // 2], rows[-1]
    print()
    print(f"rss: {first[1]:.1f} MiB at round {first[0]}, {last[1]:.1f} MiB at round {last[0]}; "
          f"trend {rss_slope * 100:+.2f} MiB per 100 rounds")  # fmt: skip
    print(f"workers: trend {worker_slope * 100:+.2f} MiB per 100 rounds")
    print(f"database: {first[3] / 1024:.0f} KiB at round {first[0]}, {last[3] / 1024:.0f} KiB "
          f"at round {last[0]}; trend {size_slope * 100:+.0f} KiB per 100 rounds")  # fmt: skip
    print(f"peak rss {max(r[1] for r in rows):.1f} MiB, peak database "
          f"{max(r[3] for r in rows) / 1024:.0f} KiB")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=120)
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--hours", type=float, default=6.0, help="clock advance per round")
    parser.add_argument("--retain-days", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=2.0, help="per-feed deadline, s")
    parser.add_argument(
        "--statement-every",
        type=int,
        default=STATEMENT_EVERY,
        help="one news item in N states a position; 0 for none (statements, and their "
        "items, are kept for good, so only with 0 can the database level off)",
    )
    parser.add_argument("--keep", type=Path, help="keep the database in this folder")
    args = parser.parse_args()
    os.environ.setdefault("NO_PROXY", "*")
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        asyncio.run(soak(args, args.keep))
        return
    with tempfile.TemporaryDirectory(prefix="stancewatch-soak-") as folder:
        asyncio.run(soak(args, Path(folder)))


if __name__ == "__main__":
    main()
