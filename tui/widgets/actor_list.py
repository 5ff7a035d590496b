"""The list of actors on the left of the main screen."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.format import CHANGED_MARK


@dataclass(frozen=True, slots=True)
class ActorRow:
    """One line of the list."""

    id: str
    name: str
    positions: int
    """Topics on which the actor has stated a position."""
    changed: int
    """Positions whose stance moved since the user last looked."""


class ActorList(OptionList):
    """Actors with their number of positions and a mark for unseen changes.

    An `OptionList`, not a widget per actor, so a long actor list stays cheap
    to draw. Rows are replaced in place so a live update never moves the
    highlight.
    """

    BINDINGS = [
        Binding(
            "enter",
            "select",
            "Cards",
            tooltip="Go to this actor's topic cards",
            id="actor-list.cards",
        ),
    ]

    rows: reactive[tuple[ActorRow, ...]] = reactive((), init=False, always_update=True)
    """What the list shows, in order."""

    name_width: int = 14
    """Names are padded to this width so the counts line up."""

    class ActorChosen(Message):
        """The highlighted actor changed (by key, click or jump)."""

        def __init__(self, actor_id: str) -> None:
            super().__init__()
            self.actor_id = actor_id

    class ActorOpened(Message):
        """Enter on an actor: the user wants its cards."""

        def __init__(self, actor_id: str) -> None:
            super().__init__()
            self.actor_id = actor_id

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, markup=False)
        self._shown: tuple[str, ...] = ()

    @property
    def actor_id(self) -> str | None:
        """The highlighted actor."""
        index = self.highlighted
        if index is None or index >= len(self._shown):
            return None
        return self._shown[index]

    def prompt(self, number: int, row: ActorRow) -> Content:
        """One line: jump number, name, positions, changed mark."""
        width = self.name_width
        name = row.name if len(row.name) <= width else row.name[: width - 1] + "…"
        key = f"{number} " if number <= 9 else "  "
        mark = (
            Content.styled(f" {CHANGED_MARK}{row.changed}", "bold $warning")
            if row.changed
            else Content("   ")
        )
        return Content.assemble(
            Content.styled(key, "dim"),
            Content(name.ljust(width)),
            Content.styled(f"{row.positions:>3}", "$text-muted" if not row.positions else ""),
            mark,
        )

    def watch_rows(self, rows: tuple[ActorRow, ...]) -> None:
        ids = tuple(row.id for row in rows)
        if rows:
            self.name_width = max(8, min(16, max(len(row.name) for row in rows)))
        prompts = [self.prompt(n, row) for n, row in enumerate(rows, start=1)]
        if ids == self._shown and self.option_count == len(rows):
            # Same actors: rewrite the lines, keep highlight and scroll.
            for index, prompt in enumerate(prompts):
                self.replace_option_prompt_at_index(index, prompt)
            return
        current = self.actor_id
        self._shown = ids
        self.set_options(
            Option(prompt, id=row.id) for prompt, row in zip(prompts, rows, strict=True)
        )
        if not rows:
            return
        self.highlighted = ids.index(current) if current in ids else 0

    def jump(self, number: int) -> bool:
        """Highlight the actor shown with this number; False if there is none."""
        if 1 <= number <= len(self._shown):
            self.highlighted = number - 1
            return True
        return False

    def select_actor(self, actor_id: str) -> bool:
        """Highlight this actor if it is listed."""
        if actor_id in self._shown:
            self.highlighted = self._shown.index(actor_id)
            return True
        return False

    def _on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.ActorChosen(event.option.id))

    def _on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.ActorOpened(event.option.id))
