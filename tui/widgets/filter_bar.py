"""The `/` filter: narrows the actor list and the history to a piece of text."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class FilterBar(Input):
    """A one-line input under the panels; hidden until `/`."""

    BINDINGS = [
        Binding("escape", "clear_filter", "Clear filter", id="filter.clear"),
    ]

    class Cleared(Message):
        """Escape in the filter: drop the filter and go back to the list."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(
            placeholder="/ filter actors and statements (enter: keep, escape: clear)",
            id=id,
            compact=True,
        )

    def action_clear_filter(self) -> None:
        self.value = ""
        self.post_message(self.Cleared())
