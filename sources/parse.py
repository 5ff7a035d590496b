"""Feed documents to cleaned entries: feedparser on bytes, within a time and size budget.

`parse_document` is the whole job, pure and synchronous: it runs feedparser on
the fetched bytes and turns what comes out into `ParsedFeed` / `ParsedEntry`
records of plain text, http(s) links and aware UTC dates. `ParsePool` runs it
in worker processes, because feedparser has no timeout and no size budget and
is CPU-bound; the event loop must stay free and a pathological document must
not hold a poll round hostage. A poll round has the workers go on to build
the items and extract statements (`ParsePool.parse_items`), the other half of
a feed's CPU work, so both cores share all of it.

Why we drive feedparser's parsers ourselves instead of `feedparser.parse()`:

* `feedparser.parse()` takes a `str` for a URL or a file name and opens it
  (its docstring: "Do not pass untrusted strings to this function"). Our
  driver has no code path that opens anything: bytes in, dict out.
* Its loose-parser fallback expands the internal-subset entities it deems
  "safe" with no budget: a 56 KB document whose one 50 KB entity is referenced
  2,000 times gave a 100 MB summary in 3.6 s and 320 MB of memory here. We
  count what the entities would expand to and drop them past a budget.
* Its author e-mail regex (`_sync_author_detail` in `feedparser/mixin.py`,
  `([a-zA-Z0-9\\_\\-\\.\\+]+)@...` under `re.search`) rescans the field from
  every start position: 1.1-1.7 s of CPU for one 18 KB `<author>`,
  `<dc:creator>`, `<managingEditor>` or `<webMaster>` here, per field, per
  entry. Our parser classes cut the field before that regex sees it.
* feedparser's HTML sanitizer and relative-URI rewriting run sgmllib over
  every HTML field; we reduce HTML to text ourselves (`sources.clean`), which
  drops scripts and never follows a URI, so both are off. That made parsing
  the real-feeds sample a third faster.

The driver follows `feedparser.api.parse` of feedparser 6.0.x step by step
(encoding detection, DOCTYPE rewrite, strict SAX parse, loose fallback) and
uses the same parser classes, so its results match `feedparser.parse()` on
ordinary feeds; `tests/test_parse.py` checks that against the real-feeds set.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import multiprocessing
import pickle
import queue
import re
import signal
import threading
import xml.sax
import xml.sax.handler
import xml.sax.xmlreader
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urljoin, urlsplit

import feedparser.api
import feedparser.encodings
import feedparser.exceptions
import feedparser.sanitizer
import feedparser.urls
import feedparser.util

from sources.clean import (
    clamp_date,
    clean_text,
    fold_whitespace,
    html_to_text,
    strip_controls,
    to_utc,
    truncate,
)
from sources.itemize import Analyser, AnalysisSpecs, FeedItems
from sources.records import FeedSpec, ParsedEntry, ParsedFeed

if TYPE_CHECKING:  # Windows has no ForkServerContext
    from multiprocessing.context import ForkServerContext, SpawnContext

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "ParsePool",
    "parse_document",
    "parse_with_feedparser",
]

_Raw_T = TypeVar("_Raw_T")

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
"""Documents above this are refused before feedparser sees them."""
TITLE_LIMIT = 1_000
SUMMARY_LIMIT = 20_000
LINK_LIMIT = 4_096
GUID_LIMIT = 1_000
"""A longer guid is replaced by its hash: still unique, no longer huge."""
AUTHOR_LIMIT = 200
CATEGORIES_LIMIT = 500
MAX_ENTRIES = 10_000
"""Entries kept from one document; the rest are dropped with a warning."""

ENTITY_EXPANSION_LIMIT = 1024 * 1024
"""Characters that internal-subset entities may add to a document, in total."""
AUTHOR_SCAN_LIMIT = 256
"""Longest author field feedparser's e-mail regex is allowed to scan."""

# feedparser's bozo exceptions that say "decoded it anyway" rather than
# "could not read it": the entries are as good as any.
_ENCODING_WARNINGS = (
    feedparser.exceptions.CharacterEncodingOverride,
    feedparser.exceptions.NonXMLContentType,
)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_ENTITY_REFERENCE = re.compile(rb"&([A-Za-z_:][\w.:-]*);")
_REBUILT_DOCTYPE = b"<!DOCTYPE feed [\n<!ENTITY"
_HTML_MARKERS = re.compile(rb"<(?:!doctype\s+html|html|head|body)\b", re.I)


# --- feedparser, driven from bytes -------------------------------------------


class _BoundedAuthor:
    """Cuts an author field before feedparser's quadratic e-mail regex scans it."""

    def _sync_author_detail(self, key: str = "author") -> None:
        context: dict[str, Any] = self._get_context()  # type: ignore[attr-defined]
        value = context.get(key)
        if isinstance(value, str) and len(value) > AUTHOR_SCAN_LIMIT:
            context[key] = value[:AUTHOR_SCAN_LIMIT]
        super()._sync_author_detail(key)  # type: ignore[misc]


class _IndexedAttributes(xml.sax.xmlreader.AttributesNSImpl):
    """SAX attributes with a dict lookup by qualified name.

    feedparser looks every attribute up with `getValueByQName`, which the
    stdlib implements as a linear scan: quadratic in the attributes of one
    element (20,000 took ~5 s, 100,000 about 3 minutes).
    """

    def __init__(self, attrs: dict[Any, str], qnames: dict[Any, str]) -> None:
        super().__init__(attrs, qnames)
        self._by_qname = {qname: attrs[name] for name, qname in qnames.items()}

    def getValueByQName(self, name: str) -> str:  # noqa: N802 - the SAX interface's name
        return self._by_qname[name]


class _StrictParser(_BoundedAuthor, feedparser.api.StrictFeedParser):  # type: ignore[misc]
    """feedparser's SAX content handler with bounded author fields and indexed attributes."""

    def startElementNS(self, name: Any, qname: Any, attrs: Any) -> None:  # noqa: N802 - SAX name
        if isinstance(attrs, xml.sax.xmlreader.AttributesNSImpl):
            # The stdlib keeps both maps in these private fields (CPython 3.11-3.14).
            attrs = _IndexedAttributes(attrs._attrs, attrs._qnames)  # type: ignore[attr-defined]
        super().startElementNS(name, qname, attrs)


class _LooseParser(_BoundedAuthor, feedparser.api.LooseFeedParser):  # type: ignore[misc]
    """feedparser's sgmllib fallback with the bounded author field."""


@dataclass(frozen=True, slots=True)
class _Raw:
    """What feedparser made of a document, before cleaning."""

    feed: Any
    entries: list[Any]
    version: str
    problem: BaseException | None
    notes: tuple[str, ...] = ()


def _run_feedparser(body: bytes, content_type: str) -> _Raw:
    """Run feedparser's encoding detection and parsers on bytes, never opening anything.

    feedparser gets no base URI: it would also "resolve" a relative-looking
    guid (`<guid>f3deca3e-...</guid>`, permalink by default) against it, and
    then an item's identity would change with the feed's URL. Links are
    resolved afterwards, in `_http_url`; an `xml:base` in the document still
    applies, since feedparser joins it onto the empty base.
    """
    result = feedparser.util.FeedParserDict(bozo=False, entries=[], feed={}, headers={})
    # Only Content-Type steers the decoding. Passing other headers without it
    # would make feedparser assume ISO-8859-1 (RFC 2616) and garble every
    # undeclared UTF-8 feed; with no headers at all it tries UTF-8 first.
    encoding_headers = {"content-type": content_type} if content_type else {}
    data = feedparser.encodings.convert_to_utf8(encoding_headers, body, result)
    strict = bool(result.get("encoding"))
    version, data, entities = feedparser.sanitizer.replace_doctype(data)
    data, entities, notes = _bound_entities(data, entities)

    problem: BaseException | None = result.get("bozo_exception")
    handler: Any = None
    if strict:
        handler = _StrictParser("", None, "utf-8")
        _configure(handler)
        # The stdlib expat reader, not feedparser's preferred libxml2 driver:
        # its entity handling is the one verified by tests/test_parse.py.
        reader = xml.sax.make_parser()
        reader.setFeature(xml.sax.handler.feature_namespaces, True)
        reader.setFeature(xml.sax.handler.feature_external_ges, False)
        reader.setFeature(xml.sax.handler.feature_external_pes, False)
        reader.setContentHandler(handler)
        reader.setErrorHandler(handler)
        source = xml.sax.xmlreader.InputSource()
        source.setByteStream(io.BytesIO(data))
        try:
            reader.parse(source)
        except xml.sax.SAXException as exc:
            problem = handler.exc or exc
            strict = False
    if not strict:
        handler = _LooseParser("", None, "utf-8", entities)
        _configure(handler)
        handler.feed(data.decode("utf-8", "replace"))
    return _Raw(
        feed=handler.feeddata,
        entries=list(handler.entries),
        version=version or handler.version or "",
        problem=problem,
        notes=notes,
    )


def _configure(handler: Any) -> None:
    # We reduce HTML to text ourselves: sanitizing and rewriting URIs inside
    # it would be sgmllib passes over every field for nothing.
    handler.resolve_relative_uris = False
    handler.sanitize_html = False


def _bound_entities(
    data: bytes, entities: dict[str, str]
) -> tuple[bytes, dict[str, str], tuple[str, ...]]:
    """Drop the internal-subset entities if their references would expand too far.

    `replace_doctype` keeps only entities whose value holds no reference, so
    nothing nests and the expansion is exactly the sum, over references, of
    the value's length; it rebuilds the DOCTYPE as `<!DOCTYPE feed [...]>`.
    Past the budget that DOCTYPE is cut out: the references stay unexpanded
    (as literal "&name;" text) in both the strict and the loose parser.
    """
    if not entities:
        return data, entities, ()
    sizes = {name.encode(): len(value) for name, value in entities.items()}
    total = 0
    for match in _ENTITY_REFERENCE.finditer(data):
        total += sizes.get(match.group(1), 0)
        if total > ENTITY_EXPANSION_LIMIT:
            break
    else:
        return data, entities, ()
    start = data.find(_REBUILT_DOCTYPE)
    end = data.find(b">\n]>", start)
    if start >= 0 and end >= 0:
        data = data[:start] + data[end + 4 :]
    note = (
        f"entity declarations ignored: they would add over "
        f"{ENTITY_EXPANSION_LIMIT // (1024 * 1024)} MiB of text"
    )
    return data, {}, (note,)


# --- the document ------------------------------------------------------------


def parse_document(
    body: bytes,
    headers: Mapping[str, str] | Sequence[tuple[str, str]],
    url: str,
    now: datetime,
) -> ParsedFeed:
    """Parse a fetched feed document into cleaned entries.

    Ordinary documents go through `sources.fastparse` (ElementTree, ~2.5x
    faster), which answers only when it gives exactly what feedparser would;
    everything else goes to `parse_with_feedparser`.

    Ill-formed documents that still give entries keep them, with `warning`
    set; a document that gives no entries because it could not be read, or is
    not a feed at all (an HTML page, binary data, an empty body), gives
    `error`. A single entry that cannot be read is skipped. Every text field
    is plain text without control characters and capped in length, so one
    huge field cannot blow up later stages.

    Args:
        body: the document as fetched (decompressed), never a URL or a path.
        headers: the response headers; only Content-Type (for the encoding)
            and Content-Location (for relative links) are used.
        url: the feed's URL, against which relative links are resolved.
        now: the current time (aware UTC); later dates are clamped to it.

    Returns:
        The parsed feed, with `error` set when the document gave nothing usable.

    Raises:
        TypeError: if `body` is not bytes (a `str` would be a URL to
            feedparser: the mistake this signature exists to prevent).
    """
    if not isinstance(body, bytes | bytearray):
        raise TypeError(f"parse_document needs bytes, not {type(body).__name__}")
    # fastparse reads this module's helpers, so it is imported here, not at the top.
    from sources.fastparse import fast_parse

    fast = fast_parse(bytes(body), _header_map(headers), url, now)
    return fast if fast is not None else parse_with_feedparser(body, headers, url, now)


def parse_with_feedparser(
    body: bytes,
    headers: Mapping[str, str] | Sequence[tuple[str, str]],
    url: str,
    now: datetime,
) -> ParsedFeed:
    """`parse_document` by feedparser alone: the parser of record.

    Any faster path must give exactly what this gives for every document it
    accepts; the tests hold it to that.
    """
    refused = _refuse_unread(body)
    if refused is not None:
        return refused
    body = bytes(body)
    try:
        header_map = _header_map(headers)
        raw = _run_feedparser(body, header_map.get("content-type", ""))
    except Exception as exc:  # any feedparser bug is this feed's error
        return ParsedFeed(error=f"feed parser failed: {type(exc).__name__}: {exc}")

    notes = list(raw.notes)
    problem = raw.problem
    if isinstance(problem, _ENCODING_WARNINGS):
        notes.insert(0, _one_line(str(problem)))
        problem = None

    if not raw.entries:
        if not raw.version:
            return ParsedFeed(error="not a feed: " + _not_a_feed_reason(body, problem))
        if problem is not None:
            return ParsedFeed(error=_describe(problem))
    elif problem is not None:
        notes.insert(0, "ill-formed, entries recovered: " + _describe(problem))

    base = _base_url(url, header_map.get("content-location", ""))
    entries, skipped = gather_entries(raw.entries, lambda one: _entry(one, base, now), notes)
    if skipped and not entries:
        # Entries were there and none could be read: that is a broken feed.
        # Entries that were merely empty are not: the feed says nothing yet.
        return ParsedFeed(title=_feed_title(raw.feed), error="; ".join(notes))
    return ParsedFeed(
        title=_feed_title(raw.feed),
        entries=tuple(entries),
        warning="; ".join(notes) or None,
    )


def gather_entries(
    raws: Sequence[_Raw_T], build: Callable[[_Raw_T], ParsedEntry | None], notes: list[str]
) -> tuple[list[ParsedEntry], int]:
    """Build the first MAX_ENTRIES entries, noting in `notes` what was dropped and why.

    Shared with `sources.fastparse`, so both paths count and word it alike.

    Returns:
        (the entries, how many raised while being built: one odd entry must
        not cost the feed).
    """
    entries: list[ParsedEntry] = []
    skipped = empty = 0
    for raw in raws[:MAX_ENTRIES]:
        try:
            entry = build(raw)
        except Exception:
            skipped += 1
            continue
        if entry is None:
            empty += 1
        else:
            entries.append(entry)
    if len(raws) > MAX_ENTRIES:
        notes.append(f"kept the first {MAX_ENTRIES} of {len(raws)} entries")
    if skipped:
        notes.append(f"skipped {_entries(skipped)} that could not be read")
    if empty:
        notes.append(f"skipped {_entries(empty)} with no title, text or link")
    return entries, skipped


def _refuse_unread(body: bytes | bytearray) -> ParsedFeed | None:
    """The verdict on a body that needs no parser: too large, or empty."""
    if len(body) > MAX_DOCUMENT_BYTES:
        return ParsedFeed(
            error=(
                f"document too large: {len(body) / 1024 / 1024:.1f} MiB, "
                f"the limit is {MAX_DOCUMENT_BYTES // 1024 // 1024} MiB"
            )
        )
    if not body.strip():
        return ParsedFeed(error="not a feed: the document is empty")
    return None


def _entries(count: int) -> str:
    return f"{count} entry" if count == 1 else f"{count} entries"


def _header_map(headers: Mapping[str, str] | Sequence[tuple[str, str]]) -> dict[str, str]:
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return {str(name).lower(): str(value) for name, value in pairs}


def _base_url(url: str, location: str) -> str:
    """The URL relative links resolve against: Content-Location if it is usable."""
    if location:
        candidate = _http_url(location, url)
        if candidate:
            return candidate
    return url


def _feed_title(feed: Any) -> str:
    title = feed.get("title") if isinstance(feed, Mapping) else None
    return clean_text(title, limit=TITLE_LIMIT) if isinstance(title, str) else ""


def _entry(raw: Any, url: str, now: datetime) -> ParsedEntry | None:
    """One feedparser entry as a ParsedEntry; None when it has nothing to show."""
    title = _text(raw.get("title"))
    title = clean_text(title, limit=TITLE_LIMIT) if title else ""
    return finish_entry(raw, title, _summary(raw), _link(raw, url), now)


def finish_entry(
    raw: dict[str, Any], title: str, summary: str, link: str, now: datetime
) -> ParsedEntry | None:
    """The entry from its cleaned text and the raw entry's dates, guid and extras.

    Shared with `sources.fastparse`, whose raw entries carry the same keys.
    None when the entry has no title, text or link.
    """
    if not (title or summary or link):
        return None
    # `dict.get` for updated_parsed: feedparser's own `get` maps a missing
    # one to published_parsed with a DeprecationWarning; here published_parsed
    # was already found empty, so the answer is the same, without the warning.
    published = clamp_date(
        to_utc(
            raw.get("published_parsed")
            or dict.get(raw, "updated_parsed")
            or raw.get("created_parsed")
        ),
        now,
    )
    return ParsedEntry(
        guid=_guid(raw.get("id")),
        link=link,
        title=title,
        summary=summary,
        published=published,
        extra=_extra(raw),
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _summary(raw: Any) -> str:
    """The longer of the entry's content and its summary, as plain text."""
    summary = _to_text(_text(raw.get("summary")), raw.get("summary_detail"))
    contents = raw.get("content")
    if isinstance(contents, list) and contents and isinstance(contents[0], Mapping):
        content = _to_text(_text(contents[0].get("value")), contents[0])
        if len(content) > len(summary):
            summary = content
    return truncate(summary, SUMMARY_LIMIT)


def _to_text(value: str, detail: object) -> str:
    if not value:
        return ""
    kind = detail.get("type") if isinstance(detail, Mapping) else None
    if kind is None or kind in _HTML_TYPES:
        return html_to_text(value)
    return fold_whitespace(strip_controls(value))


def _link(raw: Any, url: str) -> str:
    """The entry's http(s) link, resolved against the feed URL; "" if none."""
    candidates = [raw.get("link")]
    links = raw.get("links")
    if isinstance(links, list):
        candidates += [
            item.get("href")
            for item in links
            if isinstance(item, Mapping) and item.get("rel", "alternate") == "alternate"
        ]
    for candidate in candidates:
        link = _http_url(candidate, url)
        if link:
            return link
    return ""


def _http_url(value: object, base: str) -> str:
    if not isinstance(value, str):
        return ""
    # A link wrapped over lines in the XML has whitespace inside: none of it
    # belongs to the URL.
    value = "".join(strip_controls(value).split())
    if not value or len(value) > LINK_LIMIT:
        return ""
    try:
        resolved = urljoin(base, value)
        parts = urlsplit(resolved)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return resolved


def _guid(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    guid = strip_controls(value).strip()
    if not guid:
        return None
    if len(guid) > GUID_LIMIT:
        return "sha256:" + hashlib.sha256(guid.encode("utf-8", "replace")).hexdigest()
    return guid


def _extra(raw: Any) -> tuple[tuple[str, str], ...]:
    extra: list[tuple[str, str]] = []
    author = _text(raw.get("author"))
    if author:
        author = clean_text(author, limit=AUTHOR_LIMIT)
        if author:
            extra.append(("author", author))
    tags = raw.get("tags")
    if isinstance(tags, list):
        terms = [
            clean_text(tag.get("term") or "", limit=CATEGORIES_LIMIT)
            for tag in tags
            if isinstance(tag, Mapping) and isinstance(tag.get("term"), str)
        ]
        joined = ", ".join(dict.fromkeys(term for term in terms if term))
        if joined:
            extra.append(("categories", truncate(joined, CATEGORIES_LIMIT)))
    return tuple(extra)


def _describe(problem: BaseException) -> str:
    if isinstance(problem, xml.sax.SAXParseException):
        return _one_line(
            f"ill-formed XML at line {problem.getLineNumber()}, "
            f"column {problem.getColumnNumber()}: {problem.getMessage()}"
        )
    text = _one_line(str(problem))
    return f"{type(problem).__name__}: {text}" if text else type(problem).__name__


def _one_line(text: str) -> str:
    return clean_text(text, limit=300)


def _not_a_feed_reason(body: bytes, problem: BaseException | None) -> str:
    """Say in words what the document looks like, since it is not a feed."""
    head = body[:4096]
    if _HTML_MARKERS.search(head):
        return "an HTML page, with no RSS, Atom or RDF element"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        return "JSON, not an RSS, Atom or RDF document"
    text = head.decode(_sniff_text_encoding(head), "replace")
    unreadable = sum(1 for char in text if char == "\ufffd" or char < " " and char not in "\t\r\n")
    if unreadable * 10 > len(text):
        return "binary data, not a text document"
    reason = "no RSS, Atom or RDF element found"
    if problem is not None:
        reason += f" ({_describe(problem)})"
    return reason


def _sniff_text_encoding(head: bytes) -> str:
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    if head[:2] == b"<\x00":
        return "utf-16-le"
    if head[:2] == b"\x00<":
        return "utf-16-be"
    return "utf-8"


# --- the pool: a time budget and a free event loop ---------------------------

_ItemsJob = tuple[FeedSpec, Mapping[str, str], AnalysisSpecs]
"""What a worker needs to turn a parsed document into items: see `ParsePool.parse_items`."""
_Task = tuple[bytes, tuple[tuple[str, str], ...], str, datetime, _ItemsJob | None]

_STARTUP_TIMEOUT = 60.0
"""Seconds a new worker may take to be ready: the first one waits for the fork
server's start (~1 s idle here: imports and a default extractor)."""
_READY = "ready"
_WORKER_MEMORY_LIMIT = 2 * 1024 * 1024 * 1024
"""Address space a worker may use. A 19 MiB feed peaks at ~160 MB resident
here; a blow-up past this limit is a MemoryError (an error for that feed)
instead of the whole machine swapping."""


def _limit_memory(limit: int) -> None:
    try:
        import resource
    except ImportError:  # not on Windows
        return
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY or soft > limit:
            if hard != resource.RLIM_INFINITY:
                limit = min(limit, hard)
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):  # macOS refuses RLIMIT_AS; the timeout still holds
        pass


def _worker_main(conn: Connection) -> None:
    """A worker process: parse documents sent over `conn` until told to stop."""
    # Ctrl-C reaches the whole process group; the parent decides when we stop
    # (ParsePool.close), so a worker never prints a KeyboardInterrupt.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_memory(_WORKER_MEMORY_LIMIT)
    extractors: dict[str, Analyser] = {}
    conn.send(_READY)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        body, headers, url, now, job = task
        try:
            parsed = parse_document(body, headers, url, now)
        except Exception as exc:  # report it, never die silently
            parsed = ParsedFeed(error=f"feed parser failed: {type(exc).__name__}: {exc}")
        result = parsed if job is None else _itemize_in_worker(parsed, job, now, extractors)
        try:
            conn.send(result)
        except (OSError, ValueError):
            return


def _itemize_in_worker(
    parsed: ParsedFeed, job: _ItemsJob, now: datetime, extractors: dict[str, Analyser]
) -> FeedItems:
    """Items and statements of a parsed document, with this worker's extractor for the specs."""
    from sources.itemize import itemize

    if parsed.error is not None:
        return FeedItems(title=parsed.title, error=parsed.error)
    spec, known, specs = job
    extractor = extractors.get(specs.key)
    if extractor is None:
        from sources.extraction import Extractor

        extractors.clear()  # the config changed: the old extractor is done with
        extractor = extractors[specs.key] = Extractor(*specs.specs())
    try:
        return itemize(spec, parsed, known, extractor, now)
    except Exception as exc:  # report it, never die silently
        return FeedItems(title=parsed.title, error=f"internal error: {type(exc).__name__}: {exc}")


_PRELOAD = ["sources.worker_preload"]
_fork_server_users = 0
"""Open pools that fork their workers from the fork server."""
_fork_server_lock = threading.Lock()


def _worker_context() -> ForkServerContext | SpawnContext:
    global _fork_server_users
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    with _fork_server_lock:
        # Takes effect when the server starts; a running one keeps its modules.
        context.set_forkserver_preload(_PRELOAD)
        _fork_server_users += 1
    return context


def _release_fork_server() -> None:
    """Stop multiprocessing's fork server once the last pool using it is closed.

    A server left running would outlive the pools by the life of the
    process, holding ~60 MB, and its CPU time would be missing from the
    accounts of whoever reaps us. It exits only when every process it forked
    has (they hold its "alive" pipe), so it is stopped only after the last
    pool has killed its workers. `_stop` is private (the standard library's
    own tests use it), so its absence is tolerated: the server then exits
    with the process.
    """
    global _fork_server_users
    from multiprocessing import forkserver

    with _fork_server_lock:
        _fork_server_users -= 1
        if _fork_server_users > 0:
            return
        stop = getattr(forkserver._forkserver, "_stop", None)  # noqa: SLF001
        if stop is not None:
            try:
                stop()
            except OSError:
                pass


_Used = TypeVar("_Used")


class _Slot:
    """One worker process and its pipe; replaced whenever it is killed or dies."""

    __slots__ = ("conn", "process", "ready")

    def __init__(self) -> None:
        self.process: BaseProcess | None = None
        self.conn: Connection | None = None
        self.ready = False


class ParsePool:
    """Runs `parse_document` (and `itemize`) in worker processes, with a time budget.

    Each parse has a worker to itself for its duration: a document that runs
    over `timeout` gets its worker killed (and a fresh one started in its
    place) while the other parses in flight carry on in their own workers,
    untouched. `concurrent.futures.ProcessPoolExecutor` cannot do that: it
    has no way to kill one worker, and a killed worker breaks the whole pool
    and fails every future in it.

    Workers are forked by multiprocessing's fork server (forking the TUI's
    threaded process itself would be unsafe), which has imported
    `sources.worker_preload` once: each worker starts with the parser and the
    extractor's modules loaded and its pattern caches warm, where a `spawn`ed
    one spent ~1 s of CPU on that, every round. `close()` stops the server
    too. Where there is no fork server (Windows), workers are spawned.
    Workers start on first use and are reused. Waiting on a worker happens in
    one of this pool's threads, so the event loop only awaits.

    Use it as a context manager, or call `close()`: no worker outlives it.
    """

    def __init__(self, workers: int = 2, timeout: float = 20.0) -> None:
        """Set up the pool; worker processes start on first use.

        A round where every feed answers 304 parses nothing, so it should not
        pay ~0.3 s of CPU per worker to spawn them.

        Args:
            workers: parses that can run at once (one process each).
            timeout: seconds one parse may take before its worker is killed.

        Raises:
            ValueError: for fewer than one worker or a non-positive timeout.
        """
        if workers < 1:
            raise ValueError("a parse pool needs at least one worker")
        if timeout <= 0:
            raise ValueError("the parse timeout must be positive")
        self._timeout = timeout
        self._context = _worker_context()
        self._lock = threading.Lock()
        """Guards process starts and kills against `close()`."""
        self._closed = False
        self._slots = [_Slot() for _ in range(workers)]
        self._idle: queue.SimpleQueue[_Slot | None] = queue.SimpleQueue()
        # One thread per slot, so a thread that takes a task always finds an
        # idle slot; tasks beyond that wait in the executor's queue.
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="parse-pool")
        for slot in self._slots:
            self._idle.put(slot)

    @property
    def timeout(self) -> float:
        """Seconds one parse may take."""
        return self._timeout

    async def parse(
        self,
        body: bytes,
        headers: Sequence[tuple[str, str]],
        url: str,
        now: datetime,
    ) -> ParsedFeed:
        """Parse a document in a worker process, within the time budget.

        Args:
            body: the document as fetched (decompressed).
            headers: the response headers.
            url: the feed's URL, for relative links.
            now: the current time (aware UTC).

        Returns:
            What `parse_document` returns, or a `ParsedFeed` whose `error` says
            the parse took too long or its worker died.

        Raises:
            RuntimeError: if the pool is closed.
        """
        if self._closed:
            raise RuntimeError("the parse pool is closed")
        refused = _refuse_unread(body)
        if refused is not None:
            return refused  # no worker needed, and no 20 MiB through a pipe
        task: _Task = (bytes(body), tuple(_header_map(headers).items()), url, now, None)
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self._threads, self._run, task)
        if not isinstance(result, ParsedFeed):
            return ParsedFeed(error="the parser process sent something that is not a result")
        return result

    async def parse_items(
        self,
        body: bytes,
        headers: Sequence[tuple[str, str]],
        url: str,
        now: datetime,
        *,
        feed: FeedSpec,
        known: Mapping[str, str],
        specs: AnalysisSpecs,
    ) -> FeedItems:
        """Parse a document and turn it into items and statements, in a worker process.

        The whole job (parse, ids, hashes, tags, extraction) runs within the
        time budget, and only the new and changed items come back through
        the pipe.

        Args:
            body: the document as fetched (decompressed).
            headers: the response headers.
            url: the URL the document came from, for relative links.
            now: the round's time (aware UTC).
            feed: the feed, whose URL scopes the item ids.
            known: id -> content hash of the feed's stored items: these are
                only counted, never extracted again.
            specs: the actors and topics to extract with.

        Returns:
            The feed's items, or `error` set when the document gave nothing
            usable, took too long, or its worker died.

        Raises:
            RuntimeError: if the pool is closed.
        """
        if self._closed:
            raise RuntimeError("the parse pool is closed")
        refused = _refuse_unread(body)
        if refused is not None:
            return FeedItems(error=refused.error)
        job: _ItemsJob = (feed, dict(known), specs)
        task: _Task = (bytes(body), tuple(_header_map(headers).items()), url, now, job)
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self._threads, self._run, task)
        if isinstance(result, ParsedFeed):  # the pool's own error: timeout, death, closed
            return FeedItems(title=result.title, error=result.error or "no result")
        return result

    def _run(self, task: _Task) -> ParsedFeed | FeedItems:
        """Take an idle worker, parse with it, give it back (in a pool thread)."""
        closed: ParsedFeed | FeedItems = ParsedFeed(error="the parse pool was closed")
        return self._with_idle_slot(lambda slot: self._exchange(slot, task), closed)

    def _with_idle_slot(self, use: Callable[[_Slot], _Used], closed: _Used) -> _Used:
        """`use` an idle slot (waiting for one) and give it back; `closed` if the pool is."""
        slot = self._idle.get()
        if slot is None or self._closed:
            self._idle.put(None)  # let every other waiting thread see it too
            return closed
        try:
            return use(slot)
        finally:
            self._idle.put(slot)

    def warm_up(self) -> None:
        """Start every worker now, without waiting, for a round that is sure to parse.

        The first worker takes about a second to be ready (the fork server
        imports the parser and builds an extractor first). Started while the
        round's first feeds are still being fetched, that second is off the
        round's critical path. A round that then parses nothing has paid for
        it, so callers warm up only when some feed will send a body.
        """
        for _ in self._slots:
            if self._closed:
                return
            try:
                self._threads.submit(self._with_idle_slot, self._warm, None)
            except RuntimeError:  # closed meanwhile
                return

    def _warm(self, slot: _Slot) -> None:
        try:
            self._ready(slot)
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            self._restart(slot)  # a parse that needs this slot starts it again

    def _ready(self, slot: _Slot) -> str | None:
        """Start the slot's worker if need be and wait until it is ready; the error, if any."""
        if slot.process is None and not self._start(slot):
            return "could not start a parser process"
        conn = slot.conn
        assert conn is not None
        if not slot.ready:
            # The clock for the document starts once the worker is ready: a
            # slow start (the fork server's, the first time) is not the feed's fault.
            if not conn.poll(_STARTUP_TIMEOUT) or conn.recv() != _READY:
                self._restart(slot)
                return "the parser process did not start"
            slot.ready = True
        return None

    def _exchange(self, slot: _Slot, task: _Task) -> ParsedFeed | FeedItems:
        try:
            problem = self._ready(slot)
            if problem is not None:
                return ParsedFeed(error=problem)
            conn = slot.conn
            assert conn is not None
            conn.send(task)
            if not conn.poll(self._timeout):
                self._restart(slot)
                return ParsedFeed(error=f"parsing took longer than {self._timeout:g} s")
            result = conn.recv()
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            code = slot.process.exitcode if slot.process is not None else None
            self._restart(slot)
            if self._closed:
                return ParsedFeed(error="the parse pool was closed")
            return ParsedFeed(error=f"the parser process died (exit code {code})")
        if not isinstance(result, ParsedFeed | FeedItems):
            self._restart(slot)
            return ParsedFeed(error="the parser process sent something that is not a result")
        return result

    def _start(self, slot: _Slot) -> bool:
        """Start a worker in `slot`; False if the pool is closed or the start failed."""
        with self._lock:
            if self._closed:
                return False
            parent, child = self._context.Pipe(duplex=True)
            process = self._context.Process(
                target=_worker_main, args=(child,), name="stancewatch-parse", daemon=True
            )
            try:
                process.start()
            except OSError:
                parent.close()
                return False
            finally:
                child.close()
            slot.process, slot.conn, slot.ready = process, parent, False
            return True

    def _stop(self, slot: _Slot) -> None:
        with self._lock:
            process, conn = slot.process, slot.conn
            slot.process, slot.conn, slot.ready = None, None, False
            if process is not None:
                process.kill()
                process.join(5)
            if conn is not None:
                conn.close()

    def _restart(self, slot: _Slot) -> None:
        # Start the replacement now, not on the next parse, so it has imported
        # feedparser by the time it is needed.
        self._stop(slot)
        self._start(slot)

    def close(self) -> None:
        """Kill every worker and stop the pool's threads; parses in flight get an error."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            processes = [slot.process for slot in self._slots if slot.process is not None]
            for process in processes:
                process.kill()
        # Threads blocked on a worker see its pipe close and return; threads
        # waiting for a worker find the closed marker.
        self._idle.put(None)
        self._threads.shutdown(wait=True)
        for process in processes:
            process.join(5)
        for slot in self._slots:
            if slot.conn is not None:
                slot.conn.close()
                slot.conn = None
            slot.process = None
        if self._context.get_start_method() == "forkserver":
            _release_fork_server()

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
