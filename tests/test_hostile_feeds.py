"""Feeds that attack the poller, each polled beside a healthy feed by the real command.

Every test runs `stancewatch --config C --db D poll --once` in a subprocess
against a loopback server that misbehaves one way, next to a well-behaved
feed on the same server, and checks the same promises (`Arena.poll`):

- the run ends within the per-feed deadline plus start-up, exit 0;
- the healthy feed's items are stored;
- the hostile feed gets a readable error, or its items where they are usable;
- peak memory stays under `MEMORY_BOUND_MIB`;
- nothing local (/etc/passwd, a secret file) reaches the database;
- the output carries no terminal escapes.
"""

from __future__ import annotations

import html
import re
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.app import App

from sources.fetch import address_kind, redirect_refusal
from sources.records import FeedState, Item, Outcome, stable_id
from store import Store, database_files
from tests.feedserver import FeedServer, gzip_bomb
from tests.hostile import (
    DEADLINE,
    ESCAPE_TITLES,
    MARKUP_CLAIM,
    MARKUP_TITLES,
    MEMORY_BOUND_MIB,
    STARTUP_SLACK,
    CliRun,
    Entry,
    assert_no_controls,
    assert_readable,
    billion_laughs,
    binary_garbage,
    external_entities,
    feed_lines,
    healthy_feed,
    healthy_ids,
    poll_once,
    quadratic_blowup,
    rss,
    stored_feeds,
    stored_items,
    write_config,
)

SECRET = "SECRET-3f9c2a-do-not-leak"
NOW_UTC = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
PASSWD_MARK = "root:x:0:0"


@dataclass(frozen=True, slots=True)
class Polled:
    """A hostile feed polled beside the healthy one, common promises already checked."""

    run: CliRun
    line: str
    """The hostile feed's line in the `poll` output."""
    state: FeedState
    items: list[Item]
    """The hostile feed's stored items."""

    def error(self, *words: str) -> str:
        """Assert the hostile feed failed with a readable error holding `words`."""
        assert self.state.outcome is Outcome.ERROR, (self.line, self.items)
        message = self.state.last_error
        assert_readable(message)
        assert message is not None
        assert f"error: {message}" in self.line
        for word in words:
            assert word.lower() in message.lower(), message
        assert not self.items
        return message

    def usable(self, count: int | None = None) -> list[Item]:
        """Assert the hostile feed's items were stored (`count` of them, if given)."""
        assert self.state.outcome is Outcome.OK, self.line
        assert self.line.split("  ", 1)[1].lstrip().startswith("ok:"), self.line
        if count is not None:
            assert len(self.items) == count, [i.title for i in self.items]
        else:
            assert self.items
        return self.items


class Arena:
    """A loopback server with a healthy feed, a database and a secret file to guard."""

    def __init__(self, server: FeedServer, tmp_path: Path) -> None:
        self.server = server
        self.tmp = tmp_path
        self.db = tmp_path / "db.json"
        self.config = tmp_path / "config.toml"
        self.healthy = server.add("/healthy.xml", healthy_feed(), etag='"healthy-1"')
        self.secret = tmp_path / "secret.txt"
        self.secret.write_text(f"{SECRET}\n", "utf-8")

    def poll(
        self,
        hostile: str,
        *,
        also: tuple[str, ...] = (),
        settings: dict[str, object] | None = None,
    ) -> Polled:
        """Poll the healthy feed, `hostile` and `also` once, and check the common promises."""
        write_config(self.config, [self.healthy, hostile, *also], settings=settings)
        # Killed a little past the bound: a run that long has failed already.
        run = poll_once(self.config, self.db, timeout=DEADLINE + STARTUP_SLACK + 5)
        assert not run.timed_out, f"poll hung: {run.wall:.1f} s"
        assert run.returncode == 0, run.stderr
        assert run.wall <= DEADLINE + STARTUP_SLACK, f"poll took {run.wall:.1f} s"
        assert run.max_rss_mib < MEMORY_BOUND_MIB, f"peak memory {run.max_rss_mib:.0f} MiB"
        assert_no_controls(run.stdout)
        assert_no_controls(run.stderr)
        lines = feed_lines(run.stdout)
        assert set(lines) == {self.healthy, hostile, *also}, run.stdout
        with Store.open(self.db, readonly=True) as store:
            for item_id in healthy_ids(self.healthy):
                assert store.item(item_id) is not None, "the healthy feed's items were lost"
        blob = b"".join(path.read_bytes() for path in database_files(self.db))
        assert SECRET.encode() not in blob, "a local file reached the database"
        assert PASSWD_MARK.encode() not in blob, "/etc/passwd reached the database"
        states = stored_feeds(self.db)
        assert states[self.healthy].outcome in (Outcome.OK, Outcome.NOT_MODIFIED)
        return Polled(run, lines[hostile], states[hostile], stored_items(self.db, hostile))


@pytest.fixture
def arena(feed_server: FeedServer, tmp_path: Path) -> Arena:
    """A healthy feed and a fresh database beside whatever hostile route a test adds."""
    return Arena(feed_server, tmp_path)


# --- time -------------------------------------------------------------------------------


def test_a_feed_dripping_a_byte_a_second_is_cut_off_at_the_deadline(arena: Arena) -> None:
    polled = arena.poll(arena.server.url("/drip?seconds=120&interval=1"))
    polled.error("timed out")


def test_a_server_that_accepts_and_never_answers_is_cut_off_at_the_deadline(
    arena: Arena,
) -> None:
    polled = arena.poll(arena.server.url("/hang?seconds=120"))
    polled.error("timed out")


# --- size -------------------------------------------------------------------------------


def test_a_200_mb_body_is_refused_at_the_cap_without_reading_it_all(arena: Arena) -> None:
    polled = arena.poll(arena.server.url(f"/huge?bytes={200 * 2**20}"))
    polled.error("larger than 1 MiB")
    # The body stopped at the cap: far from 200 MB went over the wire.
    assert polled.run.max_rss_mib < MEMORY_BOUND_MIB


def test_a_gzip_bomb_expanding_past_1_gib_is_refused_at_the_cap(arena: Arena) -> None:
    gzip_bomb(1100)  # built before the run, so the server answers at once
    polled = arena.poll(arena.server.url("/gzip-bomb?mib=1100"))
    polled.error("larger than 1 MiB")


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(billion_laughs(), id="billion-laughs"),
        pytest.param(quadratic_blowup(), id="quadratic"),
    ],
)
def test_entity_expansion_bombs_do_not_expand(arena: Arena, document: bytes) -> None:
    arena.server.add("/bomb.xml", document)
    polled = arena.poll(arena.server.url("/bomb.xml"))
    # Either a readable error or entries whose text was not blown up.
    if polled.state.outcome is Outcome.ERROR:
        polled.error()
    for item in polled.items:
        assert len(item.title) + len(item.summary) < 100_000, len(item.summary)
        assert "lollollollol" not in item.summary + item.title
    assert arena.db.stat().st_size < 1_000_000


# --- redirects --------------------------------------------------------------------------


def test_a_redirect_loop_ends_with_a_too_many_redirects_error(arena: Arena) -> None:
    polled = arena.poll(arena.server.url("/redirect-loop"))
    polled.error("too many redirects")


@pytest.mark.parametrize("target", ["file:///etc/passwd", "FILE:///etc/passwd"])
def test_a_redirect_to_a_local_file_is_refused(arena: Arena, target: str) -> None:
    url = arena.server.url("/redirect-to?" + urllib.parse.urlencode({"url": target}))
    polled = arena.poll(url)
    polled.error("non-http url refused")


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        ("http://10.0.0.1/feed.xml", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::ffff:10.0.0.1]/feed.xml", "private"),
        ("http://0.0.0.0:80/feed.xml", "reserved"),
    ],
)
def test_a_redirect_into_a_more_private_network_is_refused_before_any_request(
    arena: Arena, target: str, kind: str
) -> None:
    # The loopback server counts as a loopback host, so 10.x and 169.254.x are
    # more private than where the feed lives. The refusal is decided before a
    # request: nothing is ever sent to those addresses (an attempt would show
    # as a connect timeout at the deadline, not this message).
    url = arena.server.url("/redirect-to?" + urllib.parse.urlencode({"url": target}))
    polled = arena.poll(url)
    polled.error(f"redirect to a {kind} address refused")


def test_a_redirect_within_loopback_is_still_followed(arena: Arena) -> None:
    arena.server.add("/moved.xml", rss([Entry(title="Moved here", guid="moved-1")]))
    target = f"http://localhost:{arena.server.port}/moved.xml"
    url = arena.server.url("/redirect-to?" + urllib.parse.urlencode({"url": target}))
    polled = arena.poll(url)
    assert [i.title for i in polled.usable(1)] == ["Moved here"]


@pytest.mark.parametrize(
    ("source", "target", "refused"),
    [
        # A public feed may never lead inwards: the SSRF the rule exists for.
        ({"public"}, {"loopback"}, "loopback"),
        ({"public"}, {"private"}, "private"),
        ({"public"}, {"link-local"}, "link-local"),
        ({"public"}, {"public", "private"}, "private"),
        ({"public"}, {"public"}, None),
        # The user's own intranet feed may move within the intranet, or out.
        ({"private"}, {"private"}, None),
        ({"private"}, {"public"}, None),
        ({"private"}, {"loopback"}, "loopback"),
        ({"loopback"}, {"loopback"}, None),
        ({"loopback"}, {"private"}, "private"),
        # A source with one public address gets no inside trust.
        ({"private", "public"}, {"private"}, "private"),
        # A source that did not resolve here is judged as public.
        (set(), {"loopback"}, "loopback"),
        # A target that does not resolve here is left to fail on its own.
        ({"public"}, set(), None),
    ],
)
def test_the_redirect_rule_only_lets_a_redirect_go_outwards(
    source: set[str], target: set[str], refused: str | None
) -> None:
    assert redirect_refusal(frozenset(source), frozenset(target)) == refused


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", "public"),
        ("2606:4700::1111", "public"),
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("2002:a00:1::", "private"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
        ("0.0.0.0", "reserved"),
        ("224.0.0.1", "reserved"),
        ("example.org", None),
    ],
)
def test_addresses_are_sorted_into_the_network_they_reach(address: str, kind: str | None) -> None:
    assert address_kind(address) == kind


# --- statuses ---------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "words"), [(404, "HTTP 404 Not Found"), (500, "HTTP 500")])
def test_an_error_status_is_a_readable_per_feed_error(arena: Arena, code: int, words: str) -> None:
    polled = arena.poll(arena.server.url(f"/status/{code}"))
    polled.error(words)


def test_a_429_waits_out_its_retry_after(arena: Arena) -> None:
    polled = arena.poll(arena.server.url("/status/429?retry_after=7200"))
    polled.error("429")
    assert polled.state.last_attempt is not None and polled.state.next_poll is not None
    assert polled.state.next_poll - polled.state.last_attempt >= timedelta(seconds=7200)


@pytest.mark.parametrize(
    ("route", "shown"),
    [
        (
            "/status/599?" + urllib.parse.urlencode({"phrase": "\x1b[2J\x07[@click=app.quit]boom"}),
            "[@click=app.quit]boom",
        ),
        (
            "/redirect-to?" + urllib.parse.urlencode({"url": "ftp://x/[bold red]\x1b[31mx[/]"}),
            "[bold red]",
        ),
    ],
)
def test_server_words_in_an_error_arrive_as_one_clean_line(
    arena: Arena, route: str, shown: str
) -> None:
    polled = arena.poll(arena.server.url(route))
    message = polled.error()
    assert shown in message  # markup kept as text, escapes gone (assert_readable)


# --- bodies that are not feeds ----------------------------------------------------------


def test_an_html_page_is_reported_as_not_a_feed(arena: Arena) -> None:
    page = (
        b"<!DOCTYPE html><html><head><title>Welcome</title></head>"
        b"<body><h1>Our homepage</h1><p>Subscribe to our newsletter!</p></body></html>"
    )
    arena.server.add("/page.html", page, content_type="text/html; charset=utf-8")
    polled = arena.poll(arena.server.url("/page.html"))
    polled.error("not a feed")


def test_binary_garbage_is_reported_as_not_a_feed(arena: Arena) -> None:
    arena.server.add("/garbage.xml", binary_garbage())
    polled = arena.poll(arena.server.url("/garbage.xml"))
    polled.error()


def test_an_empty_body_is_reported(arena: Arena) -> None:
    arena.server.add("/empty.xml", b"")
    polled = arena.poll(arena.server.url("/empty.xml"))
    polled.error("empty")


def test_a_body_cut_off_mid_stream_is_reported(arena: Arena) -> None:
    arena.server.add("/whole.xml", healthy_feed().replace(b"Healthy", b"Severed"))
    polled = arena.poll(arena.server.url("/cut?path=/whole.xml&at=300"))
    polled.error("closed the connection")


# --- bodies that are feeds, badly served or badly written --------------------------------


def test_invalid_utf8_in_a_feed_keeps_its_entries_as_valid_text(arena: Arena) -> None:
    good = rss([Entry(title="Envoy arrives", guid="u-1"), Entry(title="PLACEHOLDER", guid="u-2")])
    body = good.replace(b"PLACEHOLDER", b"Caf\xc3 \xff\xfe broken \xed\xa0\x80 bytes")
    arena.server.add("/latin.xml", body)
    polled = arena.poll(arena.server.url("/latin.xml"))
    items = polled.usable(2)
    for item in items:
        assert_no_controls(item.title)
        item.title.encode("utf-8")  # no lone surrogates: it was stored, and it prints
    assert any("broken" in i.title for i in items)


def test_a_valid_feed_with_a_wrong_content_type_is_still_read(arena: Arena) -> None:
    body = rss([Entry(title="Mislabelled but fine", guid="ct-1")])
    arena.server.add("/mislabelled", body, content_type="image/png")
    polled = arena.poll(arena.server.url("/mislabelled"))
    assert [i.title for i in polled.usable(1)] == ["Mislabelled but fine"]


def test_external_entities_never_read_local_files_or_fetch_urls(arena: Arena) -> None:
    body = external_entities(
        arena.secret, arena.server.url("/xxe-probe"), arena.server.url("/xxe-dtd")
    )
    arena.server.add("/xxe.xml", body)
    polled = arena.poll(arena.server.url("/xxe.xml"))
    # Arena.poll has checked the secret and /etc/passwd are not in the store.
    assert not arena.server.requests_to("/xxe-probe")
    assert not arena.server.requests_to("/xxe-dtd")
    if polled.state.outcome is Outcome.ERROR:
        polled.error()
    else:
        assert any(i.title == "An ordinary entry" for i in polled.usable())


def test_markup_in_titles_and_text_is_stored_verbatim(arena: Arena) -> None:
    entries = [
        Entry(title=title, guid=f"markup-{n}", link=f"https://m.example/{n}")
        for n, title in enumerate(MARKUP_TITLES)
    ]
    entries.append(
        Entry(title="[bold red]Envoy[/] sets terms", guid="markup-claim", description=MARKUP_CLAIM)
    )
    arena.server.add("/markup.xml", rss(entries, title="[blink]Markup Times[/blink]"))
    url = arena.server.url("/markup.xml")
    polled = arena.poll(url)
    items = polled.usable(len(entries))
    assert {i.title for i in items} == {*MARKUP_TITLES, "[bold red]Envoy[/] sets terms"}
    claim_item = next(i for i in items if i.title.startswith("[bold red]Envoy"))
    assert claim_item.summary == MARKUP_CLAIM
    assert polled.state.title == "[blink]Markup Times[/blink]"
    assert "[blink]Markup Times[/blink]" in polled.line


def test_terminal_escapes_are_removed_and_the_words_kept(arena: Arena) -> None:
    entries = [
        Entry(title=title, guid=f"esc-{n}", description=f"{title} in the body too")
        for n, (title, _) in enumerate(ESCAPE_TITLES)
    ]
    # The same escapes as XML character references, which a parser decodes.
    entries.append(
        Entry(raw_title="&#27;[31mencoded&#27;[0m &#x9b;2J", guid="esc-ref", description="x")
    )
    arena.server.add("/escapes.xml", rss(entries, title="\x1b]0;pwned\x07Escape Daily"))
    polled = arena.poll(arena.server.url("/escapes.xml"))
    items = {i.id: i for i in polled.usable(len(entries))}
    url = arena.server.url("/escapes.xml")
    for n, (_, word) in enumerate(ESCAPE_TITLES):
        item = items[stable_id("item", url, "guid", f"esc-{n}")]
        assert_no_controls(item.title)
        assert_no_controls(item.summary)
        assert word in item.title
    encoded = items[stable_id("item", url, "guid", "esc-ref")]
    assert_no_controls(encoded.title)
    assert "encoded" in encoded.title
    assert_no_controls(polled.state.title)
    assert "Escape Daily" in polled.state.title


WORLD_TITLES = (
    "Россия отвергла сроки переговоров",
    "俄罗斯拒绝谈判时间表",
    "روسيا ترفض الجدول الزمني للمحادثات",
    "שלום עכשיו",
    "Ελλάδα: συνομιλίες 🕊️🇺🇦",
    "Z̸̢a̵l̷g̶o̴ text with combining marks",
    "Ｆｕｌｌｗｉｄｔｈ and e\u0301 (a combining accent)",
)
"""Titles in other scripts, right-to-left, wide, and stacked with combining marks."""


def test_non_english_titles_are_stored_exactly_as_written(arena: Arena) -> None:
    entries = [Entry(title=t, guid=f"world-{n}") for n, t in enumerate(WORLD_TITLES)]
    arena.server.add("/world.xml", rss(entries, title="Мир · 世界 · عالم"))
    polled = arena.poll(arena.server.url("/world.xml"))
    assert {i.title for i in polled.usable(len(WORLD_TITLES))} == set(WORLD_TITLES)
    assert polled.state.title == "Мир · 世界 · عالم"


# --- identity: guids, dates, validators ---------------------------------------------------


def test_a_guid_reused_with_new_content_updates_the_item_without_duplicating(
    arena: Arena,
) -> None:
    url = arena.server.add("/reuse.xml", rss([Entry(title="First version", guid="same")]))
    arena.poll(url).usable(1)
    arena.server.add(
        "/reuse.xml",
        rss(
            [
                Entry(title="Second version", guid="same", description="rewritten"),
                # and reused again inside one document: the first one wins
                Entry(title="Third version", guid="same"),
            ]
        ),
    )
    polled = arena.poll(url)
    items = polled.usable(1)
    assert items[0].title == "Second version"
    assert "1 updated" in polled.line


def test_entries_without_guids_get_stable_ids_and_are_not_duplicated(arena: Arena) -> None:
    body = rss(
        [
            Entry(title="Linked only", link="https://noguid.example/a"),
            Entry(title="Neither guid nor link", description="Only words here."),
            Entry(title="Another linked", link="https://noguid.example/b"),
        ]
    )
    url = arena.server.add("/noguid.xml", body)
    first = {i.id for i in arena.poll(url).usable(3)}
    second = arena.poll(url)
    assert {i.id for i in second.usable(3)} == first
    assert "0 new" in second.line


def test_future_and_unparseable_dates_are_tamed(arena: Arena) -> None:
    dates = [
        "Fri, 31 Dec 2999 23:59:59 GMT",
        "9999-12-31T23:59:59Z",
        "Mon, 99 Foo 2024 99:99:99 +9999",
        "yesterday at noon",
        "",
        "0000-00-00T00:00:00Z",
        "Thu, 01 Jan 1970 00:00:00 GMT",
        "Tue, 01 Jul 2025 09:00:00 +1400",
    ]
    body = rss([Entry(title=f"Dated {n}", guid=f"d-{n}", pub_date=d) for n, d in enumerate(dates)])
    url = arena.server.add("/dates.xml", body)
    items = arena.poll(url).usable(len(dates))
    for item in items:
        assert item.published.utcoffset() == timedelta(0)
        assert item.published <= item.fetched + timedelta(days=1), item
        assert item.published.year >= 1990, item
    by_guid = {i.id: i for i in items}
    real = by_guid[stable_id("item", url, "guid", "d-7")]
    assert real.published.isoformat() == "2025-06-30T19:00:00+00:00"


def test_etag_and_304_leave_the_store_as_it_was(arena: Arena) -> None:
    url = arena.server.add("/tagged.xml", rss([Entry(title="Tagged", guid="t-1")]), etag='"v1"')
    arena.poll(url).usable(1)
    arena.server.reset()
    polled = arena.poll(url)
    assert "not modified" in polled.line
    requests = arena.server.requests_to("/tagged.xml")
    assert requests and requests[-1][2].get("if-none-match") == '"v1"'
    assert polled.state.outcome is Outcome.NOT_MODIFIED
    assert len(polled.items) == 1


# --- all at once ---------------------------------------------------------------------------


def test_every_hostile_route_at_once_leaves_the_healthy_feeds_whole(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """The CEO's check in one round: many misbehaviours in flight together."""
    srv = feed_server
    healthy = [srv.add(f"/healthy-{n}.xml", healthy_feed()) for n in range(3)]
    srv.add("/page.html", b"<html><body>hi</body></html>", content_type="text/html")
    srv.add("/bomb.xml", billion_laughs())
    srv.add("/markup.xml", rss([Entry(title=t, guid=t) for t in MARKUP_TITLES]))
    gzip_bomb(1100)
    hostile = [
        srv.url("/drip?seconds=120"),
        srv.url("/hang?seconds=120"),
        srv.url(f"/huge?bytes={200 * 2**20}"),
        srv.url("/gzip-bomb?mib=1100"),
        srv.url("/redirect-loop"),
        srv.url("/redirect-to?url=file:///etc/passwd"),
        srv.url("/redirect-to?url=http://169.254.169.254/"),
        srv.url("/status/404"),
        srv.url("/status/500"),
        srv.url("/status/429"),
        srv.url("/page.html"),
        srv.url("/bomb.xml"),
        srv.url("/markup.xml"),
    ]
    config = write_config(
        tmp_path / "c.toml", [*hostile, *healthy], settings={"per_host": 16, "concurrency": 16}
    )
    db = tmp_path / "db.json"
    run = poll_once(config, db, timeout=DEADLINE + STARTUP_SLACK + 30)
    assert not run.timed_out and run.returncode == 0, run.stderr
    assert run.wall <= DEADLINE + STARTUP_SLACK, run.wall
    assert run.max_rss_mib < MEMORY_BOUND_MIB, run.max_rss_mib
    lines = feed_lines(run.stdout)
    assert set(lines) == {*hostile, *healthy}
    states = stored_feeds(db)
    for url in healthy:
        assert states[url].outcome is Outcome.OK
        assert len(stored_items(db, url)) == 3
    for url in hostile:
        if states[url].outcome is Outcome.ERROR:
            assert_readable(states[url].last_error)
    assert {i.title for i in stored_items(db, srv.url("/markup.xml"))} == set(MARKUP_TITLES)


# --- documents that cost CPU rather than bytes ------------------------------------------------

LONG_SENTENCE = ("Russia said that peacekeepers would be welcome and " * 400)[:19_000] + "."
"""One 19,000-character sentence full of actors, cues and topic words (under the
20,000-character summary cap): every part of it invites the extractor to look."""


def test_items_of_one_endless_sentence_do_not_stall_the_round(arena: Arena) -> None:
    entries = [
        Entry(title=f"Long read {n}", guid=f"long-{n}", description=LONG_SENTENCE)
        for n in range(10)
    ]
    arena.server.add("/long.xml", rss(entries))
    polled = arena.poll(arena.server.url("/long.xml"))
    polled.usable(10)


def test_a_feed_that_costs_the_parser_minutes_is_cut_off_at_the_parse_budget(
    arena: Arena,
) -> None:
    # 60,000 attributes on one element: feedparser's strict parser looks each
    # one up by a linear scan (xml.sax AttributesNSImpl.getValueByQName), so
    # this 0.6 MB document costs it about a minute of CPU.
    attributes = " ".join(f'a{n}="x"' for n in range(60_000))
    body = rss([Entry(title="Attributes", guid="attrs")]).replace(
        b"<item>", f"<item {attributes}>".encode(), 1
    )
    arena.server.add("/attrs.xml", body)
    polled = arena.poll(arena.server.url("/attrs.xml"))
    if polled.state.outcome is Outcome.ERROR:
        polled.error("parsing took longer")
    else:
        polled.usable(1)


async def test_a_well_formed_element_with_many_attributes_parses_within_the_budget() -> None:
    from sources.pool import ParsePool

    attributes = " ".join(f'a{n}="x"' for n in range(20_000))
    body = rss([Entry(title="Attributes", guid="attrs")]).replace(
        b"<item>", f"<item {attributes}>".encode(), 1
    )
    with ParsePool(workers=1, timeout=2.0) as pool:
        parsed = await pool.parse(body, [], "http://127.0.0.1/attrs.xml", NOW_UTC)
    assert parsed.error is None, parsed.error
    assert [e.title for e in parsed.entries] == ["Attributes"]


# --- through the real dashboard ----------------------------------------------------------------


def screen_text(app: App[None]) -> str:
    """The dashboard's screen as text: the SVG screenshot without its markup."""
    svg = app.export_screenshot()
    body = svg[svg.index("</style>") :] if "</style>" in svg else svg
    return html.unescape(re.sub(r"<[^>]+>", "", body)).replace("\xa0", " ")


async def test_hostile_text_polled_from_a_feed_shows_literally_in_the_dashboard(
    arena: Arena,
) -> None:
    """End to end: loopback feed → `poll --once` → store → the real TUI, keys and mouse."""
    pytest.importorskip("tui.app", reason="the dashboard is not built yet")
    from textual.pilot import Pilot

    from sources.config import load_config
    from tui.app import StancewatchApp

    entries = [
        Entry(
            title="[bold red]Envoy[/] sets terms",
            guid="claim",
            description=MARKUP_CLAIM,
            link="https://markup.example/1",
            pub_date="Mon, 30 Jun 2025 10:00:00 GMT",
        ),
        Entry(title="\x1b[2J\x1b]0;pwned\x07Screen wiped?", guid="esc", link="javascript:alert(1)"),
        Entry(title="Local link", guid="local", link="file:///etc/passwd"),
        Entry(
            # A title that fights the layout: one unbroken 900-character word,
            # wide characters, right-to-left text and combining marks.
            title="W" * 900 + " 俄罗斯 روسيا Z̸̢a̵l̷g̶o̴ 🕊️",
            guid="wide",
            description=MARKUP_CLAIM,
            link="https://markup.example/2",
            pub_date="Tue, 01 Jul 2025 10:00:00 GMT",
        ),
    ]
    feed_title = "[@click=app.quit]Markup Times[/]"
    url = arena.server.add("/markup-tui.xml", rss(entries, title=feed_title))
    broken = arena.server.url(
        "/status/599?" + urllib.parse.urlencode({"phrase": "\x1b[2J[@click=app.quit]boom"})
    )
    polled = arena.poll(url, also=(broken,))
    assert {i.link for i in polled.usable(4)} == {
        "https://markup.example/1",
        "https://markup.example/2",
        "",
    }
    app = StancewatchApp(load_config(arena.config), arena.db, poll=False, watch_config=False)

    async def shows(pilot: Pilot[None], *needles: str) -> str:
        deadline = time.monotonic() + 15
        while True:
            await pilot.pause(0.05)
            text = screen_text(app)
            if all(n in text for n in needles):
                assert "\x1b" not in text and "\x07" not in text
                return text
            assert time.monotonic() < deadline, f"{needles} not on screen:\n{text}"

    async with app.run_test(size=(160, 50)) as pilot:
        await shows(pilot, "[@click=app.quit]would", "legitimate", "[@click=app.quit]Markup")
        # Into the cards, then open the latest statement: the wide item's, with
        # the Envoy item listed as reporting the same claim.
        await pilot.press("enter", "enter")
        await shows(pilot, "俄罗斯 روسيا", "[bold red]Envoy[/]", "red]without[/]")
        await pilot.press("escape", "escape", "f")
        await shows(pilot, feed_title, "HTTP 599", "[@click=app.quit]boom")
        for offset in ((20, 2), (60, 2), (20, 10), (5, 1)):
            await pilot.click(offset=offset)
        await pilot.pause(0.2)
        assert app.is_running and app.return_code is None, "feed text ran an action"
