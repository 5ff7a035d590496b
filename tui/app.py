"""The dashboard: the app, its poll loop in a worker, and `run_dashboard` for the CLI.

All I/O runs in workers: the store is opened and read in thread workers, the
poll round (the same `poll_round` the headless `poll` runs) in one async
worker that keeps the HTTP client and the parse pool open for the app's
lifetime. The app holds the data (config, snapshot, status) and sets it on
its screens; screens announce what the user did with messages.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from sources.config import Config, load_config
from sources.errors import StancewatchError, StoreLockedError
from sources.records import Outcome, Position
from tui.format import plain, stance_word, utc_now
from tui.messages import (
    ConfigRejected,
    ConfigReloaded,
    FeedPolled,
    RoundFinished,
    RoundStarted,
    SnapshotLoaded,
    StoreFailed,
    StoreOpened,
)
from tui.screens.dashboard_screen import DashboardScreen, report_worker_error
from tui.screens.feeds_screen import FeedsScreen
from tui.screens.help_screen import HelpScreen, Section
from tui.screens.main_screen import MainScreen
from tui.screens.matrix_screen import MatrixScreen
from tui.screens.statement_screen import StatementScreen
from tui.seen import SeenMarks
from tui.snapshot import Snapshot, is_failing
from tui.widgets.actor_list import ActorList
from tui.widgets.card_grid import CardGrid
from tui.widgets.filter_bar import FilterBar
from tui.widgets.history_list import HistoryList
from tui.widgets.matrix_table import MatrixTable
from tui.widgets.status_line import PollStatus

if TYPE_CHECKING:
    # The store and the poll round (httpx, feedparser, the extractor) are
    # imported in a thread once the first frame is up: they are a third of
    # the start-up time.
    from sources.poll import FeedReport
    from sources.pool import ParsePool
    from store import Store
    from tui.cli import Context

POLL_EVERY = 60.0
"""Seconds between checks for due feeds; each feed keeps its own interval."""
CONFIG_CHECK_EVERY = 2.0
TICK_EVERY = 30.0
"""Ages ("3 min ago") and the status line are redrawn this often."""
MAX_CHANGE_TOASTS = 4
SEEN_AFTER = 1.5
"""Seconds an actor must stay on screen before its changes count as seen,
so paging through the list with j/k does not clear every mark."""
DEMO_LATE_AFTER = 25.0
"""Seconds into the demo before its wire carries a new item (a live update)."""


@dataclass(frozen=True, slots=True)
class PollRequest:
    """What the next round should poll."""

    force: bool = False
    only: frozenset[str] | None = None
    """Just these feed URLs (a re-poll, or feeds new in the config)."""


def plan_rounds(requests: Sequence[PollRequest]) -> list[PollRequest]:
    """The fewest rounds that do what the queued requests asked.

    A forced full round covers everything. Otherwise the named feeds (a
    re-poll, feeds new in the config) go in one round and the due feeds in
    another, since a due round would skip a named feed that is not due.
    """
    if any(r.force and r.only is None for r in requests):
        return [PollRequest(force=True)]
    named = frozenset().union(*(r.only for r in requests if r.only is not None))
    rounds = [PollRequest(force=True, only=named)] if named else []
    if any(r.only is None for r in requests):
        rounds.append(PollRequest())
    return rounds


class StancewatchApp(App[None]):
    """The stancewatch dashboard."""

    CSS_PATH = [
        "app.tcss",
        "main_screen.tcss",
        "matrix_screen.tcss",
        "statement_screen.tcss",
        "feeds_screen.tcss",
        "help_screen.tcss",
    ]
    TITLE = "stancewatch"
    BINDINGS = [
        Binding(
            "m",
            "show_matrix",
            "Matrix",
            tooltip="Every actor's stance on every topic",
            id="app.matrix",
        ),
        Binding(
            "f", "show_feeds", "Feeds", tooltip="Each feed's health and last error", id="app.feeds"
        ),
        Binding("r", "poll_now", "Poll now", tooltip="Poll every feed now", id="app.poll-now"),
        Binding(
            "ctrl+r",
            "reload_config",
            "Reload config",
            show=False,
            tooltip="Read the config file again",
            id="app.reload-config",
        ),
        Binding(
            "question_mark", "help", "Help", tooltip="Every key on every screen", id="app.help"
        ),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        config: Config,
        db_path: Path,
        *,
        clock: Callable[[], datetime] = utc_now,
        poll: bool = True,
        watch_config: bool = True,
        seen_path: Path | None = None,
        seen_after: float = SEEN_AFTER,
        demo_folder: Path | None = None,
    ) -> None:
        """Build the app; nothing is read or opened until it runs.

        Args:
            config: the validated config (its `path` is watched for edits).
            db_path: the database file (created if missing).
            clock: the present, in UTC; tests pass a fixed one.
            poll: run poll rounds (off for tests on a fixed store).
            watch_config: re-read the config file when it changes.
            seen_path: where "seen" marks persist; None keeps them in memory.
            seen_after: seconds an actor stays on screen before its changes
                count as seen.
            demo_folder: the folder of the bundled offline demo, whose wire
                gets a new item a little after the start (a live update to see).
        """
        super().__init__()
        self.config = config
        self.db_path = db_path
        self.clock = clock
        self.poll_enabled = poll
        self.watch_config = watch_config
        self.seen_path = seen_path
        self.seen_after = seen_after
        self.demo_folder = demo_folder
        self.store: Store | None = None
        self.read_only = False
        self.snapshot: Snapshot | None = None
        self.seen = SeenMarks()
        self.status = PollStatus(
            now=clock(),
            note="opening the database…",
            label="DEMO" if demo_folder is not None else "",
        )
        self.fatal: str | None = None
        """Why the app gave up (printed on stderr by `run_dashboard`)."""
        self.rounds = 0
        """Poll rounds finished, for tests and the benchmark."""
        self._requests: asyncio.Queue[PollRequest] = asyncio.Queue()
        self._polling: tuple[int, int] | None = None
        self._last_round: datetime | None = None
        self._config_stamp: tuple[int, int] | None = None
        self._poll_pending = False
        """The poll loop waits for the first snapshot to be on screen (see `_start_polling`)."""
        if demo_folder is not None:
            self.sub_title = "demo"
        if poll:
            # The parse pool spawns processes, and multiprocessing starts its
            # resource tracker with sys.stderr's file descriptor. Once Textual
            # runs, sys.stderr is its print capture, whose fileno() is -1, and
            # the spawn fails ("bad value(s) in fds_to_keep"). Start the
            # tracker now, while stderr is still the terminal.
            from multiprocessing import resource_tracker

            resource_tracker.ensure_running()

    def get_default_screen(self) -> Screen[Any]:
        return MainScreen()

    @property
    def main_screen(self) -> MainScreen:
        """The screen at the bottom of the stack."""
        screen = self.screen_stack[0]
        assert isinstance(screen, MainScreen)
        return screen

    def on_mount(self) -> None:
        self._open_store()
        self.set_interval(TICK_EVERY, self._tick)
        if self.watch_config:
            self._check_config(force=False)
            self.set_interval(CONFIG_CHECK_EVERY, lambda: self._check_config(force=False))

    # --- pushing data down to the screens ----------------------------------------------

    def _screens(self) -> Iterable[DashboardScreen[Any]]:
        for screen in self.screen_stack:
            if isinstance(screen, DashboardScreen):
                yield screen

    def _set_status(self, **changes: Any) -> None:
        snapshot = self.snapshot
        feeds = self.config.feeds
        states = {s.url: s for s in snapshot.feeds} if snapshot else {}
        failing = sum(1 for f in feeds if is_failing(states.get(f.url)))
        polled = sum(1 for f in feeds if f.url in states)
        now = self.clock()
        next_poll = None
        if feeds and not self.read_only and self.poll_enabled and self.store is not None:
            from sources.schedule import next_wakeup

            due = next_wakeup(feeds, states, now)
            # Rounds start on the minute tick, so a due feed waits for it.
            next_poll = max(due, now)
        counts = snapshot.counts if snapshot else {}
        # Before this session's first round, the last poll is the store's
        # (a `stancewatch poll` in cron, or the previous session).
        attempts = [s.last_attempt for s in states.values() if s.last_attempt is not None]
        last_round = self._last_round or (max(attempts) if attempts else None)
        values: dict[str, Any] = {
            "now": now,
            "last_round": last_round,
            "next_poll": next_poll,
            "ok": polled - failing,
            "failing": failing,
            "feeds": len(feeds),
            "polling": self._polling,
            "statements": counts.get("statements", 0),
            "items": counts.get("items", 0),
            "note": "" if self.store is not None else self.status.note,
            "read_only": self.read_only,
            "label": "DEMO" if self.demo_folder is not None else "",
        }
        values.update(changes)
        self.status = PollStatus(**values)
        for screen in self._screens():
            screen.status = self.status

    def _tick(self) -> None:
        self._set_status()
        self.main_screen.refresh_ages()

    # --- the store ------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="store", exit_on_error=False)
    def _open_store(self) -> None:
        from store import Store

        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            store = Store.open(self.db_path, readonly=False, recover=True)
        except StoreLockedError:
            # Another stancewatch polls this database: show it, but leave the
            # polling (and every write) to that one.
            try:
                store = Store.open(self.db_path, readonly=True)
            except StancewatchError as exc:
                self.post_message(StoreFailed(str(exc)))
                return
            self.read_only = True
        except StancewatchError as exc:
            self.post_message(StoreFailed(str(exc)))
            return
        if self.seen_path is not None:
            self.seen = SeenMarks.load(self.seen_path)
        if self.poll_enabled:
            import sources.poll  # noqa: F401  (loaded here, off the event loop)
        self.post_message(StoreOpened(store))

    @on(StoreOpened)
    def _store_opened(self, event: StoreOpened) -> None:
        self.store = event.store
        recovered = getattr(event.store, "recovered_from", None)
        if recovered is not None:
            self.notify(
                f"The database {self.db_path} could not be read; it was moved to "
                f"{recovered} and a new one started.",
                title="Database damaged",
                severity="warning",
                timeout=30,
                markup=False,
            )
        if self.read_only:
            self.notify(
                "Another stancewatch is polling this database. This window shows it "
                "read-only and does not poll.",
                title="Read-only",
                severity="warning",
                timeout=15,
                markup=False,
            )
        self._set_status(note="")
        self._load_snapshot()
        if self.poll_enabled and not self.read_only:
            self._requests.put_nowait(PollRequest())
            self._poll_pending = True
            self.set_interval(POLL_EVERY, self._request_due_round)
            if self.demo_folder is not None:
                self.set_timer(DEMO_LATE_AFTER, self._demo_late_news)
        elif self.read_only:
            self.set_interval(POLL_EVERY / 4, self._reload_read_only)

    @on(StoreFailed)
    def _store_failed(self, event: StoreFailed) -> None:
        self.fatal = event.error
        self.exit(return_code=1)

    @work(thread=True, exclusive=True, group="snapshot", exit_on_error=False)
    def _load_snapshot(self) -> None:
        store = self.store
        if store is not None:
            self.post_message(SnapshotLoaded(Snapshot.load(store, self.clock())))

    @work(thread=True, exclusive=True, group="snapshot", exit_on_error=False)
    def _reload_read_only(self) -> None:
        store = self.store
        if store is not None and store.reload():
            self.post_message(SnapshotLoaded(Snapshot.load(store, self.clock())))

    @on(SnapshotLoaded)
    def _snapshot_loaded(self, event: SnapshotLoaded) -> None:
        previous = self.snapshot
        self.snapshot = event.snapshot
        if self._poll_pending:
            self.call_after_refresh(self._start_polling)
        if previous is not None:
            self._announce_changes(previous, event.snapshot)
        for screen in self._screens():
            screen.snapshot = event.snapshot
        self._set_status()

    def _announce_changes(self, before: Snapshot, after: Snapshot) -> None:
        """A toast for each position whose stance moved between two reads."""
        moved: list[tuple[Position, Position]] = []
        for pair, position in after.positions.items():
            old = before.positions.get(pair)
            if (
                old is not None
                and old.statement.id != position.statement.id
                and old.statement.stance != position.statement.stance
            ):
                moved.append((old, position))
        for old, position in moved[:MAX_CHANGE_TOASTS]:
            statement = position.statement
            actor = self.config.actor(statement.actor)
            topic = self.config.topic(statement.topic)
            speaker = plain(statement.speaker) or "unnamed speaker"
            self.notify(
                f"{actor.name if actor else statement.actor} · "
                f"{topic.name if topic else statement.topic}: "
                f"{stance_word(old.statement.stance)} → {stance_word(statement.stance)}\n"
                f"{speaker}: “{plain(statement.claim)}”",
                title="Position changed",
                severity="warning",
                timeout=12,
                markup=False,
            )
        if len(moved) > MAX_CHANGE_TOASTS:
            self.notify(
                f"…and {len(moved) - MAX_CHANGE_TOASTS} more positions changed (see the matrix).",
                title="Position changed",
                severity="warning",
                timeout=12,
                markup=False,
            )

    def mark_seen(self, positions: Sequence[Position]) -> bool:
        """Record positions as seen by the user; True when a mark moved."""
        changed = self.seen.mark(positions)
        if changed and self.seen_path is not None:
            self._save_seen(self.seen.copy())
        return changed

    @work(thread=True, exclusive=True, group="seen", exit_on_error=False)
    def _save_seen(self, marks: SeenMarks) -> None:
        if self.seen_path is not None:
            marks.save(self.seen_path)

    # --- polling --------------------------------------------------------------------

    def request_poll(self, *, force: bool = False, only: Sequence[str] | None = None) -> None:
        """Queue a round; the poll loop merges requests that pile up during a round."""
        if self.store is None or self.read_only or not self.poll_enabled:
            return
        self._requests.put_nowait(
            PollRequest(force=force, only=frozenset(only) if only is not None else None)
        )

    @work(thread=True, exclusive=True, group="demo", exit_on_error=False)
    def _demo_late_news(self) -> None:
        from tui.demo import release_late_item

        if self.demo_folder is not None:
            url = release_late_item(self.demo_folder, self.clock())
            self.call_from_thread(self.request_poll, force=True, only=[url])

    def _request_due_round(self) -> None:
        if not self._requests.empty() or self._polling is not None:
            return
        from sources.schedule import due_feeds

        # Most minutes nothing is due: say nothing, write nothing.
        states = {s.url: s for s in self.snapshot.feeds} if self.snapshot else {}
        if due_feeds(self.config.feeds, states, self.clock()):
            self._requests.put_nowait(PollRequest())

    @work(exclusive=True, group="poller", exit_on_error=False, description="poll loop")
    async def _poll_loop(self) -> None:
        from sources.fetch import Fetcher
        from sources.poll import poll_round

        store = self.store
        assert store is not None
        settings = self.config.settings
        parser: ParsePool = await asyncio.to_thread(self._start_parser, settings.timeout)
        try:
            async with Fetcher(settings) as fetcher:
                while True:
                    queued = [await self._requests.get()]
                    while not self._requests.empty():
                        queued.append(self._requests.get_nowait())
                    config = self.config
                    if config.settings != settings:
                        # The HTTP client was built for the old settings: start over.
                        for request in queued:
                            self._requests.put_nowait(request)
                        self.call_later(self._poll_loop)
                        return
                    for request in plan_rounds(queued):
                        self.post_message(RoundStarted(0))
                        try:
                            report = await poll_round(
                                config,
                                store,
                                fetcher=fetcher,
                                parser=parser,
                                now=self.clock(),
                                force=request.force,
                                only=request.only,
                                progress=self._progress,
                            )
                        except Exception as exc:  # the loop must outlive a bad round
                            self.notify(
                                f"{type(exc).__name__}: {exc}",
                                title="Poll round failed",
                                severity="error",
                                timeout=15,
                                markup=False,
                            )
                            self.post_message(RoundFinished(None))
                            continue
                        self.post_message(RoundFinished(report))
        finally:
            parser.__exit__(None, None, None)

    @staticmethod
    def _start_parser(timeout: float) -> ParsePool:
        from sources.pool import ParsePool

        pool = ParsePool(timeout=max(5.0, timeout))
        pool.__enter__()
        return pool

    def _start_polling(self) -> None:
        """Start the poll loop, once, after the first data is drawn (or failed to load).

        A round's threads (the store's first reads, the parse pool's pickling)
        hold the GIL in long stretches; started with the first layout of the
        data, they stretched it past 100 ms (tests/bench/bench_dashboard.py,
        start: longest stall 109-121 ms, 76-84 ms when started after it).
        """
        if self._poll_pending:
            self._poll_pending = False
            self._poll_loop()

    def _progress(self, report: FeedReport, done: int, total: int) -> None:
        self.post_message(FeedPolled(report, done, total))

    @on(RoundStarted)
    def _round_started(self, event: RoundStarted) -> None:
        self._polling = (0, event.total)
        self._set_status()

    @on(FeedPolled)
    def _feed_polled(self, event: FeedPolled) -> None:
        self._polling = (event.done, event.total)
        self._set_status()

    @on(RoundFinished)
    def _round_finished(self, event: RoundFinished) -> None:
        self._polling = None
        self.rounds += 1
        report = event.report
        if report is not None and not report.feeds:
            # Nothing was due: no poll to report, nothing new to read.
            self._set_status()
            return
        if report is not None:
            self._last_round = report.finished
            before = {s.url: s for s in self.snapshot.feeds} if self.snapshot else {}
            failed = [
                feed
                for feed in report.feeds
                if feed.outcome is Outcome.ERROR and not is_failing(before.get(feed.url))
            ]
            for feed in failed if len(failed) <= 2 else ():
                self.notify(
                    f"{plain(feed.name)}: {plain(feed.error)}",
                    title="Feed failing",
                    severity="error",
                    timeout=8,
                    markup=False,
                )
            if len(failed) > 2:
                # One toast, not a wall of them (no network, say): the feeds screen has each.
                names = ", ".join(plain(f.name) for f in failed[:3])
                if len(failed) > 3:
                    names += f" and {len(failed) - 3} more"
                self.notify(
                    f"{names}. First error: {plain(failed[0].error)}."
                    " Press f for the feeds screen.",
                    title=f"{len(failed)} feeds failing",
                    severity="error",
                    timeout=10,
                    markup=False,
                )
        self._set_status()
        self._load_snapshot()

    # --- the config file ------------------------------------------------------------

    @work(thread=True, exclusive=True, group="config-watcher", exit_on_error=False)
    def _check_config(self, force: bool) -> None:
        path = self.config.path
        try:
            stat = os.stat(path)
        except OSError as exc:
            if force:
                self.post_message(ConfigRejected(f"{path}: {exc.strerror}"))
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._config_stamp and not force:
            return
        # The first look reads the file too: it may have changed between the
        # start and now, and a parse of one small file costs nothing.
        self._config_stamp = stamp
        try:
            config = load_config(path)
        except StancewatchError as exc:
            self.post_message(ConfigRejected(str(exc)))
            return
        if config != self.config or force:
            self.post_message(ConfigReloaded(config))

    @on(ConfigRejected)
    def _config_rejected(self, event: ConfigRejected) -> None:
        self.notify(
            f"Keeping the previous config. {event.error}",
            title="Config not reloaded",
            severity="error",
            timeout=15,
            markup=False,
        )

    @on(ConfigReloaded)
    def _config_reloaded(self, event: ConfigReloaded) -> None:
        old, new = self.config, event.config
        if old == new:
            self.notify("The config has not changed.", title="Config", markup=False)
            return
        self.config = new
        added = [f.url for f in new.feeds if f.url not in {g.url for g in old.feeds}]
        changes = []
        if added:
            changes.append(f"{len(added)} feed{'s' if len(added) != 1 else ''} added")
        if len(new.feeds) < len(old.feeds) and not added:
            changes.append("feeds removed")
        if new.actors != old.actors:
            changes.append("actors changed")
        if new.topics != old.topics:
            changes.append("topics changed")
        if new.settings != old.settings:
            changes.append("settings changed")
        self.notify(
            "Config reloaded: " + (", ".join(changes) or "no change that shows") + ".",
            title="Config",
            markup=False,
        )
        for screen in self._screens():
            screen.config = new
        self._set_status()
        if added:
            self.request_poll(force=True, only=added)

    # --- actions --------------------------------------------------------------------

    def _to_main(self) -> None:
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def action_show_matrix(self) -> None:
        self._to_main()
        main = self.main_screen
        self.push_screen(MatrixScreen(main.actor_id, main.topic_id), self._matrix_closed)

    def _matrix_closed(self, cell: tuple[str, str] | None) -> None:
        if cell is not None:
            self.main_screen.select(*cell)

    def action_show_feeds(self) -> None:
        self._to_main()
        self.push_screen(FeedsScreen())

    def action_poll_now(self) -> None:
        self.request_poll(force=True)
        self.notify("Polling every feed now.", markup=False, timeout=3)

    def action_reload_config(self) -> None:
        self._check_config(force=True)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(help_sections()))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        screen = self.screen
        if action == "show_matrix":
            return not isinstance(screen, MatrixScreen)
        if action == "show_feeds":
            return not isinstance(screen, FeedsScreen)
        if action == "poll_now":
            if self.read_only or not self.poll_enabled or not self.config.feeds:
                return False
            return self.store is not None or None
        return True

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every action by name, with its key; and each actor, to jump to it."""
        if isinstance(screen, MainScreen):
            yield SystemCommand(
                "Filter", "Filter actors and statements by text (/)", screen.action_filter
            )
            yield SystemCommand(
                "Next actor", "Move down the actor list (j)", lambda: screen.action_move_actor(1)
            )
            yield SystemCommand(
                "Previous actor", "Move up the actor list (k)", lambda: screen.action_move_actor(-1)
            )
            yield SystemCommand(
                "Open the selected card",
                "The statement behind the selected topic card (enter)",
                screen.open_selected_card,
            )
        if isinstance(screen, StatementScreen):
            yield SystemCommand(
                "Open in browser", "Open the article's link (o)", screen.action_open_link
            )
            yield SystemCommand("Copy link", "Copy the article's link (c)", screen.action_copy_link)
        if isinstance(screen, FeedsScreen):
            yield SystemCommand(
                "Re-poll feed", "Poll the selected feed now (r)", screen.action_repoll
            )
        if isinstance(screen, MatrixScreen):
            yield SystemCommand(
                "Show cell", "Show this actor and topic (enter)", screen.action_open_cell
            )
        if len(self.screen_stack) > 1 and not isinstance(screen, MainScreen):
            yield SystemCommand("Back", "Back to the previous screen (escape)", self.pop_screen)
        yield SystemCommand(
            "Matrix", "Every actor's stance on every topic (m)", self.action_show_matrix
        )
        yield SystemCommand("Feeds", "Each feed's health and errors (f)", self.action_show_feeds)
        yield SystemCommand("Poll now", "Fetch every feed now (r)", self.action_poll_now)
        yield SystemCommand(
            "Reload config", "Read the config file again (ctrl+r)", self.action_reload_config
        )
        yield SystemCommand("Help", "Every key on every screen (?)", self.action_help)
        for actor in self.config.actors:
            yield SystemCommand(
                f"Show {actor.name}",
                f"{actor.name}'s positions on the main screen",
                lambda actor_id=actor.id: self._show_actor(actor_id),
                discover=False,
            )
        yield from super().get_system_commands(screen)

    def _show_actor(self, actor_id: str) -> None:
        self._to_main()
        self.main_screen.show_actor(actor_id)

    # --- errors from workers --------------------------------------------------------

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        report_worker_error(self, event)
        if event.worker.group == "snapshot" and event.state is WorkerState.ERROR:
            self._start_polling()  # no first snapshot to wait for


def help_sections() -> list[Section]:
    """The help screen's sections, straight from the bindings."""
    return [
        ("Everywhere", [StancewatchApp.BINDINGS]),
        ("Main screen", [MainScreen.BINDINGS]),
        (
            "Actor list",
            [ActorList.BINDINGS, [Binding("up,down", "help.arrows", "Previous / next actor")]],
        ),
        ("Topic cards", [CardGrid.BINDINGS]),
        ("History", [HistoryList.BINDINGS]),
        (
            "Filter (/)",
            [
                FilterBar.BINDINGS,
                [Binding("enter", "help.keep", "Keep the filter, back to the list")],
            ],
        ),
        ("Matrix (m)", [MatrixScreen.BINDINGS, MatrixTable.BINDINGS]),
        ("Statement", [StatementScreen.BINDINGS]),
        ("Feeds (f)", [FeedsScreen.BINDINGS]),
        (
            "Moving focus",
            [[Binding("tab", "", "Next pane"), Binding("shift+tab", "", "Previous pane")]],
        ),
    ]


# --- entry point for the CLI -----------------------------------------------------------


def run_dashboard(ctx: Context, *, demo: bool) -> int:
    """Run the dashboard (or the demo) until the user quits; returns the exit code.

    Config errors surface here, before the UI starts, as one line on stderr.
    """
    if demo:
        from tui.demo import prepare_demo

        folder = Path(tempfile.mkdtemp(prefix="stancewatch-demo-"))
        try:
            config_path = prepare_demo(folder, utc_now())
            app = StancewatchApp(load_config(config_path), folder / "demo.json", demo_folder=folder)
            _run(app)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    else:
        config = ctx.config()
        db_path = ctx.db_path()
        app = StancewatchApp(
            config, db_path, seen_path=db_path.with_name(db_path.name + ".seen.json")
        )
        _run(app)
    if app.fatal:
        ctx.say(f"stancewatch: {app.fatal}")
        return 1
    return app.return_code or 0


def _run(app: StancewatchApp) -> None:
    try:
        app.run()
    finally:
        if app.store is not None:
            app.store.close()
