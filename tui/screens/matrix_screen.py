"""Actors × topics: every current stance at a glance."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.events import Resize
from textual.widgets import DataTable, Footer, Static

from tui.format import CHANGE_MARK, STANCE_COLOURS, stance_word
from tui.screens.dashboard_screen import DashboardScreen
from tui.widgets.matrix_table import MatrixTable
from tui.widgets.status_line import StatusLine

EMPTY = "·"


class MatrixScreen(DashboardScreen[tuple[str, str] | None]):
    """A `DataTable` of stances; enter jumps to that actor and topic on the main screen.

    Dismisses with (actor id, topic id), or None on escape.
    """

    BINDINGS = [
        Binding("escape", "back", "Back", id="matrix.back"),
    ]

    def __init__(self, actor_id: str | None = None, topic_id: str | None = None) -> None:
        super().__init__()
        self._start = (actor_id, topic_id)
        self._actors: list[str] = []
        self._topics: list[str] = []

    def compose(self) -> ComposeResult:
        yield StatusLine()
        yield Static(
            f"Current stance of each actor on each topic.  {CHANGE_MARK} changed from the "
            f"previous statement   {EMPTY} nothing stated",
            id="matrix-legend",
            markup=False,
        )
        yield MatrixTable(id="matrix")
        yield Footer()

    def refresh_data(self) -> None:
        config = self.config
        if config is None:
            return
        table = self.query_one(DataTable)
        cursor = table.cursor_coordinate if self._actors else None
        if cursor is None and self._start[0] is not None:
            start_actor, start_topic = self._start
            rows = [a.id for a in config.actors]
            cols = [t.id for t in config.topics]
            cursor = Coordinate(
                rows.index(start_actor) if start_actor in rows else 0,
                cols.index(start_topic) + 1 if start_topic in cols else 1,
            )
        table.clear(columns=True)
        self._actors = [a.id for a in config.actors]
        self._topics = [t.id for t in config.topics]
        name_width = min(16, max((len(a.name) for a in config.actors), default=5)) + 1
        # Share the width out so every topic is in view at 80 columns; a
        # topic name wraps over the three header lines.
        room = max(0, self.size.width - name_width - 2)
        width = max(13, min(26, room // max(1, len(config.topics))))
        table.add_column(Text("Actor", style="bold"), key="actor", width=name_width)
        for topic in config.topics:
            table.add_column(Text(topic.name, style="bold"), key=topic.id, width=width)
        table.fixed_columns = 1
        snapshot = self.snapshot
        for actor in config.actors:
            cells: list[Text] = [Text(actor.name, style="bold", no_wrap=True, overflow="ellipsis")]
            for topic in config.topics:
                position = snapshot.position(actor.id, topic.id) if snapshot else None
                if position is None:
                    cells.append(Text(" " + EMPTY, style="dim"))
                    continue
                stance = position.statement.stance
                cell = Text(" " + stance_word(stance), style=f"bold {STANCE_COLOURS[stance]}")
                if position.changed:
                    cell.append(CHANGE_MARK)
                cells.append(cell)
            table.add_row(*cells, key=actor.id)
        if cursor is not None:
            # The first column holds the names: keep the cursor on a stance.
            table.move_cursor(row=cursor.row, column=max(1, cursor.column), scroll=True)
        else:
            table.move_cursor(row=0, column=1)

    def _cell(self) -> tuple[str, str] | None:
        table = self.query_one(DataTable)
        row, column = table.cursor_coordinate
        if not (0 <= row < len(self._actors)) or not self._topics:
            return None
        column = max(1, column)
        return self._actors[row], self._topics[min(column, len(self._topics)) - 1]

    @on(DataTable.CellSelected)
    def _cell_selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self.action_open_cell()

    def action_open_cell(self) -> None:
        cell = self._cell()
        if cell is not None:
            self.dismiss(cell)

    def action_back(self) -> None:
        self.dismiss(None)

    def on_resize(self, event: Resize) -> None:
        # (DashboardScreen.on_resize runs too: Textual calls each class's handler.)
        self.refresh_data()
