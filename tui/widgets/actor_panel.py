"""The right side of the main screen: one actor's cards, and the history of one topic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Sparkline, Static

from sources.records import Statement
from tui.format import CHANGE_MARK
from tui.widgets.card_grid import CardGrid
from tui.widgets.history_list import HistoryList, header_line, history_columns
from tui.widgets.topic_card import CardView


@dataclass(frozen=True, slots=True)
class HistoryView:
    """The history pane's content: one (actor, topic), its statements and activity."""

    actor_id: str
    topic_id: str
    topic_name: str
    statements: tuple[Statement, ...]
    total: int
    """Statements on record (the table may show fewer)."""
    activity: tuple[int, ...]
    """Statements per day, oldest first."""
    filter_text: str = ""


class ActorPanel(Vertical):
    """Cards for every topic of one actor; under them, the selected topic's history."""

    def __init__(self, views: Sequence[CardView] = (), *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._initial = tuple(views)

    def compose(self) -> ComposeResult:
        yield Static(id="panel-title", markup=False)
        cards = CardGrid(id="cards")
        cards.set_reactive(CardGrid.views, self._initial)
        yield cards
        with Vertical(id="history-pane"):
            with Horizontal(id="history-head"):
                yield Static(id="history-title", markup=False)
                yield Sparkline([], id="activity")
                yield Static(id="activity-caption", markup=False)
            yield Static(header_line(history_columns(80)), id="history-columns", markup=False)
            yield HistoryList(id="history")

    def show_actor(
        self, name: str, positions: int, changed: int, views: Sequence[CardView]
    ) -> None:
        """Set the title and the cards (in place, keeping the selected card)."""
        detail = f"{positions} position{'s' if positions != 1 else ''}"
        if changed:
            detail += f", {changed} changed since you last looked"
        self.query_one("#panel-title", Static).update(
            Content.assemble(Content.styled(name, "bold"), Content.styled(f"  {detail}", "dim")),
            layout=False,
        )
        self.query_one(CardGrid).views = tuple(views)

    def show_history(self, view: HistoryView) -> None:
        """Fill the history table and the sparkline (keeping the cursor on its row)."""
        shown = len(view.statements)
        if view.filter_text:
            count = f"{shown} matching “{view.filter_text}”"
        elif shown < view.total:
            count = f"newest {shown} of {view.total} (more load as you scroll)"
        else:
            count = f"{view.total} statement{'s' if view.total != 1 else ''}"
        self.query_one("#history-title", Static).update(
            Content.assemble(
                Content.styled("History: ", "bold"),
                Content.styled(view.topic_name, "bold"),
                Content.styled(f"  {count}  {CHANGE_MARK} stance changed", "dim"),
            ),
            layout=False,
        )
        days = len(view.activity)
        spoke = sum(view.activity)
        self.query_one(Sparkline).data = list(view.activity)
        self.query_one("#activity-caption", Static).update(
            Content.styled(f" {spoke} in {days} d", "dim"), layout=False
        )
        self.query_one(HistoryList).statements = view.statements

    def on_history_list_columns_changed(self, event: HistoryList.ColumnsChanged) -> None:
        event.stop()
        self.query_one("#history-columns", Static).update(event.header, layout=False)
