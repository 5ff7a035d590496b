"""Kill stress: SIGKILL `stancewatch poll --once` hundreds of times; the database must survive.

Each run serves new items on every feed of a loopback server (so every run
writes), starts the real command, and either lets it finish (every fourth
run) or SIGKILLs it at a random moment, aimed mostly at the end of the run
where the round is written. After every run the database is opened and
checked:

- it opens (never damaged, never moved aside);
- every run that finished has all of its items;
- the killed run's round is there whole or not at all;
- the next run is never refused as "in use" (the lock dies with the process).

`--mode writer` kills a store writer committing 200-item rounds back to back
instead (`python -m tests.hostile write-rounds`), which lands many more
kills inside a write.

    .venv/bin/python tests/bench/kill_stress.py [--kills 300] [--feeds 30] [--items 20]
    .venv/bin/python tests/bench/kill_stress.py --mode writer --kills 300

Not collected by pytest: it prints figures and exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sources.errors import StancewatchError  # noqa: E402
from sources.records import stable_id  # noqa: E402
from store import Store  # noqa: E402
from tests.feedserver import FeedServer  # noqa: E402
from tests.hostile import WRITER_ITEMS, Entry, rss, write_config, writer_item_ids  # noqa: E402


class Tally:
    """What the kills did and what the checks found."""

    def __init__(self) -> None:
        self.kills = 0
        self.finished = 0
        self.mid_write = 0
        """Kills after which a temp file was left: the kill landed inside a write."""
        self.in_flight_whole = 0
        self.in_flight_absent = 0
        self.failures: list[str] = []

    def fail(self, message: str) -> None:
        self.failures.append(message)
        print(f"FAIL: {message}", flush=True)


def temp_files(db: Path) -> list[Path]:
    return list(db.parent.glob(f"{db.name}.tmp-*"))


def check_open(db: Path, tally: Tally, label: str) -> Store | None:
    try:
        return Store.open(db, readonly=True)
    except StancewatchError as exc:
        tally.fail(f"{label}: the database does not open: {exc}")
        return None


def serve_run(srv: FeedServer, run: int, feeds: int, items: int) -> dict[str, list[str]]:
    filler = "Negotiators traded drafts of the text through the night in the capital. " * 5
    served = {}
    for f in range(feeds):
        guids = [f"run{run}-f{f}-i{k}" for k in range(items)]
        served[
            srv.add(f"/k/{f}.xml", rss([Entry(title=g, guid=g, description=filler) for g in guids]))
        ] = guids
    return served


def cli_mode(args: argparse.Namespace, folder: Path, rng: random.Random, tally: Tally) -> None:
    db = folder / "db.json"
    config = folder / "c.toml"
    owed: dict[str, list[str]] = {}
    durations: list[float] = []
    run = 0
    with FeedServer() as srv:
        while tally.kills < args.kills:
            served = serve_run(srv, run, args.feeds, args.items)
            write_config(config, served, settings={"per_host": 8, "concurrency": 8})
            command = [sys.executable, "-m", "tui.cli", "--config", str(config), "--db", str(db),
                       "poll", "--once"]  # fmt: skip
            started = time.monotonic()
            proc = subprocess.Popen(
                command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            finish = run % 4 == 0 or not durations
            if finish:
                _, err = proc.communicate(timeout=120)
                durations.append(time.monotonic() - started)
                if proc.returncode != 0:
                    tally.fail(f"run {run} exited {proc.returncode}: {err.decode()[-300:]}")
                else:
                    tally.finished += 1
                    owed.update(served)
            else:
                typical = sorted(durations)[len(durations) // 2]
                # Mostly near the end, where the round is written; sometimes anywhere.
                delay = (
                    rng.uniform(0.6 * typical, 1.1 * typical)
                    if rng.random() < 0.8
                    else rng.uniform(0.0, typical)
                )
                time.sleep(delay)
                proc.send_signal(signal.SIGKILL)
                proc.communicate(timeout=30)
                tally.kills += 1
                tally.mid_write += bool(temp_files(db))
            store = check_open(db, tally, f"run {run}")
            if store is not None:
                with store:
                    lost = [g for url, guids in owed.items() for g in guids
                            if store.item(stable_id("item", url, "guid", g)) is None]  # fmt: skip
                    if lost:
                        tally.fail(f"run {run}: {len(lost)} items of finished runs lost")
                    if not finish:
                        present = sum(
                            store.item(stable_id("item", url, "guid", g)) is not None
                            for url, guids in served.items()
                            for g in guids
                        )
                        total = sum(len(g) for g in served.values())
                        if present == total:
                            tally.in_flight_whole += 1
                            owed.update(served)
                        elif present == 0:
                            tally.in_flight_absent += 1
                        else:
                            tally.fail(f"run {run}: the killed round is stored in part "
                                       f"({present} of {total} items)")  # fmt: skip
            if list(folder.glob("db.json.damaged-*")):
                tally.fail(f"run {run}: the database was moved aside as damaged")
            run += 1
            if run % 25 == 0:
                report(tally, db, prefix=f"after run {run}: ")
    final = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--config", str(config), "--db", str(db), "poll",
         "--once"], cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if final.returncode != 0 or "in use" in final.stderr:
        tally.fail(f"the last clean run failed: {final.stderr.strip()}")
    report(tally, db, prefix="final: ")


def writer_mode(args: argparse.Namespace, folder: Path, rng: random.Random, tally: Tally) -> None:
    db = folder / "db.json"
    finished: list[int] = []
    next_round = 0
    while tally.kills < args.kills:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.hostile", "write-rounds", str(db), str(next_round)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != b"ready":
            tally.fail("the writer did not start")
            proc.kill()
            proc.wait()
            break
        time.sleep(rng.uniform(0.0, 0.8))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        tally.kills += 1
        tally.mid_write += bool(temp_files(db))
        committed = [int(line.split()[1]) for line in out.decode().splitlines()
                     if line.startswith("committed ")]  # fmt: skip
        finished += committed
        in_flight = committed[-1] + 1 if committed else next_round
        store = check_open(db, tally, f"kill {tally.kills}")
        if store is not None:
            with store:
                for round_no in finished[-20:]:
                    if any(store.item(i) is None for i in writer_item_ids(round_no)):
                        tally.fail(f"kill {tally.kills}: round {round_no} lost")
                present = sum(store.item(i) is not None for i in writer_item_ids(in_flight))
                if present == WRITER_ITEMS:
                    tally.in_flight_whole += 1
                    finished.append(in_flight)
                elif present == 0:
                    tally.in_flight_absent += 1
                else:
                    tally.fail(f"kill {tally.kills}: round {in_flight} stored in part")
        next_round = in_flight + 1
        tally.finished = len(finished)
        if tally.kills % 50 == 0:
            report(tally, db, prefix=f"after {tally.kills} kills: ")
    report(tally, db, prefix="final: ")


def report(tally: Tally, db: Path, *, prefix: str = "") -> None:
    size = db.stat().st_size / 2**20 if db.exists() else 0.0
    print(
        f"{prefix}{tally.kills} kills, {tally.finished} finished rounds, "
        f"{tally.mid_write} kills inside a write, killed round whole {tally.in_flight_whole} / "
        f"absent {tally.in_flight_absent}, database {size:.1f} MiB, "
        f"{len(tally.failures)} failures",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("cli", "writer"), default="cli")
    parser.add_argument("--kills", type=int, default=300)
    parser.add_argument("--feeds", type=int, default=30)
    parser.add_argument("--items", type=int, default=20, help="new items per feed per run")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("NO_PROXY", "*")
    rng = random.Random(args.seed)
    tally = Tally()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="stancewatch-kill-") as folder:
        (cli_mode if args.mode == "cli" else writer_mode)(args, Path(folder), rng, tally)
    print(f"{time.monotonic() - started:.0f} s, seed {args.seed}")
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
