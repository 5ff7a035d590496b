"""`?`: every key of every screen, read from the bindings themselves so it cannot drift."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from tui.format import CHANGE_MARK, CHANGED_MARK, STANCE_COLOURS, stance_word

Section = tuple[str, Sequence[Sequence[BindingType]]]


def _bindings(groups: Iterable[Sequence[BindingType]]) -> list[Binding]:
    found: list[Binding] = []
    for group in groups:
        found.extend(Binding.make_bindings(group))
    return found


class HelpScreen(ModalScreen[None]):
    """A modal listing every key by the place it works in."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="help.close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, sections: Sequence[Section]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(
                Content.styled("stancewatch — keys", "bold"), id="help-title", markup=False
            )
            with VerticalScroll(id="help-body"):
                yield Static(self._legend(), id="help-legend", markup=False)
                yield Static(self._keys(), id="help-keys", markup=False)
        yield Footer()

    def _display(self, binding: Binding) -> str:
        # The footer's combined labels ("j/k") are for the footer; here each key is its own row.
        return self.app.get_key_display(replace(binding, key_display=None))

    def _keys(self) -> Content:
        lines: list[Content | str] = []
        for title, groups in self.sections:
            lines += [Content.styled(title, "bold underline"), "\n"]
            by_action: dict[str, tuple[list[str], str]] = {}
            for binding in _bindings(groups):
                keys, description = by_action.setdefault(binding.action, ([], ""))
                keys.append(self._display(binding))
                if not description:
                    by_action[binding.action] = (keys, self._describe(binding))
            for keys, description in by_action.values():
                shown = " ".join(dict.fromkeys(keys))
                lines += [
                    Content.styled(f"  {shown:<14}", "bold $accent"),
                    Content(description or "-"),
                    "\n",
                ]
            lines.append("\n")
        return Content.assemble(*lines)

    @staticmethod
    def _describe(binding: Binding) -> str:
        """The footer's word, then the longer tooltip: "Matrix: every actor's stance…"."""
        short, long = binding.description, binding.tooltip
        if short and long and long.casefold() != short.casefold():
            return f"{short}: {long[0].lower()}{long[1:]}"
        return long or short

    @staticmethod
    def _legend() -> Content:
        stances: list[Content | str] = []
        for stance, colour in STANCE_COLOURS.items():
            stances += [Content.styled(stance_word(stance), f"bold {colour}"), "  "]
        return Content.assemble(
            Content.styled("Marks", "bold underline"),
            "\n  ",
            *stances,
            "\n  ",
            Content.styled(CHANGED_MARK, "bold $warning"),
            Content(" changed since you last looked    "),
            Content.styled(CHANGE_MARK, "bold"),
            Content(" stance differs from the statement before\n"),
            Content.styled("  ctrl+p opens the command palette: every action by name.\n\n", "dim"),
        )

    def action_close(self) -> None:
        self.dismiss()
