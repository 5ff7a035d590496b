"""How values look on screen: stances, ages, dates, and feed text made safe.

Feed text is untrusted, so every helper that takes it returns a `Content`
or `rich.text.Text` built from the plain string, never parsed as markup.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.content import Content

from sources.clean import strip_controls
from sources.records import Stance

STANCE_COLOURS: dict[Stance, str] = {
    Stance.SUPPORTS: "#4cbb6c",
    Stance.OPPOSES: "#e5534b",
    Stance.CONDITIONAL: "#d9a400",
    Stance.NEUTRAL: "#8aa2c0",
}
"""Fixed colours rather than theme variables: DataTable cells are Rich `Text`,
which cannot resolve `$success` and friends. Each is readable on dark and
light backgrounds, and the word is always shown beside it."""

STANCE_MARKS: dict[Stance, str] = {
    Stance.SUPPORTS: "+",
    Stance.OPPOSES: "x",
    Stance.CONDITIONAL: "?",
    Stance.NEUTRAL: "~",
}

CHANGED_MARK = "●"
"""Marks a position that changed since the user last looked at it."""

CHANGE_MARK = "↻"
"""Beside a stance that differs from the statement before it."""


def plain(text: str | None) -> str:
    """Feed text as one safe line: controls stripped, whitespace folded."""
    if not text:
        return ""
    return " ".join(strip_controls(text).split())


def stance_word(stance: Stance) -> str:
    """The stance in capitals, as shown on cards and in tables."""
    return str(stance).upper()


def stance_content(stance: Stance, *, bold: bool = True) -> Content:
    """The stance word in its colour, for `Static` and `Label`."""
    style = f"bold {STANCE_COLOURS[stance]}" if bold else STANCE_COLOURS[stance]
    return Content.styled(stance_word(stance), style)


def stance_text(stance: Stance) -> Text:
    """The stance word in its colour, for `DataTable` cells."""
    return Text(stance_word(stance), style=f"bold {STANCE_COLOURS[stance]}")


def literal(text: str | None, style: str = "") -> Text:
    """Feed text for a `DataTable` cell: a `Text`, so it is never read as markup."""
    return Text(plain(text), style=style, no_wrap=True, overflow="ellipsis")


def age_text(when: datetime | None, now: datetime) -> str:
    """How long ago, in the largest unit that fits: "just now", "3 h ago", "2 mo ago"."""
    if when is None:
        return "never"
    seconds = (now - when).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        return "just now" if not future else "in a moment"
    for size, unit in ((86400 * 365, "y"), (86400 * 30, "mo"), (86400, "d"), (3600, "h")):
        if seconds >= size:
            amount = f"{int(seconds // size)} {unit}"
            break
    else:
        amount = f"{int(seconds // 60)} min"
    return f"in {amount}" if future else f"{amount} ago"


def local(when: datetime) -> datetime:
    """A UTC datetime in the local zone, for display only."""
    return when.astimezone()


def date_text(when: datetime | None) -> str:
    """A day, as "2025-03-01"."""
    return local(when).strftime("%Y-%m-%d") if when else "-"


def datetime_text(when: datetime | None) -> str:
    """A moment, as "2025-03-01 14:05"."""
    return local(when).strftime("%Y-%m-%d %H:%M") if when else "-"


def clock_text(when: datetime | None, now: datetime) -> str:
    """A time today as "14:05", any other day with its date."""
    if when is None:
        return "-"
    shown = local(when)
    days = (shown.date() - local(now).date()).days
    if days == 0:
        return shown.strftime("%H:%M")
    if days == 1:
        return shown.strftime("tomorrow %H:%M")
    if days == -1:
        return shown.strftime("yesterday %H:%M")
    return shown.strftime("%Y-%m-%d %H:%M")


def utc_now() -> datetime:
    """The real clock; the app takes a clock so tests can fix it."""
    return datetime.now(UTC)
