"""Deterministic synthetic news feeds for the issue 6 benchmarks.

N feeds × M items (default 200 × 50), about one feed in five Atom 1.0 and the
rest RSS 2.0, each item with a 1-2 kB HTML description in the shape real news
feeds send (paragraphs, links, emphasis, entities, the odd figure). About a
quarter of the items carry an attributed statement by a tracked actor on a
tracked topic ("Sergei Lavrov told reporters that Moscow rejects ..."), and
about a fifth mention an actor without one, so tagging and extraction do real
work. Every sentence is written here: no third-party text.

The same (seed, feed index) always gives the same bytes, whatever N is, so
runs with different feed counts share their first feeds. The "changed" state
gives 10% of the feeds (a fixed sample) five new items on top.

The module also builds the big store's records (`big_store_records`): items
and statements in the same vocabulary, for a database of 100,000 items and
20,000 statements.

    .venv/bin/python tests/bench/gen_feeds.py --feeds 200 --items 50 --out /tmp/feeds [--changed]

writes one file per feed plus `urls.txt` (file paths) and prints the totals.
"""

from __future__ import annotations

import argparse
import html
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape as xml_escape

if TYPE_CHECKING:
    from sources.records import FeedState, Item, Statement

DEFAULT_SEED = 6
"""Issue 6."""
BASE_TIME = datetime(2025, 6, 1, 6, 0, tzinfo=UTC)
"""The newest item of the base state; older items step back from here."""
CHANGED_FRACTION = 0.10
CHANGED_NEW_ITEMS = 5
ATOM_FRACTION = 0.20
STATEMENT_FRACTION = 0.25
MENTION_FRACTION = 0.20

# --- vocabulary (all written for this benchmark) -----------------------------------

ACTOR_REFS: dict[str, tuple[str, ...]] = {
    "russia": ("Russia", "Moscow", "the Kremlin"),
    "ukraine": ("Ukraine", "Kyiv", "the Ukrainian government"),
    "united-states": ("the United States", "Washington", "the White House"),
    "france": ("France", "Paris", "the French government"),
    "nato": ("NATO", "the alliance"),
    "un": ("the United Nations", "the UN"),
}

SPEAKERS: tuple[tuple[str, str, str], ...] = (
    ("Vladimir Putin", "russia", "the Russian president"),
    ("Sergei Lavrov", "russia", "Russia's foreign minister"),
    ("Vassily Nebenzia", "russia", "Russia's ambassador to the UN"),
    ("Dmitry Peskov", "russia", "the Kremlin spokesman"),
    ("Volodymyr Zelensky", "ukraine", "Ukraine's president"),
    ("Andrii Sybiha", "ukraine", "Ukraine's foreign minister"),
    ("Donald Trump", "united-states", "the US president"),
    ("Marco Rubio", "united-states", "the US secretary of state"),
    ("Emmanuel Macron", "france", "the French president"),
    ("Jean-Noel Barrot", "france", "France's foreign minister"),
    ("Mark Rutte", "nato", "NATO's secretary general"),
    ("Antonio Guterres", "un", "the UN secretary-general"),
)

TOPIC_PHRASES: dict[str, tuple[str, ...]] = {
    "peacekeeping": (
        "the deployment of foreign peacekeepers in Ukraine",
        "a peacekeeping mission along the front line",
        "sending European troops to Ukraine as peacekeepers",
    ),
    "nato-membership": (
        "Ukraine's bid to join NATO",
        "NATO membership for Ukraine",
        "a timeline for Ukraine's accession to NATO",
    ),
    "un-veto": (
        "the use of the veto in the UN Security Council",
        "a Security Council veto of the draft resolution",
    ),
    "ceasefire": (
        "a ceasefire along the front line",
        "an unconditional 30-day ceasefire",
        "a truce before peace talks resume",
    ),
    "sanctions": (
        "new sanctions on Russian energy exports",
        "lifting sanctions on Moscow",
        "a fresh package of sanctions against Russian banks",
    ),
}

STANCE_VERBS: dict[str, tuple[str, ...]] = {
    "supports": ("backs", "supports", "would welcome", "is ready to accept"),
    "opposes": ("rejects", "will not accept", "opposes", "rules out"),
    "neutral": ("is still weighing", "has not decided on", "remains open to discussing"),
}
CONDITIONS = (
    "the Security Council gives its explicit approval",
    "sanctions are lifted first",
    "all foreign troops leave the occupied regions",
    "Ukraine's security is guaranteed in writing",
)
CUES = ("said", "told reporters", "warned", "stated", "insisted", "argued", "said in a statement")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
CITIES = (
    "Geneva",
    "Istanbul",
    "Brussels",
    "Warsaw",
    "Helsinki",
    "Vienna",
    "Riyadh",
    "Berlin",
    "Rome",
    "Ankara",
)
FILLER = (
    "Delegations arrived in {city} on {weekday} for a second day of closed-door meetings.",
    "Officials declined to say how long the consultations would last.",
    "The talks in {city} were described by one participant as long and difficult.",
    "Energy prices rose by {n} percent over the week, according to market data.",
    "Local authorities reported power cuts in {n} districts after overnight strikes.",
    "Rail services between the two cities resumed on {weekday} after a {n}-hour pause.",
    "A spokesperson for the ministry said more details would be published later in the day.",
    "Analysts in {city} cautioned that any agreement would take months to implement.",
    "The meeting ran {n} minutes over schedule, people familiar with it said.",
    "Grain shipments through the southern ports reached {n} thousand tonnes last month.",
    "Reporters waited outside the conference centre in {city} until late in the evening.",
    "The committee is expected to publish its findings before the end of the month.",
    "Humanitarian groups said {n} convoys had reached frontline towns since {weekday}.",
    "The delegation travelled on to {city} for meetings with finance officials.",
    "Several European capitals are preparing contingency plans for the winter.",
    "Parliament is due to debate the budget amendment on {weekday}.",
    "Satellite images published on {weekday} showed new construction near the border.",
    "The exchange of prisoners, the {n}th this year, took place near the border.",
    "Observers noted that neither side commented on the timetable.",
    "The agreement on shipping insurance expires in {n} days unless it is renewed.",
    "Schools in the region reopened on {weekday} with shortened timetables.",
    "Trade volumes fell for the {n}th consecutive month, customs data showed.",
    "The summit communique, a draft of which circulated on {weekday}, runs to {n} pages.",
    "Interpreters worked in shifts through the night as the session dragged on.",
)
MENTIONS = (
    "{actor} hosted a round of technical consultations in {city} on {weekday}.",
    "Diplomats from {actor} met their counterparts in {city} to discuss grain exports.",
    "{actor} announced a reshuffle of its negotiating team on {weekday}.",
    "A delegation from {actor} is expected in {city} later this week.",
)
HEADLINES = (
    "Talks resume in {city} as delegations meet for a second day",
    "Power cuts hit {n} districts after overnight strikes",
    "Rail link reopens after {n}-hour pause",
    "Grain exports climb to {n} thousand tonnes",
    "Ministers gather in {city} for budget talks",
    "Prisoner exchange takes place near the border",
    "Negotiators in {city} work through the night",
    "Energy prices up {n} percent on the week",
)
TOPIC_HEADLINES = {
    "peacekeeping": "peacekeepers",
    "nato-membership": "NATO membership",
    "un-veto": "Security Council veto",
    "ceasefire": "ceasefire",
    "sanctions": "sanctions",
}
HEADLINE_VERBS = {
    "supports": "backs",
    "opposes": "rejects",
    "conditional": "sets conditions on",
    "neutral": "keeps options open on",
}
AUTHORS = ("Staff reporter", "A. Correspondent", "News desk", "Wire services", "B. Editor")


# --- one item ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GenItem:
    """One generated entry, before it is written as RSS or Atom."""

    guid: str | None
    """None for the RSS items that only have a link (the id falls back to it)."""
    link: str
    title: str
    html: str
    """The description as HTML (1-2 kB)."""
    text: str
    """The same description as plain text (for the big store's records)."""
    published: datetime
    author: str
    category: str
    statement: tuple[str, str, str, str, str] | None = None
    """(actor, speaker, topic, stance, claim) when the item carries a statement."""


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fill(rng: random.Random, template: str, **extra: str) -> str:
    return template.format(
        city=rng.choice(CITIES),
        weekday=rng.choice(WEEKDAYS),
        n=str(rng.randrange(2, 90)),
        **extra,
    )


def _statement(rng: random.Random) -> tuple[tuple[str, str, str, str, str], str, str]:
    """A statement sentence: (record, sentence, headline)."""
    speaker, actor, role = rng.choice(SPEAKERS)
    topic = rng.choice(tuple(TOPIC_PHRASES))
    phrase = rng.choice(TOPIC_PHRASES[topic])
    ref = rng.choice(ACTOR_REFS[actor])
    stance = rng.choices(("supports", "opposes", "conditional", "neutral"), (3, 3, 2, 2))[0]
    if stance == "conditional":
        clause = f"{ref} would accept {phrase} only if {rng.choice(CONDITIONS)}"
    else:
        clause = f"{ref} {rng.choice(STANCE_VERBS[stance])} {phrase}"
    cue = rng.choice(CUES)
    form = rng.randrange(3)
    if form == 0:
        sentence = f"{speaker}, {role}, {cue} on {rng.choice(WEEKDAYS)} that {clause}."
    elif form == 1:
        sentence = f"\u201c{_cap(clause)},\u201d {speaker} said."
    else:
        sentence = f"According to {speaker}, {clause}."
    actor_name = _cap(ACTOR_REFS[actor][0].removeprefix("the "))
    headline = f"{actor_name} {HEADLINE_VERBS[stance]} {TOPIC_HEADLINES[topic]}"
    return (actor, speaker, topic, stance, _cap(clause) + "."), sentence, headline


def _paragraph_html(rng: random.Random, sentences: Sequence[str]) -> str:
    """One <p>, with the markup news CMSs sprinkle in, around escaped text."""
    parts = []
    for sentence in sentences:
        text = html.escape(sentence, quote=False)
        roll = rng.random()
        if roll < 0.12:
            words = text.split(" ")
            cut = rng.randrange(1, max(2, len(words)))
            href = f"https://bench.example/topics/{rng.randrange(10_000)}"
            text = (
                " ".join(words[:cut]) + f' <a href="{href}" rel="noopener">'
                f"{words[cut] if cut < len(words) else ''}</a> " + " ".join(words[cut + 1 :])
            )
        elif roll < 0.18:
            text = f"<strong>{text}</strong>"
        elif roll < 0.24:
            text = f"<em>{text}</em>"
        parts.append(text)
    return "<p>" + " ".join(parts).replace(" \u2014 ", "&nbsp;&mdash; ") + "</p>"


def make_item(rng: random.Random, feed: int, number: int, published: datetime) -> GenItem:
    """One entry of feed `feed`: headline, 1-2 kB of HTML, maybe a statement."""
    kind = rng.random()
    statement = None
    lead: list[str] = []
    if kind < STATEMENT_FRACTION:
        statement, sentence, title = _statement(rng)
        lead = [sentence]
    elif kind < STATEMENT_FRACTION + MENTION_FRACTION:
        actor = rng.choice(tuple(ACTOR_REFS))
        lead = [_cap(_fill(rng, rng.choice(MENTIONS), actor=rng.choice(ACTOR_REFS[actor])))]
        title = _fill(rng, rng.choice(HEADLINES))
    else:
        title = _fill(rng, rng.choice(HEADLINES))
    paragraphs: list[str] = []
    plain: list[str] = []
    for index in range(rng.randrange(4, 7)):
        sentences = [_fill(rng, rng.choice(FILLER)) for _ in range(rng.randrange(2, 5))]
        if index == 0:
            sentences = lead + sentences
        paragraphs.append(_paragraph_html(rng, sentences))
        plain.append(" ".join(sentences))
    if rng.random() < 0.15:
        image = f"https://img.bench.example/{feed}/{number}.jpg"
        paragraphs.insert(
            1,
            f'<figure class="wp-block-image"><img src="{image}" alt="Delegates at the table" '
            f'width="640" height="360" loading="lazy"/><figcaption>Delegates in '
            f"{rng.choice(CITIES)}. Photo: Pool</figcaption></figure>",
        )
    if rng.random() < 0.3:
        paragraphs.append(
            f'<p class="more">The post <a href="https://bench.example/{feed}/{number}">'
            f"{html.escape(title, quote=False)}</a> appeared first on Bench&nbsp;News.</p>"
        )
    guid = None if (feed % 7 == 3) else f"urn:bench:{feed}:{number}"
    return GenItem(
        guid=guid,
        link=f"https://bench.example/{feed}/{number}-{rng.randrange(10**6)}",
        title=title,
        html="\n".join(paragraphs),
        text="\n\n".join(plain),
        published=published,
        author=rng.choice(AUTHORS),
        category=rng.choice(("World", "Europe", "Politics", "Diplomacy", "Economy")),
        statement=statement,
    )


# --- one feed ------------------------------------------------------------------------


def is_atom(feed: int) -> bool:
    """Whether feed `feed` is Atom: every fifth feed, so any N has ~20%."""
    return feed % round(1 / ATOM_FRACTION) == 2


def changed_feeds(n_feeds: int, seed: int = DEFAULT_SEED) -> frozenset[int]:
    """The feeds that gain items in the "changed" state (10%, at least one)."""
    count = max(1, round(n_feeds * CHANGED_FRACTION))
    return frozenset(random.Random(f"{seed}:changed:{n_feeds}").sample(range(n_feeds), count))


def feed_items(
    feed: int, n_items: int, seed: int = DEFAULT_SEED, *, extra: int = 0
) -> list[GenItem]:
    """The entries of feed `feed`, newest first: `extra` new ones, then the base ones.

    Base items depend only on (seed, feed, their number), so the base part is
    byte-identical in both states and across feed counts.
    """
    items = []
    for k in range(extra):
        rng = random.Random(f"{seed}:{feed}:new:{k}")
        published = BASE_TIME + timedelta(minutes=30 * (extra - k))
        items.append(make_item(rng, feed, n_items + extra - k, published))
    spacing = random.Random(f"{seed}:{feed}:spacing").randrange(20, 240)
    for j in range(n_items):
        rng = random.Random(f"{seed}:{feed}:{j}")
        published = BASE_TIME - timedelta(minutes=spacing * j + feed % 17)
        items.append(make_item(rng, feed, n_items - j, published))
    return items


def render_rss(feed: int, items: Sequence[GenItem]) -> bytes:
    """An RSS 2.0 document; some descriptions in CDATA, some entity-escaped."""
    newest = items[0].published if items else BASE_TIME
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
        f"<title>Bench Wire {feed}</title>\n<link>https://bench.example/{feed}/</link>\n"
        f"<description>Synthetic news feed {feed} for stancewatch benchmarks</description>\n"
        f"<language>en</language>\n<lastBuildDate>{format_datetime(newest)}</lastBuildDate>\n"
        f'<atom:link href="https://bench.example/{feed}/rss" rel="self" '
        'type="application/rss+xml"/>\n'
    ]
    cdata = feed % 2 == 0
    for item in items:
        body = f"<![CDATA[{item.html}]]>" if cdata else xml_escape(item.html)
        guid = f'<guid isPermaLink="false">{item.guid}</guid>\n' if item.guid else ""
        out.append(
            "<item>\n"
            f"<title>{xml_escape(item.title)}</title>\n<link>{item.link}</link>\n{guid}"
            f"<pubDate>{format_datetime(item.published)}</pubDate>\n"
            f"<dc:creator>{item.author}</dc:creator>\n<category>{item.category}</category>\n"
            f"<description>{body}</description>\n</item>\n"
        )
    out.append("</channel>\n</rss>\n")
    return "".join(out).encode("utf-8")


def render_atom(feed: int, items: Sequence[GenItem]) -> bytes:
    """An Atom 1.0 document; HTML in escaped `summary` or `content` elements."""
    newest = items[0].published if items else BASE_TIME
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
        f"<title>Bench Atom {feed}</title>\n<id>urn:bench:feed:{feed}</id>\n"
        f"<updated>{newest.isoformat()}</updated>\n"
        f'<link rel="alternate" href="https://bench.example/{feed}/"/>\n'
        f'<link rel="self" href="https://bench.example/{feed}/atom"/>\n'
    ]
    element = "content" if feed % 2 else "summary"
    for item in items:
        out.append(
            "<entry>\n"
            f"<title>{xml_escape(item.title)}</title>\n"
            f"<id>{item.guid or item.link}</id>\n"
            f'<link rel="alternate" href="{item.link}"/>\n'
            f"<published>{item.published.isoformat()}</published>\n"
            f"<updated>{item.published.isoformat()}</updated>\n"
            f"<author><name>{item.author}</name></author>\n"
            f'<category term="{item.category}"/>\n'
            f'<{element} type="html">{xml_escape(item.html)}</{element}>\n</entry>\n'
        )
    out.append("</feed>\n")
    return "".join(out).encode("utf-8")


def feed_document(
    feed: int, n_items: int, seed: int = DEFAULT_SEED, *, extra: int = 0
) -> tuple[bytes, str]:
    """(body, content type) of feed `feed` with `extra` new items on top."""
    items = feed_items(feed, n_items, seed, extra=extra)
    if is_atom(feed):
        return render_atom(feed, items), "application/atom+xml; charset=utf-8"
    return render_rss(feed, items), "application/rss+xml; charset=utf-8"


def newest_time(n_items: int, *, extra: int) -> datetime:
    """Publication time of the newest item, for Last-Modified."""
    return BASE_TIME + timedelta(minutes=30 * extra) if extra else BASE_TIME


# --- the big store -------------------------------------------------------------------


def big_store_records(
    n_items: int, n_statements: int, now: datetime, seed: int = DEFAULT_SEED, per_feed: int = 500
) -> tuple[list[FeedState], list[Item], list[Statement]]:
    """Feeds, items and statements for a pre-filled store.

    The items belong to filler feeds (`https://filler.bench.example/N`), not
    the benchmark's feeds, so a poll of the benchmark feeds finds nothing of
    its own there: the store is only bigger. Items were fetched within the
    last 60 days of `now`, inside any sensible retention window, so the first
    timed round does not retire them. Statements are spread over the actors
    and topics, most recent first, with the stance mix of the feeds.

    Args:
        n_items: items to make.
        n_statements: statements to make (at most one per item).
        now: the clock the fetched times step back from.
        seed: generator seed.
        per_feed: items per filler feed (500: 100k items from 200 feeds, half a
            year of a busy feed each).

    Returns:
        (feed states, items, statements) as `sources.records` records.
    """
    from sources.records import FeedState, Item, Outcome, Stance, Statement, stable_id

    rng = random.Random(f"{seed}:big")
    n_feeds = max(1, -(-n_items // per_feed))
    feeds = [
        FeedState(
            url=f"https://filler.bench.example/{f}",
            title=f"Filler {f}",
            etag=f'"filler-{f}"',
            last_attempt=now - timedelta(hours=1),
            last_success=now - timedelta(hours=1),
            next_poll=now + timedelta(days=30),
            outcome=Outcome.OK,
            total_items=per_feed,
        )
        for f in range(n_feeds)
    ]
    with_statement = set(rng.sample(range(n_items), min(n_statements, n_items)))
    # Items are made from a small pool of generated texts (generation is the
    # slow part); ids, links, titles and times stay distinct.
    pool = [make_item(random.Random(f"{seed}:pool:{k}"), 0, k, BASE_TIME) for k in range(500)]
    stmt_pool = [_statement(random.Random(f"{seed}:stmt:{k}")) for k in range(500)]
    items: list[Item] = []
    statements: list[Statement] = []
    for i in range(n_items):
        feed_url = feeds[i // per_feed].url
        base = pool[i % len(pool)]
        fetched = now - timedelta(seconds=rng.randrange(60 * 86400))
        published = fetched - timedelta(minutes=rng.randrange(600))
        record, sentence, headline = stmt_pool[i % len(stmt_pool)]
        has_statement = i in with_statement
        text = sentence + "\n\n" + base.text if has_statement else base.text
        title = f"{headline if has_statement else base.title} ({i})"
        item = Item(
            id=stable_id("item", feed_url, f"urn:filler:{i}"),
            feed_url=feed_url,
            link=f"https://filler.bench.example/{i // per_feed}/{i}",
            title=title,
            summary=text,
            published=published,
            fetched=fetched,
            source=f"Filler {i // per_feed}",
            topics=(record[2],) if has_statement else (),
            actors=(record[0],) if has_statement else (),
            content_hash=stable_id("content", title, text),
        )
        items.append(item)
        if has_statement:
            actor, speaker, topic, stance, claim = record
            statements.append(
                Statement(
                    id=stable_id("statement", item.id, actor, topic, claim),
                    item_id=item.id,
                    actor=actor,
                    speaker=speaker,
                    topic=topic,
                    stance=Stance(stance),
                    claim=claim,
                    cue="said",
                    published=published,
                    source=item.source,
                    link=item.link,
                    alias=speaker,
                    topic_words=(TOPIC_HEADLINES[topic],),
                )
            )
    return feeds, items, statements


# --- command line --------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Write the feeds to a directory and print what they hold."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=200, help="number of feeds (default 200)")
    parser.add_argument("--items", type=int, default=50, help="items per feed (default 50)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--changed", action="store_true", help="write the changed state")
    parser.add_argument("--out", type=Path, required=True, help="directory to write to")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    changed = changed_feeds(args.feeds, args.seed) if args.changed else frozenset()
    total_bytes = total_items = atom = statements = 0
    description_bytes: list[int] = []
    urls = []
    for feed in range(args.feeds):
        extra = CHANGED_NEW_ITEMS if feed in changed else 0
        items = feed_items(feed, args.items, args.seed, extra=extra)
        body, content_type = feed_document(feed, args.items, args.seed, extra=extra)
        suffix = "atom" if "atom" in content_type else "rss"
        path = args.out / f"feed-{feed:04d}.{suffix}.xml"
        path.write_bytes(body)
        urls.append(str(path.resolve()))
        total_bytes += len(body)
        total_items += len(items)
        atom += suffix == "atom"
        statements += sum(1 for i in items if i.statement)
        description_bytes += [len(i.html.encode()) for i in items]
    (args.out / "urls.txt").write_text("\n".join(urls) + "\n", "utf-8")
    description_bytes.sort()
    print(
        f"{args.feeds} feeds ({atom} Atom), {total_items} items, {total_bytes / 1e6:.1f} MB; "
        f"descriptions median {description_bytes[len(description_bytes) // 2]} B "
        f"(p10 {description_bytes[len(description_bytes) // 10]}, "
        f"p90 {description_bytes[len(description_bytes) * 9 // 10]}); "
        f"{statements} items with a statement; written to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
