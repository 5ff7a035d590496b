"""The table of the matrix screen."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable


class MatrixTable(DataTable[Text]):
    """Actors down, topics across; cells are `Text`, never markup."""

    BINDINGS = [
        Binding(
            "enter",
            "select_cursor",
            "Show",
            tooltip="Show this actor and topic on the main screen",
            id="matrix.open",
        ),
    ]

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(
            id=id,
            cursor_type="cell",
            zebra_stripes=True,
            show_row_labels=False,
            header_height=3,
            cell_padding=0,
        )
