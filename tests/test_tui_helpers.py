"""A fixed store, a fixed clock and a fixed config for the dashboard's tests.

The store is a real TinyDB file written through `Store.commit_round`, with
records built here from sentences written for these tests. The clock is fixed
and the local zone is UTC, so ages and dates read the same on every machine.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot

from sources.config import load_config
from sources.records import Extraction, FeedState, Item, Outcome, Stance, Statement
from store import Store
from tui.app import StancewatchApp
from tui.screens.main_screen import MainScreen
from tui.widgets.topic_card import TopicCard

NOW = datetime(2025, 3, 21, 12, 0, tzinfo=UTC)

WIRE = "http://127.0.0.1:9/wire.xml"
DAILY = "http://127.0.0.1:9/daily.xml"
HOSTILE = "http://127.0.0.1:9/hostile.xml"
BROKEN = "http://127.0.0.1:9/broken.xml"

HOSTILE_TITLE = "[bold red]x[/] [@click=app.quit]q[/]"
HOSTILE_SOURCE = "[bold red]Hostile Times[/]"
HOSTILE_CLAIM = (
    "Péter Szijjártó said Budapest [bold red]opposes[/] new sanctions on Russian gas "
    "[@click=app.quit]q[/]."
)


def days_ago(days: float, hour: int = 9) -> datetime:
    """A moment `days` before the fixed clock, at a round hour."""
    return (NOW - timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


def make_item(
    feed: str, guid: str, title: str, summary: str, published: datetime, source: str
) -> Item:
    """An item as the poll round would store it."""
    return Item(
        id=f"{feed}#{guid}",
        feed_url=feed,
        link=f"https://example.org/{guid}",
        title=title,
        summary=summary,
        published=published,
        fetched=published,
        source=source,
        content_hash=guid,
    )


def make_statement(
    item: Item,
    actor: str,
    speaker: str | None,
    topic: str,
    stance: Stance,
    claim: str,
    *,
    cue: str = "said",
    alias: str = "",
    words: Sequence[str] = (),
    condition: str | None = None,
    carried: bool = False,
) -> Statement:
    """A statement as the extractor and the poll round would give it."""
    found = Extraction(
        actor=actor,
        speaker=speaker,
        topic=topic,
        stance=stance,
        claim=claim,
        cue=cue,
        alias=alias or (speaker or actor),
        topic_words=tuple(words),
        condition=condition,
        carried=carried,
    )
    return Statement.from_extraction(found, item)


def fixture_records() -> tuple[list[FeedState], list[Item], list[Statement]]:
    """Feeds, items and statements with positions that moved, and a hostile feed."""
    items: list[Item] = []
    statements: list[Statement] = []

    def add(
        feed: str,
        guid: str,
        title: str,
        summary: str,
        published: datetime,
        source: str,
        *found: tuple[str, str | None, str, Stance, dict[str, object]],
    ) -> None:
        item = make_item(feed, guid, title, summary, published, source)
        items.append(item)
        for actor, speaker, topic, stance, extra in found:
            claim = str(extra.pop("claim", summary))
            statements.append(
                make_statement(item, actor, speaker, topic, stance, claim, **extra)  # type: ignore[arg-type]
            )

    lavrov = "Sergei Lavrov said Moscow rejects any foreign peacekeepers in Ukraine."
    add(
        WIRE,
        "w1",
        "Lavrov rules out foreign troops",
        lavrov,
        days_ago(70),
        "Test Wire",
        (
            "russia",
            "Sergei Lavrov",
            "peacekeeping",
            Stance.OPPOSES,
            {"words": ["peacekeepers"], "alias": "Lavrov"},
        ),
    )
    nebenzia_claim = (
        "Vassily Nebenzia said Russia would accept peacekeepers only with explicit UN "
        "Security Council approval."
    )
    add(
        WIRE,
        "w2",
        "Envoy sets a condition for peacekeepers",
        "At the United Nations on Friday, " + nebenzia_claim + " He spoke to reporters.",
        days_ago(7),
        "Test Wire",
        (
            "russia",
            "Vassily Nebenzia",
            "peacekeeping",
            Stance.CONDITIONAL,
            {
                "claim": nebenzia_claim,
                "alias": "Nebenzia",
                "words": ["peacekeepers"],
                "condition": "only with explicit UN Security Council approval",
            },
        ),
    )
    peskov = "Dmitry Peskov said Russia opposes Ukraine's membership of NATO."
    for feed, guid, source, when in ((WIRE, "w3", "Test Wire", 4), (DAILY, "d1", "Test Daily", 3)):
        add(
            feed,
            guid,
            "Kremlin on the alliance",
            peskov,
            days_ago(when),
            source,
            (
                "russia",
                "Dmitry Peskov",
                "nato-membership",
                Stance.OPPOSES,
                {"words": ["membership of NATO"], "alias": "Peskov"},
            ),
        )
    add(
        WIRE,
        "w4",
        "Kyiv against a frozen front",
        "Volodymyr Zelensky said Kyiv rejects a ceasefire that freezes the front line.",
        days_ago(100),
        "Test Wire",
        ("ukraine", "Volodymyr Zelensky", "ceasefire", Stance.OPPOSES, {"words": ["ceasefire"]}),
    )
    add(
        WIRE,
        "w5",
        "Kyiv backs the truce plan",
        "Volodymyr Zelensky said Ukraine supports a 30-day ceasefire.",
        days_ago(10),
        "Test Wire",
        ("ukraine", "Volodymyr Zelensky", "ceasefire", Stance.SUPPORTS, {"words": ["ceasefire"]}),
    )
    add(
        DAILY,
        "d2",
        "Washington's warning",
        "Marco Rubio said Washington will impose new sanctions unless Moscow accepts a ceasefire.",
        days_ago(20),
        "Test Daily",
        (
            "united-states",
            "Marco Rubio",
            "sanctions",
            Stance.CONDITIONAL,
            {"words": ["sanctions"], "condition": "unless Moscow accepts a ceasefire"},
        ),
        ("united-states", "Marco Rubio", "ceasefire", Stance.SUPPORTS, {"words": ["ceasefire"]}),
    )
    add(
        DAILY,
        "d3",
        "Paris weighs its options",
        "Jean-Noel Barrot said peacekeeping troops were an option under consideration.",
        days_ago(30),
        "Test Daily",
        ("france", "Jean-Noel Barrot", "peacekeeping", Stance.NEUTRAL, {"words": ["peacekeeping"]}),
    )
    add(
        DAILY,
        "d4",
        "Macron ready to send troops",
        "Emmanuel Macron said France supports sending peacekeeping troops after a ceasefire.",
        days_ago(2),
        "Test Daily",
        ("france", "Emmanuel Macron", "peacekeeping", Stance.SUPPORTS, {"words": ["peacekeeping"]}),
    )
    add(
        HOSTILE,
        "h1",
        HOSTILE_TITLE,
        HOSTILE_CLAIM,
        days_ago(1),
        HOSTILE_SOURCE,
        ("hungary", "Péter Szijjártó", "sanctions", Stance.OPPOSES, {"words": ["sanctions"]}),
    )

    def ok(url: str, title: str, count: int) -> FeedState:
        return FeedState(
            url=url,
            title=title,
            last_attempt=NOW - timedelta(minutes=5),
            last_success=NOW - timedelta(minutes=5),
            next_poll=NOW + timedelta(minutes=25),
            outcome=Outcome.OK,
            new_items=1,
            seen_items=count - 1,
            total_items=count,
        )

    feeds = [
        ok(WIRE, "Test Wire", 5),
        ok(DAILY, "Test Daily", 4),
        ok(HOSTILE, HOSTILE_SOURCE, 1),
        FeedState(
            url=BROKEN,
            title="Test Outage",
            last_attempt=NOW - timedelta(minutes=5),
            last_success=NOW - timedelta(days=2),
            last_error="HTTP 503 Service Unavailable (retry after 120 s)",
            failures=3,
            next_poll=NOW + timedelta(hours=1),
            outcome=Outcome.ERROR,
            total_items=12,
        ),
    ]
    return feeds, items, statements


def write_config(folder: Path, feeds: Sequence[str], extra: str = "") -> Path:
    """A config listing `feeds` (the bundled actors and topics apply)."""
    lines = ["[settings]", "interval = 30", ""]
    for url in feeds:
        lines += ["[[feeds]]", f'url = "{url}"', ""]
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + extra, "utf-8")
    return path


def build_store(path: Path) -> Path:
    """Write the fixed records into a new database at `path`."""
    feeds, items, statements = fixture_records()
    with Store.open(path) as store:
        store.commit_round(feeds, items, statements, now=NOW)
    return path


def fixed_app(folder: Path, **options: object) -> StancewatchApp:
    """The dashboard on the fixed store and clock, not polling, not watching the config."""
    config = load_config(write_config(folder, [WIRE, DAILY, HOSTILE, BROKEN]))
    db = folder / "db.json"
    if not db.exists():
        build_store(db)
    # Marks stay put while a test looks (a slow machine must not clear them).
    settings: dict[str, object] = {"poll": False, "watch_config": False, "seen_after": 3600.0}
    settings.update(options)
    return StancewatchApp(config, db, clock=lambda: NOW, **settings)  # type: ignore[arg-type]


async def wait_for(pilot: Pilot[None], condition: object, timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds; fail after `timeout` seconds.

    The failure names the feeds' errors and the toasts, which usually say why.
    """
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            app = pilot.app
            feeds = [
                (f.url, f.outcome, f.last_error)
                for f in (
                    app.snapshot.feeds if isinstance(app, StancewatchApp) and app.snapshot else ()
                )
            ]
            toasts = [(n.title, n.message) for n in app._notifications]
            raise AssertionError(
                f"timed out after {timeout} s waiting for {condition}; "
                f"feeds {feeds}; toasts {toasts}"
            )
        await pilot.pause(0.02)


async def settled(pilot: Pilot[None]) -> MainScreen:
    """Wait until the store is read and the first actor's history is on screen."""
    app = pilot.app
    assert isinstance(app, StancewatchApp)
    main = app.main_screen
    await wait_for(
        pilot,
        lambda: (
            app.snapshot is not None
            and main.history_for is not None
            and all(
                card.view is not None and not card.view.loading for card in main.query(TopicCard)
            )
        ),
    )
    await pilot.pause()
    return main


@pytest.fixture(autouse=True)
def utc_and_steady(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC and the cursor does not blink, so screens are the same everywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setattr("textual.widgets._input.Input.cursor_blink", False)
    yield
    monkeypatch.undo()
    time.tzset()
