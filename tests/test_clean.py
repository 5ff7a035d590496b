"""Text and date cleaning: controls die, markup stays literal, HTML becomes text, dates UTC."""

from __future__ import annotations

import re
import sys
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sources.clean import (
    clamp_date,
    clean_text,
    fold_whitespace,
    html_to_text,
    strip_controls,
    to_utc,
)
from tests import strategies

ALLOWED_CONTROLS = {"\n", "\t"}


def control_characters(text: str) -> set[str]:
    """The C0/C1 controls (and DEL) in a text, other than newline and tab."""
    return {
        char
        for char in text
        if (ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F) and char not in ALLOWED_CONTROLS
    }


# --- strip_controls / fold_whitespace ---------------------------------------------


def test_terminal_escapes_lose_their_escape_character() -> None:
    assert strip_controls("\x1b[31mred\x1b[0m") == "[31mred[0m"
    assert strip_controls("\x9b31mred") == "31mred"
    assert strip_controls("bell\x07 nul\x00 del\x7f") == "bell nul del"


def test_newlines_and_tabs_survive_and_a_carriage_return_becomes_a_newline() -> None:
    assert strip_controls("a\tb\nc") == "a\tb\nc"
    assert strip_controls("one\r\ntwo\rthree") == "one\ntwo\nthree"


def test_a_lone_surrogate_becomes_a_replacement_character() -> None:
    assert strip_controls("x\ud800y") == "x\ufffdy"


def test_whitespace_folds_to_spaces_keeping_paragraphs() -> None:
    assert fold_whitespace("  a \t b\u00a0c  ") == "a b c"
    assert fold_whitespace("a  \n  b") == "a\nb"
    assert fold_whitespace("a\n\n\n\n b") == "a\n\nb"


# --- html_to_text -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Kyiv</p><p>Moscow</p>", "Kyiv\n\nMoscow"),
        ("one<br>two<br/>three", "one\ntwo\nthree"),
        ("<ul><li>a</li><li>b</li></ul>", "a\nb"),
        ("<table><tr><td>1</td><td>2</td></tr></table>", "1 2"),
        ("<b>bold</b> and <i>it</i>alic", "bold and italic"),
        ("AT&amp;T &lt;b&gt; &eacute;t&eacute; &#8364;5", "AT&T <b> été €5"),
        ("<script>alert('x')</script>visible", "visible"),
        ("<style>p { color: red }</style>visible", "visible"),
        ("<a href='x>y' title=\"a>b\">link</a>", "link"),
        ("<![CDATA[kept]]> <!-- dropped --> text", "kept text"),
        ("a < b and c > d", "a < b and c > d"),
        ("unclosed <b", "unclosed"),
        ("<script>never closed <p>hidden", ""),
        ("<p>\x1b[31mred&#27;[0m</p>", "[31mred[0m"),
        # HTML5 maps NUL to U+FFFD and the C1 range to windows-1252 (0x9b: "›").
        ("&#0;&#x9b;", "\ufffd\u203a"),
    ],
)
def test_html_becomes_plain_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


@pytest.mark.parametrize(
    "hostile",
    [
        "<a" * 50_000,
        "</" * 50_000,
        "<!--" * 25_000,
        "<![CDATA[" * 10_000,
        "<a b='" * 20_000,
        '<a b="' * 20_000 + "'" * 100,
        "<script>" * 20_000,
        "&" * 100_000,
    ],
    ids=["open-tags", "end-tags", "comments", "cdata", "quotes", "mixed-quotes", "scripts", "amps"],
)
def test_html_to_text_survives_pathological_markup(hostile: str) -> None:
    # These are the inputs that make html.parser.HTMLParser quadratic on
    # Python 3.11.7 (27 s for 200 KB of "<a"); here they just have to come
    # back at all, which a hung test would not.
    assert control_characters(html_to_text(hostile)) == set()


# --- clean_text ---------------------------------------------------------------------


def test_rich_markup_in_a_title_stays_literal() -> None:
    assert clean_text("[bold red]x[/]") == "[bold red]x[/]"
    assert clean_text("[@click=app.quit]Quit[/]") == "[@click=app.quit]Quit[/]"


def test_ansi_in_a_title_keeps_its_text_but_not_the_escape() -> None:
    assert clean_text("\x1b[31mBreaking\x1b[0m news") == "[31mBreaking[0m news"
    assert clean_text("&#27;[31mBreaking") == "[31mBreaking"


def test_a_title_with_html_tags_loses_them_and_folds_to_one_line() -> None:
    assert clean_text("<b>Talks</b> resume\n in <i>Geneva</i>") == "Talks resume in Geneva"


def test_a_title_that_only_looks_a_bit_like_html_is_kept() -> None:
    assert clean_text("Press <Enter> if a < b") == "Press <Enter> if a < b"
    assert clean_text("Fish &amp; chips") == "Fish & chips"


def test_a_long_title_is_cut_with_an_ellipsis() -> None:
    assert clean_text("word " * 100, limit=12) == "word word…"
    assert len(clean_text("x" * 5000, limit=1000)) == 1000
    assert clean_text("中文标题" * 10, limit=5) == "中文标题…"
    assert clean_text("short", limit=12) == "short"


# --- dates -------------------------------------------------------------------------


def test_a_struct_time_is_read_as_utc() -> None:
    parsed = time.strptime("2024-02-29 23:30:00", "%Y-%m-%d %H:%M:%S")
    assert to_utc(parsed) == datetime(2024, 2, 29, 23, 30, tzinfo=UTC)
    assert to_utc(parsed).tzinfo is UTC  # type: ignore[union-attr]


def test_aware_datetimes_are_converted_and_naive_ones_taken_as_utc() -> None:
    kyiv = timezone(timedelta(hours=2))
    assert to_utc(datetime(2025, 1, 1, 12, tzinfo=kyiv)) == datetime(2025, 1, 1, 10, tzinfo=UTC)
    assert to_utc(datetime(2025, 1, 1, 12)) == datetime(2025, 1, 1, 12, tzinfo=UTC)
    assert to_utc(None) is None


def test_an_impossible_date_is_none() -> None:
    year_zero = time.struct_time((-100_000, 1, 1, 0, 0, 0, 0, 1, 0))
    assert to_utc(year_zero) is None
    assert to_utc(datetime.max.replace(tzinfo=timezone(-timedelta(hours=5)))) is None


def test_a_date_far_in_the_future_is_clamped_to_now() -> None:
    now = datetime(2025, 6, 1, 12, tzinfo=UTC)
    assert clamp_date(now + timedelta(days=400), now) == now
    assert clamp_date(now + timedelta(hours=23), now) == now + timedelta(hours=23)


def test_a_date_before_1990_is_nonsense() -> None:
    now = datetime(2025, 6, 1, tzinfo=UTC)
    assert clamp_date(datetime(1970, 1, 1, tzinfo=UTC), now) is None
    assert clamp_date(datetime(1990, 1, 2, tzinfo=UTC), now) == datetime(1990, 1, 2, tzinfo=UTC)
    assert clamp_date(None, now) is None


# --- properties ---------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(strategies.hostile_text())
def test_clean_text_never_emits_control_characters(text: str) -> None:
    cleaned = clean_text(text)
    assert control_characters(cleaned) == set()
    assert "\n" not in cleaned and "\t" not in cleaned


@settings(max_examples=300, deadline=None)
@given(strategies.hostile_text(), strategies.hostile_text())
def test_clean_text_respects_its_limit(text: str, other: str) -> None:
    limit = 1 + len(other) % 50
    assert len(clean_text(text, limit=limit)) <= limit


@settings(max_examples=300, deadline=None)
@given(strategies.html_fragments())
def test_html_to_text_never_emits_control_characters(html: str) -> None:
    text = html_to_text(html)
    assert control_characters(text) == set()
    assert "\ud800" not in text


@settings(max_examples=200, deadline=None)
@given(strategies.hostile_text())
def test_strip_controls_is_idempotent(text: str) -> None:
    once = strip_controls(text)
    assert strip_controls(once) == once
    assert control_characters(once) == set()


@settings(max_examples=300, deadline=None)
@given(strategies.any_datetimes() | strategies.struct_times() | strategies.utc_nows())
def test_to_utc_is_aware_utc_or_none(value: datetime | time.struct_time) -> None:
    result = to_utc(value)
    assert result is None or result.tzinfo is UTC


@settings(max_examples=300, deadline=None)
@given(strategies.any_datetimes(), strategies.utc_nows())
def test_clamp_date_never_returns_a_date_beyond_a_day_ahead(value: datetime, now: datetime) -> None:
    result = clamp_date(value, now)
    assert result is None or (
        result.tzinfo is UTC
        and result <= now + timedelta(days=1)
        and result >= datetime(1990, 1, 1, tzinfo=UTC)
    )


def test_bidi_overrides_that_reorder_terminal_text_are_removed() -> None:
    # U+202E would show "evil.exe" as "exe.live"; U+2066..2069 isolate runs.
    assert strip_controls("safe\u202eexe.live\u202c") == "safeexe.live"
    assert strip_controls("a\u2066b\u2069c") == "abc"
    # Letters from right-to-left scripts are text, not controls, and stay.
    assert strip_controls("שלום مرحبا") == "שלום مرحبا"


def test_a_hard_wrapped_description_reads_as_one_sentence() -> None:
    wrapped = "The minister said troops would go\nonly if a ceasefire\r\nholds first."
    expected = "The minister said troops would go only if a ceasefire holds first."
    assert html_to_text(wrapped) == expected


def test_a_blank_line_in_a_plain_description_stays_a_paragraph_break() -> None:
    assert html_to_text("First paragraph.\n\nSecond one.") == "First paragraph.\n\nSecond one."
    assert html_to_text("First line<br>\nsecond line") == "First line\nsecond line"


@settings(max_examples=2000)
@given(st.text(alphabet=st.sampled_from("ab \t\n\r\u00a0\u2003\u3000\x0b\x0c\x1c\x85\u2028.")))
def test_fold_whitespace_gives_one_space_for_every_blank_run(text: str) -> None:
    # The definition, written the slow way: every run of non-newline
    # whitespace becomes one space, then newline runs fold.
    blank_runs_folded = re.sub(r"[^\S\n]+", " ", text)
    assert fold_whitespace(text) == fold_whitespace_reference(blank_runs_folded)


def fold_whitespace_reference(text: str) -> str:
    def newline_run(match: re.Match[str]) -> str:
        return "\n\n" if match.group().count("\n") > 1 else "\n"

    return re.sub(r" ?\n[\s]*", newline_run, text).strip()


def test_str_split_cuts_at_exactly_the_whitespace_a_regex_matches() -> None:
    # fold_whitespace folds with `str.split()`; its definition is `\s`.
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert (len(f"a{char}b".split()) == 2) is bool(re.fullmatch(r"\s", char)), hex(code)


def test_the_quick_check_of_strip_controls_finds_every_character_it_would_change() -> None:
    from sources.clean import _CONTROL_OR_SURROGATE, _CONTROLS, _SURROGATES

    for code in range(sys.maxunicode + 1):
        char = chr(code)
        changed = bool(_CONTROLS.fullmatch(char) or _SURROGATES.fullmatch(char))
        assert bool(_CONTROL_OR_SURROGATE.fullmatch(char)) is changed, hex(code)
