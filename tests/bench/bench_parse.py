"""How fast feeds parse: the ElementTree fast path against feedparser (a script, not a test).

Usage:
    .venv/bin/python tests/bench/bench_parse.py [--feeds N] [--items M] [--runs R] [--corpus]

Parses the benchmark's generated feeds (`gen_feeds.py`: RSS 2.0 and ~20%
Atom, 1-2 kB HTML descriptions) with `sources.fastparse.fast_parse` and with
`sources.parse.parse_with_feedparser`, R times each, in alternation, and
prints entries per second of CPU time (`time.process_time`, this process
only) as the median over the runs, and the ratio. The machine is shared, so
the ratio is the figure to quote. Each run also checks that the two paths
gave equal results for every feed the fast path accepted.

`--corpus` also prints how many documents of `../shared/feed-corpus/` the
fast path accepts, and the most common reasons it declines the rest.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sources import fastparse  # noqa: E402
from sources.clean import html_to_text  # noqa: E402
from sources.fastparse import _decline_reason, fast_parse  # noqa: E402
from sources.parse import parse_with_feedparser  # noqa: E402
from sources.records import ParsedFeed  # noqa: E402
from tests.bench.gen_feeds import feed_document  # noqa: E402

NOW = datetime(2025, 6, 2, tzinfo=UTC)
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "feed-corpus"

Document = tuple[bytes, dict[str, str], str]


def bench_documents(n_feeds: int, n_items: int) -> list[Document]:
    """The generated feeds as (body, header map, url), as the poll round gets them."""
    documents = []
    for feed in range(n_feeds):
        body, content_type = feed_document(feed, n_items)
        documents.append((body, {"content-type": content_type}, f"http://127.0.0.1/feed/{feed}"))
    return documents


def timed(
    parse: Callable[[bytes, dict[str, str], str, datetime], ParsedFeed | None],
    documents: Sequence[Document],
) -> tuple[float, int]:
    """CPU seconds to parse every document, and the entries parsed."""
    entries = 0
    start = time.process_time()
    for body, headers, url in documents:
        result = parse(body, headers, url, NOW)
        if result is not None:
            entries += len(result.entries)
    return time.process_time() - start, entries


def corpus_report() -> None:
    if not CORPUS.is_dir():
        print(f"no corpus at {CORPUS}")
        return
    groups: Counter[str] = Counter()
    accepted: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for path in sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix != ".txt"):
        group = path.relative_to(CORPUS).parts[0]
        reason = _decline_reason(
            path.read_bytes(),
            {"content-type": "application/xml"},
            "http://127.0.0.1/" + path.name,
            NOW,
        )
        groups[group] += 1
        if reason is None:
            accepted[group] += 1
        else:
            # Group reasons by their first words, not the element named.
            reasons[" ".join(reason.split()[:2])] += 1
    for group, total in sorted(groups.items()):
        print(f"{group}: fast path accepts {accepted[group]} of {total}")
    print("most common reasons to decline:")
    for reason, count in reasons.most_common(12):
        print(f"  {count:5d}  {reason}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=60)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--corpus", action="store_true", help="also report corpus acceptance")
    args = parser.parse_args(argv)

    documents = bench_documents(args.feeds, args.items)
    accepted = 0
    for body, headers, url in documents:
        result = fast_parse(body, headers, url, NOW)
        if result is not None:
            accepted += 1
            if result != parse_with_feedparser(body, headers, url, NOW):
                print(f"MISMATCH on {url}: the fast path is wrong", file=sys.stderr)
                return 1
    print(f"{len(documents)} generated feeds, {accepted} accepted by the fast path")

    fast_rates: list[float] = []
    slow_rates: list[float] = []
    html_rates: list[float] = []
    descriptions = [
        element.text or ""
        for body, _, _ in documents
        for element in ET.fromstring(body).iter()
        if element.tag.rpartition("}")[2] in ("description", "summary", "content")
    ]
    for _ in range(args.runs):
        # A cold round: the date cache starts empty, as in a fresh worker.
        fastparse._date_cache.clear()
        seconds, entries = timed(fast_parse, documents)
        fast_rates.append(entries / seconds)
        seconds, entries = timed(parse_with_feedparser, documents)
        slow_rates.append(entries / seconds)
        start = time.process_time()
        for description in descriptions:
            html_to_text(description)
        html_rates.append(len(descriptions) / (time.process_time() - start))
    fast, slow = statistics.median(fast_rates), statistics.median(slow_rates)
    print(f"fast_parse:            {fast:8,.0f} entries/s (median of {args.runs}, CPU time)")
    print(f"parse_with_feedparser: {slow:8,.0f} entries/s")
    print(f"ratio:                 {fast / slow:8.2f}x")
    print(
        f"html_to_text alone:    {statistics.median(html_rates):8,.0f} descriptions/s "
        "(the ceiling: every entry has one)"
    )
    if args.corpus:
        corpus_report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
