"""Feed documents to cleaned entries: feedparser on bytes, within a time and size budget.

`parse_document` is the whole job, pure and synchronous: it runs feedparser on
the fetched bytes and turns what comes out into `ParsedFeed` / `ParsedEntry`
records of plain text, http(s) links and aware UTC dates. `sources.pool.ParsePool`
runs it in worker processes, because feedparser has no timeout and no size budget and
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

import hashlib
import io
import re
import xml.sax
import xml.sax.handler
import xml.sax.xmlreader
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
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
from sources.documents import MAX_DOCUMENT_BYTES, header_map, refuse_unread
from sources.records import ParsedEntry, ParsedFeed

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "parse_document",
    "parse_with_feedparser",
]

_Raw_T = TypeVar("_Raw_T")

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

    fast = fast_parse(bytes(body), header_map(headers), url, now)
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
    refused = refuse_unread(body)
    if refused is not None:
        return refused
    body = bytes(body)
    try:
        by_name = header_map(headers)
        raw = _run_feedparser(body, by_name.get("content-type", ""))
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

    base = _base_url(url, by_name.get("content-location", ""))
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


def _entries(count: int) -> str:
    return f"{count} entry" if count == 1 else f"{count} entries"


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
    if value.isascii() and _PLAIN_HTTP_URL.fullmatch(value):
        return value  # what `_resolved_http_url` gives it, without parsing it three times
    return _resolved_http_url(value, base)


_PLAIN_HTTP_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]*)?(?:/[^?#;]*)?(?:\?[^#]+)?(?:#.+)?"
)
"""An absolute http(s) URL with a plain host, that `urljoin` gives back as it is:
no user, no brackets, no ";" in the path (`urlparse` moves what follows it),
no empty "?" or "#" (`urlunparse` drops them). Most entry links are one."""


def _resolved_http_url(value: str, base: str) -> str:
    """`value` resolved against `base` if the result is an http(s) URL with a host, else ""."""
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
