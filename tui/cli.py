"""The `stancewatch` command: the dashboard, and the headless commands beside it.

Headless commands never import Textual (a test checks it), so `poll` in a
cron job or `positions` in a pipe start fast and run where no terminal is.
Every error the user can act on is one line on stderr and a non-zero exit:
1 for a runtime failure, 2 for a usage or config error.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import signal
import sys
import textwrap
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sources import __version__
from sources.clean import strip_controls
from sources.config import (
    Config,
    add_feeds,
    default_config_path,
    ensure_config,
    load_config,
    remove_feed,
    resolve_config_path,
    resolve_db_path,
)
from sources.errors import StancewatchError, UsageError
from sources.records import FeedSpec, Outcome, Statement

if TYPE_CHECKING:
    from sources.poll import FeedReport, RoundReport
    from sources.pool import ParsePool
    from store import Store

FORMATS = ("table", "json", "csv", "markdown")


# --- argument parsing -------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, with help text a person can read."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help=f"config file (default: $STANCEWATCH_CONFIG, else {_home(default_config_path())})",
    )
    common.add_argument(
        "--db",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="database file (default: $STANCEWATCH_DB, else the config's database, "
        "else the platform's data directory)",
    )

    parser = argparse.ArgumentParser(
        prog="stancewatch",
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.dedent(
            """\
            Watch news feeds and see, for each actor in a negotiation, the latest
            position it has stated on each tracked topic: who said it, when, where.

            Without a command, opens the live dashboard."""
        ),
        epilog=textwrap.dedent(
            """\
            examples:
              stancewatch demo                      try the dashboard on sample news, offline
              stancewatch poll --once               fetch every due feed once
              stancewatch positions --actor russia  Russia's latest line on each topic
              stancewatch feeds add https://example.org/rss --name Example
              stancewatch extract < article.txt     who stated what in a text

            Run 'stancewatch COMMAND --help' for a command's options."""
        ),
    )
    parser.add_argument("--version", action="version", version=f"stancewatch {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser(
        "demo",
        parents=[common],
        help="open the dashboard on bundled sample news (offline)",
        description="Open the dashboard on bundled sample feeds, offline, "
        "with a throwaway database.",
    )

    poll = commands.add_parser(
        "poll",
        parents=[common],
        help="poll feeds without the dashboard",
        description="Poll the configured feeds and store new items and statements. "
        "Runs until interrupted, polling each feed when its interval comes round; "
        "--once polls the due feeds one time and exits.",
    )
    poll.add_argument(
        "--once",
        action="store_true",
        help="poll every feed once (failing feeds wait out their backoff), then exit",
    )
    poll.add_argument(
        "--all", action="store_true", help="poll every feed now, including failing ones"
    )

    positions = commands.add_parser(
        "positions",
        parents=[common],
        help="print the latest position of each actor on each topic",
        description="Print each actor's latest stated position per topic. "
        "'changed' marks a stance that differs from the one before.",
    )
    positions.add_argument("--actor", metavar="ID", help="only this actor (e.g. russia)")
    positions.add_argument("--topic", metavar="ID", help="only this topic (e.g. peacekeeping)")
    positions.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )

    history = commands.add_parser(
        "history",
        parents=[common],
        help="print every statement of one actor on one topic",
        description="Print the statements of ACTOR on TOPIC, newest first.",
    )
    history.add_argument("actor", metavar="ACTOR", help="actor id, e.g. russia")
    history.add_argument("topic", metavar="TOPIC", help="topic id, e.g. peacekeeping")
    history.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )
    history.add_argument("--limit", type=int, metavar="N", help="at most N statements")

    feeds = commands.add_parser(
        "feeds",
        parents=[common],
        help="list, add, remove, import or export feeds",
        description="Read or edit the feeds in the config file. "
        "Edits keep the file's comments and layout.",
    )
    feed_commands = feeds.add_subparsers(dest="feeds_command", metavar="ACTION")
    feed_commands.add_parser("list", parents=[common], help="list feeds with their health")
    add = feed_commands.add_parser(
        "add", parents=[common], help="add a feed (polled on the next round)"
    )
    add.add_argument("url", metavar="URL", help="http(s) URL or local file path of the feed")
    add.add_argument("--name", metavar="N", default="", help="display name of the outlet")
    add.add_argument("--tag", metavar="T", action="append", default=[], help="a tag (repeatable)")
    remove = feed_commands.add_parser("remove", parents=[common], help="remove a feed")
    remove.add_argument("url", metavar="URL")
    opml_in = feed_commands.add_parser(
        "import", parents=[common], help="add the feeds of an OPML file"
    )
    opml_in.add_argument("file", metavar="FILE.opml")
    feed_commands.add_parser("export", parents=[common], help="print the feeds as OPML")

    extract = commands.add_parser(
        "extract",
        parents=[common],
        help="find stated positions in a text",
        description="Run the statement extractor on FILE (or standard input) "
        "and print what it finds.",
    )
    extract.add_argument(
        "file", metavar="FILE", nargs="?", help="text file (default: standard input)"
    )
    extract.add_argument("--format", choices=("json", "table"), default="table")
    extract.add_argument("--title", default="", help="headline to read with the text")

    commands.add_parser(
        "check-config",
        parents=[common],
        help="validate the config file",
        description="Check the config file and report the first problem with its line.",
    )
    return parser


def _home(path: Path) -> str:
    home = str(Path.home())
    text = str(path)
    return "~" + text[len(home) :] if text.startswith(home) else text


# --- the context every command shares ---------------------------------------------


class Context:
    """Resolves config and database paths once, the way every command needs them."""

    def __init__(self, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
        self.args = args
        self.out = out
        self.err = err
        self.config_path = resolve_config_path(getattr(args, "config", None))
        self._explicit_config = bool(
            getattr(args, "config", None) or os.environ.get("STANCEWATCH_CONFIG")
        )
        self._config: Config | None = None

    def config(self) -> Config:
        if self._config is None:
            created = ensure_config(self.config_path, is_default=not self._explicit_config)
            if created:
                self.say(f"stancewatch: wrote the default config to {self.config_path}")
            self._config = load_config(self.config_path)
        return self._config

    def db_path(self) -> Path:
        return resolve_db_path(getattr(self.args, "db", None), self.config())

    def say(self, message: str) -> None:
        print(message, file=self.err)

    def open_store(self, *, readonly: bool) -> Store:
        from store import Store

        path = self.db_path()
        if readonly and not path.exists():
            return Store.open(path, readonly=True)
        if not readonly:
            path.parent.mkdir(parents=True, exist_ok=True)
        store = Store.open(path, readonly=readonly, recover=not readonly)
        if store.recovered_from is not None:
            self.say(
                f"stancewatch: the database {path} could not be read; it was moved to "
                f"{store.recovered_from} and a new one started"
            )
        return store


# --- commands ---------------------------------------------------------------------


def cmd_check_config(ctx: Context) -> int:
    config = ctx.config()
    print(
        f"{ctx.config_path}: ok: {len(config.feeds)} feeds, {len(config.actors)} actors, "
        f"{len(config.topics)} topics",
        file=ctx.out,
    )
    return 0


def cmd_poll(ctx: Context) -> int:
    config = ctx.config()
    if not config.feeds:
        ctx.say(
            f"stancewatch: no feeds in {ctx.config_path}; add one with `stancewatch feeds add URL`"
        )
        return 0
    from sources.pool import ParsePool
    from sources.schedule import feeds_to_poll, sure_to_parse

    with ctx.open_store(readonly=False) as store:
        with ParsePool(timeout=max(5.0, config.settings.timeout)) as parser:
            states = store.feed_states()
            first = feeds_to_poll(
                config.feeds,
                states,
                datetime.now(UTC),
                force=ctx.args.all,
                ignore_interval=ctx.args.once,
            )
            if sure_to_parse(first, states):
                # The workers take ~0.3 s to start; asyncio, the HTTP client's
                # imports and its set-up happen meanwhile instead of before.
                parser.warm_up()
            import asyncio

            asyncio.run(_poll_loop(config, store, ctx, parser))
    return 0


async def _poll_loop(config: Config, store: Store, ctx: Context, parser: ParsePool) -> None:
    """Poll rounds with one HTTP client and one parse pool for the whole run."""
    import asyncio

    from sources.fetch import Fetcher
    from sources.poll import poll_round
    from sources.schedule import next_wakeup

    live = ctx.err.isatty()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if not ctx.args.once:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
    force = ctx.args.all
    async with Fetcher(config.settings) as fetcher:
        while True:
            progress = _progress_printer(ctx, live)
            report = await poll_round(
                config,
                store,
                fetcher=fetcher,
                parser=parser,
                force=force,
                ignore_interval=ctx.args.once,
                progress=progress,
            )
            if live:
                ctx.err.write("\r\x1b[K")
                ctx.err.flush()
            _print_round_summary(report, ctx)
            if ctx.args.once:
                return
            force = False
            wake = next_wakeup(config.feeds, store.feed_states(), datetime.now(UTC))
            # Wake at least every minute and re-read the config: a feed
            # added to it is polled on the next round, not after the
            # longest interval.
            delay = min(60.0, max(1.0, (wake - datetime.now(UTC)).total_seconds()))
            try:
                await asyncio.wait_for(stop.wait(), delay)
            except TimeoutError:
                pass
            if stop.is_set():
                ctx.say("stancewatch: stopped")
                return
            config = _reload_config(ctx, config)


def _reload_config(ctx: Context, current: Config) -> Config:
    try:
        fresh = load_config(ctx.config_path)
    except StancewatchError as exc:
        ctx.say(f"stancewatch: keeping the previous config: {exc}")
        return current
    return current if fresh == current else fresh


def _progress_printer(ctx: Context, live: bool) -> Callable[[FeedReport, int, int], None]:
    width = shutil.get_terminal_size((80, 24)).columns

    def progress(report: FeedReport, done: int, total: int) -> None:
        if live:
            ctx.err.write("\r\x1b[K")
        print(_feed_line(report), file=ctx.out, flush=True)
        if live and done < total:
            ctx.err.write(f"[{done}/{total}] polling feeds…"[: width - 1])
            ctx.err.flush()

    return progress


def _feed_line(report: FeedReport) -> str:
    name = strip_controls(report.name)[:40]
    if report.outcome is Outcome.ERROR:
        detail = f"error: {strip_controls(report.error or '')}"
    elif report.outcome is Outcome.NOT_MODIFIED:
        detail = "not modified"
    else:
        parts = [f"{report.new_items} new", f"{report.seen_items} seen"]
        if report.updated_items:
            parts.insert(1, f"{report.updated_items} updated")
        parts.append(f"{report.statements} statements")
        detail = "ok: " + ", ".join(parts)
        if report.warning:
            detail += f" (warning: {strip_controls(report.warning)})"
    return f"{name:<40}  {detail}  [{report.url}]"


def _print_round_summary(report: RoundReport, ctx: Context) -> None:
    total = len(report.feeds)
    if total == 0:
        ctx.say("stancewatch: no feed is due yet (--all polls them anyway)")
        return
    ok = total - report.failed
    ctx.say(
        f"stancewatch: polled {total} feeds: {ok} ok, {report.failed} failing; "
        f"{report.new_items} new items, {len(report.new_statements)} new statements"
    )


def cmd_positions(ctx: Context) -> int:
    config = ctx.config()
    for kind, value, known in (
        ("actor", ctx.args.actor, config.actor),
        ("topic", ctx.args.topic, config.topic),
    ):
        if value and known(value) is None:
            ids = ", ".join(
                sorted(x.id for x in (config.actors if kind == "actor" else config.topics))
            )
            raise UsageError(f"unknown {kind} '{value}' (known: {ids})")
    with ctx.open_store(readonly=True) as store:
        positions = store.positions(actor=ctx.args.actor, topic=ctx.args.topic)
    rows = [
        {
            "actor": p.statement.actor,
            "topic": p.statement.topic,
            "stance": str(p.statement.stance),
            "changed": p.changed,
            "previous_stance": str(p.previous.stance) if p.previous else None,
            **_statement_fields(p.statement),
            "statements": p.count,
        }
        for p in positions
    ]
    if not rows and ctx.args.format == "table" and not ctx.db_path().exists():
        ctx.say(
            f"stancewatch: no database yet at {ctx.db_path()}; run `stancewatch poll --once` first"
        )
    _emit(
        rows,
        ctx.args.format,
        ctx.out,
        ("actor", "topic", "stance", "changed", "speaker", "claim", "source", "published"),
    )
    return 0


def cmd_history(ctx: Context) -> int:
    config = ctx.config()
    if config.actor(ctx.args.actor) is None:
        raise UsageError(
            f"unknown actor '{ctx.args.actor}' (known: {', '.join(a.id for a in config.actors)})"
        )
    if config.topic(ctx.args.topic) is None:
        raise UsageError(
            f"unknown topic '{ctx.args.topic}' (known: {', '.join(t.id for t in config.topics)})"
        )
    with ctx.open_store(readonly=True) as store:
        statements = store.history(ctx.args.actor, ctx.args.topic, limit=ctx.args.limit)
    rows = []
    for index, statement in enumerate(statements):
        # As in `positions`: the statement before is the latest of another
        # item, since one article's paragraphs are not a change of position.
        older = next((o for o in statements[index + 1 :] if o.item_id != statement.item_id), None)
        rows.append(
            {
                "actor": statement.actor,
                "topic": statement.topic,
                "stance": str(statement.stance),
                "changed": older is not None and older.stance != statement.stance,
                **_statement_fields(statement),
            }
        )
    _emit(
        rows,
        ctx.args.format,
        ctx.out,
        ("published", "stance", "changed", "speaker", "claim", "source"),
    )
    return 0


def _statement_fields(statement: Statement) -> dict[str, Any]:
    return {
        "speaker": statement.speaker,
        "claim": statement.claim,
        "condition": statement.condition,
        "cue": statement.cue,
        "alias": statement.alias,
        "topic_words": list(statement.topic_words),
        "carried": statement.carried,
        "published": statement.published.isoformat(),
        "source": statement.source,
        "link": statement.link,
        "id": statement.id,
        "item_id": statement.item_id,
    }


def _emit(rows: list[dict[str, Any]], fmt: str, out: TextIO, table_columns: Sequence[str]) -> None:
    """Print rows as a table for people, or as json/csv/markdown for other programs."""
    if fmt == "json":
        import orjson

        out.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    if fmt == "csv":
        if not rows:
            return
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _flat(v) for k, v in row.items()})
        out.write(buffer.getvalue())
        return
    cells = [[_display(row.get(col)) for col in table_columns] for row in rows]
    if fmt == "markdown":

        def md(value: str) -> str:
            return value.replace("\\", "\\\\").replace("|", "\\|")

        out.write("| " + " | ".join(table_columns) + " |\n")
        out.write("|" + "|".join("---" for _ in table_columns) + "|\n")
        for row_cells in cells:
            out.write("| " + " | ".join(md(c) for c in row_cells) + " |\n")
        return
    if not rows:
        print("(nothing yet)", file=out)
        return
    _print_table(list(table_columns), cells, out)


def _flat(value: Any) -> Any:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return "" if value is None else value


def _display(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    text = str(value)
    if len(text) >= 20 and text[4:5] == "-" and text[10:11] == "T":
        return text[:16].replace("T", " ")
    return strip_controls(text).replace("\n", " ")


def _print_table(columns: list[str], cells: list[list[str]], out: TextIO) -> None:
    """Columns sized to content; the widest free-text column gives way to the terminal's width."""
    width = shutil.get_terminal_size((120, 24)).columns if out.isatty() else 10_000
    widths = [max(len(col), *(len(row[i]) for row in cells)) for i, col in enumerate(columns)]
    if "claim" in columns:
        claim = columns.index("claim")
        others = sum(w for i, w in enumerate(widths) if i != claim) + 2 * (len(columns) - 1)
        widths[claim] = max(20, min(widths[claim], width - others))
    print(
        "  ".join(col.upper().ljust(widths[i]) for i, col in enumerate(columns)).rstrip(), file=out
    )
    for row in cells:
        fitted = [
            (value if len(value) <= widths[i] else value[: widths[i] - 1] + "…").ljust(widths[i])
            for i, value in enumerate(row)
        ]
        print("  ".join(fitted).rstrip(), file=out)


def cmd_feeds(ctx: Context) -> int:
    action = ctx.args.feeds_command or "list"
    if action == "list":
        return _feeds_list(ctx)
    ctx.config()  # creates the default file on first use, and validates it
    if action == "add":
        spec = FeedSpec(
            url=ctx.args.url.strip(), name=ctx.args.name.strip(), tags=tuple(ctx.args.tag)
        )
        added, _ = add_feeds(ctx.config_path, [spec])
        if added:
            ctx.say(
                f"stancewatch: added {spec.url} to {ctx.config_path}; "
                "it is polled on the next round"
            )
        else:
            ctx.say(f"stancewatch: {spec.url} is already in {ctx.config_path}")
        return 0
    if action == "remove":
        removed = remove_feed(ctx.config_path, ctx.args.url)
        ctx.say(f"stancewatch: removed {removed.url} from {ctx.config_path}")
        return 0
    if action == "import":
        from sources.opml import read_opml

        offered = read_opml(Path(ctx.args.file).expanduser())
        left_out = (
            f"; left out {len(offered.skipped)} entries that are not http(s) URLs"
            if offered.skipped
            else ""
        )
        if not offered.feeds:
            ctx.say(f"stancewatch: {ctx.args.file} lists no web feeds to import{left_out}")
            return 0
        added, skipped = add_feeds(ctx.config_path, list(offered.feeds))
        ctx.say(
            f"stancewatch: imported {len(added)} feeds into {ctx.config_path}"
            + (f" ({len(skipped)} already there)" if skipped else "")
            + left_out
        )
        return 0
    if action == "export":
        from sources.opml import write_opml

        ctx.out.write(write_opml(ctx.config().feeds))
        return 0
    raise UsageError(f"unknown feeds action '{action}'")


def _feeds_list(ctx: Context) -> int:
    config = ctx.config()
    states = {}
    if ctx.db_path().exists():
        with ctx.open_store(readonly=True) as store:
            states = store.feed_states()
    columns = ["name", "status", "items", "last_success", "url"]
    cells = []
    for feed in config.feeds:
        state = states.get(feed.url)
        if state is None:
            status = "new"
        elif state.outcome is Outcome.ERROR:
            status = f"failing ({state.failures}x): {state.last_error}"
        else:
            status = str(state.outcome)
        cells.append(
            [
                strip_controls(feed.name or (state.title if state else "") or "-"),
                strip_controls(status),
                str(state.total_items if state else 0),
                state.last_success.isoformat()[:16].replace("T", " ")
                if state and state.last_success
                else "-",
                feed.url,
            ]
        )
    if not cells:
        print(
            f"(no feeds in {ctx.config_path}; add one with `stancewatch feeds add URL`)",
            file=ctx.out,
        )
        return 0
    _print_table(columns, cells, ctx.out)
    return 0


def cmd_extract(ctx: Context) -> int:
    from sources.extraction import Extractor, pattern_cache

    config = ctx.config()
    if ctx.args.file:
        try:
            text = Path(ctx.args.file).read_text("utf-8", errors="replace")
        except OSError as exc:
            raise UsageError(f"cannot read {ctx.args.file}: {exc.strerror}") from exc
    else:
        if sys.stdin is None or sys.stdin.isatty():
            ctx.say("stancewatch: reading the text from standard input (end with Ctrl-D)")
        text = sys.stdin.read() if sys.stdin is not None else ""
    extractor = Extractor(config.actors, config.topics)
    pattern_cache.save()
    found = extractor.extract(strip_controls(text), title=ctx.args.title)
    rows = [
        {
            "actor": f.actor,
            "speaker": f.speaker,
            "topic": f.topic,
            "stance": str(f.stance),
            "claim": f.claim,
            "cue": f.cue,
            "alias": f.alias,
            "topic_words": list(f.topic_words),
            "condition": f.condition,
            "carried": f.carried,
        }
        for f in found
    ]
    _emit(
        rows,
        ctx.args.format,
        ctx.out,
        ("actor", "speaker", "topic", "stance", "cue", "condition", "claim"),
    )
    return 0


def cmd_dashboard(ctx: Context, *, demo: bool) -> int:
    try:
        from tui.app import run_dashboard
    except ImportError as exc:  # pragma: no cover - only when the install is broken
        raise UsageError(f"the dashboard cannot start: {exc}") from exc
    return run_dashboard(ctx, demo=demo)


def _open_dashboard(ctx: Context) -> int:
    return cmd_dashboard(ctx, demo=False)


def _open_demo(ctx: Context) -> int:
    return cmd_dashboard(ctx, demo=True)


COMMANDS: dict[str, Callable[[Context], int]] = {
    "check-config": cmd_check_config,
    "poll": cmd_poll,
    "positions": cmd_positions,
    "history": cmd_history,
    "feeds": cmd_feeds,
    "extract": cmd_extract,
    "demo": _open_demo,
}


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    ctx = Context(args, out, err)
    command: Callable[[Context], int] = COMMANDS.get(args.command or "", _open_dashboard)
    try:
        return command(ctx)
    except StancewatchError as exc:
        print(f"stancewatch: {exc}", file=err)
        return exc.exit_code
    except KeyboardInterrupt:
        print("stancewatch: interrupted", file=err)
        return 130
    except BrokenPipeError:
        # `stancewatch positions | head`: the reader left; that is not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
