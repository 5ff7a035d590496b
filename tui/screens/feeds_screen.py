"""Every feed's health: title, URL, last success, last error, items, next poll."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable, Footer, Static

from sources.records import FeedSpec, FeedState, Outcome
from tui.format import age_text, clock_text, literal, plain
from tui.screens.dashboard_screen import DashboardScreen
from tui.snapshot import is_failing
from tui.widgets.feeds_table import FeedsTable
from tui.widgets.status_line import StatusLine

FAILING_STYLE = "bold #e5534b"


def status_text(state: FeedState | None) -> Text:
    """The status cell: words first, colour second."""
    if state is None or state.outcome is Outcome.NEW:
        return Text("new", style="dim")
    if is_failing(state):
        return Text(f"FAILING ×{max(1, state.failures)}", style=FAILING_STYLE)
    if state.outcome is Outcome.NOT_MODIFIED:
        return Text("ok (unchanged)", style="#4cbb6c")
    return Text("ok", style="#4cbb6c")


class FeedsScreen(DashboardScreen[None]):
    """Feeds, failing ones first and in red with the word FAILING; `r` re-polls one."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="feeds.back"),
        Binding("r", "repoll", "Re-poll feed", id="feeds.repoll"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._urls: list[str] = []

    def compose(self) -> ComposeResult:
        yield StatusLine()
        yield FeedsTable(id="feeds")
        yield Static(id="feed-detail", markup=False)
        yield Footer()

    def _feeds(self) -> list[tuple[FeedSpec, FeedState | None]]:
        config = self.config
        if config is None:
            return []
        states = {s.url: s for s in self.snapshot.feeds} if self.snapshot else {}
        rows = [(spec, states.get(spec.url)) for spec in config.feeds]
        # Failing first, then the config's order (sorted() is stable).
        return sorted(rows, key=lambda row: not is_failing(row[1]))

    def refresh_data(self) -> None:
        table = self.query_one(FeedsTable)
        current = self._url()
        scroll = table.scroll_y
        table.clear(columns=True)
        for label, key, width in (
            ("Status", "status", 14),
            ("Feed", "feed", 28),
            ("Items", "items", 6),
            ("Last success", "success", 16),
            ("Next poll", "next", 16),
            ("Last error", "error", None),
        ):
            table.add_column(label, key=key, width=width)
        now = self.dashboard.clock()
        rows = self._feeds()
        self._urls = [spec.url for spec, _ in rows]
        for spec, state in rows:
            failing = is_failing(state)
            style = FAILING_STYLE if failing else ""
            name = spec.name or (state.title if state else "") or spec.url
            table.add_row(
                status_text(state),
                literal(name, style="bold" if failing else ""),
                Text(f"{state.total_items:,}" if state else "0", justify="right"),
                Text(
                    f"{clock_text(state.last_success, now)} ({age_text(state.last_success, now)})"
                    if state and state.last_success
                    else "never"
                ),
                Text(self._next(state, now)),
                literal(state.last_error if state and failing else "", style=style),
                key=spec.url,
            )
        if current in self._urls:
            table.move_cursor(row=self._urls.index(current), scroll=False)
            table.scroll_to(y=scroll, animate=False)
        self._show_detail()

    @staticmethod
    def _next(state: FeedState | None, now: datetime) -> str:
        if state is None or state.next_poll is None:
            return "now"
        if state.next_poll <= now:
            return "due now"
        return f"{clock_text(state.next_poll, now)} ({age_text(state.next_poll, now)})"

    def _url(self) -> str | None:
        table = self.query_one(FeedsTable)
        if not table.row_count or not self._urls:
            return None
        row = table.cursor_row
        return self._urls[row] if 0 <= row < len(self._urls) else None

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        detail = self.query_one("#feed-detail", Static)
        url = self._url()
        config = self.config
        if url is None or config is None:
            detail.update(Content("No feeds configured. Add one with `stancewatch feeds add URL`."))
            return
        spec = next((f for f in config.feeds if f.url == url), None)
        state = self.snapshot.feed(url) if self.snapshot else None
        now = self.dashboard.clock()
        lines: list[Content | str] = [
            Content.styled("URL    ", "dim"),
            Content(plain(url)),
            "\n",
            Content.styled("Title  ", "dim"),
            Content(plain(state.title) if state and state.title else "(not fetched yet)"),
        ]
        if spec is not None and spec.name:
            lines += [Content.styled("   name in config: ", "dim"), Content(plain(spec.name))]
        if state is not None and is_failing(state):
            lines += [
                "\n",
                Content.styled("Error  ", "dim"),
                Content.styled(plain(state.last_error) or "unknown error", FAILING_STYLE),
                Content.styled(
                    f"  ({state.failures} failure{'s' if state.failures != 1 else ''} in a row;"
                    f" last try {age_text(state.last_attempt, now)})",
                    "dim",
                ),
            ]
        elif state is not None:
            lines += [
                "\n",
                Content.styled("Last   ", "dim"),
                Content(
                    f"{state.new_items} new, {state.seen_items} already seen in the last fetch"
                ),
            ]
        detail.update(Content.assemble(*lines))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "repoll":
            return True if self._urls else None
        return True

    def action_repoll(self) -> None:
        url = self._url()
        if url is not None:
            self.dashboard.request_poll(only=(url,))
            self.notify(f"Polling {url}", markup=False)

    def action_back(self) -> None:
        self.dismiss()
