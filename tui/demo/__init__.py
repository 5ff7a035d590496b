"""`stancewatch demo`: bundled sample feeds, made ready in a throwaway folder.

The feed files here carry fixed dates. `prepare_demo` moves every date by
the same amount so the newest item is two hours old: ages read "3 d ago"
rather than "1 y ago", the activity sparkline has something to show, and the
order of statements (so which positions changed) stays as written.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from html import escape
from importlib import resources
from pathlib import Path

FEEDS: tuple[tuple[str, str], ...] = (
    ("wire.xml", "Demo Wire"),
    ("daily.xml", "Demo Daily"),
    ("seed.xml", ""),
    ("hostile.xml", ""),
    ("outage.xml", "Demo Monitor (broken on purpose)"),
)
"""(file, name in the config). No name: the outlet is the feed's own title."""

LATE_FILE = "late.xml"
"""A later version of the wire, swapped in while the demo runs."""
LATE_TARGET = "wire.xml"

NEWEST_AGE = timedelta(hours=2)

_RFC822 = re.compile(r"<pubDate>([^<]+)</pubDate>")
_ISO = re.compile(r"<(published|updated)>([^<]+)</\1>")


def _text(name: str) -> str:
    return resources.files("tui.demo").joinpath(name).read_text("utf-8")


def _dates(text: str) -> list[datetime]:
    found = [parsedate_to_datetime(m.group(1)) for m in _RFC822.finditer(text)]
    found += [datetime.fromisoformat(m.group(2)) for m in _ISO.finditer(text)]
    return [d.astimezone(UTC) for d in found]


def shift_dates(text: str, delta: timedelta) -> str:
    """Move every RSS `pubDate` and Atom `published`/`updated` by `delta`."""

    def rfc822(match: re.Match[str]) -> str:
        moved = parsedate_to_datetime(match.group(1)).astimezone(UTC) + delta
        return f"<pubDate>{format_datetime(moved)}</pubDate>"

    def iso(match: re.Match[str]) -> str:
        moved = datetime.fromisoformat(match.group(2)).astimezone(UTC) + delta
        tag = match.group(1)
        return f"<{tag}>{moved.strftime('%Y-%m-%dT%H:%M:%SZ')}</{tag}>"

    return _ISO.sub(iso, _RFC822.sub(rfc822, text))


def _render(name: str) -> str:
    text = _text(name)
    if "@SEED_ARTICLE@" in text:
        paragraphs = [p.strip() for p in _text("seed-article.txt").splitlines() if p.strip()]
        html = "".join(f"<p>{escape(p, quote=False)}</p>" for p in paragraphs)
        text = text.replace("@SEED_ARTICLE@", escape(html, quote=False))
    # The hostile feed's raw ESC bytes are kept out of the source tree (and
    # out of editors and diffs) and put back here.
    return text.replace("@ESC@", "\x1b")


def _offset(now: datetime) -> timedelta:
    newest = max(d for name, _ in FEEDS for d in _dates(_text(name)))
    return (now - NEWEST_AGE) - newest


def prepare_demo(folder: Path, now: datetime) -> Path:
    """Write the demo feeds and a config naming them into `folder`.

    Args:
        folder: an empty, throwaway directory.
        now: the present; the newest sample item is dated two hours before it.

    Returns:
        The config file. It lists only feeds, so the bundled actors and
        topics apply.
    """
    delta = _offset(now)
    lines = [
        "# The stancewatch demo: bundled sample feeds, read from local files.",
        "[settings]",
        'interval = "1d"',
        "",
    ]
    for name, title in FEEDS:
        path = folder / name
        path.write_text(shift_dates(_render(name), delta), "utf-8")
        lines.append("[[feeds]]")
        if title:
            lines.append(f'name = "{title}"')
        lines.append(f'url = "{path.as_posix()}"')
        lines.append("")
    config = folder / "config.toml"
    config.write_text("\n".join(lines), "utf-8")
    return config


def release_late_item(folder: Path, now: datetime) -> str:
    """Replace the wire with its later version (one new item, dated a minute ago).

    Returns:
        The feed location to re-poll.
    """
    text = _render(LATE_FILE)
    newest = max(_dates(text))
    target = folder / LATE_TARGET
    target.write_text(shift_dates(text, (now - timedelta(minutes=1)) - newest), "utf-8")
    return target.as_posix()
