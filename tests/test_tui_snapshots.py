"""What each screen looks like at 80×24 and 120×40, on the fixed store and clock.

Review a changed SVG before `--snapshot-update` (the snapshot report shows
old and new side by side).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.test_tui_helpers import (
    fixed_app,
    settled,
    utc_and_steady,  # noqa: F401  (autouse: UTC and no cursor blink)
    wait_for,
)
from tui.screens.statement_screen import StatementScreen

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]

SnapCompare = Callable[..., bool]


async def _ready(pilot: Pilot[None]) -> None:
    await settled(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_main_screen(snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]) -> None:
    """Russia selected: the actor list with counts and ● marks for France, Russia, Ukraine and
    the United States; Russia's five cards (peacekeeping CONDITIONAL ↻ was OPPOSES, NATO
    membership OPPOSES, three topics with "no statement yet"); the peacekeeping history with
    the change marked; the status line with 3 feeds ok and 1 failing."""
    assert snap_compare(fixed_app(tmp_path), terminal_size=size, run_before=_ready)


@pytest.mark.parametrize("size", SIZES)
def test_matrix_screen(snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]) -> None:
    """Every actor × topic with the stance word in its colour, ↻ on changed positions, a dot
    where nothing was stated; the cursor on Russia / peacekeeping; all five topics in view."""
    assert snap_compare(fixed_app(tmp_path), press=["m"], terminal_size=size, run_before=_ready)


@pytest.mark.parametrize("size", SIZES)
def test_feeds_screen(snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]) -> None:
    """The failing feed first, FAILING ×3 in red, its error in words in the detail pane; the
    hostile feed's title `[bold red]Hostile Times[/]` shown literally."""
    assert snap_compare(fixed_app(tmp_path), press=["f"], terminal_size=size, run_before=_ready)


@pytest.mark.parametrize("size", SIZES)
def test_statement_screen(snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]) -> None:
    """Nebenzia's conditional statement: heading with ↻ was OPPOSES, the claim, why it matched
    (cue, alias, topic words, condition), and the article with the claim highlighted."""

    async def open_statement(pilot: Pilot[None]) -> None:
        await settled(pilot)
        await pilot.press("tab", "enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, StatementScreen))
        screen = pilot.app.screen
        assert isinstance(screen, StatementScreen)
        await wait_for(pilot, lambda: screen.detail is not None)

    assert snap_compare(fixed_app(tmp_path), terminal_size=size, run_before=open_statement)


@pytest.mark.parametrize("size", SIZES)
def test_hostile_card(snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]) -> None:
    """Hungary's sanctions card and history: `[bold red]opposes[/]` and `[@click=app.quit]q[/]`
    printed as text, with no red and no link."""

    async def hungary(pilot: Pilot[None]) -> None:
        main = await settled(pilot)
        await pilot.press("escape")  # the list has focus; nothing to clear
        from tui.widgets.actor_list import ActorList

        main.query_one(ActorList).select_actor("hungary")
        await wait_for(pilot, lambda: main.history_for == ("hungary", "sanctions", ""))

    assert snap_compare(fixed_app(tmp_path), terminal_size=size, run_before=hungary)


@pytest.mark.parametrize("size", SIZES)
def test_failing_feed_toast(
    snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]
) -> None:
    """A "Feed failing" toast in the bottom right, its error wrapped in full on every line, no
    line cut short with an ellipsis (at 80 columns the toast rack's scrollbar gutter once took
    the last column)."""

    async def failing(pilot: Pilot[None]) -> None:
        await settled(pilot)
        # The words and options the app uses when a round's feed fails (`_round_finished`).
        pilot.app.notify(
            "Wire Monitor: not a feed: an HTML page, with no RSS, Atom or RDF element",
            title="Feed failing",
            severity="error",
            timeout=60,
            markup=False,
        )
        await pilot.pause()

    assert snap_compare(fixed_app(tmp_path), terminal_size=size, run_before=failing)
