"""Helpers for the adversarial tests: the CLI in a subprocess, hostile documents, checks.

The hostile tests run the real `stancewatch` command the way a user (or the
CEO's own hostile server) would: `--config C --db D poll --once` in a
subprocess. `run_cli` reaps that subprocess with `os.wait4`, whose resource
usage covers exactly that child and the parse workers it reaped, so each
test can bound its peak memory without seeing the memory of other tests.

Every document here is written for these tests; none is copied from a feed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

import orjson

from sources.records import FeedState, Item, stable_id
from store import Store

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

DEADLINE = 3.0
"""`[settings] timeout` in every hostile config: the per-feed deadline."""
STARTUP_SLACK = 12.0
"""What a CLI run may take beyond the deadline: interpreter start, two parse
workers spawned, the store written, on a shared two-core machine."""
MEMORY_BOUND_MIB = 400
"""Peak RSS a hostile poll may reach; a 1 GiB bomb that was expanded would pass it."""

_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


# --- running the command ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CliRun:
    """How one run of the command ended."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    wall: float
    """Seconds from start to exit."""
    max_rss_mib: float
    """Peak resident memory of the process (and the children it reaped), MiB."""
    timed_out: bool


def run_cli(
    *args: str,
    timeout: float = 60.0,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> CliRun:
    """Run `python -m tui.cli ARGS` and wait for it, at most `timeout` seconds.

    A run past `timeout` is killed and reported with `timed_out` (the test
    then fails on it instead of hanging the suite).
    """
    command = (sys.executable, "-m", "tui.cli", *args)
    started = time.monotonic()
    # Pipes, not files: a file-size limit set by `preexec_fn` (the disk-full
    # tests) must hit the database, not the captured output.
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        preexec_fn=preexec_fn,
    )
    captured: dict[str, bytes] = {}
    drains = [
        threading.Thread(target=_drain, args=(proc.stdout, captured, "out"), daemon=True),
        threading.Thread(target=_drain, args=(proc.stderr, captured, "err"), daemon=True),
    ]
    for thread in drains:
        thread.start()
    if stdin is not None:
        assert proc.stdin is not None
        try:
            proc.stdin.write(stdin)
        except BrokenPipeError:
            pass
        proc.stdin.close()
    status, rusage, timed_out = _reap(proc, started + timeout)
    wall = time.monotonic() - started
    for thread in drains:
        thread.join(10)
    return CliRun(
        args=tuple(args),
        returncode=status,
        stdout=captured.get("out", b"").decode("utf-8", "replace"),
        stderr=captured.get("err", b"").decode("utf-8", "replace"),
        wall=wall,
        max_rss_mib=rusage.ru_maxrss / 1024 if rusage is not None else 0.0,
        timed_out=timed_out,
    )


def _drain(stream: IO[bytes] | None, into: dict[str, bytes], key: str) -> None:
    if stream is None:
        return
    with stream:
        into[key] = stream.read()


def _reap(proc: subprocess.Popen[bytes], deadline: float) -> tuple[int, Any, bool]:
    timed_out = False
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            timed_out = True
            os.kill(proc.pid, signal.SIGKILL)
            pid, status, rusage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code  # reaped by us: Popen must not wait for it again
    return code, rusage, timed_out


def poll_once(config: Path, db: Path, *, timeout: float = 60.0) -> CliRun:
    """`stancewatch --config C --db D poll --once`, as the CEO runs it."""
    return run_cli("--config", str(config), "--db", str(db), "poll", "--once", timeout=timeout)


def write_config(
    path: Path,
    urls: Iterable[str],
    *,
    timeout: float = DEADLINE,
    max_body_mb: float = 1,
    settings: Mapping[str, object] | None = None,
) -> Path:
    """A config with small limits (so misbehaviour shows quickly) and these feeds."""
    lines = ["# written by the hostile tests", "[settings]"]
    values: dict[str, object] = {"timeout": timeout, "max_body_mb": max_body_mb}
    values.update(settings or {})
    for key, value in values.items():
        lines.append(f"{key} = {orjson.dumps(value).decode()}")
    for url in urls:
        lines += ["", "[[feeds]]", f"url = {orjson.dumps(url).decode()}"]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def feed_lines(stdout: str) -> dict[str, str]:
    """The `poll` output, one line per feed, keyed by the feed URL it ends with."""
    lines: dict[str, str] = {}
    for line in stdout.splitlines():
        if line.endswith("]") and "  [" in line:
            head, url = line[:-1].rsplit("  [", 1)
            lines[url] = head
    return lines


# --- reading the database the way a test may -------------------------------------------


def stored_items(db: Path, feed_url: str | None = None) -> list[Item]:
    """Every stored item (of one feed, if given), decoded."""
    with Store.open(db, readonly=True) as store:
        return store.all_items(feed_url)


def stored_feeds(db: Path) -> dict[str, FeedState]:
    """Every feed state in the database, by URL."""
    with Store.open(db, readonly=True) as store:
        return store.feed_states()


# --- checks ----------------------------------------------------------------------------


def assert_readable(message: str | None) -> None:
    """An error a user can read: one short printable line, not a Python dump."""
    assert message, "expected an error message"
    assert "\n" not in message and not _CONTROLS.search(message), repr(message)
    assert len(message) <= 300, message
    for leak in ("Traceback", "internal error", " object at 0x", "Errno"):
        assert leak not in message, message


def assert_no_controls(text: str) -> None:
    """No character a terminal would act on (tab and newline are fine)."""
    found = _CONTROLS.search(text)
    assert found is None, f"control character {found.group()!r} in {text!r}"


# --- documents -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of a test feed; `raw_*` fields go into the XML unescaped."""

    title: str = ""
    guid: str | None = None
    link: str | None = None
    description: str = ""
    pub_date: str | None = None
    raw_title: str | None = None
    raw_description: str | None = None


def rss(
    entries: Sequence[Entry],
    *,
    title: str = "Loopback Gazette",
    prolog: str = "",
    encoding: str = "utf-8",
) -> bytes:
    """An RSS 2.0 document; text is XML-escaped unless given as `raw_*`."""
    parts = [f'<?xml version="1.0" encoding="{encoding}"?>\n{prolog}<rss version="2.0"><channel>']
    parts.append(f"<title>{escape(title)}</title><link>https://gazette.example/</link>")
    parts.append("<description>Test feed</description>")
    for entry in entries:
        parts.append("<item>")
        parts.append(
            f"<title>{entry.raw_title if entry.raw_title is not None else escape(entry.title)}"
            "</title>"
        )
        if entry.guid is not None:
            parts.append(f'<guid isPermaLink="false">{escape(entry.guid)}</guid>')
        if entry.link is not None:
            parts.append(f"<link>{escape(entry.link)}</link>")
        description = (
            entry.raw_description
            if entry.raw_description is not None
            else escape(entry.description)
        )
        parts.append(f"<description>{description}</description>")
        if entry.pub_date is not None:
            parts.append(f"<pubDate>{escape(entry.pub_date)}</pubDate>")
        parts.append("</item>")
    parts.append("</channel></rss>\n")
    return "".join(parts).encode(encoding, "xmlcharrefreplace")


HEALTHY_GUIDS = ("healthy-1", "healthy-2", "healthy-3")


def healthy_feed() -> bytes:
    """A well-behaved feed of three items, polled beside every hostile one."""
    return rss(
        [
            Entry(
                title=f"Council session {n} adjourned",
                guid=guid,
                link=f"https://healthy.example/{n}",
                description=f"Delegates met for the {n}th time and agreed on a date.",
                pub_date=f"Tue, 0{n} Jul 2025 09:00:00 GMT",
            )
            for n, guid in enumerate(HEALTHY_GUIDS, start=1)
        ],
        title="Healthy Herald",
    )


def healthy_ids(url: str) -> list[str]:
    """The item ids the healthy feed at `url` must leave in the store."""
    return [stable_id("item", url, "guid", guid) for guid in HEALTHY_GUIDS]


def billion_laughs(levels: int = 10) -> bytes:
    """The classic exponential entity bomb: 10 levels of 10 references (~3 GB)."""
    decls = ['<!ENTITY lol0 "lol">']
    for n in range(1, levels):
        refs = "".join(f"&lol{n - 1};" for _ in range(10))
        decls.append(f'<!ENTITY lol{n} "{refs}">')
    prolog = "<!DOCTYPE rss [\n" + "\n".join(decls) + "\n]>\n"
    return rss(
        [
            Entry(
                raw_title=f"&lol{levels - 1};", guid="laughs", raw_description=f"&lol{levels - 1};"
            )
        ],
        prolog=prolog,
    )


def quadratic_blowup(value_kib: int = 64, references: int = 20_000) -> bytes:
    """One big entity referenced many times: no nesting, linear text, huge result."""
    value = "ha" * (value_kib * 512)
    prolog = f'<!DOCTYPE rss [\n<!ENTITY big "{value}">\n]>\n'
    return rss(
        [Entry(raw_title="big", guid="blowup", raw_description="&big;" * references)], prolog=prolog
    )


def external_entities(secret: Path, probe_url: str, dtd_url: str) -> bytes:
    """External entities aimed at a local file, /etc/passwd and a URL on our server."""
    prolog = (
        "<!DOCTYPE rss [\n"
        f'<!ENTITY secret SYSTEM "{secret.as_uri()}">\n'
        '<!ENTITY passwd SYSTEM "file:///etc/passwd">\n'
        f'<!ENTITY probe SYSTEM "{probe_url}">\n'
        f'<!ENTITY % remote SYSTEM "{dtd_url}">\n'
        "%remote;\n"
        "]>\n"
    )
    return rss(
        [
            Entry(raw_title="Leak &secret;", guid="xxe-1", raw_description="&passwd; &probe;"),
            Entry(title="An ordinary entry", guid="xxe-2", description="Nothing to see."),
        ],
        prolog=prolog,
    )


MARKUP_TITLES = (
    "[bold red]x[/]",
    "[link=https://evil.example/]click here[/link]",
    "[@click=app.quit]quit[/]",
    "[b]unclosed markup",
    "[/]",
    "$actor ${claim} {0} %s",
)
"""Textual/Rich markup and template syntax; each must be stored and shown verbatim."""

MARKUP_CLAIM = (
    "Russia's UN envoy Vassily Nebenzia said foreign peacekeepers "
    "[@click=app.quit]would be legitimate targets[/] [bold red]without[/] "
    "explicit UN Security Council approval."
)
"""A statement sentence carrying markup, so the markup reaches positions and the TUI."""

ESCAPE_TITLES = (
    ("\x1b[31mred alert\x1b[0m", "red alert"),
    ("\x1b]8;;https://evil.example/\x07hyperlink\x1b]8;;\x07", "hyperlink"),
    ("\x1b]52;c;ZXZpbA==\x07clipboard", "clipboard"),
    ("\x1b]0;window title\x07retitled", "retitled"),
    ("\x9b31mC1 CSI\x9b0m", "C1 CSI"),
    ("bell\x07 and back\x08space", "bell"),
)
"""Raw terminal escapes (ANSI colour, OSC 8 hyperlink, OSC 52 clipboard, OSC 0
title, 8-bit CSI, BEL/BS) with a word each that must survive the cleaning."""


def binary_garbage(size: int = 64 * 1024, seed: int = 5) -> bytes:
    """Deterministic random bytes (not a feed, not text)."""
    import random

    return random.Random(seed).randbytes(size)


# --- a write-heavy store writer to kill ------------------------------------------------

WRITER_FEED = "http://durable.example/feed.xml"
WRITER_ITEMS = 200
"""Items per round of `write_rounds`: enough that a round's write takes a while."""


def writer_item_ids(round_no: int) -> list[str]:
    """The ids of the items `write_rounds` commits in round `round_no`."""
    return [stable_id("item", WRITER_FEED, "guid", f"r{round_no}-{k}") for k in range(WRITER_ITEMS)]


def write_rounds(db: Path, first: int) -> None:
    """Commit rounds `first`, `first + 1`, ... to `db` until killed.

    Prints "ready" once the store is open and "committed N" after round N is
    on disk, so the killer knows which rounds finished. Each round upserts the
    feed and `WRITER_ITEMS` new items, as a busy poll round does.
    """
    from datetime import UTC, datetime

    from sources.records import Outcome
    from store import Store

    body = "Delegates argued over the wording of the communique until late. " * 5
    with Store.open(db) as store:
        print("ready", flush=True)
        round_no = first
        while True:
            now = datetime.now(UTC)
            items = [
                Item(
                    id=item_id,
                    feed_url=WRITER_FEED,
                    link=f"https://durable.example/{round_no}/{k}",
                    title=f"Round {round_no} story {k}",
                    summary=body,
                    published=now,
                    fetched=now,
                    content_hash=f"{round_no:08x}{k:08x}",
                )
                for k, item_id in enumerate(writer_item_ids(round_no))
            ]
            state = FeedState(
                url=WRITER_FEED,
                title="Durable Daily",
                last_attempt=now,
                last_success=now,
                outcome=Outcome.OK,
                new_items=WRITER_ITEMS,
                total_items=(round_no + 1) * WRITER_ITEMS,
            )
            store.commit_round([state], items, [], now=now)
            print(f"committed {round_no}", flush=True)
            round_no += 1


if __name__ == "__main__":
    # python -m tests.hostile write-rounds DB FIRST: the child the durability tests kill.
    if len(sys.argv) == 4 and sys.argv[1] == "write-rounds":
        write_rounds(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        sys.exit("usage: python -m tests.hostile write-rounds DB FIRST")
