"""One card of the actor panel: the actor's current position on one topic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.app import ComposeResult
from textual.content import Content
from textual.events import Click
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from sources.records import Position, Statement
from tui.format import (
    CHANGED_MARK,
    STANCE_COLOURS,
    age_text,
    date_text,
    plain,
    stance_content,
    stance_word,
)

EMPTY_COLOUR = "#3b4252"
"""The bar beside a topic with no statement."""


@dataclass(frozen=True, slots=True)
class CardView:
    """What one card shows."""

    topic_id: str
    topic_name: str
    position: Position | None
    now: datetime
    changed_since_seen: bool = False
    """The stance moved since the user last looked: the card carries the mark."""
    loading: bool = False
    """The store is still being read: say so rather than "no statement"."""


class TopicCard(Widget):
    """Stance (word and colour), claim, speaker, outlet, date and age of one position."""

    view: reactive[CardView | None] = reactive(None, init=False)
    """Set by the panel; the card redraws itself from it."""

    selected: reactive[bool] = reactive(False, toggle_class="-selected")
    """The card the history below belongs to."""

    class Clicked(Message):
        """The card was clicked (once or twice)."""

        def __init__(self, card: TopicCard, chain: int) -> None:
            super().__init__()
            self.card = card
            self.chain = chain

    def __init__(self, view: CardView, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.set_reactive(TopicCard.view, view)

    def compose(self) -> ComposeResult:
        yield Static(classes="card-head", markup=False)
        yield Static(classes="card-claim", markup=False)
        yield Static(classes="card-detail", markup=False)
        yield Static(classes="card-meta", markup=False)

    def on_mount(self) -> None:
        self._show(self.view)

    def watch_view(self, view: CardView | None) -> None:
        self._show(view)

    def _show(self, view: CardView | None) -> None:
        if view is None or not self.is_mounted:
            return
        head, claim, detail, meta = self.query(Static).results(Static)
        position = view.position
        # The stance colour is an inline border colour, not a class: a class
        # would restyle the card and its lines on every j/k. Every line has a
        # fixed height in the CSS too, so a new actor only repaints the cards.
        colour = STANCE_COLOURS[position.statement.stance] if position else EMPTY_COLOUR
        self.styles.border_left = ("outer", colour)
        title = Content.styled(view.topic_name, "bold")
        if position is None:
            if view.loading:
                head.update(title, layout=False)
                claim.update(Content.styled("reading the database…", "dim italic"), layout=False)
            else:
                head.update(
                    Content.assemble(title, "  ", Content.styled("no statement yet", "dim")),
                    layout=False,
                )
                claim.update(
                    Content.styled("Nothing stated on this topic so far.", "dim italic"),
                    layout=False,
                )
            detail.update("", layout=False)
            meta.update("", layout=False)
            return
        statement = position.statement
        parts: list[Content | str] = [title, "  ", stance_content(statement.stance)]
        if position.changed and position.previous is not None:
            parts += ["  ", Content.styled(f"↻ was {stance_word(position.previous.stance)}", "")]
        if view.changed_since_seen:
            parts += ["  ", Content.styled(f"{CHANGED_MARK} new", "bold $warning")]
        head.update(Content.assemble(*parts), layout=False)
        claim.update(Content(f"“{plain(statement.claim)}”"), layout=False)
        detail.update(self._detail(statement), layout=False)
        speaker = plain(statement.speaker) or "unnamed speaker"
        meta.update(
            Content.assemble(
                Content.styled(speaker, "bold"),
                " · ",
                Content(plain(statement.source) or "unknown outlet"),
                " · ",
                Content(date_text(statement.published)),
                Content.styled(f" ({age_text(statement.published, view.now)})", "dim"),
            ),
            layout=False,
        )

    @staticmethod
    def _detail(statement: Statement) -> Content:
        """The condition of a conditional stance; otherwise why the statement matched."""
        if statement.condition:
            return Content.assemble(
                Content.styled("condition: ", "dim"), Content(plain(statement.condition))
            )
        why = [f"cue “{plain(statement.cue)}”"] if statement.cue else []
        if statement.alias:
            why.append(f"named as “{plain(statement.alias)}”")
        if statement.carried:
            why.append("speaker from an earlier sentence")
        return Content.styled("why: " + ", ".join(why), "dim") if why else Content("")

    def on_click(self, event: Click) -> None:
        event.stop()
        self.post_message(self.Clicked(self, event.chain))
