"""The topic cards of one actor, moved between with h/l or the arrows."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.reactive import reactive

from tui.widgets.topic_card import CardView, TopicCard


class CardGrid(VerticalScroll, can_focus=True):
    """One card per tracked topic; one card is selected and its history shows below.

    The cards are few (one per topic), so each is a widget; the panel
    updates their `view` in place, which keeps selection and scroll.
    """

    BINDINGS = [
        Binding(
            "enter", "open", "Open", tooltip="Open the statement behind the card", id="cards.open"
        ),
        Binding(
            "h",
            "move(-1)",
            "Topic",
            key_display="h/l",
            tooltip="Previous topic card",
            id="cards.previous",
        ),
        Binding("l", "move(1)", "Next topic card", show=False, id="cards.next"),
        Binding("left", "move(-1)", "Previous topic", show=False),
        Binding("right", "move(1)", "Next topic", show=False),
        Binding("up", "move_row(-1)", "Topic above", show=False),
        Binding("down", "move_row(1)", "Topic below", show=False),
    ]

    views: reactive[tuple[CardView, ...]] = reactive((), init=False, always_update=True)
    """One view per topic, in config order."""

    selected: reactive[int] = reactive(0, init=False)
    """Index of the selected card."""

    class TopicHighlighted(Message):
        """Another topic card was selected."""

        def __init__(self, topic_id: str) -> None:
            super().__init__()
            self.topic_id = topic_id

    class TopicOpened(Message):
        """Enter (or a double click) on a card: show its statement."""

        def __init__(self, topic_id: str) -> None:
            super().__init__()
            self.topic_id = topic_id

    def compose(self) -> ComposeResult:
        for index, view in enumerate(self.views):
            card = TopicCard(view, id=f"card-{view.topic_id}")
            card.selected = index == self.selected
            yield card

    @property
    def topic_id(self) -> str | None:
        """The selected card's topic."""
        if 0 <= self.selected < len(self.views):
            return self.views[self.selected].topic_id
        return None

    def watch_views(self, old: tuple[CardView, ...], new: tuple[CardView, ...]) -> None:
        if [v.topic_id for v in old] != [v.topic_id for v in new] or not self.children:
            # Topics were added or removed (config reload): rebuild the cards.
            topic = self.topic_id if old else None
            ids = [v.topic_id for v in new]
            self.set_reactive(CardGrid.selected, ids.index(topic) if topic in ids else 0)
            self.refresh(recompose=True)
            return
        for card, view in zip(self.query(TopicCard), new, strict=False):
            card.view = view

    def watch_selected(self, old: int, new: int) -> None:
        cards = list(self.query(TopicCard))
        for index, card in enumerate(cards):
            card.selected = index == new
        if 0 <= new < len(cards):
            self.scroll_to_widget(cards[new], animate=False)
        if self.topic_id is not None:
            self.post_message(self.TopicHighlighted(self.topic_id))

    def select_topic(self, topic_id: str) -> None:
        """Select the card of this topic, if there is one."""
        for index, view in enumerate(self.views):
            if view.topic_id == topic_id:
                self.selected = index
                return

    def _columns(self) -> int:
        if self.styles.layout is not None and self.styles.layout.name == "grid":
            return max(1, self.styles.grid_size_columns or 1)
        return 1

    def action_move(self, step: int) -> None:
        if self.views:
            self.selected = max(0, min(len(self.views) - 1, self.selected + step))

    def action_move_row(self, step: int) -> None:
        self.action_move(step * self._columns())

    def action_open(self) -> None:
        if self.topic_id is not None:
            self.post_message(self.TopicOpened(self.topic_id))

    def on_topic_card_clicked(self, event: TopicCard.Clicked) -> None:
        event.stop()
        self.focus()
        cards = list(self.query(TopicCard))
        if event.card in cards:
            index = cards.index(event.card)
            if index == self.selected and event.chain >= 2:
                self.action_open()
            self.selected = index
