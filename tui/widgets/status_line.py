"""The line at the top of each screen: last poll, feed health, next poll."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from tui.format import age_text, clock_text


@dataclass(frozen=True, slots=True)
class PollStatus:
    """What the status line says; the app builds a new one whenever anything moves."""

    now: datetime
    last_round: datetime | None = None
    next_poll: datetime | None = None
    ok: int = 0
    failing: int = 0
    feeds: int = 0
    polling: tuple[int, int] | None = None
    """(feeds done, feeds in the round) while a round runs."""
    statements: int = 0
    items: int = 0
    note: str = ""
    """A state that overrides the rest, such as "opening the database…"."""
    read_only: bool = False
    label: str = ""
    """Shown first, in reverse video: "DEMO" for the bundled demo."""


class StatusLine(Static):
    """One line; the app sets `status` on every screen's status line."""

    status: reactive[PollStatus | None] = reactive(None, init=False)
    """What to show."""

    def __init__(self, status: PollStatus | None = None, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, markup=False)
        self.set_reactive(StatusLine.status, status)

    def on_mount(self) -> None:
        self.watch_status(self.status)

    def on_resize(self) -> None:
        self.watch_status(self.status)

    def watch_status(self, status: PollStatus | None) -> None:
        if status is None:
            self.update("", layout=False)
            return
        line = self.render_status(status)
        if line.cell_length > self.size.width - 2 > 0:
            line = self.render_status(status, compact=True)
        self.update(line, layout=False)

    @staticmethod
    def render_status(status: PollStatus, *, compact: bool = False) -> Content:
        """The line's content; `compact` for 80 columns (separate, so it is testable alone)."""
        sep = Content.styled(" │ " if not compact else "│", "dim")
        parts: list[Content] = []
        if status.label:
            parts.append(Content.styled(f" {status.label} ", "reverse bold"))
        if status.note:
            parts.append(Content.styled(status.note, "italic"))
        elif status.polling is not None:
            done, total = status.polling
            parts.append(Content.styled(f"polling {done}/{total} feeds…", "bold $accent"))
        elif status.last_round is not None:
            when = clock_text(status.last_round, status.now)
            if not compact:
                when += f" ({age_text(status.last_round, status.now)})"
            parts.append(Content(f"polled {when}"))
        else:
            parts.append(Content("not polled yet"))
        if status.read_only:
            parts.append(Content.styled("read-only", "bold $warning"))
        if status.feeds:
            ok = f"{status.ok} ok" if compact else f"{status.ok} feeds ok"
            health = [Content.styled(ok, "$success")]
            if status.failing:
                health += [
                    Content(", "),
                    Content.styled(f"{status.failing} failing", "bold $error"),
                ]
            parts.append(Content.assemble(*health))
        else:
            parts.append(Content.styled("no feeds configured", "$warning"))
        if status.next_poll is not None and status.polling is None and status.feeds:
            parts.append(Content(f"next {clock_text(status.next_poll, status.now)}"))
        parts.append(Content.styled(f"{status.statements:,} statements", "dim"))
        return sep.join(parts)
