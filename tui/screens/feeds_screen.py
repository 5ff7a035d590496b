"""Every feed's health: title, URL, last success, last error, items, next poll."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.events import Resize
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
        Binding(
            "r", "repoll", "Re-poll feed", tooltip="Poll the selected feed now", id="feeds.repoll"
        ),
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
        # Below 110 columns the table keeps what tells ok from failing; next
        # poll, error and URL are in the detail pane under it.
        wide = self.size.width >= 110
        columns: list[tuple[str, str, int | None]] = [
            ("Status", "status", 14),
            ("Feed", "feed", 0),
            ("Items", "items", 6),
            ("Last success", "success", 18),
        ]
        if wide:
            columns += [("Next poll", "next", 18), ("Last error", "error", 0)]
        if self.size.width >= 170:
            columns.append(("URL", "url", 0))
        fixed = sum(w or 0 for _, _, w in columns) + 2 * len(columns) + 2
        flexible = sum(1 for _, _, w in columns if not w)
        share = max(16, (self.size.width - fixed) // max(1, flexible))
        for label, key, width in columns:
            table.add_column(label, key=key, width=width or share)
        now = self.dashboard.clock()
        rows = self._feeds()
        self._urls = [spec.url for spec, _ in rows]
        for spec, state in rows:
            failing = is_failing(state)
            style = FAILING_STYLE if failing else ""
            name = spec.name or (state.title if state else "") or spec.url
            cells = [
                status_text(state),
                literal(name, style="bold" if failing else ""),
                Text(f"{state.total_items:,}" if state else "0", justify="right"),
                Text(
                    f"{clock_text(state.last_success, now)} ({age_text(state.last_success, now)})"
                    if state and state.last_success
                    else "never"
                ),
            ]
            if wide:
                cells += [
                    Text(self._next(state, now)),
                    literal(state.last_error if state and failing else "", style=style),
                ]
            if self.size.width >= 170:
                cells.append(literal(spec.url, style="dim"))
            table.add_row(*cells, key=spec.url)
        if current in self._urls:
            table.move_cursor(row=self._urls.index(current), scroll=False)
            table.scroll_to(y=scroll, animate=False)
        self._show_detail()

    def on_resize(self, event: Resize) -> None:
        # (DashboardScreen.on_resize runs too: Textual calls each class's handler.)
        self.refresh_data()

    @staticmethod
    def _next(state: FeedState | None, now: datetime) -> str:
        if state is None or state.next_poll is None:
            return "now"
        if state.next_poll <= now:
            return "due now"
        return clock_text(state.next_poll, now)

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

        def label(text: str) -> Content:
            return Content.styled(f"{text:<7}", "dim")

        lines: list[Content | str] = [label("URL"), Content(plain(url)), "\n", label("Title")]
        lines.append(Content(plain(state.title) if state and state.title else "(not fetched yet)"))
        if spec is not None and spec.name:
            lines += [
                Content.styled("  (configured name: ", "dim"),
                Content(plain(spec.name)),
                Content.styled(")", "dim"),
            ]
        lines += ["\n", label("Next"), Content(self._next(state, now))]
        if state is not None and state.next_poll is not None and state.next_poll > now:
            lines.append(Content.styled(f" ({age_text(state.next_poll, now)})", "dim"))
        if state is not None and state.last_attempt is not None:
            lines += [Content.styled(f"   last try {age_text(state.last_attempt, now)}", "dim")]
        if state is not None and is_failing(state):
            lines += [
                "\n",
                label("Error"),
                Content.styled(plain(state.last_error) or "unknown error", FAILING_STYLE),
                Content.styled(
                    f"  ({state.failures} failure{'s' if state.failures != 1 else ''} in a row)",
                    "dim",
                ),
            ]
        elif state is not None and state.outcome is not Outcome.NEW:
            lines += [
                "\n",
                label("Last"),
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
