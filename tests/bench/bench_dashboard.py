"""How fast the dashboard is on a big database: first frame, populated, moving between actors.

    .venv/bin/python tests/bench/bench_dashboard.py [--items 100000] [--statements 20000]
        [--db PATH] [--moves 40] [--size 120x40]

Builds (or reuses, with --db) a database of N items and M statements written
through `Store.commit_round`, then runs the real app headless (Textual's
pilot, the same app object `stancewatch` runs) and prints:

- first frame: from creating the app to its first screen composed and drawn;
- populated: until the positions and the first actor's history are on screen
  (the store is opened and indexed in a worker meanwhile);
- actor move: from pressing `j` until the frame that shows the new actor's
  cards and history is painted, over --moves presses (median, 95th
  percentile, worst). Textual's pilot waits a while after each press before
  it returns, so the time is taken from the screen's own paint, not from it.

With --tmux it also times `stancewatch --db PATH` in a real terminal (tmux),
until the status line shows the statement count.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sources.config import _bundled_specs, load_config  # noqa: E402
from sources.records import (  # noqa: E402
    Extraction,
    FeedState,
    Item,
    Outcome,
    Stance,
    Statement,
)
from store import Store  # noqa: E402

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
"""Items are dated up to 70 days back from now: inside the store's retention
(a real `stancewatch` retires items older than `retain_days` on its first round)."""
VERBS = ("said", "warned", "told reporters", "insisted", "according to", "stressed")
OBJECTS = (
    "a ceasefire along the current line",
    "peacekeepers from European states",
    "new sanctions on energy exports",
    "Ukraine's path to NATO membership",
    "a Security Council resolution on the war",
)


def build(path: Path, items: int, statements: int, feeds: int = 200) -> None:
    """Write a database with this many items and statements, in rounds as polling would."""
    actors, topics = _bundled_specs()
    actor_ids = [a.id for a in actors]
    topic_ids = [t.id for t in topics]
    rng = random.Random(7)
    # Most actors speak on a few topics only, so moving between actors turns
    # cards from empty to full and back, as in real use.
    spoken = {a: rng.sample(topic_ids, rng.randint(1, len(topic_ids))) for a in actor_ids}
    urls = [f"https://feeds.example.org/{n}/rss.xml" for n in range(feeds)]
    states = [
        FeedState(
            url=url,
            title=f"Outlet {n}",
            last_attempt=NOW,
            last_success=NOW,
            next_poll=NOW + timedelta(minutes=30),
            outcome=Outcome.OK,
            total_items=items // feeds,
        )
        for n, url in enumerate(urls)
    ]
    rounds = 10
    per_round = items // rounds
    with_statement = set(rng.sample(range(items), statements))
    with Store.open(path) as store:
        for r in range(rounds):
            batch_items: list[Item] = []
            batch_statements: list[Statement] = []
            for i in range(r * per_round, (r + 1) * per_round):
                url = urls[i % feeds]
                published = NOW - timedelta(minutes=items - i)
                actor = rng.choice(actor_ids)
                topic = rng.choice(spoken[actor])
                claim = (
                    f"Official number {i} {rng.choice(VERBS)} that {actor} "
                    f"{rng.choice(('backs', 'rejects', 'would consider'))} "
                    f"{rng.choice(OBJECTS)}."
                )
                item = Item(
                    id=f"item-{i}",
                    feed_url=url,
                    link=f"https://news.example.org/{i}",
                    title=f"Headline number {i} on {topic}",
                    summary=claim + " More text follows in the article body. " * 3,
                    published=published,
                    fetched=published,
                    source=f"Outlet {i % feeds}",
                    topics=(topic,),
                    actors=(actor,),
                    content_hash=str(i),
                )
                batch_items.append(item)
                if i in with_statement:
                    found = Extraction(
                        actor=actor,
                        speaker=f"Speaker {i % 97}",
                        topic=topic,
                        stance=rng.choice(list(Stance)),
                        claim=claim,
                        cue="said",
                        alias=actor,
                        topic_words=(topic,),
                    )
                    batch_statements.append(Statement.from_extraction(found, item))
            store.commit_round(states, batch_items, batch_statements, now=NOW, retain_days=36500)
            print(f"  round {r + 1}/{rounds} written", file=sys.stderr)


async def _tick(since: float, limit: float = 30.0) -> None:
    if time.perf_counter() - since > limit:
        raise SystemExit(f"gave up after {limit:g} s waiting for the dashboard")
    await asyncio.sleep(0.001)


async def measure(db: Path, moves: int, size: tuple[int, int]) -> dict[str, float | list[float]]:
    from tests.test_tui_helpers import write_config
    from tui.app import StancewatchApp

    folder = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    try:
        config = load_config(write_config(folder, []))
        started = time.perf_counter()
        app = StancewatchApp(config, db, clock=lambda: NOW, poll=False, watch_config=False)
        async with app.run_test(size=size) as pilot:
            first_frame = time.perf_counter() - started
            main = app.main_screen
            while not (app.snapshot is not None and main.history_for is not None):
                await asyncio.sleep(0.005)
                if time.perf_counter() - started > 120:
                    raise SystemExit("the dashboard did not populate within 120 s")
            populated = time.perf_counter() - started
            # Timestamps of each painted frame and of each history shown, taken
            # by wrapping two methods of this one screen (a bench may peek).
            frames: list[float] = []
            shown: list[tuple[float, str]] = []
            paint = main._compositor_refresh
            show = main._show_history

            def painted() -> None:
                paint()
                frames.append(time.perf_counter())

            def history(view: Any) -> None:
                show(view)
                shown.append((time.perf_counter(), view.actor_id))

            main._compositor_refresh = painted  # type: ignore[method-assign]
            main._show_history = history  # type: ignore[method-assign]
            await pilot.pause(0.5)
            times: list[float] = []
            for _ in range(moves):
                t0 = time.perf_counter()
                await pilot.press("j" if main.actor_id != app.config.actors[-1].id else "1")
                target = main.actor_id
                while not any(actor == target and at >= t0 for at, actor in shown):
                    await _tick(t0)
                ready = min(at for at, actor in shown if actor == target and at >= t0)
                while not any(at >= ready for at in frames):
                    await _tick(t0)
                # Key pressed → the frame showing the new actor's cards and history.
                times.append(min(at for at in frames if at >= ready) - t0)
            counts = dict(app.snapshot.counts) if app.snapshot else {}
        return {
            "first_frame": first_frame,
            "populated": populated,
            "moves": times,
            "items": counts.get("items", 0),
            "statements": counts.get("statements", 0),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def tmux_first_frame(db: Path, size: tuple[int, int]) -> tuple[float, float]:
    """Seconds until a real terminal shows the app, and until it shows the data.

    Runs on a copy: the real app writes (its first round may retire old items).
    """
    session = f"bench-dashboard-{os.getpid()}"
    folder = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    from tests.test_tui_helpers import write_config

    config = write_config(folder, [])
    db = Path(shutil.copy(db, folder / "db.json"))
    command = f"{ROOT / '.venv/bin/stancewatch'} --config {config} --db {db}"
    started = time.perf_counter()
    subprocess.run(
        ["tmux", "new", "-d", "-s", session, "-x", str(size[0]), "-y", str(size[1]), command],
        check=True,
    )
    first = populated = 0.0
    try:
        while time.perf_counter() - started < 120:
            screen = subprocess.run(
                ["tmux", "capture-pane", "-t", session, "-p"], capture_output=True, text=True
            ).stdout
            if not first and ("Quit" in screen or "stancewatch" in screen):
                first = time.perf_counter() - started
            if "statements" in screen and "History" in screen and " 0 statements" not in screen:
                populated = time.perf_counter() - started
                break
            time.sleep(0.01)
    finally:
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=False)
        time.sleep(1)
        subprocess.run(["tmux", "kill-session", "-t", session], check=False, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
    return first, populated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--statements", type=int, default=20_000)
    parser.add_argument("--db", type=Path, help="reuse (or create) this database file")
    parser.add_argument("--moves", type=int, default=40)
    parser.add_argument("--size", default="120x40")
    parser.add_argument("--tmux", action="store_true", help="also time a real terminal")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))

    temp = None
    db = args.db
    if db is None:
        temp = Path(tempfile.mkdtemp(prefix="bench-dashboard-db-"))
        db = temp / "db.json"
    try:
        if not db.exists():
            print(
                f"building {db}: {args.items:,} items, {args.statements:,} statements…",
                file=sys.stderr,
            )
            t0 = time.perf_counter()
            build(db, args.items, args.statements)
            print(
                f"  built in {time.perf_counter() - t0:.1f} s, {db.stat().st_size / 2**20:.0f} MiB",
                file=sys.stderr,
            )
        result = asyncio.run(measure(db, args.moves, (width, height)))
        moves = sorted(result["moves"])  # type: ignore[arg-type]
        print(
            f"database: {result['items']:,} items, {result['statements']:,} statements, "
            f"{db.stat().st_size / 2**20:.0f} MiB ({width}x{height})"
        )
        print(f"first frame: {result['first_frame'] * 1000:.0f} ms")
        print(f"populated:   {result['populated'] * 1000:.0f} ms")
        if moves:
            p95 = moves[min(len(moves) - 1, int(len(moves) * 0.95))]
            print(
                f"actor move:  median {statistics.median(moves) * 1000:.1f} ms, "
                f"p95 {p95 * 1000:.1f} ms, worst {moves[-1] * 1000:.1f} ms "
                f"over {len(moves)} presses of j"
            )
        if args.tmux and shutil.which("tmux"):
            first, populated = tmux_first_frame(db, (width, height))
            print(f"tmux: first frame {first * 1000:.0f} ms, populated {populated * 1000:.0f} ms")
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    main()
