"""The statements of one actor on one topic, newest first, with stance changes marked."""

from __future__ import annotations

from collections.abc import Sequence

from textual.binding import Binding
from textual.content import Content
from textual.events import Resize
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from sources.records import Statement
from tui.format import CHANGE_MARK, STANCE_COLOURS, date_text, plain, stance_word

Columns = tuple[tuple[str, int], ...]
"""(column, width) in display order."""

_FIXED = {"date": 10, "stance": 13, "speaker": 18, "outlet": 16}
_TITLES = {
    "date": "Date",
    "stance": "Stance",
    "speaker": "Speaker",
    "outlet": "Outlet",
    "claim": "Claim",
}
_NARROW = 76
_GAP = 1


def history_columns(width: int) -> Columns:
    """The columns for a list `width` cells wide: the claim takes what is left.

    A row never wraps: below `_NARROW` the speaker and outlet columns go
    (both are on the card and on the statement screen).
    """
    if width < _NARROW:
        claim = max(12, width - _FIXED["date"] - _FIXED["stance"] - 2 * _GAP)
        return (("date", _FIXED["date"]), ("stance", _FIXED["stance"]), ("claim", claim))
    fixed = sum(_FIXED.values()) + 4 * _GAP
    return (
        ("date", _FIXED["date"]),
        ("stance", _FIXED["stance"]),
        ("speaker", _FIXED["speaker"]),
        ("outlet", _FIXED["outlet"]),
        ("claim", max(16, width - fixed)),
    )


def _cell(content: Content, width: int) -> Content:
    return content.truncate(width, ellipsis=True, pad=True)


def header_line(columns: Columns) -> Content:
    """The column titles, aligned with the rows."""
    gap = Content(" " * _GAP)
    return gap.join(_cell(Content.styled(_TITLES[key], "bold"), w) for key, w in columns)


def history_line(statement: Statement, changed: bool, columns: Columns) -> Content:
    """One row: date, stance (↻ when it differs from the item before), and the rest."""
    stance = Content.styled(
        stance_word(statement.stance), f"bold {STANCE_COLOURS[statement.stance]}"
    )
    if changed:
        stance = Content.assemble(stance, Content.styled(f" {CHANGE_MARK}", "bold"))
    claim = Content(plain(statement.claim))
    if statement.speaker and not any(key == "speaker" for key, _ in columns):
        # No speaker column at this width: name the speaker in the claim.
        claim = Content.assemble(Content.styled(plain(statement.speaker), "bold"), ": ", claim)
    cells = {
        "date": Content(date_text(statement.published)),
        "stance": stance,
        "speaker": Content(plain(statement.speaker) or "-"),
        "outlet": Content(plain(statement.source)),
        "claim": claim,
    }
    gap = Content(" " * _GAP)
    return gap.join(_cell(cells[key], w) for key, w in columns)


class HistoryList(OptionList):
    """An `OptionList` of one-line rows: cheap to refill on every j/k, unlike a `DataTable`.

    Rows are `Content` built from plain strings, so feed text is never markup.
    """

    BINDINGS = [
        Binding(
            "enter", "select", "Open", tooltip="Open the statement in this row", id="history.open"
        ),
    ]

    statements: reactive[tuple[Statement, ...]] = reactive((), init=False, always_update=True)
    """The rows, newest first. Assigning keeps the highlight on the same statement."""

    class StatementOpened(Message):
        """Enter (or a click) on a statement."""

        def __init__(self, statement_id: str) -> None:
            super().__init__()
            self.statement_id = statement_id

    class MoreWanted(Message):
        """The highlight reached the last row loaded: the screen may load an older page."""

    class ColumnsChanged(Message):
        """The width changed: here are the column titles to show above the rows."""

        def __init__(self, header: Content) -> None:
            super().__init__()
            self.header = header

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, markup=False)
        self._columns: Columns = history_columns(80)
        self._ids: list[str] = []

    @property
    def statement_id(self) -> str | None:
        """The statement under the highlight."""
        index = self.highlighted
        if index is None or not 0 <= index < len(self._ids):
            return None
        return self._ids[index]

    def on_resize(self, event: Resize) -> None:
        columns = history_columns(event.size.width - 1)
        if columns != self._columns:
            self._columns = columns
            self.post_message(self.ColumnsChanged(header_line(columns)))
            self._fill(self.statements)

    def watch_statements(self, statements: tuple[Statement, ...]) -> None:
        self._fill(statements)

    def _options_for(self, statements: Sequence[Statement]) -> list[Option]:
        # The same rule as a position's "was": an item's lead statement (its
        # top row, newest first) against the lead of the item before it. The
        # later paragraphs of one article are not a change of position.
        leads = [
            index
            for index, statement in enumerate(statements)
            if index == 0 or statements[index - 1].item_id != statement.item_id
        ]
        changed_rows = {
            lead
            for lead, older in zip(leads, leads[1:], strict=False)
            if statements[older].stance != statements[lead].stance
        }
        return [
            Option(history_line(statement, index in changed_rows, self._columns), id=statement.id)
            for index, statement in enumerate(statements)
        ]

    def _fill(self, statements: tuple[Statement, ...]) -> None:
        old_id = self.statement_id
        old_index = self.highlighted or 0
        old_scroll = self.scroll_y
        self._ids = [s.id for s in statements]
        self.set_options(self._options_for(statements))
        if not statements:
            return
        if old_id in self._ids:
            new_index = self._ids.index(old_id)
            self.highlighted = new_index
            # Rows arriving above the highlight push it down; scroll by as much
            # so the row stays where the user left it.
            self.scroll_to(y=max(0, old_scroll + new_index - old_index), animate=False)
        else:
            self.highlighted = 0
            self.scroll_to(y=0, animate=False)

    def _on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option_index >= self.option_count - 1:
            self.post_message(self.MoreWanted())

    def _on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.StatementOpened(event.option.id))
