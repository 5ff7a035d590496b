"""The dashboard driven from the keyboard: navigation, live updates, config reload, hostile text."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from textual.widgets import Static

from sources.records import Stance, Statement
from tests.feedserver import FeedServer
from tests.test_tui_helpers import (
    HOSTILE_CLAIM,
    HOSTILE_SOURCE,
    HOSTILE_TITLE,
    NOW,
    build_store,
    fixed_app,
    settled,
    utc_and_steady,  # noqa: F401  (autouse: UTC and no cursor blink)
    wait_for,
    write_config,
)
from tui.app import StancewatchApp
from tui.screens.feeds_screen import FeedsScreen
from tui.screens.help_screen import HelpScreen
from tui.screens.main_screen import MainScreen
from tui.screens.matrix_screen import MatrixScreen
from tui.screens.statement_screen import StatementScreen
from tui.widgets.actor_list import ActorList
from tui.widgets.card_grid import CardGrid
from tui.widgets.feeds_table import FeedsTable
from tui.widgets.history_list import HistoryList
from tui.widgets.matrix_table import MatrixTable
from tui.widgets.topic_card import TopicCard


def text_of(widget: Static) -> str:
    """What a Static shows, as plain text."""
    return str(widget.render())


def card_text(screen: MainScreen, topic: str) -> str:
    card = screen.query_one(f"#card-{topic}", TopicCard)
    return "\n".join(text_of(s) for s in card.query(Static))


# --- navigation -----------------------------------------------------------------------


async def test_j_k_and_number_keys_move_between_actors(tmp_path: Path) -> None:
    app = fixed_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await settled(pilot)
        assert main.actor_id == "russia"
        await pilot.press("j")
        assert main.actor_id == "ukraine"
        await pilot.press("k")
        assert main.actor_id == "russia"
        await pilot.press("4")
        assert main.actor_id == "france"
        await wait_for(
            pilot, lambda: main.history_for is not None and main.history_for[0] == "france"
        )
        assert "Emmanuel Macron" in card_text(main, "peacekeeping")
        assert "SUPPORTS" in card_text(main, "peacekeeping")
        await pilot.press("down")  # the list has focus: arrows move too
        assert main.actor_id == "united-kingdom"


async def test_cards_move_with_h_l_and_the_history_follows_the_selected_topic(
    tmp_path: Path,
) -> None:
    app = fixed_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await settled(pilot)
        await pilot.press("tab")
        cards = main.query_one(CardGrid)
        assert cards.has_focus
        assert cards.topic_id == "peacekeeping"
        await pilot.press("l")
        assert cards.topic_id == "nato-membership"
        await wait_for(pilot, lambda: main.history_for == ("russia", "nato-membership", ""))
        history = main.query_one(HistoryList)
        # Two outlets carried Peskov's line: both rows are in the history.
        assert history.option_count == 2
        await pilot.press("h")
        await wait_for(pilot, lambda: main.history_for == ("russia", "peacekeeping", ""))
        assert [s.stance for s in history.statements] == [Stance.CONDITIONAL, Stance.OPPOSES]
        await pilot.press("right", "right", "left")
        assert cards.topic_id == "nato-membership"
        await pilot.press("tab")
        assert history.has_focus


async def test_enter_opens_the_statement_and_escape_goes_back(tmp_path: Path) -> None:
    app = fixed_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        await pilot.press("tab", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, StatementScreen))
        screen = app.screen
        assert isinstance(screen, StatementScreen)
        await wait_for(pilot, lambda: screen.detail is not None)
        await pilot.pause()
        body = "\n".join(text_of(s) for s in screen.query(Static))
        assert "Vassily Nebenzia" in body
        assert "only with explicit UN Security Council approval" in body  # the condition
        assert "At the United Nations on Friday" in body  # the article around the claim
        assert "↻ was OPPOSES" in body
        assert "https://example.org/w2" in body
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        assert app.main_screen.query_one(CardGrid).has_focus


async def test_the_history_row_opens_its_statement(tmp_path: Path) -> None:
    app = fixed_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await settled(pilot)
        await pilot.press("tab", "tab", "down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, StatementScreen))
        screen = app.screen
        assert isinstance(screen, StatementScreen)
        await wait_for(pilot, lambda: screen.detail is not None)
        assert screen.detail is not None and screen.detail.statement is not None
        assert screen.detail.statement.speaker == "Sergei Lavrov"
        await pilot.press("escape")
        assert app.screen is main


async def test_the_matrix_jumps_to_the_chosen_actor_and_topic(tmp_path: Path) -> None:
    app = fixed_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await settled(pilot)
        await pilot.press("m")
        assert isinstance(app.screen, MatrixScreen)
        table = app.screen.query_one(MatrixTable)
        # Starts on the main screen's actor and topic: Russia, peacekeeping.
        assert tuple(table.cursor_coordinate) == (0, 1)
        cell = table.get_cell_at(table.cursor_coordinate)
        assert "CONDITIONAL" in cell.plain and "↻" in cell.plain
        await pilot.press("down", "down", "right", "right", "right")  # United States, ceasefire
        await pilot.press("enter")
        assert isinstance(app.screen, MainScreen) and app.screen is main
        assert main.actor_id == "united-states"
        await wait_for(pilot, lambda: main.history_for == ("united-states", "ceasefire", ""))
        assert main.query_one(CardGrid).topic_id == "ceasefire"


async def test_escape_leaves_the_matrix_without_moving(tmp_path: Path) -> None:
    app = fixed_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await settled(pilot)
        await pilot.press("m", "down", "escape")
        assert app.screen is main
        assert main.actor_id == "russia"


async def test_the_feeds_screen_puts_the_failing_feed_first_in_words(tmp_path: Path) -> None:
    app = fixed_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        await pilot.press("f")
        assert isinstance(app.screen, FeedsScreen)
        table = app.screen.query_one(FeedsTable)
        first = table.get_row_at(0)
        assert first[0].plain.startswith("FAILING")
        assert "HTTP 503" in first[-1].plain
        detail = text_of(app.screen.query_one("#feed-detail", Static))
        assert "HTTP 503 Service Unavailable" in detail and "3 failures in a row" in detail
        await pilot.press("m")  # from one screen straight to another
        assert isinstance(app.screen, MatrixScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_the_filter_narrows_actors_and_history_and_escape_clears_it(
    tmp_path: Path,
) -> None:
    app = fixed_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await settled(pilot)
        actors = main.query_one(ActorList)
        every = len(actors.rows)
        await pilot.press("slash", *"Peskov", "enter")
        await wait_for(pilot, lambda: [r.id for r in actors.rows] == ["russia"])
        assert actors.has_focus
        await pilot.press("tab", "l")  # to the NATO card; the history is filtered too
        await wait_for(pilot, lambda: main.history_for == ("russia", "nato-membership", "Peskov"))
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(actors.rows) == every)
        assert main.filter_text == ""
        # A name, not only statement text, finds an actor.
        await pilot.press("slash", *"hung")
        await wait_for(pilot, lambda: [r.id for r in actors.rows] == ["hungary"])
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(actors.rows) == every)


async def test_help_lists_every_key_and_closes(tmp_path: Path) -> None:
    app = fixed_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = text_of(app.screen.query_one("#help-keys", Static))
        for expected in (
            "Matrix",
            "Feeds",
            "Poll every feed now",
            "Read the config file again",
            "Next actor",
            "Previous actor",
            "Jump to actor 1",
            "Filter actors and statements by text",
            "Previous topic card",
            "Next topic card",
            "Open the statement behind the card",
            "Show this actor and topic on the main screen",
            "Open in browser",
            "Copy link",
            "Poll the selected feed now",
            "Quit",
        ):
            assert expected.casefold() in keys.casefold(), expected
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_the_command_palette_runs_actions_and_jumps_to_actors(tmp_path: Path) -> None:
    app = fixed_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await settled(pilot)
        await pilot.press("ctrl+p", *"Matrix")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MatrixScreen))
        await pilot.press("ctrl+p", *"Show Hungary")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is main and main.actor_id == "hungary")


async def test_the_mouse_selects_actors_and_cards(tmp_path: Path) -> None:
    app = fixed_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await settled(pilot)
        await pilot.click(ActorList, offset=(4, 3))
        assert main.actor_id == "france"
        await pilot.click("#card-nato-membership")
        assert main.query_one(CardGrid).topic_id == "nato-membership"


async def test_q_quits(tmp_path: Path) -> None:
    app = fixed_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        await pilot.press("q")
        await wait_for(pilot, lambda: app._exit)
    assert app.return_code == 0


# --- hostile text -----------------------------------------------------------------


async def test_hostile_titles_and_claims_show_literally_everywhere(tmp_path: Path) -> None:
    app = fixed_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await settled(pilot)
        actors = main.query_one(ActorList)
        actors.select_actor("hungary")
        await wait_for(
            pilot, lambda: main.history_for is not None and main.history_for[0] == "hungary"
        )
        card = card_text(main, "sanctions")
        assert "[bold red]opposes[/]" in card and "[@click=app.quit]q[/]" in card
        assert HOSTILE_SOURCE in card
        history = main.query_one(HistoryList)
        row = str(history.get_option_at_index(0).prompt)
        assert "[bold red]Hostile Times[/]"[:14] in row and HOSTILE_CLAIM[:20] in row
        main.query_one(CardGrid).select_topic("sanctions")
        main.query_one(CardGrid).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, StatementScreen))
        screen = app.screen
        assert isinstance(screen, StatementScreen)
        await wait_for(pilot, lambda: screen.detail is not None)
        await pilot.pause()
        body = "\n".join(text_of(s) for s in screen.query(Static))
        assert HOSTILE_TITLE in body and HOSTILE_CLAIM in body
        await pilot.press("f")
        table = app.screen.query_one(FeedsTable)
        names = [table.get_row_at(i)[1].plain for i in range(table.row_count)]
        assert HOSTILE_SOURCE in names
        app.notify(HOSTILE_CLAIM, markup=False)  # the way every toast is raised
        await pilot.pause()
        # Clicking anywhere must not run `app.quit` from the text.
        await pilot.click(FeedsTable, offset=(30, 3))
        assert app.is_running and not app._exit


# --- live updates ------------------------------------------------------------------

LATER_FEED = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Loopback Wire</title>
<item><guid>later-1</guid><title>[bold red]Kyiv[/] sets a condition</title>
<link>https://example.org/later-1</link>
<pubDate>Fri, 21 Mar 2025 10:00:00 +0000</pubDate>
<description>Volodymyr Zelensky said Ukraine would accept a ceasefire only if it comes \
with firm security guarantees from its allies.</description></item>
</channel></rss>"""

EMPTY_FEED = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Loopback Wire</title></channel></rss>"""


def wire_app(tmp_path: Path, feed_server: FeedServer) -> StancewatchApp:
    """The app over the seeded store, polling one loopback feed that starts empty."""
    from sources.config import load_config

    url = feed_server.add("/wire.xml", EMPTY_FEED.encode())
    build_store(tmp_path / "db.json")
    config = load_config(write_config(tmp_path, [url]))
    return StancewatchApp(config, tmp_path / "db.json", clock=lambda: NOW, watch_config=False)


async def test_a_live_update_arrives_while_the_user_is_on_the_feeds_screen(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    app = wire_app(tmp_path, feed_server)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await settled(pilot)
        await wait_for(pilot, lambda: app.rounds >= 1, timeout=30)
        # The user looks at the United States' ceasefire history, row 1 ...
        main.query_one(ActorList).select_actor("united-states")
        await wait_for(
            pilot, lambda: main.history_for is not None and main.history_for[0] == "united-states"
        )
        before = card_text(main, "ceasefire")
        # ... then goes to the feeds screen and re-polls the feed, which now has news.
        feed_server.add("/wire.xml", LATER_FEED.encode())
        await pilot.press("f")
        assert isinstance(app.screen, FeedsScreen)
        await pilot.press("r")
        await wait_for(pilot, lambda: app.rounds >= 2, timeout=30)
        await wait_for(
            pilot,
            lambda: (
                app.snapshot is not None
                and app.snapshot.position("ukraine", "ceasefire") is not None
                and app.snapshot.position("ukraine", "ceasefire").statement.stance  # type: ignore[union-attr]
                is Stance.CONDITIONAL
            ),
        )
        toasts = [n for n in app._notifications if n.title == "Position changed"]
        assert toasts, [n.message for n in app._notifications]
        message = toasts[0].message
        assert "Ukraine" in message and "Ceasefire" in message and "CONDITIONAL" in message
        assert "firm security guarantees" in message
        # The main screen, underneath, was updated in place: same actor, same card.
        assert isinstance(app.screen, FeedsScreen)
        await pilot.press("escape")
        assert main.actor_id == "united-states"
        assert card_text(main, "ceasefire") == before
        await pilot.press("k")
        await wait_for(pilot, lambda: main.actor_id == "ukraine")
        assert "CONDITIONAL" in card_text(main, "ceasefire")
        assert "↻ was SUPPORTS" in card_text(main, "ceasefire")
        # The actor list marks Ukraine until the user has looked at it.
        rows = {row.id: row for row in main.query_one(ActorList).rows}
        assert rows["ukraine"].changed == 1


async def test_new_statements_keep_the_history_cursor_on_its_row(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    app = wire_app(tmp_path, feed_server)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await settled(pilot)
        await wait_for(pilot, lambda: app.rounds >= 1, timeout=30)
        main.query_one(ActorList).select_actor("ukraine")
        await wait_for(pilot, lambda: main.history_for == ("ukraine", "ceasefire", ""))
        history = main.query_one(HistoryList)
        history.focus()
        await pilot.press("down")
        under_cursor = history.statement_id
        assert under_cursor is not None
        feed_server.add("/wire.xml", LATER_FEED.encode())
        await pilot.press("r")
        await wait_for(pilot, lambda: len(history.statements) == 3, timeout=30)
        assert history.statement_id == under_cursor
        assert main.actor_id == "ukraine"


# --- config reload -------------------------------------------------------------------

NEW_TOPIC = """
[topics.grain-deal]
name = "Black Sea grain deal"
keywords = ["grain deal", "grain corridor"]

[topics.ceasefire]
name = "Ceasefire"
keywords = ["ceasefire", "truce"]
"""


async def test_ctrl_r_reloads_the_config_and_polls_a_new_feed_at_once(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.add("/later.xml", LATER_FEED.encode())
    app = fixed_app(tmp_path, poll=True)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await settled(pilot)
        await wait_for(pilot, lambda: app.rounds >= 1, timeout=30)
        config_path = app.config.path
        config_path.write_text(
            config_path.read_text("utf-8") + f'\n[[feeds]]\nurl = "{url}"\n', "utf-8"
        )
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: any(f.url == url for f in app.config.feeds))
        await wait_for(
            pilot,
            lambda: app.snapshot is not None and app.snapshot.feed(url) is not None,
            timeout=30,
        )
        assert feed_server.requests_to("/later.xml")
        position = app.snapshot.position("ukraine", "ceasefire") if app.snapshot else None
        assert position is not None and position.statement.stance is Stance.CONDITIONAL
        # A new topic in the file becomes a card; a topic dropped from it goes.
        config_path.write_text(config_path.read_text("utf-8") + NEW_TOPIC, "utf-8")
        await pilot.press("ctrl+r")
        await wait_for(
            pilot, lambda: [t.id for t in app.config.topics] == ["grain-deal", "ceasefire"]
        )
        await wait_for(pilot, lambda: len(main.query(TopicCard)) == 2)
        assert main.query_one("#card-grain-deal", TopicCard)


async def test_an_edited_config_file_is_picked_up_without_a_key(tmp_path: Path) -> None:
    app = fixed_app(tmp_path, watch_config=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        await pilot.pause(0.3)  # the watcher's first look records the file as it is
        path = app.config.path
        path.write_text(path.read_text("utf-8") + NEW_TOPIC, "utf-8")
        await wait_for(pilot, lambda: len(app.config.topics) == 2, timeout=10)


async def test_a_broken_config_edit_keeps_the_old_config_and_says_why(tmp_path: Path) -> None:
    app = fixed_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        old = app.config
        app.config.path.write_text("[[feeds]]\nurl = 'not a url'\n", "utf-8")
        await pilot.press("ctrl+r")
        await wait_for(
            pilot, lambda: any(n.title == "Config not reloaded" for n in app._notifications)
        )
        assert app.config is old
        message = next(n.message for n in app._notifications if n.title == "Config not reloaded")
        assert "config.toml:2" in message


# --- the demo, seen marks, poll planning ------------------------------------------


async def test_the_demo_populates_from_bundled_feeds_with_the_seed_position(
    tmp_path: Path,
) -> None:
    from sources.config import load_config
    from tui.demo import prepare_demo

    config = load_config(prepare_demo(tmp_path, NOW))
    assert all(Path(feed.url).exists() for feed in config.feeds)
    app = StancewatchApp(config, tmp_path / "demo.json", clock=lambda: NOW, watch_config=False)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await settled(pilot)
        await wait_for(pilot, lambda: app.rounds >= 1, timeout=30)
        await wait_for(
            pilot, lambda: app.snapshot is not None and app.snapshot.counts["statements"] > 0
        )
        assert app.snapshot is not None
        seed = app.snapshot.position("russia", "peacekeeping")
        assert seed is not None
        assert seed.statement.stance is Stance.CONDITIONAL
        # The seed gives Russia several statements on peacekeeping at one
        # time; the store picks one of them (see the report). Nebenzia's, with
        # its condition, is among them.
        assert app.store is not None
        same_time = [
            s
            for s in app.store.history("russia", "peacekeeping")
            if s.published == seed.statement.published
        ]
        assert any(s.speaker == "Vassily Nebenzia" and s.condition for s in same_time)
        # Positions move over time in the samples: several actors, at least one change.
        assert len({pair[0] for pair in app.snapshot.positions}) >= 5
        assert any(p.changed for p in app.snapshot.positions.values())
        # The hostile feed's title is kept as text, and the outage shows as failing.
        titles = {f.title for f in app.snapshot.feeds}
        assert "[bold red]Totally Legit News[/] [@click=app.quit]press here[/]" in titles
        assert app.status.failing == 1
        await wait_for(pilot, lambda: main.history_for is not None)
        assert "CONDITIONAL" in card_text(main, "peacekeeping")


def test_seen_marks_flag_a_moved_stance_until_seen_and_survive_a_restart(tmp_path: Path) -> None:
    from tui.seen import SeenMarks
    from tui.snapshot import Snapshot

    build_store(tmp_path / "db.json")
    from store import Store

    with Store.open(tmp_path / "db.json", readonly=True) as store:
        snapshot = Snapshot.load(store, NOW)
    peacekeeping = snapshot.position("russia", "peacekeeping")
    nato = snapshot.position("russia", "nato-membership")
    assert peacekeeping is not None and nato is not None
    marks = SeenMarks()
    assert marks.changed_since_seen(peacekeeping)  # never looked at, and it moved
    assert not marks.changed_since_seen(nato)  # never looked at, never moved
    assert marks.mark([peacekeeping, nato])
    assert not marks.mark([peacekeeping])  # already seen: nothing to save
    assert not marks.changed_since_seen(peacekeeping)
    path = tmp_path / "seen.json"
    marks.save(path)
    again = SeenMarks.load(path)
    assert not again.changed_since_seen(peacekeeping)
    assert again.seen_stance("russia", "peacekeeping") is Stance.CONDITIONAL
    path.write_text("{not json", "utf-8")
    assert len(SeenMarks.load(path)) == 0  # a damaged file costs the marks, nothing else


def test_queued_poll_requests_become_the_fewest_rounds() -> None:
    from tui.app import PollRequest, plan_rounds

    due = PollRequest()
    one = PollRequest(force=True, only=frozenset({"a"}))
    two = PollRequest(force=True, only=frozenset({"b"}))
    everything = PollRequest(force=True)
    assert plan_rounds([due, due]) == [due]
    assert plan_rounds([one, two]) == [PollRequest(force=True, only=frozenset({"a", "b"}))]
    # A re-poll of a feed that is not due must not be swallowed by the due round.
    assert plan_rounds([due, one]) == [one, due]
    assert plan_rounds([one, everything, due]) == [everything]


async def test_history_marks_a_change_between_articles_not_within_one() -> None:
    from textual.app import App, ComposeResult

    def said(item: str, ordinal: int, stance: Stance, day: int) -> Statement:
        return Statement(
            id=f"{item}-{ordinal}",
            item_id=item,
            actor="russia",
            speaker="A spokesman",
            topic="peacekeeping",
            stance=stance,
            claim=f"Paragraph {ordinal} of {item}.",
            cue="said",
            published=NOW - timedelta(days=day),
            source="Wire",
            ordinal=ordinal,
        )

    # Newest first, as the store gives them: an article whose lead opposes
    # and whose later paragraph is conditional, over an older article that
    # opposed, over an older one that was conditional.
    rows = (
        said("latest", 0, Stance.OPPOSES, 1),
        said("latest", 1, Stance.CONDITIONAL, 1),
        said("middle", 0, Stance.OPPOSES, 5),
        said("oldest", 0, Stance.CONDITIONAL, 9),
    )

    class HistoryOnly(App[None]):
        def compose(self) -> ComposeResult:
            yield HistoryList()

    app = HistoryOnly()
    async with app.run_test(size=(100, 10)) as pilot:
        history = app.query_one(HistoryList)
        history.statements = rows
        await pilot.pause()
        marked = ["↻" in str(history.get_option_at_index(i).prompt) for i in range(len(rows))]
    # "latest" says what "middle" said (its second paragraph is no change of
    # position, whatever the row below it says); "middle" differs from "oldest".
    assert marked == [False, False, True, False]
