"""Bad input everywhere that is not a feed server: config, OPML, the CLI, the text itself.

Config and OPML files come from users and from other programs; every one of
them must end in one line naming the file (and line, when there is one),
never a traceback. The text cleaner, the id scheme, date handling and the
extractor are held to properties with Hypothesis: they never raise, finish in
bounded time, and every field they give back is valid.
"""

from __future__ import annotations

import html
import io
import json
import os
import random
import string
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sources.clean import (
    EARLIEST,
    FUTURE_SLACK,
    clamp_date,
    clean_text,
    fold_whitespace,
    html_to_text,
    strip_controls,
    to_utc,
)
from sources.extraction import Extractor, load_default_specs
from sources.itemize import content_hash, item_id
from sources.parse import parse_document
from sources.records import ID_SCHEME, ParsedEntry, Stance, stable_id
from tests.hostile import ROOT, Entry, assert_no_controls, rss
from tui.cli import main

# Characters no cleaned text may hold: C0 but tab/newline, DEL, C1, carriage
# return, the bidi embeddings/overrides/isolates, and lone surrogates.
FORBIDDEN = set(map(chr, [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]))
FORBIDDEN |= set(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))
FORBIDDEN |= set(map(chr, range(0xD800, 0xE000)))

NOW = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)


def cli(*args: str) -> tuple[int, str, str]:
    """Run the command in this process (fast); a traceback would raise here."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def assert_one_line_refusal(code: int, err: str, *needles: str) -> None:
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("stancewatch: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


# --- config files ---------------------------------------------------------------------------

BAD_CONFIGS = {
    # name: (file bytes, words the message must hold)
    "nan-timeout": (b"[settings]\ntimeout = nan\n", ":2: settings.timeout"),
    "inf-timeout": (b"[settings]\ntimeout = inf\n", ":2: settings.timeout"),
    "nan-body-cap": (b"[settings]\nmax_body_mb = nan\n", ":2: settings.max_body_mb"),
    "negative-body-cap": (b"[settings]\nmax_body_mb = -1\n", ":2: settings.max_body_mb"),
    "huge-concurrency": (b"[settings]\nconcurrency = 1e308\n", ":2: settings.concurrency"),
    "zero-per-host": (b"[settings]\nper_host = 0\n", ":2: settings.per_host"),
    "zero-retain": (b"[settings]\nretain_days = 0\n", ":2: settings.retain_days"),
    "bool-timeout": (b"[settings]\ntimeout = true\n", ":2: settings.timeout"),
    "interval-zero": (b"[settings]\ninterval = 0\n", ":2: settings.interval"),
    "interval-negative-text": (b'[settings]\ninterval = "-5m"\n', ":2: settings.interval"),
    "interval-nan": (b"[settings]\ninterval = nan\n", ":2: settings.interval"),
    "interval-a-century": (b'[settings]\ninterval = "36500d"\n', ":2: settings.interval"),
    "feed-interval-inf": (
        b'[[feeds]]\nurl = "https://a.example/rss"\ninterval = inf\n',
        ":3: feeds[0].interval",
    ),
    "url-with-spaces": (b'[[feeds]]\nurl = "https://a.example/my feed"\n', "feeds[0].url"),
    "url-javascript": (b'[[feeds]]\nurl = "javascript:alert(1)"\n', "feeds[0].url"),
    "url-data": (b'[[feeds]]\nurl = "data:text/xml,<rss/>"\n', "feeds[0].url"),
    "url-nul": (b'[[feeds]]\nurl = "https://a.example/\\u0000"\n', "feeds[0].url"),
    "url-escape": (b'[[feeds]]\nurl = "https://a.example/\\u001b[2J"\n', "feeds[0].url"),
    "url-bad-port": (b'[[feeds]]\nurl = "https://a.example:99999/"\n', "feeds[0].url"),
    "feeds-a-string": (b'feeds = "https://a.example/rss"\n', "feeds"),
    "binary": (bytes(range(256)) * 4, "c.toml"),
    "not-utf8": (b'[[feeds]]\nurl = "https://caf\xe9.example/rss"\n', "c.toml"),
    "utf16": ("[settings]\ntimeout = 5\n".encode("utf-16"), "c.toml"),
    "duplicate-table": (b"[settings]\ntimeout = 5\n[settings]\ntimeout = 6\n", "c.toml"),
}


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_a_bad_config_is_refused_in_one_line_naming_file_and_key(tmp_path: Path, name: str) -> None:
    content, needle = BAD_CONFIGS[name]
    config = tmp_path / "c.toml"
    config.write_bytes(content)

    code, _, err = cli("--config", str(config), "check-config")

    assert code == 2
    assert_one_line_refusal(code, err, str(config), needle)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("a = " + "[" * 5000 + "]" * 5000 + "\n", id="nested-arrays"),
        pytest.param("a = " + "{b = " * 3000 + "1" + "}" * 3000 + "\n", id="nested-tables"),
    ],
)
def test_a_config_nested_thousands_deep_is_refused_in_one_line(
    tmp_path: Path, content: str
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(content, "utf-8")
    code, _, err = cli("--config", str(config), "check-config")
    assert_one_line_refusal(code, err, str(config))


def test_a_config_that_is_a_directory_or_missing_is_refused_in_one_line(tmp_path: Path) -> None:
    for path in (tmp_path, tmp_path / "nope.toml"):
        code, _, err = cli("--config", str(path), "check-config")
        assert_one_line_refusal(code, err, str(path))


# --- the command line ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://a.example/my feed",
        "javascript:alert(1)",
        "gopher://a.example/rss",
        "https://a.example/\x1b[2J",
        "",
        "   ",
        "https://",
    ],
)
def test_feeds_add_refuses_a_url_that_cannot_be_fetched(tmp_path: Path, url: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[settings]\ntimeout = 5\n", "utf-8")
    before = config.read_bytes()

    code, _, err = cli("--config", str(config), "feeds", "add", url)

    assert_one_line_refusal(code, err)
    assert_no_controls(err)
    assert config.read_bytes() == before


# --- OPML ---------------------------------------------------------------------------------


def _opml(outlines: str) -> bytes:
    return f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>'.encode()


BAD_OPML = {
    "not-xml": b"this is not xml at all",
    "binary": bytes(range(256)) * 8,
    "empty": b"",
    "not-opml": b'<?xml version="1.0"?><rss><channel/></rss>',
    "no-body": b'<?xml version="1.0"?><opml version="2.0"><head/></opml>',
    "billion-laughs": (
        b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><opml><body>'
        b'<outline xmlUrl="https://a.example/&b;"/></body></opml>'
    ),
    "external-entity": (
        b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<opml><body><outline text="&x;" xmlUrl="https://a.example/rss"/></body></opml>'
    ),
    "not-utf8": b'<?xml version="1.0" encoding="utf-8"?><opml><body><outline text="caf\xe9"/>'
    b"</body></opml>",
}


@pytest.mark.parametrize("name", sorted(BAD_OPML))
def test_a_bad_opml_file_is_refused_in_one_line_and_the_config_kept(
    tmp_path: Path, name: str
) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[[feeds]]\nurl = "https://kept.example/rss"\n', "utf-8")
    before = config.read_bytes()
    opml = tmp_path / "subs.opml"
    opml.write_bytes(BAD_OPML[name])

    code, _, err = cli("--config", str(config), "feeds", "import", str(opml))

    assert_one_line_refusal(code, err, str(opml))
    assert config.read_bytes() == before
    assert "root:x:0:0" not in err


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/xml,<rss/>", "gopher://a.example/", "http://a b/"]
)
def test_an_opml_url_that_cannot_be_fetched_never_reaches_the_config(
    tmp_path: Path, url: str
) -> None:
    config = tmp_path / "c.toml"
    config.write_text("", "utf-8")
    opml = tmp_path / "subs.opml"
    opml.write_bytes(
        _opml(
            f'<outline text="bad" xmlUrl="{html.escape(url)}"/>'
            '<outline text="ok" xmlUrl="https://ok.example/rss"/>'
        )
    )
    code, _, err = cli("--config", str(config), "feeds", "import", str(opml))
    # Refusing the file or skipping the entry are both fine; importing it is not.
    assert len(err.strip().splitlines()) == 1, err
    assert code in (0, 2), err
    assert url not in config.read_text("utf-8")


def test_an_opml_file_over_the_size_limit_is_refused_without_reading_it(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("", "utf-8")
    opml = tmp_path / "huge.opml"
    with opml.open("wb") as handle:
        handle.truncate(64 * 2**20)  # sparse: 64 MiB that take no disk
    code, _, err = cli("--config", str(config), "feeds", "import", str(opml))
    assert_one_line_refusal(code, err, "too large")


def test_an_opml_file_nested_thousands_deep_is_imported_or_refused_in_one_line(
    tmp_path: Path,
) -> None:
    config = tmp_path / "c.toml"
    config.write_text("", "utf-8")
    opml = tmp_path / "deep.opml"
    opml.write_bytes(
        _opml('<outline text="f">' * 3000 + '<outline xmlUrl="https://deep.example/rss"/>'
              + "</outline>" * 3000)
    )  # fmt: skip
    code, _, err = cli("--config", str(config), "feeds", "import", str(opml))
    if code == 0:
        assert "https://deep.example/rss" in config.read_text("utf-8")
    else:
        assert_one_line_refusal(code, err, str(opml))


def test_an_opml_file_cannot_make_stancewatch_read_local_files(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("", "utf-8")
    opml = tmp_path / "shared.opml"
    opml.write_bytes(
        _opml(
            '<outline text="pw" xmlUrl="file:///etc/passwd"/>'
            '<outline text="shadow" xmlUrl="/etc/shadow"/>'
            '<outline text="home" xmlUrl="~/.ssh/id_rsa"/>'
            '<outline text="ok" xmlUrl="https://ok.example/rss"/>'
        )
    )
    code, _, err = cli("--config", str(config), "feeds", "import", str(opml))
    text = config.read_text("utf-8")
    for local in ("/etc/passwd", "/etc/shadow", "id_rsa"):
        assert local not in text, f"{local} imported from someone else's OPML"
    assert len(err.strip().splitlines()) == 1, err


# --- the extractor on text built to hurt it ----------------------------------------------

EXTRACT_BOUND = 10.0
"""Seconds `stancewatch extract` may take on one pathological text, start-up included."""


def _extract_cli(text: str) -> tuple[int, str, float]:
    """`stancewatch extract --format json` in a subprocess, killed past the bound."""
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "tui.cli", "extract", "--format", "json"],
            cwd=ROOT,
            input=text.encode("utf-8", "surrogatepass"),
            capture_output=True,
            timeout=EXTRACT_BOUND,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"extract took over {EXTRACT_BOUND:.0f} s on a {len(text):,}-character text")
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), time.monotonic() - started


PATHOLOGICAL = {
    "punctuation-storm": "!?;:,.-—()[]{}\"'“”‘’«»…" * 200_000 + " peacekeepers",
    "open-quotes": "“Russia said " * 100_000,
    "nested-brackets": "(" * 500_000 + "Russia said peacekeepers" + ")" * 500_000,
    "commas": "Russia said, " + ", " * 2_000_000 + "peacekeepers",
    "apostrophes": "Russia" + "'s" * 1_000_000 + " peacekeepers",
    "dots-and-abbreviations": "U.S. Mr. Dr. St. e.g. " * 200_000 + "peacekeepers",
    "one-long-word": "Russia said " + "x" * 5_000_000 + " peacekeepers",
    "many-short-sentences": "Lavrov said peacekeepers are a threat. " * 130_000,
    "non-english": (
        "Россия заявила о миротворцах. 俄罗斯表示维和人员。 روسيا قالت قوات حفظ السلام "
        "שלום עכשיו. 🇺🇦🕊️ Ελλάδα είπε. "
    )
    * 30_000,
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_the_extractor_ends_in_bounded_time_on_pathological_text(name: str) -> None:
    code, out, _ = _extract_cli(PATHOLOGICAL[name])
    assert code == 0
    assert out.lstrip().startswith("[")


def test_the_extractor_ends_in_bounded_time_on_a_5_mb_single_sentence() -> None:
    sentence = ("Russia said that peacekeepers would be welcome and " * 100_000)[:5_000_000]
    code, out, _ = _extract_cli(sentence + ".")
    assert code == 0 and out.lstrip().startswith("[")


# --- Hypothesis: the text cleaner -----------------------------------------------------------

NASTY = st.lists(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(sorted(FORBIDDEN)),
        st.sampled_from(["\r\n", "\u2028", "\u00a0", "\u200b", "\ufeff", "\u200f"]),
        st.sampled_from(["<", ">", "&", ";", "#", "x", "[", "]", "/", "=", '"', "'", "!", "-"]),
        st.sampled_from(["<b>", "</p>", "<script>", "</script>", "<!--", "-->", "<![CDATA["]),
        st.sampled_from(["&amp;", "&#27;", "&#x9b;", "&#0;", "&#55296;", "&lt;", "&nbsp;"]),
        st.sampled_from(["[bold red]", "[/]", "[@click=app.quit]", "\x1b[31m", "\x1b]8;;"]),
    ),
    max_size=200,
).map("".join)
"""Text that leans on what hurts: controls, bidi, lone surrogates, markup, entities, tags."""
PROPERTY = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(NASTY)
def test_strip_controls_leaves_nothing_a_terminal_acts_on_and_is_idempotent(text: str) -> None:
    cleaned = strip_controls(text)
    assert not FORBIDDEN & set(cleaned)
    assert strip_controls(cleaned) == cleaned
    cleaned.encode("utf-8")


@PROPERTY
@given(NASTY, st.one_of(st.none(), st.integers(min_value=0, max_value=300)))
def test_clean_text_gives_one_clean_line_within_the_limit(text: str, limit: int | None) -> None:
    cleaned = clean_text(text, limit=limit)
    assert not FORBIDDEN & set(cleaned)
    assert "\n" not in cleaned and "\t" not in cleaned
    assert cleaned == cleaned.strip()
    if limit is not None:
        assert len(cleaned) <= limit
    cleaned.encode("utf-8")


@PROPERTY
@given(NASTY)
def test_html_to_text_gives_clean_folded_text(text: str) -> None:
    cleaned = html_to_text(text)
    assert not FORBIDDEN & set(cleaned)
    assert "\t" not in cleaned
    assert cleaned == cleaned.strip()
    assert "\n\n\n" not in cleaned
    assert fold_whitespace(cleaned) == cleaned
    cleaned.encode("utf-8")


@PROPERTY
@given(
    st.text(alphabet=string.ascii_letters + " .,", max_size=50),
    st.text(alphabet=string.digits, min_size=8, max_size=20),
    st.text(alphabet=string.ascii_letters + " .,", max_size=50),
)
def test_script_and_style_content_never_reaches_the_text(
    before: str, secret: str, after: str
) -> None:
    for tag in ("script", "style", "template"):
        cleaned = html_to_text(f"{before}<{tag} type='x'>{secret}</{tag}>{after}")
        assert secret not in cleaned


@PROPERTY
@given(
    st.text(
        alphabet=st.characters(
            categories=["L", "M", "N", "P", "S", "Zs"], exclude_characters=list(FORBIDDEN)
        ),
        max_size=200,
    ).filter(lambda s: "<" not in s and "&" not in s)
)
def test_clean_text_keeps_any_language_as_written(text: str) -> None:
    # Russian, Chinese, Arabic, combining marks, emoji: only spacing may change.
    assert clean_text(text) == " ".join(text.split())


# --- Hypothesis: the id scheme ----------------------------------------------------------------

PART = st.text(alphabet=st.characters(exclude_characters=["\x1f"]), max_size=40)


@PROPERTY
@given(st.text(max_size=10), st.lists(PART, max_size=4))
def test_stable_ids_are_24_hex_and_depend_only_on_their_parts(kind: str, parts: list[str]) -> None:
    first = stable_id(kind, *parts)
    assert len(first) == 24 and set(first) <= set("0123456789abcdef")
    assert stable_id(kind, *parts) == first


@PROPERTY
@given(st.lists(PART, min_size=1, max_size=4), st.lists(PART, min_size=1, max_size=4))
def test_different_parts_give_different_ids(left: list[str], right: list[str]) -> None:
    # Parts never hold the separator: feed text is stripped of controls
    # (\x1f among them) before it becomes a guid, link, title or summary.
    if left != right:
        assert stable_id("item", *left) != stable_id("item", *right)


def test_ids_are_the_same_in_another_process_with_another_hash_seed() -> None:
    samples = [("item", "https://a.example/rss", "guid", "x-1"), ("statement", "é", "中", "")]
    script = (
        "import json, sys; from sources.records import stable_id; "
        "print(json.dumps([stable_id(*p) for p in json.loads(sys.argv[1])]))"
    )
    for seed in ("0", "12345"):
        proc = subprocess.run(
            [sys.executable, "-c", script, json.dumps(samples)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert json.loads(proc.stdout) == [stable_id(*p) for p in samples], proc.stderr
    assert ID_SCHEME  # the scheme is versioned: changing it must change every id


ENTRY = st.builds(
    ParsedEntry,
    guid=st.one_of(st.none(), PART.filter(bool)),
    link=st.one_of(
        st.just(""), st.from_regex(r"https://[a-z]{1,8}\.example/[a-z0-9]{0,8}", fullmatch=True)
    ),
    title=PART,
    summary=PART,
    published=st.none(),
)


@PROPERTY
@given(st.lists(ENTRY, max_size=8), st.randoms(use_true_random=False))
def test_item_ids_do_not_depend_on_entry_order(
    entries: list[ParsedEntry], rnd: random.Random
) -> None:
    url = "https://feed.example/rss"
    shuffled = list(entries)
    rnd.shuffle(shuffled)
    assert {item_id(url, e) for e in entries} == {item_id(url, e) for e in shuffled}
    for entry in entries:
        assert item_id(url, entry) != item_id("https://other.example/rss", entry)
        assert content_hash(entry) == content_hash(
            ParsedEntry(entry.guid, entry.link, entry.title, entry.summary, NOW)
        )


# --- Hypothesis: dates ------------------------------------------------------------------------

ANY_DATETIME = st.one_of(
    st.datetimes(),
    st.datetimes(
        timezones=st.builds(
            timezone, st.timedeltas(min_value=-timedelta(hours=23), max_value=timedelta(hours=23))
        )
    ),
)


@PROPERTY
@given(ANY_DATETIME)
def test_to_utc_gives_the_same_instant_in_utc_or_nothing(value: datetime) -> None:
    converted = to_utc(value)
    if converted is None:
        return
    assert converted.utcoffset() == timedelta(0)
    if value.tzinfo is not None:
        assert converted == value
    else:
        assert converted.replace(tzinfo=None) == value


@PROPERTY
@given(st.tuples(*[st.integers(min_value=-(10**6), max_value=10**6)] * 9))
def test_to_utc_never_raises_on_any_time_tuple(parts: tuple[int, ...]) -> None:
    converted = to_utc(time.struct_time(parts))
    assert converted is None or converted.utcoffset() == timedelta(0)


@PROPERTY
@given(ANY_DATETIME, ANY_DATETIME)
def test_clamp_date_keeps_dates_between_1990_and_a_day_from_now(
    value: datetime, now: datetime
) -> None:
    clamped = clamp_date(value, now)
    if clamped is None:
        return
    now_utc = to_utc(now)
    assert now_utc is not None
    assert clamped.utcoffset() == timedelta(0)
    assert EARLIEST <= clamped <= now_utc + FUTURE_SLACK or clamped == now_utc


DATE_TEXT = st.one_of(
    st.text(max_size=60),
    st.from_regex(
        r"(Mon|Tue|Foo), [0-9]{1,3} (Jan|Feb|Xyz) [0-9]{1,6} [0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}"
        r" (GMT|[+-][0-9]{4}|ZZZ)",
        fullmatch=True,
    ),
    st.from_regex(
        r"[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}T[0-9]{1,2}:[0-9]{1,2}(:[0-9]{1,2})?(Z|[+-][0-9]{2}:?[0-9]{2})?",
        fullmatch=True,
    ),
)


@settings(max_examples=80, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(DATE_TEXT)
def test_any_feed_date_text_parses_to_a_sane_utc_date_or_none(text: str) -> None:
    body = rss([Entry(title="Dated", guid="d", pub_date=strip_controls(text))])
    parsed = parse_document(body, [("content-type", "application/rss+xml")], "http://x/", NOW)
    assert parsed.error is None, parsed.error
    (entry,) = parsed.entries
    if entry.published is not None:
        assert entry.published.utcoffset() == timedelta(0)
        assert EARLIEST <= entry.published <= NOW + FUTURE_SLACK


# --- Hypothesis: the extractor ------------------------------------------------------------------

_ACTORS, _TOPICS = load_default_specs()
_EXTRACTOR = Extractor(_ACTORS, _TOPICS)
_ACTOR_IDS = {a.id for a in _ACTORS}
_TOPIC_IDS = {t.id for t in _TOPICS}
_SUBJECTS = sorted(
    {
        *(alias for a in _ACTORS for alias in a.aliases[:4]),
        *(p.name for a in _ACTORS for p in a.people[:3]),
        *"He She They The envoy The minister A spokesman".split(" "),
    }
)
_CUES = ["said", "warned", "told reporters", "insisted", "rejected", "backed", "opposed",
         "would not rule out", "according to", "declined to comment on"]  # fmt: skip
_TOPIC_WORDS = sorted({k for t in _TOPICS for k in t.keywords[:5]})
_FILLER = st.lists(
    st.one_of(
        st.sampled_from("that the a any only if unless not never would be on Tuesday".split()),
        st.sampled_from([",", ";", ":", "—", "(", ")", '"', "“", "”", "'", "’s", "..."]),
        st.text(max_size=6),
    ),
    max_size=6,
).map(" ".join)
SENTENCE = st.tuples(
    st.sampled_from(_SUBJECTS),
    st.sampled_from(_CUES),
    _FILLER,
    st.sampled_from(_TOPIC_WORDS),
    _FILLER,
    st.sampled_from([".", "!", "?", "", ".”", ";"]),
).map(lambda parts: " ".join(parts[:-1]) + parts[-1])
"""A sentence shaped like a statement (subject, cue, topic word), roughened with noise."""
ARTICLE = st.lists(st.one_of(SENTENCE, _FILLER), max_size=12).map(
    lambda sentences: strip_controls(" ".join(sentences))
)


@settings(max_examples=200, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(ARTICLE, st.one_of(st.just(""), ARTICLE))
def test_the_extractor_gives_only_valid_statements(text: str, title: str) -> None:
    found = _EXTRACTOR.extract(text, title=title)
    for statement in found:
        assert statement.actor in _ACTOR_IDS
        assert statement.topic in _TOPIC_IDS
        assert isinstance(statement.stance, Stance)
        assert statement.claim.strip() and statement.cue.strip()
        assert statement.speaker is None or statement.speaker.strip()
        assert not FORBIDDEN & set(statement.claim)
        # The claim is the item's own words, never text made up or cut from elsewhere.
        assert " ".join(statement.claim.split()) in " ".join(f"{title} {text}".split())
    actors, topics = _EXTRACTOR.tag(text, title=title)
    assert set(actors) <= _ACTOR_IDS and set(topics) <= _TOPIC_IDS
    assert list(actors) == sorted(set(actors)) and list(topics) == sorted(set(topics))
