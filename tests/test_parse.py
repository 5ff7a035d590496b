"""Feed documents to cleaned entries, and the worker pool that bounds their time.

Real documents are read by path from `../shared/feed-corpus/` (never copied
in) and skipped when that folder is absent; the expected titles, counts and
dates below were checked by reading the files. Every other document here is
written by hand.
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sources.parse import (
    AUTHOR_LIMIT,
    MAX_DOCUMENT_BYTES,
    SUMMARY_LIMIT,
    TITLE_LIMIT,
    parse_document,
)
from sources.pool import ParsePool
from sources.records import ParsedEntry, ParsedFeed

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "feed-corpus"
REAL_FEEDS = CORPUS / "real-feeds"
FEEDPARSER_CORPUS = CORPUS / "feedparser-corpus"


def parse(body: bytes | str, headers: dict[str, str] | None = None) -> ParsedFeed:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return parse_document(data, headers or {}, "https://wire.example/feeds/world.xml", NOW)


def real_feed(name: str) -> bytes:
    path = REAL_FEEDS / name
    if not path.is_file():
        pytest.skip(f"{path} is not here")
    return path.read_bytes()


def all_text(feed: ParsedFeed) -> str:
    """Every string the parse produced, for "this never appears anywhere" checks."""
    parts = [feed.title, feed.warning or "", feed.error or ""]
    for entry in feed.entries:
        parts += [entry.guid or "", entry.link, entry.title, entry.summary]
        parts += [value for _, value in entry.extra]
    return "\n".join(parts)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- real feeds, data-driven ------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What a real feed must give, checked by reading the file."""

    file: str
    count: int
    title: str
    first_title: str
    first_published: datetime | None
    last_title: str
    last_published: datetime | None
    first_summary_start: str = ""
    warning: str | None = None
    """A word the warning must contain; None: no warning at all."""


REAL = [
    Expected(
        "guardian_us_2018.rss",
        55,
        "The Guardian",
        "Trump State of the Union address promised unity but emphasized discord",
        utc(2018, 1, 31, 7, 26, 5),
        "Earth's ultimate yogis – in pictures",
        utc(2018, 1, 31, 7, 0, 20),
        "The president’s ‘new American moment’ speech stirred Republican applause",
    ),
    Expected(
        "heise_online_atom_2026.xml",
        150,
        "heise online News",
        "Top 10: Das beste günstige Tablet im Test",
        utc(2026, 4, 25, 18, 0),  # 20:00+02:00
        "Rsbuild 2.0: Schnelleres Bundling, ESM-first und Node 20",
        utc(2026, 4, 22, 14, 5),
        "Ein Tablet bietet heute nahezu alles",
    ),
    Expected(
        "dw_chinese_rdf_2015.xml",
        85,
        "Deutsche Welle: DW-WORLD.DE",
        "格林沃尔德获德国新闻记者奖",
        utc(2015, 3, 15, 16, 44),
        "奥地利“亚洲通”任欧盟驻华大使",
        utc(2007, 2, 23, 11, 17),
        "发表斯诺登爆料的美国记者格林沃尔德",
    ),
    Expected(
        "jn_pt_iso8859_2018.rss",
        40,
        "Jornal de Notícias - Últimas Notícias",
        "Mãe de utente é a nova presidente da Raríssimas",
        utc(2018, 1, 3, 13, 47),
        "Lisboa quer passes sociais com acesso a táxis e bicicletas",
        utc(2018, 1, 3, 0, 25),
        "Sónia Laygue",
    ),
    Expected(
        # Latin-1 bytes and no XML declaration: UTF-8 fails, windows-1252
        # reads it. The dates are in Portuguese ("Seg, 24 Set 2018"), which
        # feedparser does not read: None, so the poll round uses fetch time.
        "uol_noticias_latin1_nodecl.rss",
        15,
        "UOL Noticias",
        "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno",
        None,
        'Fama "A" é campeã da Primeira Divisão da Copa Cidade Alta de Futebol Suíço',
        None,
        "Líder na pesquisa Ibope",
        warning="windows-1252",
    ),
    Expected(
        # The copy lacks the document's first "<": ill-formed, all 60 kept.
        "nyt_world_2020_missing_lt.xml",
        60,
        "NYT > World News",
        "How Trump and Bolsonaro Broke Latin America’s Covid-19 Defenses",
        utc(2020, 10, 27, 12, 50, 52),
        "U.S. Embassy in Turkey Issues Security Alert and Suspends Services",
        utc(2020, 10, 23, 13, 56, 43),
        "The two presidents drove out 10,000 Cuban doctors",
        warning="ill-formed",
    ),
]


@pytest.mark.parametrize("expected", REAL, ids=[e.file for e in REAL])
def test_a_real_feed_gives_its_entries(expected: Expected) -> None:
    feed = parse(real_feed(expected.file))

    assert feed.error is None
    assert feed.title == expected.title
    assert len(feed.entries) == expected.count
    first, last = feed.entries[0], feed.entries[-1]
    assert (first.title, first.published) == (expected.first_title, expected.first_published)
    assert (last.title, last.published) == (expected.last_title, expected.last_published)
    assert first.summary.startswith(expected.first_summary_start)
    if expected.warning is None:
        assert feed.warning is None
    else:
        assert feed.warning is not None and expected.warning in feed.warning
    for entry in feed.entries:
        assert entry.link.startswith(("http://", "https://"))
        assert entry.published is None or entry.published.tzinfo is UTC


def test_a_latin1_feed_declared_in_the_header_needs_no_guessing() -> None:
    body = real_feed("uol_noticias_latin1_nodecl.rss")
    feed = parse(body, {"Content-Type": "application/rss+xml; charset=ISO-8859-1"})
    assert feed.warning is None
    assert feed.entries[0].title.endswith("simulações de 2º turno")


def test_our_driver_finds_the_same_entries_as_feedparser_parse() -> None:
    # sources.parse drives feedparser's parser classes itself; this keeps it
    # honest against feedparser.parse() (given a stream, so it opens nothing).
    files = sorted(REAL_FEEDS.glob("*.xml")) + sorted(REAL_FEEDS.glob("*.rss"))
    files += sorted(REAL_FEEDS.glob("*.atom"))
    if not files:
        pytest.skip(f"{REAL_FEEDS} is not here")
    for path in files:
        body = path.read_bytes()
        reference = feedparser.parse(io.BytesIO(body))
        ours = parse(body)
        assert len(ours.entries) == len(reference.entries), path.name
        titles = [" ".join(e.get("title", "").split()) for e in reference.entries]
        assert [e.title for e in ours.entries] == titles, path.name


def test_parse_document_throughput_on_the_real_feeds(capsys: pytest.CaptureFixture[str]) -> None:
    # A measurement, printed for the record (run with -s); never asserted.
    bodies = [p.read_bytes() for p in sorted(REAL_FEEDS.glob("*")) if p.suffix != ".txt"]
    if not bodies:
        pytest.skip(f"{REAL_FEEDS} is not here")
    started = time.perf_counter()
    entries = sum(len(parse(body).entries) for body in bodies)
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(
            f"\nparse_document: {entries} entries from {len(bodies)} real feeds "
            f"in {elapsed:.2f} s = {entries / elapsed:.0f} entries/s"
        )
    assert entries > 0


# --- documents written here: RSS 2.0, Atom, RDF --------------------------------------

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Example Wire &amp; Co</title>
  <link>https://wire.example/</link>
  <item>
    <title>Ceasefire talks resume in Geneva</title>
    <link>/world/ceasefire-talks</link>
    <guid isPermaLink="false">wire-0001</guid>
    <pubDate>Tue, 04 Mar 2025 14:30:00 +0200</pubDate>
    <description>&lt;p&gt;Short teaser.&lt;/p&gt;</description>
    <content:encoded><![CDATA[<p>The envoy said the talks would <b>resume</b> on Monday.</p>
      <p>Second   paragraph.</p><script>track("x")</script>]]></content:encoded>
    <category>Diplomacy</category>
    <dc:creator>A. Reporter</dc:creator>
  </item>
  <item>
    <title>No date on this one</title>
    <link>https://wire.example/undated</link>
    <description>Plain description text.</description>
  </item>
  <item>
    <title>From the future</title>
    <guid>https://wire.example/future</guid>
    <pubDate>Sat, 01 Jan 2050 00:00:00 GMT</pubDate>
  </item>
  <item>
    <title>Script link</title>
    <link>javascript:alert(1)</link>
    <guid>   </guid>
  </item>
</channel>
</rss>
"""


def test_an_rss_feed_gives_clean_entries() -> None:
    feed = parse(RSS)

    assert (feed.title, feed.warning, feed.error) == ("Example Wire & Co", None, None)
    assert [e.title for e in feed.entries] == [
        "Ceasefire talks resume in Geneva",
        "No date on this one",
        "From the future",
        "Script link",
    ]
    first = feed.entries[0]
    assert first == ParsedEntry(
        guid="wire-0001",
        link="https://wire.example/world/ceasefire-talks",
        title="Ceasefire talks resume in Geneva",
        summary="The envoy said the talks would resume on Monday.\n\nSecond paragraph.",
        published=utc(2025, 3, 4, 12, 30),
        extra=(("author", "A. Reporter"), ("categories", "Diplomacy")),
    )


def test_an_entry_without_a_date_has_none() -> None:
    undated = parse(RSS).entries[1]
    assert undated.published is None
    assert undated.summary == "Plain description text."


def test_a_date_in_the_far_future_is_clamped_to_now() -> None:
    future = parse(RSS).entries[2]
    assert future.published == NOW
    assert future.link == "https://wire.example/future"  # a permalink guid is the link


def test_only_http_links_are_kept_and_a_blank_guid_is_none() -> None:
    scripted = parse(RSS).entries[3]
    assert (scripted.link, scripted.guid) == ("", None)


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example/news/">
  <title type="html">Blog &lt;i&gt;of&lt;/i&gt; record</title>
  <id>tag:blog.example,2025:feed</id>
  <updated>2025-03-05T15:00:00Z</updated>
  <entry>
    <title type="text">Statement on sanctions</title>
    <id>tag:blog.example,2025:1</id>
    <updated>2025-03-05T09:15:00-05:00</updated>
    <published>2025-03-05T08:00:00-05:00</published>
    <link rel="enclosure" href="https://blog.example/audio.mp3"/>
    <link rel="alternate" href="posts/1"/>
    <summary type="html">&lt;p&gt;Summary.&lt;/p&gt;</summary>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">
      <p>Full <em>text</em> of the statement.</p></div></content>
  </entry>
  <entry>
    <title>Only updated</title>
    <id>tag:blog.example,2025:2</id>
    <updated>2025-03-06T00:30:00+01:00</updated>
    <link href="https://elsewhere.example/2"/>
    <summary>Plain &amp; simple.</summary>
  </entry>
</feed>
"""


def test_an_atom_feed_gives_clean_entries() -> None:
    feed = parse(ATOM)

    assert (feed.title, feed.warning, feed.error) == ("Blog of record", None, None)
    first, second = feed.entries
    assert first == ParsedEntry(
        guid="tag:blog.example,2025:1",
        link="https://blog.example/news/posts/1",
        title="Statement on sanctions",
        summary="Full text of the statement.",
        published=utc(2025, 3, 5, 13, 0),  # published wins over updated
    )
    assert second.published == utc(2025, 3, 5, 23, 30)  # updated, when that is all
    assert (second.link, second.summary) == ("https://elsewhere.example/2", "Plain & simple.")


RDF = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://rdf.example/">
    <title>RDF wire</title>
    <link>https://rdf.example/</link>
    <description>An RSS 1.0 channel</description>
    <items><rdf:Seq><rdf:li resource="https://rdf.example/a"/></rdf:Seq></items>
  </channel>
  <item rdf:about="https://rdf.example/a">
    <title>Item A</title>
    <link>https://rdf.example/a</link>
    <description>Alpha text.</description>
    <dc:date>2024-12-31T23:59:59+01:00</dc:date>
  </item>
</rdf:RDF>
"""


def test_an_rdf_feed_gives_clean_entries() -> None:
    feed = parse(RDF)

    assert (feed.title, feed.warning, feed.error) == ("RDF wire", None, None)
    assert feed.entries == (
        ParsedEntry(
            guid="https://rdf.example/a",
            link="https://rdf.example/a",
            title="Item A",
            summary="Alpha text.",
            published=utc(2024, 12, 31, 22, 59, 59),
        ),
    )


def test_a_feed_with_no_items_is_a_feed_not_an_error() -> None:
    feed = parse('<rss version="2.0"><channel><title>Quiet</title></channel></rss>')
    assert (feed.title, feed.entries, feed.error, feed.warning) == ("Quiet", (), None, None)


# --- hostile text ----------------------------------------------------------------------


def item_titled(title_xml: str) -> str:
    return (
        '<rss version="2.0"><channel><title>t</title><item>'
        f"<title>{title_xml}</title><link>https://wire.example/1</link>"
        "</item></channel></rss>"
    )


def test_markup_in_a_title_stays_literal_text() -> None:
    feed = parse(item_titled("[bold red]x[/] [@click=app.quit]quit[/]"))
    assert feed.entries[0].title == "[bold red]x[/] [@click=app.quit]quit[/]"


@pytest.mark.parametrize(
    "title_xml",
    ["\x1b[31mred\x1b[0m alert", "&#27;[31mred&#x1b;[0m alert", "\x9b31mred\x1b[0m alert"],
    ids=["raw-esc", "escaped-esc", "8-bit-csi"],
)
def test_ansi_in_a_title_loses_its_escape_but_keeps_its_text(title_xml: str) -> None:
    # A raw ESC is not even legal XML: the loose parser reads the document
    # and the entry survives, minus the control character.
    feed = parse(item_titled(title_xml))
    assert feed.error is None
    assert len(feed.entries) == 1
    title = feed.entries[0].title
    assert "\x1b" not in title and "\x9b" not in title
    assert title.endswith("31mred[0m alert")


def test_huge_fields_are_capped() -> None:
    body = (
        '<rss version="2.0"><channel><title>t</title><item>'
        f"<title>{'headline ' * 2_000}</title>"
        f"<description>{'body text ' * 10_000}</description>"
        f"<link>https://wire.example/{'x' * 10_000}</link>"
        f"<guid isPermaLink='false'>{'g' * 5_000}</guid>"
        "</item></channel></rss>"
    )
    entry = parse(body).entries[0]
    assert len(entry.title) <= TITLE_LIMIT and entry.title.endswith("…")
    assert len(entry.summary) <= SUMMARY_LIMIT and entry.summary.endswith("…")
    assert entry.link == ""  # a 10 KB URL is no link anyone can use
    assert entry.guid is not None and entry.guid.startswith("sha256:") and len(entry.guid) < 100


# --- broken documents ----------------------------------------------------------------


def test_an_ill_formed_feed_keeps_its_entries_with_a_warning() -> None:
    body = RSS.replace("Ceasefire talks resume", "Talks & more talks <unclosed")
    feed = parse(body)
    assert feed.error is None
    assert feed.warning is not None and "ill-formed" in feed.warning
    assert len(feed.entries) == 4


def test_invalid_utf8_is_read_anyway_with_a_warning() -> None:
    body = RSS.encode("utf-8").replace(b"Plain description text.", b"Caf\xe9 \xff\xfe text.")
    feed = parse(body)
    assert feed.error is None
    assert feed.warning is not None and "parsed as" in feed.warning
    assert len(feed.entries) == 4
    assert feed.entries[1].summary.startswith("Café")


def test_a_feed_cut_off_before_its_first_item_is_an_error() -> None:
    feed = parse(RSS[: RSS.index("<item>")])
    assert feed.entries == ()
    assert feed.error is not None and "ill-formed XML" in feed.error


def test_an_html_page_is_not_a_feed() -> None:
    page = (
        "<!DOCTYPE html><html><head><title>Home</title></head>"
        "<body><h1>Welcome</h1><p>No feed here.</p></body></html>"
    )
    feed = parse(page, {"Content-Type": "text/html; charset=utf-8"})
    assert feed.entries == ()
    assert feed.error == "not a feed: an HTML page, with no RSS, Atom or RDF element"


@pytest.mark.parametrize("body", [b"", b"   \r\n\t "], ids=["empty", "blank"])
def test_an_empty_body_is_not_a_feed(body: bytes) -> None:
    assert parse(body).error == "not a feed: the document is empty"


def test_binary_garbage_is_not_a_feed() -> None:
    garbage = random.Random(20251128).randbytes(8_192)
    feed = parse(garbage)
    assert feed.entries == ()
    assert feed.error == "not a feed: binary data, not a text document"


def test_json_is_not_a_feed() -> None:
    feed = parse(b'{"version": "https://jsonfeed.org/version/1.1", "items": []}')
    assert feed.error == "not a feed: JSON, not an RSS, Atom or RDF document"


def test_a_document_over_the_size_limit_is_refused_unread() -> None:
    body = b"<rss>" + b" " * MAX_DOCUMENT_BYTES
    feed = parse(body)
    assert feed.error is not None and feed.error.startswith("document too large")


def test_a_string_body_is_refused_because_feedparser_would_open_it() -> None:
    with pytest.raises(TypeError):
        parse_document("/etc/passwd", {}, "https://wire.example/", NOW)  # type: ignore[arg-type]


# --- entity expansion and external entities ---------------------------------------


def test_a_small_internal_entity_still_expands() -> None:
    body = """<?xml version="1.0"?>
<!DOCTYPE rss [
  <!ENTITY prefix "tag:wire.example,">
]>
<rss version="2.0"><channel><title>t</title><item><title>x</title>
<guid isPermaLink="false">&prefix;2025:1</guid></item></channel></rss>
"""
    assert parse(body).entries[0].guid == "tag:wire.example,2025:1"


def test_external_entities_never_read_a_local_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER-7731\n")
    uri = secret.as_uri()
    doctypes = [
        f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{uri}">]>',
        f'<!DOCTYPE rss [<!ENTITY % xxe SYSTEM "{uri}"> %xxe;]>',
        f'<!DOCTYPE rss SYSTEM "{uri}">',
        '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    ]
    for doctype in doctypes:
        body = (
            f'<?xml version="1.0"?>\n{doctype}\n<rss version="2.0"><channel>'
            "<title>t &xxe;</title><item><title>a &xxe;</title>"
            "<description>b &xxe;</description></item></channel></rss>"
        )
        text = all_text(parse(body))
        assert "TOP-SECRET-MARKER" not in text, doctype
        assert "root:" not in text, doctype


@pytest.fixture(scope="module")
def pool() -> Iterator[ParsePool]:
    """One warm pool for the hostile documents, so a regression times out, not hangs."""
    with ParsePool(workers=2, timeout=10.0) as shared:
        yield shared


async def test_a_billion_laughs_document_stays_small(pool: ParsePool) -> None:
    # lol1 holds ten "&lol;", lol2 ten "&lol1;", ... lol9 would be 10**9 "lol".
    references = ["&lol;"] + [f"&lol{i};" for i in range(1, 9)]
    declarations = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{references[i - 1] * 10}">' for i in range(1, 10)
    ]
    body = (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n' + "\n".join(declarations) + "\n]>\n"
        '<rss version="2.0"><channel><title>t</title><item><title>&lol9;</title>'
        "<description>&lol9;</description></item></channel></rss>"
    )
    feed = await pool.parse(body.encode(), (), "https://wire.example/", NOW)
    assert len(all_text(feed)) < 10_000
    assert "lollollol" not in all_text(feed)


async def test_one_big_entity_referenced_many_times_is_not_expanded(pool: ParsePool) -> None:
    # feedparser's loose parser turned this 56 KB document into a 100 MB
    # summary (3.6 s, 320 MB of memory) before the entity budget existed.
    body = (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY e "' + "x" * 50_000 + '">\n]>\n'
        '<rss version="2.0"><channel><title>t</title><item><title>a</title>'
        "<description>" + "&e;" * 2_000 + "</description></item></channel></rss>"
    )
    feed = await pool.parse(body.encode(), (), "https://wire.example/", NOW)
    assert feed.error is None
    assert feed.warning is not None and "entity declarations ignored" in feed.warning
    assert "x" * 100 not in feed.entries[0].summary


async def test_huge_author_fields_parse_within_the_time_budget(pool: ParsePool) -> None:
    # feedparser's author e-mail regex took 1.1-1.7 s per 18 KB field here;
    # 20 such fields would take ~30 s, three times the pool's timeout.
    field = "".join(random.Random(7).choices("abcdefghij-.", k=18_000))
    items = "".join(
        f"<item><title>Item {i}</title><link>https://wire.example/{i}</link>"
        f"<author>{field}</author><dc:creator>{field}</dc:creator></item>"
        for i in range(10)
    )
    body = (
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel><title>t</title><managingEditor>{field}</managingEditor>"
        f"{items}</channel></rss>"
    )
    feed = await pool.parse(body.encode(), (), "https://wire.example/", NOW)
    assert feed.error is None, feed.error
    assert len(feed.entries) == 10
    author = dict(feed.entries[0].extra)["author"]
    assert 0 < len(author) <= AUTHOR_LIMIT


# --- the pool ------------------------------------------------------------------------

SMALL = RSS.encode()


def slow_document() -> bytes:
    """Ill-formed (so the loose sgmllib parser runs) with 1 MB of "<a": >10 s here."""
    return (
        '<rss version="2.0"><channel><title>t&nbsp;</title><item><title>a</title>'
        "<description>" + "<a" * 500_000 + "</description></item></channel></rss>"
    ).encode()


def parse_workers() -> set[int | None]:
    """Pids of this process's live parse workers (any pool's)."""
    return {p.pid for p in multiprocessing.active_children() if p.name == "stancewatch-parse"}


async def test_a_parse_over_the_timeout_is_killed_and_the_others_finish() -> None:
    others = parse_workers()  # the module's shared pool, if it is running
    with ParsePool(workers=2, timeout=1.0) as pool:
        # Warm both workers so start-up is not counted against anyone.
        await asyncio.gather(*(pool.parse(SMALL, (), "https://wire.example/", NOW) for _ in "ab"))
        before = parse_workers() - others

        slow, *normal = await asyncio.wait_for(
            asyncio.gather(
                pool.parse(slow_document(), (), "https://wire.example/", NOW),
                *(pool.parse(SMALL, (), "https://wire.example/", NOW) for _ in range(3)),
            ),
            timeout=60,
        )

        assert slow.error == "parsing took longer than 1 s"
        assert all(feed.error is None and len(feed.entries) == 4 for feed in normal)
        # The killed worker was replaced: the pool is still two processes,
        # one of them new, and still parses.
        after = parse_workers() - others
        assert len(after) == 2 and after != before
        again = await pool.parse(SMALL, (), "https://wire.example/", NOW)
        assert len(again.entries) == 4


async def test_a_pool_starts_no_process_until_something_needs_parsing() -> None:
    # A round where every feed answers 304 must not pay for spawning workers.
    others = parse_workers()
    with ParsePool(workers=2, timeout=30.0):
        assert parse_workers() == others


def fork_servers() -> set[int]:
    """Pids of multiprocessing fork servers that are children of this process (Linux)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and b"multiprocessing.forkserver" in cmdline:
            found.add(int(stat.parent.name))
    return found


async def test_warming_up_starts_the_workers_before_anything_is_parsed() -> None:
    others = parse_workers()
    with ParsePool(workers=2, timeout=30.0) as pool:
        pool.warm_up()
        deadline = time.monotonic() + 60
        while len(parse_workers() - others) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        warmed = parse_workers() - others
        assert len(warmed) == 2
        parsed = await asyncio.gather(
            *(pool.parse(SMALL, (), "https://wire.example/", NOW) for _ in range(4))
        )
        assert all(len(feed.entries) == 4 for feed in parsed)
        assert parse_workers() - others == warmed  # the warmed workers did the parsing
    assert parse_workers() == others


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
async def test_closing_the_last_pool_stops_the_fork_server() -> None:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork server on this platform")
    # Another test module's pool may hold the server open; then it must stay.
    before = fork_servers()
    first = ParsePool(workers=1, timeout=30.0)
    second = ParsePool(workers=1, timeout=30.0)
    assert len((await first.parse(SMALL, (), "https://w/", NOW)).entries) == 4
    assert len((await second.parse(SMALL, (), "https://w/", NOW)).entries) == 4
    running = fork_servers()
    assert len(running) == 1
    first.close()
    assert fork_servers() == running  # the second pool still forks from it
    second.close()
    assert fork_servers() == before


async def test_closing_the_pool_leaves_no_process_behind() -> None:
    others = parse_workers()
    pool = ParsePool(workers=2, timeout=30.0)
    first = await pool.parse(SMALL, [("Content-Type", "application/rss+xml")], "https://w/", NOW)
    assert len(first.entries) == 4
    started = parse_workers() - others
    assert len(started) == 1

    in_flight = asyncio.ensure_future(pool.parse(slow_document(), (), "https://w/", NOW))
    await asyncio.sleep(0.2)
    pool.close()

    late = await asyncio.wait_for(in_flight, timeout=30)
    assert late.error is not None and late.entries == ()
    alive = {p.pid for p in multiprocessing.active_children()}
    assert not (started & alive)
    assert parse_workers() == others
    with pytest.raises(RuntimeError):
        await pool.parse(SMALL, (), "https://w/", NOW)
    pool.close()  # twice is harmless


# --- the whole feedparser corpus ---------------------------------------------------


def test_every_document_of_the_feedparser_corpus_gives_entries_or_a_reason() -> None:
    # ~2,100 small documents, ~1 s in all here: not marked slow.
    paths = sorted(p for p in FEEDPARSER_CORPUS.rglob("*") if p.is_file())
    if not paths:
        pytest.skip(f"{FEEDPARSER_CORPUS} is not here")
    outcomes = {"entries": 0, "error": 0, "empty feed": 0}
    floor = utc(1990, 1, 1)
    for path in paths:
        body = path.read_bytes()
        feed = parse_document(body, {}, "http://127.0.0.1:8097/" + path.name, NOW)
        if feed.entries:
            outcomes["entries"] += 1
        elif feed.error:
            outcomes["error"] += 1
        else:
            # No entries and no error: the document must really be a feed.
            outcomes["empty feed"] += 1
            head = body.replace(b"\x00", b"").lower()  # UTF-16 and -32 too
            assert any(tag in head for tag in (b"<rss", b"<feed", b"rdf", b"<channel")), path
        for entry in feed.entries:
            for text in (entry.title, entry.summary):
                assert not any(ord(c) < 32 and c not in "\n\t" for c in text), path
            assert entry.link == "" or entry.link.startswith(("http://", "https://")), path
            assert entry.published is None or (
                entry.published.tzinfo is UTC and floor <= entry.published <= NOW
            ), path
    assert outcomes["entries"] > 500
    print(f"\nfeedparser corpus: {len(paths)} documents, {outcomes}")


def test_now_is_respected_for_clamping_in_every_entry() -> None:
    later = NOW + timedelta(days=30)
    feed = parse_document(RSS.encode(), {}, "https://wire.example/", later)
    assert feed.entries[2].published == later


_URL_STARTS = ["http://", "https://", "HTTP://", "hTtps://", "//", "/", "", "ftp://", "http:/"]
_URL_PIECES = list("aZ09.-_~:@[]/?#;%=&+!é") + ["example.org", "//", "..", "?#", "#?", ":80"]


@settings(max_examples=3000, deadline=None)
@given(
    start=st.sampled_from(_URL_STARTS),
    rest=st.lists(st.sampled_from(_URL_PIECES), max_size=12).map("".join),
    base=st.sampled_from(
        ["https://wire.example/feeds/world.xml", "http://wire.example/a/b?x#y", "https://w.example"]
    ),
)
def test_a_link_taken_as_it_stands_is_what_resolving_it_gives(
    start: str, rest: str, base: str
) -> None:
    # _http_url skips urljoin for plain absolute links; the result must not change.
    from sources.parse import _http_url, _resolved_http_url

    link = start + rest
    assume(link)  # an empty link is no link, before any resolving
    assert _http_url(link, base) == _resolved_http_url(link, base)


_NEAR_PLAIN_URLS = st.builds(
    lambda *parts: "".join(parts),
    st.sampled_from(["http://", "https://"]),
    st.text(alphabet="aZ0.-@[]", max_size=6),
    st.sampled_from(["", ":", ":80", ":x"]),
    st.text(alphabet="/a;.%é:", max_size=6),
    st.sampled_from(["", "?", "?q=1", "?a?b", "?;"]),
    st.sampled_from(["", "#", "#top", "#a#b", "#?"]),
)


@settings(max_examples=3000, deadline=None)
@given(link=_NEAR_PLAIN_URLS, base=st.sampled_from(["https://w.example/f", "http://w.example/f"]))
def test_near_plain_links_resolve_as_urljoin_resolves_them(link: str, base: str) -> None:
    # The edges of the plain shape: empty parts, ";" and non-ASCII in paths, odd hosts.
    from sources.parse import _http_url, _resolved_http_url

    assert _http_url(link, base) == _resolved_http_url(link, base)


def test_a_plain_absolute_link_is_taken_as_it_stands() -> None:
    from sources.parse import _http_url

    for link in (
        "https://news.example/2026/11/29/story-1",
        "http://news.example:8080/a?b=c&d=e#top",
        "https://news.example",
        "https://news.example/a;b",  # slow path, same answer
        "https://news.example/?",
    ):
        assert _http_url(link, "https://news.example/feed") == link.rstrip("?")
