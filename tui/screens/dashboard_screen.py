"""What every full screen of the dashboard shares: the config, the snapshot, the status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from textual import on
from textual.app import App
from textual.events import Resize
from textual.reactive import reactive
from textual.screen import Screen, ScreenResultType
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from sources.config import Config
from tui.snapshot import Snapshot
from tui.widgets.status_line import PollStatus, StatusLine

if TYPE_CHECKING:
    from tui.app import StancewatchApp


class DashboardScreen(Screen[ScreenResultType]):
    """A screen the app keeps up to date: it sets these attributes on every screen it holds."""

    # repaint=False: the screen draws nothing itself, and its widgets refresh
    # what they change. A repainting reactive on a Screen redraws every cell
    # of it, and `status` changes with every feed a round finishes: at 200
    # feeds that was a full 120x40 repaint (5 ms idle, 50-90 ms while a store
    # thread held the GIL) many times a second (tests/bench/bench_dashboard.py).
    config: reactive[Config | None] = reactive(None, init=False, always_update=True, repaint=False)
    """The config in force (replaced when the file changes)."""
    snapshot: reactive[Snapshot | None] = reactive(
        None, init=False, always_update=True, repaint=False
    )
    """The positions and feed health of the last read."""
    status: reactive[PollStatus | None] = reactive(None, init=False, repaint=False)
    """What the status line says."""

    @property
    def dashboard(self) -> StancewatchApp:
        """The app, typed."""
        return cast("StancewatchApp", self.app)

    def watch_status(self, status: PollStatus | None) -> None:
        # A screen under another full screen is not drawn, and Textual redraws
        # the whole top screen when one below it changes: once per feed of a
        # round. It catches up when it is shown again (on_screen_resume).
        if self._covered():
            return
        for line in self.query(StatusLine):
            line.status = status

    def _covered(self) -> bool:
        """Whether a full (not modal) screen is on top of this one."""
        stack = self.app.screen_stack
        above = stack[stack.index(self) + 1 :] if self in stack else []
        return any(not screen.is_modal for screen in above)

    def on_screen_resume(self) -> None:
        for line in self.query(StatusLine):
            line.status = self.status

    def on_mount(self) -> None:
        app = self.dashboard
        self.set_reactive(DashboardScreen.config, app.config)
        self.set_reactive(DashboardScreen.snapshot, app.snapshot)
        self.status = app.status
        self.refresh_data()

    def on_resize(self, event: Resize) -> None:
        # At 80 columns every footer key must fit: drop the spaces and the
        # palette hint (the help screen names ctrl+p).
        narrow = event.size.width < 110
        for footer in self.query(Footer):
            footer.compact = narrow
            footer.show_command_palette = not narrow

    def watch_config(self) -> None:
        if self.is_mounted:
            self.refresh_data()

    def watch_snapshot(self) -> None:
        if self.is_mounted:
            self.refresh_data()

    def refresh_data(self) -> None:
        """Redraw from `config` and `snapshot`; each screen fills this in."""

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        report_worker_error(self.app, event)


def report_worker_error(app: App[Any], event: Worker.StateChanged) -> None:
    """A worker died: say so in a toast instead of quitting the app (Textual's default)."""
    if event.state is not WorkerState.ERROR:
        return
    error = event.worker.error
    what = event.worker.description or event.worker.group or event.worker.name
    app.notify(
        f"{type(error).__name__}: {error}",
        title=f"Background task failed ({what})",
        severity="error",
        timeout=15,
        markup=False,
    )
