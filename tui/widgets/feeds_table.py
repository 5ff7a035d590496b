"""The table of the feeds screen."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable


class FeedsTable(DataTable[Text]):
    """One row per configured feed; cells are `Text`, so feed titles are never markup."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, show_row_labels=False)
