"""Issue 6 scenario runner: `stancewatch poll --once` against `newsboat -x reload`.

Starts the loopback feed server (`bench_server.py`, a separate process), then
for each run and each tool, alternating which tool goes first, times whole
processes with `/usr/bin/time -v` (wall clock, CPU, peak RSS):

- **cold**: one round on an empty database / cache;
- **warm**: the next round, every feed answering 304;
- **changed**: a round after 10% of the feeds gained 5 items;
- **big**: the same three with a store that already holds 100,000 items and
  20,000 statements (and, for newsboat, a cache with the same 100,000 items).

It prints medians (with min-max), peak memory, and the ratio ours/newsboat
per scenario against the issue's targets, and checks with the server's
counters that each round did what its name says (a warm round that fetched
bodies is flagged). Requests, items and statements of each round are shown
so a faster run that did less is visible.

    .venv/bin/python tests/bench/bench_poll.py                     # 200 × 50, 3 runs
    .venv/bin/python tests/bench/bench_poll.py --feeds 20 --runs 1 --scenarios cold,warm
    .venv/bin/python tests/bench/bench_poll.py --profile /tmp/prof  # profile our cold round

Run it with the project's virtualenv (the big store is built with `store`).
See tests/bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import re
import select
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parents[1]
sys.path.insert(0, str(BENCH))

import gen_feeds  # noqa: E402 - a sibling script, found through the path above

TIME = "/usr/bin/time"
SCENARIOS = ("cold", "warm", "changed")
TARGETS = {"cold": 1.0, "warm": 0.5, "changed": 0.7}
"""Issue 6: ours/newsboat wall-time ratio per scenario, at most."""
BIG_TARGET = 1.3
"""Issue 6: a big-store round takes at most this times the small-store one."""
RSS_TARGET_MB = 250
"""Issue 6: peak memory of a cold poll."""
INSTALL_NEWSBOAT = "sudo apt-get update && sudo apt-get install -y newsboat   (Debian/Ubuntu)"
INSTALL_TIME = "sudo apt-get install -y time   (GNU time, for /usr/bin/time -v)"
COMPONENT_SCRIPTS = ("bench_extract.py", "bench_store.py", "bench_dashboard.py")


# --- measuring one process -------------------------------------------------------------


@dataclass
class Measure:
    """One timed round of one tool."""

    tool: str
    scenario: str
    run: int
    wall: float
    cpu: float
    """User + system seconds."""
    rss_mb: float
    """Peak resident set size (MiB), from /usr/bin/time."""
    exit_code: int
    load: float
    """1-minute load average just before the round (the machine is shared)."""
    requests: dict[str, int] = field(default_factory=dict)
    """Server counters for the round: requests, status_200, status_304, bytes_sent..."""
    items: int | None = None
    """Items stored after the round (whole store)."""
    new_items: int | None = None
    statements: int | None = None
    problem: str | None = None


_TIME_FIELDS = {
    "wall": re.compile(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)"),
    "user": re.compile(r"User time \(seconds\): (\S+)"),
    "sys": re.compile(r"System time \(seconds\): (\S+)"),
    "rss": re.compile(r"Maximum resident set size \(kbytes\): (\d+)"),
    "exit": re.compile(r"Exit status: (\d+)"),
}


def parse_time_v(text: str) -> dict[str, float]:
    """The fields of `/usr/bin/time -v` output this runner uses."""
    values: dict[str, float] = {}
    for name, pattern in _TIME_FIELDS.items():
        found = pattern.search(text)
        if not found:
            continue
        raw = found.group(1)
        if name == "wall":
            seconds = 0.0
            for part in raw.split(":"):
                seconds = seconds * 60 + float(part)
            values[name] = seconds
        else:
            values[name] = float(raw)
    return values


def run_timed(
    command: Sequence[str], env: dict[str, str], cwd: Path, label: str, timeout: float
) -> tuple[dict[str, float], str, str]:
    """Run `command` under `/usr/bin/time -v`; returns (time fields, stdout, stderr).

    The process gets its own session so a timeout kills it and its children.
    """
    time_file = cwd / f"{label}.time"
    out_file, err_file = cwd / f"{label}.out", cwd / f"{label}.err"
    with open(out_file, "wb") as out, open(err_file, "wb") as err:
        process = subprocess.Popen(
            [TIME, "-v", "-o", str(time_file), *command],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise RuntimeError(f"{label}: no result after {timeout:.0f} s (killed)") from None
    fields = parse_time_v(time_file.read_text(errors="replace"))
    if "wall" not in fields:
        raise RuntimeError(f"{label}: no timing from {TIME}: {time_file.read_text()[:300]}")
    return (
        fields,
        out_file.read_text(errors="replace"),
        err_file.read_text(errors="replace"),
    )


def load_average() -> float:
    """The 1-minute load average."""
    return float(Path("/proc/loadavg").read_text().split()[0])


# --- the feed server -------------------------------------------------------------------


class FeedServer:
    """`bench_server.py` in its own process, stopped (and if need be killed) on exit."""

    def __init__(self, feeds: int, items: int, seed: int, latency_ms: float, lifetime: float):
        self.command = [
            sys.executable,
            str(BENCH / "bench_server.py"),
            f"--feeds={feeds}",
            f"--items={items}",
            f"--seed={seed}",
            f"--latency-ms={latency_ms}",
            f"--lifetime={lifetime}",
            f"--parent-pid={os.getpid()}",
        ]
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = ""
        self.n_feeds = feeds
        self.n_changed = len(gen_feeds.changed_feeds(feeds, seed))
        """Feeds that gain items in the changed state."""

    def __enter__(self) -> FeedServer:
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + 120
        line = b""
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            ready, _, _ = select.select([self.process.stdout], [], [], 1.0)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 256)
                if not chunk:
                    break
                line += chunk
        if not line.startswith(b"READY "):
            self.stop()
            raise RuntimeError(f"the feed server did not start: {line!r}")
        self.base_url = line.split()[1].decode()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Ask it to quit; kill it if it has not within five seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def control(self, command: str) -> dict[str, int | str]:
        """Call /_control/<command> and return its JSON answer."""
        with urllib.request.urlopen(f"{self.base_url}/_control/{command}", timeout=10) as answer:
            reply: dict[str, int | str] = json.loads(answer.read())
            return reply

    def feed_urls(self, n_feeds: int) -> list[str]:
        """The URL of every feed."""
        return [f"{self.base_url}/feed/{i}" for i in range(n_feeds)]


# --- the two tools ---------------------------------------------------------------------


def clean_env(home: Path) -> dict[str, str]:
    """A small, fixed environment: no proxies (httpx and curl both honour them)."""
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "dumb",
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "NO_PROXY": "*",
    }


class Tool:
    """A feed reader under test: how to set up its state and run one round."""

    name = ""
    prime_rounds = 0
    """Untimed rounds after cold before a round can be warm (see Newsboat)."""

    def prepare(self, state: Path, big: Path | None) -> None:
        """Fresh state in `state`, holding the big store's copy when `big` is given."""
        raise NotImplementedError

    def command(self, state: Path) -> list[str]:
        """The round, as a command line."""
        raise NotImplementedError

    def counts(self, state: Path, stdout: str, stderr: str) -> dict[str, int | None]:
        """Items in the store after a round, and what the round reported."""
        raise NotImplementedError


class Stancewatch(Tool):
    """`stancewatch --config C --db D poll --once`."""

    name = "stancewatch"
    _summary = re.compile(
        r"polled (\d+) feeds: (\d+) ok, (\d+) failing; (\d+) new items, (\d+) new statements"
    )

    def __init__(self, executable: Path, config: Path) -> None:
        self.executable = executable
        self.config = config

    def prepare(self, state: Path, big: Path | None) -> None:
        shutil.rmtree(state, ignore_errors=True)
        state.mkdir(parents=True)
        if big is not None:
            from store import copy_database

            copy_database(big, state / "db.json")

    def command(self, state: Path) -> list[str]:
        return [
            str(self.executable),
            "--config",
            str(self.config),
            "--db",
            str(state / "db.json"),
            "poll",
            "--once",
        ]

    def counts(self, state: Path, stdout: str, stderr: str) -> dict[str, int | None]:
        found = self._summary.search(stderr)
        if not found:
            return {"new_items": None, "statements": None, "failing": None}
        return {
            "new_items": int(found.group(4)),
            "statements": int(found.group(5)),
            "failing": int(found.group(3)),
        }


class Newsboat(Tool):
    """`newsboat -x reload` with its own urls file, config and cache."""

    name = "newsboat"
    # newsboat 2.21 saves a feed's ETag/Last-Modified with an UPDATE that
    # finds no row on the feed's very first reload (the row is written after
    # it), so it sends validators only from the third reload on; one untimed
    # round after cold puts it in the state a warm round means.
    prime_rounds = 1

    def __init__(self, executable: str, config: Path, urls: Path) -> None:
        self.executable = executable
        self.config = config
        self.urls = urls

    def prepare(self, state: Path, big: Path | None) -> None:
        shutil.rmtree(state, ignore_errors=True)
        state.mkdir(parents=True)
        if big is not None:
            shutil.copyfile(big, state / "cache.db")

    def command(self, state: Path) -> list[str]:
        return [
            self.executable,
            "-x",
            "reload",
            "-c",
            str(state / "cache.db"),
            "-C",
            str(self.config),
            "-u",
            str(self.urls),
        ]

    def counts(self, state: Path, stdout: str, stderr: str) -> dict[str, int | None]:
        with contextlib.closing(sqlite3.connect(state / "cache.db")) as db:
            (items,) = db.execute("SELECT count(*) FROM rss_item").fetchone()
        return {"items": int(items)}


def newsboat_version(executable: str) -> str:
    """ "2.21.0", or what `newsboat --version` says first."""
    try:
        text = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, timeout=20
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    found = re.search(r"newsboat (\S+)", text)
    return found.group(1) if found else text.split("\n", 1)[0]


# --- the big store ---------------------------------------------------------------------


def _source_digest(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def database_megabytes(path: Path) -> float:
    """Size of a database: its head file and every part it names."""
    from store import database_files

    return sum(f.stat().st_size for f in database_files(path)) / 2**20


def build_big_store(cache: Path, n_items: int, n_statements: int, seed: int) -> Path:
    """A stancewatch database with `n_items` items and `n_statements` statements.

    Built once through the store's own API (`Store.open(...).commit_round`)
    and kept in `cache`, keyed by the sizes and the store's source code, so a
    change to the store's format builds a new one.
    """
    from store import Store, copy_database

    key = _source_digest([REPO / "store", REPO / "sources" / "records.py", BENCH / "gen_feeds.py"])
    path = cache / f"big-store-{n_items}-{n_statements}-{seed}-{key}.json"
    stamp = path.with_suffix(".built")
    fresh = stamp.exists() and (
        datetime.now(UTC) - datetime.fromisoformat(stamp.read_text().strip())
        < timedelta(days=30)  # items are "fetched" in the 60 days before the build
    )
    if path.exists() and fresh:
        return path
    cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    now = datetime.now(UTC)
    feeds, items, statements = gen_feeds.big_store_records(n_items, n_statements, now, seed)
    work = cache / f"build-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    with Store.open(work / "db.json") as store:
        store.commit_round(feeds, items, statements, now=now)
    # A database is a head file and a folder of parts: both go.
    path.unlink(missing_ok=True)
    shutil.rmtree(path.with_name(path.name + ".d"), ignore_errors=True)
    copy_database(work / "db.json", path)
    shutil.rmtree(work, ignore_errors=True)
    stamp.write_text(now.isoformat())
    size = database_megabytes(path)
    print(
        f"  built the big store: {n_items} items, {n_statements} statements, {size:.0f} MiB "
        f"in {time.perf_counter() - started:.1f} s -> {path}",
        flush=True,
    )
    return path


def build_big_cache(cache: Path, executable: str, n_items: int, seed: int) -> Path:
    """A newsboat cache holding the same filler items as the big store.

    newsboat creates its schema (and then stops: no URLs), and the items go
    in with sqlite3, as a long-running newsboat would have them: the filler
    feeds are not in the urls file, so no round fetches them.
    """
    version = newsboat_version(executable)
    key = _source_digest([BENCH / "gen_feeds.py"])
    path = cache / f"big-cache-{n_items}-{seed}-{key}-newsboat-{version}.db"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="nb-big-", dir=cache))
    try:
        (work / "urls").write_text("")
        (work / "config").write_text("cleanup-on-quit no\n")
        subprocess.run(
            [executable, "-x", "reload", "-c", "cache.db", "-C", "config", "-u", "urls"],
            cwd=work,
            env=clean_env(work / "home"),
            capture_output=True,
            timeout=60,
        )
        now = datetime.now(UTC)
        feeds, items, _ = gen_feeds.big_store_records(n_items, 0, now, seed)
        with contextlib.closing(sqlite3.connect(work / "cache.db")) as db:
            db.executemany(
                "INSERT INTO rss_feed (rssurl, url, title, lastmodified, etag) "
                "VALUES (?, ?, ?, ?, ?)",
                [(f.url, f.url, f.title, 0, f.etag or "") for f in feeds],
            )
            db.executemany(
                "INSERT INTO rss_item (guid, title, author, url, feedurl, pubDate, content, "
                "unread, enclosure_url, enclosure_type, enqueued, flags, deleted, base) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 1, '', '', 0, '', 0, '')",
                [
                    (
                        item.id,
                        item.title,
                        "Filler",
                        item.link,
                        item.feed_url,
                        int(item.published.timestamp()),
                        "<p>" + item.summary.replace("\n\n", "</p><p>") + "</p>",
                    )
                    for item in items
                ],
            )
            db.commit()
        os.replace(work / "cache.db", path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    size = path.stat().st_size / 2**20
    print(
        f"  built the big newsboat cache: {n_items} items, {size:.0f} MiB "
        f"in {time.perf_counter() - started:.1f} s -> {path}",
        flush=True,
    )
    return path


# --- a whole benchmark -----------------------------------------------------------------


def write_configs(work: Path, urls: Sequence[str], per_host: int) -> tuple[Path, Path, Path]:
    """stancewatch's config.toml, newsboat's config and urls file."""
    ours = work / "stancewatch.toml"
    lines = [
        "# written by tests/bench/bench_poll.py",
        "[settings]",
        "concurrency = 8",
        # Every bench feed is on 127.0.0.1; real feeds are spread over many
        # hosts, so the per-host cap would measure the wrong thing here.
        f"per_host = {per_host}",
        "timeout = 60",
        "",
    ]
    for index, url in enumerate(urls):
        lines += ["[[feeds]]", f'name = "Bench {index}"', f'url = "{url}"', ""]
    ours.write_text("\n".join(lines), "utf-8")
    nb_urls = work / "newsboat-urls"
    nb_urls.write_text("\n".join(urls) + "\n", "utf-8")
    nb_config = work / "newsboat-config"
    nb_config.write_text(
        "reload-threads 8\n"
        # Without this, newsboat deletes from its cache every feed not in
        # the urls file when it quits: the big store's filler included.
        "cleanup-on-quit no\n"
        "download-timeout 60\n",
        "utf-8",
    )
    return ours, nb_config, nb_urls


def one_chain(
    tool: Tool,
    server: FeedServer,
    scenarios: Sequence[str],
    state: Path,
    big: Path | None,
    run: int,
    timeout: float,
    env: dict[str, str],
) -> list[Measure]:
    """cold → (priming) → warm → changed for one tool; times the requested ones."""
    prefix = "big-" if big is not None else ""
    tool.prepare(state, big)
    server.control("state/base")
    results = []

    def round_(scenario: str, timed: bool) -> None:
        server.control("reset")
        load = load_average()
        label = f"{tool.name}-{prefix}{scenario}-{run}"
        fields, out, err = run_timed(tool.command(state), env, state, label, timeout)
        stats = server.control("stats")
        if not timed:
            return
        counts = tool.counts(state, out, err)
        measure = Measure(
            tool=tool.name,
            scenario=prefix + scenario,
            run=run,
            wall=fields["wall"],
            cpu=fields.get("user", 0.0) + fields.get("sys", 0.0),
            rss_mb=fields.get("rss", 0.0) / 1024,
            exit_code=int(fields.get("exit", 0)),
            load=load,
            requests={k: int(v) for k, v in stats.items() if k != "state"},
            items=counts.get("items"),
            new_items=counts.get("new_items"),
            statements=counts.get("statements"),
        )
        measure.problem = check(measure, scenario, server, err)
        results.append(measure)
        flag = f"  !! {measure.problem}" if measure.problem else ""
        print(
            f"  {label:<28} {measure.wall:6.2f} s  cpu {measure.cpu:6.2f} s  "
            f"{measure.rss_mb:6.0f} MiB  load {load:4.2f}  "
            f"200/304 {stats.get('status_200', 0)}/{stats.get('status_304', 0)}{flag}",
            flush=True,
        )

    round_("cold", "cold" in scenarios)
    if "warm" in scenarios or "changed" in scenarios:
        for _ in range(tool.prime_rounds):
            round_("prime", False)
    if "warm" in scenarios:
        round_("warm", True)
    if "changed" in scenarios:
        server.control("state/changed")
        try:
            round_("changed", True)
        finally:
            server.control("state/base")
    return results


def first_run(tool: Tool, server: FeedServer, work: Path, timeout: float) -> None:
    """An untimed cold round that fills our cache of compiled regexes, as any first run does.

    Every later run, timed or not, builds its regexes from that cache (see
    `sources/extraction/pattern_cache.py`); this round's figures are printed
    for what a first run on a machine costs, and not counted.
    """
    state = work / "state" / f"{tool.name}-first-run"
    tool.prepare(state, None)
    server.control("state/base")
    server.control("reset")
    env = clean_env(work / "home" / tool.name)
    fields, _, _ = run_timed(tool.command(state), env, state, f"{tool.name}-first-run", timeout)
    cpu = fields.get("user", 0.0) + fields.get("sys", 0.0)
    print(
        f"  {tool.name + '-first-run':<28} {fields['wall']:6.2f} s  cpu {cpu:6.2f} s  "
        "(empty regex cache; not counted)",
        flush=True,
    )


def check(measure: Measure, scenario: str, server: FeedServer, stderr: str) -> str | None:
    """Why this round does not count as the scenario it claims to be, if it does not."""
    if measure.exit_code != 0:
        last = stderr.strip().splitlines()[-1:] or ["(no output)"]
        return f"exit {measure.exit_code}: {last[0][:160]}"
    requests = measure.requests
    n_feeds = server.n_feeds
    if requests.get("requests", 0) < n_feeds:
        return f"only {requests.get('requests', 0)} of {n_feeds} feeds requested"
    if scenario == "warm" and requests.get("status_304", 0) < n_feeds:
        return f"warm round: only {requests.get('status_304', 0)} of {n_feeds} answered 304"
    bodies = requests.get("status_200", 0)
    if scenario == "changed" and bodies != server.n_changed:
        return f"changed round fetched {bodies} bodies, not {server.n_changed}"
    return None


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarise(results: Sequence[Measure], tools: Sequence[str], scenarios: Sequence[str]) -> str:
    """The table of medians and ratios, as Markdown (reads fine in a terminal too)."""
    rows = [
        "| scenario | stancewatch wall (min-max) | cpu | peak RSS | newsboat wall (min-max) | cpu"
        " | peak RSS | ours/newsboat | target | items (ours / nb) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    by: dict[tuple[str, str], list[Measure]] = {}
    for m in results:
        by.setdefault((m.tool, m.scenario), []).append(m)

    def cell(tool: str, scenario: str) -> tuple[str, str, str, float]:
        ms = [m for m in by.get((tool, scenario), []) if m.problem is None]
        bad = len(by.get((tool, scenario), [])) - len(ms)
        if not ms:
            return ("—" if not bad else f"({bad} failed)"), "", "", float("nan")
        walls = [m.wall for m in ms]
        note = f" ({bad} failed)" if bad else ""
        return (
            f"{median(walls):.2f} s ({min(walls):.2f}-{max(walls):.2f}){note}",
            f"{median([m.cpu for m in ms]):.2f} s",
            f"{median([m.rss_mb for m in ms]):.0f} MiB",
            median(walls),
        )

    ordered = [s for s in scenarios] + [f"big-{s}" for s in scenarios]
    for scenario in ordered:
        if not any(k[1] == scenario for k in by):
            continue
        ours = cell("stancewatch", scenario)
        nb = cell("newsboat", scenario)
        ratio = ours[3] / nb[3] if nb[3] == nb[3] and nb[3] > 0 else float("nan")
        base = scenario.removeprefix("big-")
        target = TARGETS.get(base)
        verdict = ""
        if ratio == ratio and target is not None:
            verdict = "ok" if ratio <= target else "MISSED"
        ours_ms = by.get(("stancewatch", scenario), [])
        nb_ms = by.get(("newsboat", scenario), [])
        ours_items = ours_ms[-1].new_items if ours_ms else None
        nb_items = nb_ms[-1].items if nb_ms else None
        target_text = f"≤ {target:.1f}× {verdict}" if target is not None else ""
        ours_text = "—" if ours_items is None else f"{ours_items} new"
        nb_text = "—" if nb_items is None else f"{nb_items} stored"
        rows.append(
            f"| {scenario} | {ours[0]} | {ours[1]} | {ours[2]} | {nb[0]} | {nb[1]} | {nb[2]} | "
            f"{'—' if ratio != ratio else f'{ratio:.2f}×'} | {target_text} | "
            f"{ours_text} / {nb_text} |"
        )
    lines = ["\n".join(rows)]
    # Big store against small store, ours only (the 1.3× target).
    notes = []
    for scenario in scenarios:
        small = cell("stancewatch", scenario)[3]
        big = cell("stancewatch", f"big-{scenario}")[3]
        if small == small and big == big and small > 0:
            verdict = "ok" if big / small <= BIG_TARGET else "MISSED"
            notes.append(
                f"- stancewatch big/small {scenario}: {big:.2f} / {small:.2f} s = "
                f"{big / small:.2f}× (target ≤ {BIG_TARGET}×) {verdict}"
            )
    cold = [m.rss_mb for m in by.get(("stancewatch", "cold"), []) if m.problem is None]
    if cold:
        verdict = "ok" if max(cold) <= RSS_TARGET_MB else "MISSED"
        notes.append(
            f"- stancewatch cold peak RSS: median {median(cold):.0f} MiB, max {max(cold):.0f} MiB "
            f"(target ≤ {RSS_TARGET_MB} MB) {verdict}"
        )
    statements = [
        m.statements for m in by.get(("stancewatch", "cold"), []) if m.statements is not None
    ]
    if statements:
        notes.append(f"- stancewatch cold round stored {statements[-1]} statements")
    problems = [m for m in results if m.problem]
    for m in problems:
        notes.append(f"- run {m.run} {m.tool} {m.scenario} not counted: {m.problem}")
    loads = [m.load for m in results]
    if loads:
        notes.append(
            f"- load average before rounds: median {median(loads):.2f}, max {max(loads):.2f} "
            f"({os.cpu_count()} CPUs; the machine is shared)"
        )
    if notes:
        lines.append("\n".join(notes))
    return "\n\n".join(lines)


def machine_info(newsboat: str | None) -> str:
    """One paragraph: CPU, cores, memory, OS, versions, commit."""
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1])
        memory = f", {kib / 2**20:.1f} GiB RAM"
    versions = []
    from importlib.metadata import PackageNotFoundError, version

    for package in ("textual", "feedparser", "httpx", "tinydb", "orjson"):
        try:
            versions.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            versions.append(f"{package} missing")
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "sources", "store", "tui"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return (
        f"{cpu}, {os.cpu_count()} CPUs{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; "
        + ", ".join(versions)
        + (f"; newsboat {newsboat_version(newsboat)}" if newsboat else "; newsboat not installed")
        + f"; commit {commit}{' (+ uncommitted changes)' if dirty else ''}"
    )


@contextlib.contextmanager
def workdir(path: Path | None, keep: bool) -> Iterator[Path]:
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    made = Path(tempfile.mkdtemp(prefix="stancewatch-bench-"))
    try:
        yield made
    finally:
        if keep:
            print(f"kept the work directory: {made}")
        else:
            shutil.rmtree(made, ignore_errors=True)


def run_components(scripts: Sequence[str], timeout: float) -> str:
    """Run the component benchmarks that exist (their owners' scripts) and collect their output."""
    parts = []
    for name in scripts:
        script = BENCH / name
        if not script.exists():
            parts.append(f"### {name}\n\n(not present)")
            continue
        print(f"\n== {name}", flush=True)
        started = time.perf_counter()
        try:
            done = subprocess.run(
                [sys.executable, str(script)],
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            output = (done.stdout + done.stderr).strip()
            status = f"exit {done.returncode}"
        except subprocess.TimeoutExpired:
            output, status = "", f"no result after {timeout:.0f} s"
        took = time.perf_counter() - started
        print(output, flush=True)
        parts.append(f"### {name} ({status}, {took:.0f} s)\n\n```\n{output}\n```")
    return "\n\n".join(parts)


# --- profiling our cold round ----------------------------------------------------------


def profile_rounds(args: argparse.Namespace, out: Path) -> None:
    """Profile a cold and a warm round: wall times, imports, cProfile over every thread.

    `python -m cProfile` sees only the main thread, and the poll round does
    its CPU work in threads (`asyncio.to_thread`) and the parse pool; so this
    runs the CLI under `profile-child`, which gives each new thread its own
    profiler and merges them. Work done in other processes (the parse
    workers) is not in the profile; `--stages` measures it.
    """
    out.mkdir(parents=True, exist_ok=True)
    python = str(REPO / ".venv" / "bin" / "python")
    env = dict(clean_env(out / "home"), PYTHONPATH=str(REPO))
    imports = subprocess.run(
        [python, "-X", "importtime", "-c", "import tui.cli, sources.poll, store"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    (out / "importtime.txt").write_text(imports.stderr)
    with FeedServer(args.feeds, args.items, args.seed, args.latency_ms, 3600) as server:
        config, _, _ = write_configs(out, server.feed_urls(args.feeds), args.per_host)
        cli = ["--config", str(config), "--db"]
        plain = [python, "-m", "tui.cli"]
        for label, prefix, db in (
            ("plain-cold", plain, "plain.json"),
            ("plain-warm", plain, "plain.json"),
            (
                "cprofile-cold",
                [python, str(BENCH / "bench_poll.py"), "profile-child", str(out / "cold.prof")],
                "profiled.json",
            ),
            (
                "cprofile-warm",
                [python, str(BENCH / "bench_poll.py"), "profile-child", str(out / "warm.prof")],
                "profiled.json",
            ),
        ):
            if label.endswith("cold"):
                (out / db).unlink(missing_ok=True)
            fields, _, _ = run_timed(
                [*prefix, *cli, str(out / db), "poll", "--once"], env, out, label, args.timeout
            )
            print(
                f"  {label}: {fields['wall']:.2f} s wall, "
                f"{fields.get('user', 0) + fields.get('sys', 0):.2f} s cpu (with children), "
                f"{fields.get('rss', 0) / 1024:.0f} MiB"
            )
    print_importtime(out / "importtime.txt")
    for name in ("cold", "warm"):
        print(f"\n===== {name} round =====")
        print_profile(out / f"{name}.prof")


def print_importtime(path: Path, top: int = 15) -> None:
    """The slowest imports (cumulative), from `-X importtime` output."""
    rows = []
    for line in path.read_text().splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if found:
            rows.append((int(found.group(2)), len(found.group(3)), found.group(4)))
    total = sum(c for c, depth, _ in rows if depth <= 1)
    print(f"\nimports of tui.cli, sources.poll, store: {total / 1e6:.2f} s; slowest (cumulative):")
    # Indent is one space plus two per level: keep the first three levels.
    for cumulative, _, name in sorted((r for r in rows if r[1] <= 5), reverse=True)[:top]:
        print(f"  {cumulative / 1e3:8.0f} ms  {name}")


def print_profile(path: Path, top: int = 30) -> None:
    """Top functions by own time and by cumulative time."""
    import pstats

    stats = pstats.Stats(str(path))
    stats.strip_dirs()
    for order in ("tottime", "cumulative"):
        print(f"\ncProfile, all threads, by {order}:")
        stats.sort_stats(order).print_stats(top)


def profile_child(out: str, argv: Sequence[str]) -> int:
    """Run the CLI with a profiler in every thread, then merge them into `out`."""
    import cProfile
    import pstats
    import threading

    profilers: list[cProfile.Profile] = []

    def start_in_thread(*_: object) -> None:
        # Runs as the new thread's first profile event: swap in a profiler
        # of its own (cProfile hooks are per thread).
        profiler = cProfile.Profile()
        profilers.append(profiler)
        profiler.enable()

    threading.setprofile(start_in_thread)
    from tui.cli import main as cli_main

    main_profiler = cProfile.Profile()
    main_profiler.enable()
    try:
        code = cli_main(list(argv))
    finally:
        main_profiler.disable()
        threading.setprofile(None)  # type: ignore[arg-type]
        stats = pstats.Stats(main_profiler)
        for profiler in profilers:
            with contextlib.suppress(TypeError, ValueError):
                stats.add(profiler)
        stats.dump_stats(out)
    return code


# --- where a cold round's time goes ----------------------------------------------------


class _Clock:
    """Wall and CPU time of the stages of a cold round, run one after another."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float, str]] = []

    @contextlib.contextmanager
    def stage(self, name: str, note: str = "") -> Iterator[list[str]]:
        notes = [note] if note else []
        wall, cpu = time.perf_counter(), time.process_time()
        yield notes
        self.rows.append(
            (name, time.perf_counter() - wall, time.process_time() - cpu, "; ".join(notes))
        )
        print(
            f"  {name:<40} {self.rows[-1][1]:7.2f} s wall {self.rows[-1][2]:7.2f} s cpu  "
            f"{self.rows[-1][3]}",
            flush=True,
        )


def _startup_seconds(code: str, env: dict[str, str], runs: int = 3) -> float:
    """Median wall time of `python -c code` in the venv (interpreter start + imports)."""
    python = str(REPO / ".venv" / "bin" / "python")
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([python, "-c", code], env=env, cwd=REPO, check=True, timeout=120)
        walls.append(time.perf_counter() - started)
    return statistics.median(walls)


def stages(args: argparse.Namespace) -> None:
    """Time each stage of a cold round on its own, in this process, on one core.

    The same steps as `poll_round` (fetch, parse, tag and extract, one
    commit), but one after another, so each gets a figure of its own: wall
    and CPU seconds and a rate. The sum is what a round would take on one
    core with no overlap; comparing it with the whole-process figures shows
    what the concurrency buys and what it costs.
    """
    import asyncio

    import feedparser

    from sources.config import load_config
    from sources.extraction import Extractor
    from sources.fetch import Fetcher
    from sources.itemize import itemize
    from sources.parse import parse_document
    from sources.pool import ParsePool
    from sources.records import FeedSpec, FeedState, FetchResult, Item, Outcome, Statement
    from store import Store, copy_database

    clock = _Clock()
    with (
        workdir(args.workdir, args.keep) as work,
        FeedServer(args.feeds, args.items, args.seed, args.latency_ms, 3600) as server,
    ):
        env = clean_env(work / "home")
        env["PYTHONPATH"] = str(REPO)
        bare = _startup_seconds("pass", env)
        cli = _startup_seconds(
            "import tui.cli, sources.poll, sources.fetch, sources.parse, sources.extraction, store",
            env,
        )
        clock.rows.append(("python start (bare)", bare, bare, "median of 3"))
        clock.rows.append(
            ("python start + imports of a poll", cli, cli, f"imports alone {cli - bare:.2f} s")
        )
        for row in clock.rows:
            print(f"  {row[0]:<40} {row[1]:7.2f} s wall  {row[3]}")
        config_path, _, _ = write_configs(work, server.feed_urls(args.feeds), args.per_host)
        with clock.stage("load config + build extractor") as notes:
            config = load_config(config_path)
            extractor = Extractor(config.actors, config.topics)
            aliases = sum(len(a.aliases) + len(a.people) for a in config.actors)
            notes.append(f"{len(config.actors)} actors, ~{aliases} aliases and people")

        async def fetch_all() -> list[tuple[FeedSpec, FetchResult]]:
            async with Fetcher(config.settings, trust_env=False) as fetcher:
                return list(
                    zip(
                        config.feeds,
                        await asyncio.gather(*(fetcher.fetch(f, None) for f in config.feeds)),
                        strict=True,
                    )
                )

        with clock.stage("fetch (httpx, 8 in flight)") as notes:
            fetched = asyncio.run(fetch_all())
            raw = sum(len(r.body or b"") for _, r in fetched)
            notes.append(f"{len(fetched)} feeds, {raw / 2**20:.1f} MiB decompressed")
        now = datetime.now(UTC)
        bodies = [(spec, r) for spec, r in fetched if r.body]
        parsed = []
        with clock.stage("parse_document, serial") as notes:
            for spec, result in bodies:
                parsed.append(
                    (spec, result, parse_document(result.body, result.headers, spec.url, now))
                )
            entries = sum(len(p.entries) for _, _, p in parsed)
            notes.append(f"{entries} entries")
        rate = entries / clock.rows[-1][2]
        clock.rows[-1] = (*clock.rows[-1][:3], clock.rows[-1][3] + f", {rate:.0f} entries/s")
        sample = bodies[: max(1, len(bodies) // 5)]
        with clock.stage("feedparser.parse (stock), 1/5 sample") as notes:
            count = sum(len(feedparser.parse(r.body).entries) for _, r in sample)
            notes.append(f"{count} entries")
        rate = count / clock.rows[-1][2]
        clock.rows[-1] = (*clock.rows[-1][:3], clock.rows[-1][3] + f", {rate:.0f} entries/s")
        with clock.stage("ParsePool(2 workers): start") as notes:
            pool = ParsePool(workers=2, timeout=60)

        async def parse_all() -> int:
            results = await asyncio.gather(
                *(pool.parse(r.body, r.headers, spec.url, now) for spec, r in bodies)
            )
            return sum(len(p.entries) for p in results)

        try:
            with clock.stage("ParsePool(2 workers): parse all") as notes:
                notes.append(f"{asyncio.run(parse_all())} entries")
        finally:
            with clock.stage("ParsePool: close"):
                pool.close()
        items: list[Item] = []
        statements: list[Statement] = []
        states = []
        extracted_items = 0
        with clock.stage("tag + extract, serial") as notes:
            for spec, result, feed in parsed:
                found = itemize(spec, feed, {}, extractor, now)
                items.extend(found.items)
                statements.extend(found.statements)
                extracted_items += len({s.item_id for s in found.statements})
                states.append(
                    FeedState(
                        url=spec.url,
                        title=feed.title,
                        etag=result.etag,
                        last_modified=result.last_modified,
                        last_attempt=now,
                        last_success=now,
                        next_poll=now + timedelta(seconds=spec.interval),
                        outcome=Outcome.OK,
                        new_items=len(found.items),
                        total_items=len(found.items),
                    )
                )
            notes.append(
                f"{len(items)} items tagged, {extracted_items} extracted, "
                f"{len(statements)} statements"
            )
        rate = len(items) / clock.rows[-1][2]
        clock.rows[-1] = (*clock.rows[-1][:3], clock.rows[-1][3] + f", {rate:.0f} items/s")
        db = work / "stages.json"
        db.unlink(missing_ok=True)
        with clock.stage("store: open empty"):
            store = Store.open(db)
        with clock.stage("store: commit_round (cold, all items)") as notes:
            store.commit_round(states, items, statements, now=now, retain_days=180)
        store.close()
        size = db.stat().st_size / 2**20
        clock.rows[-1] = (*clock.rows[-1][:3], f"{size:.1f} MiB file")
        with clock.stage("store: open at cold size"):
            store = Store.open(db)
        with clock.stage("store: known_items (all ids)"):
            store.known_items([i.id for i in items])
        with clock.stage("store: commit_round (warm: states only)"):
            store.commit_round(states, [], [], now=now, retain_days=180)
        store.close()
        if "big" in args.scenarios:
            big = build_big_store(args.cache_dir, args.big_items, args.big_statements, args.seed)
            copy = work / "big.json"
            copy_database(big, copy)
            with clock.stage(f"store: open big ({args.big_items} items)") as notes:
                store = Store.open(copy)
                notes.append(f"{database_megabytes(copy):.0f} MiB in its files")
            with clock.stage("store: known_items on big"):
                store.known_items([i.id for i in items])
            with clock.stage("store: commit_round on big (cold items)"):
                store.commit_round(states, items, statements, now=now, retain_days=180)
            with clock.stage("store: commit_round on big (states only)"):
                store.commit_round(states, [], [], now=now, retain_days=180)
            with clock.stage("store: close big"):
                store.close()
    print("\n| stage | wall | cpu | note |\n|---|---|---|---|")
    for name, wall, cpu, note in clock.rows:
        print(f"| {name} | {wall:.2f} s | {cpu:.2f} s | {note} |")


# --- command line ----------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="See tests/bench/README.md for what each scenario means.",
    )
    parser.add_argument("--feeds", type=int, default=200, help="feeds (default 200)")
    parser.add_argument("--items", type=int, default=50, help="items per feed (default 50)")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario (default 3)")
    parser.add_argument(
        "--scenarios",
        default="cold,warm,changed,big",
        help="comma list of cold, warm, changed, big (big repeats the others on a big "
        "store); default all",
    )
    parser.add_argument("--tools", default="stancewatch,newsboat", help="comma list (default both)")
    parser.add_argument("--seed", type=int, default=gen_feeds.DEFAULT_SEED)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="server delay per request")
    parser.add_argument("--big-items", type=int, default=100_000)
    parser.add_argument("--big-statements", type=int, default=20_000)
    parser.add_argument(
        "--per-host",
        type=int,
        default=8,
        help="stancewatch's per_host setting (all bench feeds share one host; default 8, "
        "matching newsboat's 8 threads)",
    )
    parser.add_argument("--stancewatch", type=Path, default=REPO / ".venv" / "bin" / "stancewatch")
    parser.add_argument("--newsboat", default=shutil.which("newsboat") or "newsboat")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per round")
    parser.add_argument("--workdir", type=Path, help="keep state here (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the temp work directory")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "stancewatch-bench-cache",
        help="where the big store and cache are kept between invocations",
    )
    parser.add_argument("--markdown", type=Path, help="also write the results here")
    parser.add_argument("--json", type=Path, help="also write every measure here")
    parser.add_argument(
        "--components",
        action="store_true",
        help=f"also run the component benchmarks ({', '.join(COMPONENT_SCRIPTS)})",
    )
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="profile our cold round instead; output in DIR"
    )
    parser.add_argument(
        "--stages",
        action="store_true",
        help="instead: time each stage of a cold round on its own (fetch, parse, extract, store)",
    )
    args = parser.parse_args(argv)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(args.scenarios) - {*SCENARIOS, "big"}
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    if set(args.tools) - {"stancewatch", "newsboat"} or not args.tools:
        parser.error("--tools takes stancewatch and/or newsboat")
    return args


def preflight(args: argparse.Namespace) -> str | None:
    """What is missing to run, with how to install it; None when all is there."""
    if not Path(TIME).exists():
        return f"{TIME} is missing; install GNU time: {INSTALL_TIME}"
    if "newsboat" in args.tools and shutil.which(args.newsboat) is None:
        return (
            f"newsboat is not installed (looked for {args.newsboat!r}); install it with\n"
            f"    {INSTALL_NEWSBOAT}\n"
            "or measure stancewatch alone with --tools stancewatch (no ratios then)."
        )
    if "stancewatch" in args.tools and not args.stancewatch.exists():
        return (
            f"{args.stancewatch} is missing; set up the virtualenv first "
            "(see README.md: python -m venv .venv && .venv/bin/pip install -e '.[dev]')"
        )
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; see the module docstring."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["profile-child"]:
        return profile_child(argv[1], argv[2:])
    args = parse_args(argv)
    problem = preflight(args)
    if problem:
        print(f"bench_poll: {problem}", file=sys.stderr)
        return 2
    if args.profile:
        profile_rounds(args, args.profile)
        return 0
    if args.stages:
        stages(args)
        return 0

    base_scenarios = [s for s in SCENARIOS if s in args.scenarios]
    kinds = (["small"] if base_scenarios else []) + (["big"] if "big" in args.scenarios else [])
    if "big" in args.scenarios and not base_scenarios:
        base_scenarios = list(SCENARIOS)
    newsboat = args.newsboat if "newsboat" in args.tools else None
    info = machine_info(newsboat if shutil.which(args.newsboat) else None)
    print(f"machine: {info}")
    print(
        f"feeds: {args.feeds} × {args.items} items, seed {args.seed}, latency "
        f"{args.latency_ms:g} ms; runs: {args.runs}; scenarios: {', '.join(base_scenarios)}"
        f"{' (+ big store)' if 'big' in kinds else ''}; tools: {', '.join(args.tools)}",
        flush=True,
    )
    results: list[Measure] = []
    lifetime = 600 + args.runs * len(kinds) * len(args.tools) * 4 * args.timeout
    with workdir(args.workdir, args.keep) as work:
        big_paths: dict[str, Path] = {}
        if "big" in kinds:
            if "stancewatch" in args.tools:
                big_paths["stancewatch"] = build_big_store(
                    args.cache_dir, args.big_items, args.big_statements, args.seed
                )
            if newsboat:
                big_paths["newsboat"] = build_big_cache(
                    args.cache_dir, newsboat, args.big_items, args.seed
                )
        started = time.perf_counter()
        with FeedServer(args.feeds, args.items, args.seed, args.latency_ms, lifetime) as server:
            print(f"server: {server.base_url} (ready in {time.perf_counter() - started:.1f} s)")
            config, nb_config, nb_urls = write_configs(
                work, server.feed_urls(args.feeds), args.per_host
            )
            tools: list[Tool] = []
            if "stancewatch" in args.tools:
                tools.append(Stancewatch(args.stancewatch, config))
            if newsboat:
                tools.append(Newsboat(newsboat, nb_config, nb_urls))
            if "stancewatch" in args.tools:
                first_run(tools[0], server, work, args.timeout)
            for run in range(1, args.runs + 1):
                for k, kind in enumerate(kinds):
                    order = tools if (run + k) % 2 else list(reversed(tools))
                    for tool in order:
                        env = clean_env(work / "home" / tool.name)
                        big = big_paths.get(tool.name) if kind == "big" else None
                        results += one_chain(
                            tool,
                            server,
                            base_scenarios,
                            work / "state" / f"{tool.name}-{kind}",
                            big,
                            run,
                            args.timeout,
                            env,
                        )
    table = summarise(results, args.tools, base_scenarios)
    print()
    print(table)
    if args.json:
        args.json.write_text(json.dumps([m.__dict__ for m in results], indent=1))
    components = run_components(COMPONENT_SCRIPTS, args.timeout) if args.components else ""
    if args.markdown:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        args.markdown.write_text(
            f"## {stamp}: {args.feeds} × {args.items}, {args.runs} runs\n\n"
            f"Machine: {info}\n\n{table}\n"
            + (f"\n## Components\n\n{components}\n" if components else ""),
            "utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
