"""The main screen: actors on the left, the selected actor's cards and history on the right."""

from __future__ import annotations

from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Footer, Input
from textual.worker import get_current_worker

from sources.config import Config
from sources.records import ActorSpec, Statement
from tui.screens.dashboard_screen import DashboardScreen
from tui.screens.statement_screen import StatementScreen
from tui.snapshot import Snapshot
from tui.widgets.actor_list import ActorList, ActorRow
from tui.widgets.actor_panel import ActorPanel, HistoryView
from tui.widgets.card_grid import CardGrid
from tui.widgets.filter_bar import FilterBar
from tui.widgets.history_list import HistoryList
from tui.widgets.status_line import StatusLine
from tui.widgets.topic_card import CardView

HISTORY_PAGE = 50
"""History rows read at once: a screenful or two, so moving between actors
stays fast; older pages load when the cursor reaches the last row."""
ACTIVITY_DAYS = 60

_JUMP_KEYS = [
    Binding(
        str(n),
        f"jump({n})",
        "Jump",
        key_display="1-9",
        show=n == 1,
        tooltip=f"Jump to actor {n}",
        id=f"main.jump-{n}",
    )
    for n in range(1, 10)
]


class MainScreen(DashboardScreen[None]):
    """Actors, their current positions per topic, and the history of the selected topic."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-medium"), (170, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]

    BINDINGS = [
        Binding(
            "j",
            "move_actor(1)",
            "Actor",
            key_display="j/k",
            tooltip="Next actor",
            id="main.next-actor",
        ),
        Binding("k", "move_actor(-1)", "Previous actor", show=False, id="main.previous-actor"),
        *_JUMP_KEYS,
        Binding(
            "slash",
            "filter",
            "Filter",
            tooltip="Filter actors and statements by text",
            id="main.filter",
        ),
        Binding(
            "escape",
            "back",
            "Back",
            show=False,
            tooltip="Clear the filter, or back to the actor list",
            id="main.back",
        ),
    ]

    def __init__(self) -> None:
        super().__init__(id="main")
        self.actor_id: str | None = None
        """The actor whose panel is shown."""
        self.topic_id: str | None = None
        """The topic whose history is shown."""
        self.preferred_topic: str | None = None
        """The topic the user last chose; kept across actors that have a position on it."""
        self.filter_text = ""
        self._filter_actors: frozenset[str] | None = None
        """Actors with a statement matching the filter (None: no filter)."""
        self._seen_timer: Timer | None = None
        self._filter_timer: Timer | None = None
        self._history_pages = 1
        self._history_cache: dict[tuple[str, str], HistoryView] = {}
        """First pages of history read ahead for every position of the snapshot,
        so moving between actors needs no thread hop (and paints once)."""
        self._cache_of: Snapshot | None = None
        self.history_for: tuple[str, str, str] | None = None
        """(actor, topic, filter) the history pane shows: benchmarks and tests wait on it."""

    def compose(self) -> ComposeResult:
        # The cards start as "reading the database…" placeholders, one per
        # topic, so the first data only fills them in (no rebuild).
        now = self.dashboard.clock()
        placeholders = [
            CardView(topic.id, topic.name, None, now, loading=True)
            for topic in self.dashboard.config.topics
        ]
        yield StatusLine(id="status")
        with Horizontal(id="body"):
            yield ActorList(id="actors")
            yield ActorPanel(placeholders, id="panel")
        yield FilterBar(id="filter")
        yield Footer()

    # --- redrawing from the app's data ------------------------------------------------

    def _actors(self) -> list[ActorSpec]:
        config = self.config
        if config is None:
            return []
        actors = list(config.actors)
        if self._filter_actors is not None:
            needle = self.filter_text.casefold()
            actors = [
                a
                for a in actors
                if a.id in self._filter_actors
                or needle in a.name.casefold()
                or needle in a.id
                or any(needle in alias.casefold() for alias in a.aliases)
            ]
        return actors

    def refresh_data(self) -> None:
        """Redraw the list and the panel in place from `config` and `snapshot`."""
        if self.config is None:
            return
        if self.snapshot is not self._cache_of:
            self._history_cache = {}
            self._cache_of = self.snapshot
            if self.snapshot is not None:
                self._read_ahead(self.snapshot, self.config, self.dashboard.clock())
        actors = self._actors()
        rows = tuple(self._row(actor) for actor in actors)
        actor_list = self.query_one(ActorList)
        actor_list.rows = rows
        if not rows:
            self.actor_id = None
            return
        # The list's highlight is the user's latest choice (its message may
        # still be on its way): follow it, never move it back.
        self.actor_id = actor_list.actor_id or rows[0].id
        self._show_actor()

    def _row(self, actor: ActorSpec) -> ActorRow:
        snapshot = self.snapshot
        if snapshot is None:
            return ActorRow(actor.id, actor.name, 0, 0)
        positions = snapshot.of_actor(actor.id)
        seen = self.dashboard.seen
        changed = sum(1 for p in positions.values() if seen.changed_since_seen(p))
        return ActorRow(actor.id, actor.name, len(positions), changed)

    def refresh_ages(self) -> None:
        """Redraw the cards so "3 min ago" stays true (the history has dates, not ages)."""
        self._show_actor(load_history=False)

    def _show_actor(self, *, load_history: bool = True) -> None:
        config = self.config
        if config is None or self.actor_id is None:
            return
        actor = config.actor(self.actor_id)
        if actor is None:
            return
        positions = self.snapshot.of_actor(actor.id) if self.snapshot else {}
        # Stay on the topic the user chose when this actor has spoken on it;
        # otherwise show the first topic it has a position on.
        wanted = self.preferred_topic or self.topic_id
        if wanted is None or wanted not in positions or config.topic(wanted) is None:
            spoken = [t.id for t in config.topics if t.id in positions]
            if spoken:
                wanted = spoken[0]
            elif wanted is None or config.topic(wanted) is None:
                wanted = config.topics[0].id if config.topics else None
        self.topic_id = wanted
        if load_history:
            # Start the read first: the thread works while the cards are drawn.
            self._load_history()
            self._schedule_seen()
        now = self.dashboard.clock()
        seen = self.dashboard.seen
        views = [
            CardView(
                topic_id=topic.id,
                topic_name=topic.name,
                position=positions.get(topic.id),
                now=now,
                changed_since_seen=(
                    topic.id in positions and seen.changed_since_seen(positions[topic.id])
                ),
                loading=self.snapshot is None,
            )
            for topic in config.topics
        ]
        changed = sum(1 for v in views if v.changed_since_seen)
        self.query_one(ActorPanel).show_actor(actor.name, len(positions), changed, views)
        if self.topic_id is not None:
            self.query_one(CardGrid).select_topic(self.topic_id)

    # --- history, in a thread ------------------------------------------------------

    def _load_history(self, *, more: bool = False) -> None:
        if self.actor_id is None or self.topic_id is None or self.config is None:
            return
        if not more:
            self._history_pages = 1
        topic = self.config.topic(self.topic_id)
        position = self.snapshot.position(self.actor_id, self.topic_id) if self.snapshot else None
        name = topic.name if topic else self.topic_id
        if not self.filter_text and self._history_pages == 1:
            if position is None and self.snapshot is not None:
                # Nothing on record: nothing to read.
                empty = (0,) * ACTIVITY_DAYS
                self._show_history(HistoryView(self.actor_id, self.topic_id, name, (), 0, empty))
                return
            cached = self._history_cache.get((self.actor_id, self.topic_id))
            if cached is not None:
                self._show_history(cached)
                return
        self._read_history(
            self.actor_id,
            self.topic_id,
            topic.name if topic else self.topic_id,
            position.count if position else 0,
            self.filter_text,
            self.dashboard.clock(),
            HISTORY_PAGE * self._history_pages,
        )

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def _read_history(
        self,
        actor: str,
        topic: str,
        topic_name: str,
        total: int,
        text: str,
        now: datetime,
        limit: int,
    ) -> None:
        store = self.dashboard.store
        if store is None:
            return
        statements: list[Statement]
        if text:
            needle = text.casefold()
            statements = [
                s
                for s in store.history(actor, topic)
                if needle in s.claim.casefold()
                or needle in (s.speaker or "").casefold()
                or needle in s.source.casefold()
            ][:limit]
        else:
            statements = store.history(actor, topic, limit=limit)
        activity = store.activity(actor, topic, ACTIVITY_DAYS, now)
        if get_current_worker().is_cancelled:
            return
        view = HistoryView(
            actor, topic, topic_name, tuple(statements), total, tuple(activity), text
        )
        self.app.call_from_thread(self._show_history, view)

    @work(thread=True, exclusive=True, group="history-read-ahead", exit_on_error=False)
    def _read_ahead(self, snapshot: Snapshot, config: Config, now: datetime) -> None:
        store = self.dashboard.store
        if store is None:
            return
        views: dict[tuple[str, str], HistoryView] = {}
        worker = get_current_worker()
        for (actor, topic), position in snapshot.positions.items():
            if worker.is_cancelled:
                return
            spec = config.topic(topic)
            views[(actor, topic)] = HistoryView(
                actor,
                topic,
                spec.name if spec else topic,
                tuple(store.history(actor, topic, limit=HISTORY_PAGE)),
                position.count,
                tuple(store.activity(actor, topic, ACTIVITY_DAYS, now)),
            )
        self.app.call_from_thread(self._read_ahead_done, snapshot, views)

    def _read_ahead_done(
        self, snapshot: Snapshot, views: dict[tuple[str, str], HistoryView]
    ) -> None:
        if snapshot is self._cache_of:
            self._history_cache.update(views)

    def _show_history(self, view: HistoryView) -> None:
        # A slower read for an actor the user already left must not overwrite the pane.
        if (view.actor_id, view.topic_id, view.filter_text) != (
            self.actor_id,
            self.topic_id,
            self.filter_text,
        ):
            return
        self.query_one(ActorPanel).show_history(view)
        self.history_for = (view.actor_id, view.topic_id, view.filter_text)

    # --- seen marks ------------------------------------------------------------------

    def _schedule_seen(self) -> None:
        if self._seen_timer is not None:
            self._seen_timer.stop()
        self._seen_timer = self.set_timer(self.dashboard.seen_after, self._mark_seen)

    def _mark_seen(self) -> None:
        if self.actor_id is None or self.snapshot is None or not self.is_active:
            return
        positions = list(self.snapshot.of_actor(self.actor_id).values())
        if self.dashboard.mark_seen(positions):
            actor = self.config.actor(self.actor_id) if self.config else None
            if actor is not None:
                rows = list(self.query_one(ActorList).rows)
                rows = [self._row(actor) if r.id == actor.id else r for r in rows]
                self.query_one(ActorList).rows = tuple(rows)

    # --- events from the widgets --------------------------------------------------

    @on(ActorList.ActorChosen)
    def _actor_chosen(self, event: ActorList.ActorChosen) -> None:
        if event.actor_id != self.actor_id:
            self.actor_id = event.actor_id
            self._show_actor()

    @on(ActorList.ActorOpened)
    def _actor_opened(self, event: ActorList.ActorOpened) -> None:
        self.query_one(CardGrid).focus()

    @on(CardGrid.TopicHighlighted)
    def _topic_highlighted(self, event: CardGrid.TopicHighlighted) -> None:
        if event.topic_id != self.topic_id:
            self.topic_id = event.topic_id
            if self.query_one(CardGrid).has_focus:
                self.preferred_topic = event.topic_id
            self._load_history()

    @on(CardGrid.TopicOpened)
    def _topic_opened(self, event: CardGrid.TopicOpened) -> None:
        if self.actor_id is None or self.snapshot is None:
            return
        position = self.snapshot.position(self.actor_id, event.topic_id)
        if position is None:
            self.notify("No statement on this topic yet.", markup=False)
            return
        self.app.push_screen(StatementScreen(position.statement.id))

    @on(HistoryList.MoreWanted)
    def _more_history(self) -> None:
        panel_rows = len(self.query_one(HistoryList).statements)
        if panel_rows >= HISTORY_PAGE * self._history_pages:
            self._history_pages += 1
            self._load_history(more=True)

    @on(HistoryList.StatementOpened)
    def _statement_opened(self, event: HistoryList.StatementOpened) -> None:
        self.app.push_screen(StatementScreen(event.statement_id))

    # --- filter ---------------------------------------------------------------------

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._filter_timer is not None:
            self._filter_timer.stop()
        # Wait for a pause in typing before searching 20,000 statements.
        self._filter_timer = self.set_timer(0.15, lambda: self._apply_filter(event.value))

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._apply_filter(event.value)
        self.query_one(ActorList).focus()

    @on(FilterBar.Cleared)
    def _filter_cleared(self) -> None:
        self._apply_filter("")
        self.query_one(FilterBar).display = False
        self.query_one(ActorList).focus()

    def _apply_filter(self, text: str) -> None:
        text = text.strip()
        if text == self.filter_text:
            return
        self.filter_text = text
        if not text:
            self._filter_actors = None
            self.refresh_data()
            return
        self._search(text)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, text: str) -> None:
        store = self.dashboard.store
        found = store.search(text, limit=5000) if store is not None else []
        actors = frozenset(s.actor for s in found)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_filtered, text, actors)

    def _show_filtered(self, text: str, actors: frozenset[str]) -> None:
        if text != self.filter_text:
            return
        self._filter_actors = actors
        self.refresh_data()

    # --- actions ---------------------------------------------------------------------

    def action_move_actor(self, step: int) -> None:
        actor_list = self.query_one(ActorList)
        if step > 0:
            actor_list.action_cursor_down()
        else:
            actor_list.action_cursor_up()

    def action_jump(self, number: int) -> None:
        self.query_one(ActorList).jump(number)

    def action_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.display = True
        bar.focus()

    def action_back(self) -> None:
        if self.filter_text:
            self.query_one(FilterBar).action_clear_filter()
            return
        self.query_one(ActorList).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("move_actor", "jump"):
            rows = len(self.query_one(ActorList).rows)
            if action == "jump":
                number = parameters[0] if parameters else 0
                return isinstance(number, int) and number <= rows
            return rows > 1
        return True

    def open_selected_card(self) -> None:
        """Open the statement behind the selected card (the palette's way to press enter)."""
        topic = self.query_one(CardGrid).topic_id
        if topic is not None:
            self._topic_opened(CardGrid.TopicOpened(topic))

    def _clear_filter_now(self) -> None:
        bar = self.query_one(FilterBar)
        bar.value = ""
        bar.display = False
        self._apply_filter("")

    def show_actor(self, actor_id: str) -> None:
        """Show this actor, clearing a filter that hides it."""
        if self.filter_text:
            self._clear_filter_now()
        if self.query_one(ActorList).select_actor(actor_id):
            self.query_one(ActorList).focus()

    def select(self, actor_id: str, topic_id: str) -> None:
        """Show this actor with this topic's card selected (from the matrix)."""
        if self.filter_text:
            self._clear_filter_now()
        self.topic_id = topic_id
        self.preferred_topic = topic_id
        actor_list = self.query_one(ActorList)
        if self.actor_id != actor_id:
            self.actor_id = actor_id
            actor_list.select_actor(actor_id)
            self._show_actor()
        else:
            self.query_one(CardGrid).select_topic(topic_id)
            self._load_history()
        self.query_one(CardGrid).focus()
