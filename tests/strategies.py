"""Hypothesis strategies shared by the property tests.

Kept in one module, as `python-attrs/attrs/tests/strategies.py` does, so a new
property test reuses the same hostile inputs instead of inventing weaker ones.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

from sources.records import FeedState, Item, Outcome, Stance, Statement

# Characters a terminal acts on, and the sequences feeds really carry: ANSI
# colour and cursor codes, 8-bit CSI, OSC titles, BEL, NUL, CR.
CONTROL_CHARACTERS = [chr(code) for code in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))]
TERMINAL_SEQUENCES = [
    "\x1b[31m",
    "\x1b[0m",
    "\x1b[2J",
    "\x1b]0;title\x07",
    "\x9b31m",
    "\x1bc",
    "\r\n",
    "\r",
    "\x00",
]
# Text that looks like markup in one language or another, which must survive
# as literal text (Rich/Textual markup) or be read as HTML (tags, entities).
MARKUP_PIECES = [
    "[bold red]x[/]",
    "[@click=app.quit]",
    "[/]",
    "<b>",
    "</b>",
    "<p>",
    "<br/>",
    "<script>",
    "</script>",
    "<style>p{}</style>",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<a href='x>y'>",
    '<img src="a.png" alt="b">',
    "&amp;",
    "&lt;",
    "&gt;",
    "&#27;",
    "&#x1b;",
    "&#x9b;",
    "&#0;",
    "&#55296;",
    "&nbsp;",
    "&bogus;",
    "&",
    "<",
    ">",
    "\u00a0",
    "\u2028",
]


def hostile_text(max_size: int = 200) -> st.SearchStrategy[str]:
    """Arbitrary text laced with control characters, escapes and markup."""
    pieces = st.one_of(
        st.text(max_size=20),
        st.sampled_from(CONTROL_CHARACTERS),
        st.sampled_from(TERMINAL_SEQUENCES),
        st.sampled_from(MARKUP_PIECES),
    )
    return st.lists(pieces, max_size=max_size // 5).map("".join)


def html_fragments() -> st.SearchStrategy[str]:
    """HTML-ish fragments: nested tags, attributes, entities, broken syntax."""
    names = st.sampled_from(["p", "b", "a", "div", "br", "script", "style", "td", "li", "x-y"])
    attribute = st.tuples(
        st.sampled_from(["href", "class", "title", "onclick"]),
        st.sampled_from(['"', "'", ""]),
        st.text(max_size=10),
    ).map(lambda a: f" {a[0]}={a[1]}{a[2]}{a[1]}")
    tag = st.tuples(st.booleans(), names, st.lists(attribute, max_size=2)).map(
        lambda t: f"<{'/' if t[0] else ''}{t[1]}{''.join(t[2])}>"
    )
    piece = st.one_of(tag, hostile_text(max_size=40))
    return st.lists(piece, max_size=30).map("".join)


def timezones() -> st.SearchStrategy[timezone]:
    """Fixed offsets as far apart as real ones (and UTC)."""
    return st.integers(min_value=-14 * 60, max_value=14 * 60).map(
        lambda minutes: timezone(timedelta(minutes=minutes))
    )


def any_datetimes() -> st.SearchStrategy[datetime]:
    """Naive and aware datetimes over the whole range Python allows."""
    return st.one_of(
        st.datetimes(),
        st.datetimes(timezones=timezones()),
    )


def struct_times() -> st.SearchStrategy[time.struct_time]:
    """`struct_time` values as feedparser might build them, valid or not."""
    return st.tuples(
        st.integers(min_value=-1, max_value=100_000),
        st.integers(min_value=0, max_value=13),
        st.integers(min_value=0, max_value=32),
        st.integers(min_value=0, max_value=24),
        st.integers(min_value=0, max_value=61),
        st.integers(min_value=0, max_value=61),
        st.integers(min_value=0, max_value=6),
        st.integers(min_value=0, max_value=366),
        st.integers(min_value=-1, max_value=1),
    ).map(time.struct_time)


def utc_nows() -> st.SearchStrategy[datetime]:
    """Plausible "now" values: aware UTC, from 1995 to 2100."""
    return st.datetimes(
        min_value=datetime(1995, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.just(UTC),
    )


# --- store: records as the database receives them --------------------------------
# Owned by the store tests (tests/test_store.py).


def store_datetimes() -> st.SearchStrategy[datetime]:
    """Aware datetimes as records hold them: UTC, plus offsets the codec must normalise."""
    return st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
        ),
    )


def _store_words() -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.text(min_size=1, max_size=12), max_size=4).map(tuple)


def _store_counts() -> st.SearchStrategy[int]:
    return st.integers(min_value=0, max_value=2**31)


def store_feed_states() -> st.SearchStrategy[FeedState]:
    """Feed states with every field set to something, None included."""
    maybe_time = st.none() | store_datetimes()
    maybe_text = st.none() | st.text(max_size=40)
    return st.builds(
        FeedState,
        url=st.text(min_size=1, max_size=60),
        title=st.text(max_size=40),
        etag=maybe_text,
        last_modified=maybe_text,
        last_attempt=maybe_time,
        last_success=maybe_time,
        last_error=maybe_text,
        failures=_store_counts(),
        next_poll=maybe_time,
        outcome=st.sampled_from(Outcome),
        new_items=_store_counts(),
        seen_items=_store_counts(),
        total_items=_store_counts(),
    )


def store_items() -> st.SearchStrategy[Item]:
    """Items with arbitrary text (no lone surrogates: clean text never has them)."""
    return st.builds(
        Item,
        id=st.text(min_size=1, max_size=24),
        feed_url=st.text(max_size=40),
        link=st.text(max_size=40),
        title=hostile_text(max_size=60),
        summary=hostile_text(),
        published=store_datetimes(),
        fetched=store_datetimes(),
        source=st.text(max_size=40),
        topics=_store_words(),
        actors=_store_words(),
        content_hash=st.text(max_size=24),
    )


def store_statements() -> st.SearchStrategy[Statement]:
    """Statements with every field set, optional ones sometimes None."""
    return st.builds(
        Statement,
        id=st.text(min_size=1, max_size=24),
        item_id=st.text(min_size=1, max_size=24),
        actor=st.text(min_size=1, max_size=12),
        speaker=st.none() | st.text(max_size=40),
        topic=st.text(min_size=1, max_size=12),
        stance=st.sampled_from(Stance),
        claim=hostile_text(),
        cue=st.text(max_size=20),
        published=store_datetimes(),
        source=st.text(max_size=40),
        link=st.text(max_size=40),
        alias=st.text(max_size=20),
        topic_words=_store_words(),
        condition=st.none() | st.text(max_size=40),
        carried=st.booleans(),
    )


# --- end of the store section ------------------------------------------------------
