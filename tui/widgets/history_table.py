"""The statements of one actor on one topic, newest first, with stance changes marked."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.events import Resize
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable

from sources.records import Statement
from tui.format import date_text, literal, stance_text

CHANGE_MARK = "↻"
"""Beside a stance that differs from the statement before it."""

_FIXED = {"date": 10, "stance": 13, "speaker": 16, "outlet": 14}
_NARROW = 70
"""Below this width the claim comes third, so it stays in view; speaker and
outlet are to its right (and on the card and the statement screen)."""


class HistoryTable(DataTable[Text]):
    """A `DataTable`: cells are `rich.text.Text`, so feed text is never read as markup."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Open", id="history.open"),
    ]

    statements: reactive[tuple[Statement, ...]] = reactive((), init=False, always_update=True)
    """The rows, newest first. Assigning keeps the cursor on the same statement."""

    class StatementOpened(Message):
        """Enter (or a click on the selected row) on a statement."""

        def __init__(self, statement_id: str) -> None:
            super().__init__()
            self.statement_id = statement_id

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, show_row_labels=False)
        self._layout_width = 0

    def on_mount(self) -> None:
        self._add_columns()

    def _narrow(self) -> bool:
        return 0 < self.size.width < _NARROW

    def _claim_width(self) -> int:
        before = [key for key in self._order() if key != "claim"]
        if self._narrow():
            before = ["date", "stance"]
        fixed = sum(_FIXED[key] for key in before)
        # Two cells of padding per column, and room for the scrollbar.
        return max(16, self.size.width - fixed - 2 * (len(before) + 1) - 2)

    def _order(self) -> tuple[str, ...]:
        if self._narrow():
            return ("date", "stance", "claim", "speaker", "outlet")
        return ("date", "stance", "speaker", "outlet", "claim")

    def _add_columns(self) -> None:
        self._layout_width = self.size.width
        widths = {**_FIXED, "claim": self._claim_width()}
        labels = {
            "date": "Date",
            "stance": "Stance",
            "speaker": "Speaker",
            "outlet": "Outlet",
            "claim": "Claim",
        }
        for key in self._order():
            self.add_column(labels[key], width=widths[key], key=key)

    def on_resize(self, event: Resize) -> None:
        if event.size.width != self._layout_width:
            self.clear(columns=True)
            self._add_columns()
            self._fill(self.statements, keep_cursor=True)

    def watch_statements(self, statements: tuple[Statement, ...]) -> None:
        self._fill(statements, keep_cursor=True)

    def _fill(self, statements: tuple[Statement, ...], *, keep_cursor: bool) -> None:
        old_key: str | None = None
        old_row = self.cursor_row
        if keep_cursor and self.row_count:
            old_key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        old_scroll = self.scroll_y
        self.clear()
        order = self._order()
        for index, statement in enumerate(statements):
            older = statements[index + 1] if index + 1 < len(statements) else None
            changed = older is not None and older.stance != statement.stance
            stance = stance_text(statement.stance)
            if changed:
                stance.append(f" {CHANGE_MARK}", style="bold")
            cells = {
                "date": Text(date_text(statement.published)),
                "stance": stance,
                "speaker": literal(statement.speaker or "-"),
                "outlet": literal(statement.source),
                "claim": literal(statement.claim),
            }
            self.add_row(*(cells[key] for key in order), key=statement.id)
        if not statements:
            return
        ids = [s.id for s in statements]
        if old_key in ids:
            new_row = ids.index(old_key)
            # Rows arriving above the cursor push it down; scroll by as much so
            # the row under the cursor stays where the user left it.
            self.move_cursor(row=new_row, scroll=False)
            self.scroll_to(y=max(0, old_scroll + new_row - old_row), animate=False)
        else:
            self.move_cursor(row=0, scroll=False)
            self.scroll_to(y=0, animate=False)

    @property
    def statement_id(self) -> str | None:
        """The statement under the cursor."""
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.StatementOpened(event.row_key.value))
