"""A fast path for ordinary feeds: feedparser's records, read with ElementTree.

feedparser stays the parser of record (`sources.parse.parse_with_feedparser`),
but its SAX handlers are ~75% of the parse time of a poll round: every element
goes through a dozen Python calls (namespace mapping, a context lookup, a
push, a pop that post-processes the text four ways). `xml.etree.ElementTree`
builds the same document in C. `fast_parse` reads ordinary RSS 2.0, RSS 1.0
(RDF) and Atom 1.0 documents that way and returns exactly the `ParsedFeed`
that `parse_with_feedparser` returns, or None whenever it cannot be sure, so
the caller falls back: `fast_parse(...) or parse_with_feedparser(...)`
(issue 6, "Faster than newsboat").

How "exactly" is kept:

* ElementTree reads the very bytes feedparser's SAX parser reads: the same
  `convert_to_utf8` and `replace_doctype` calls run first (so every encoding
  and its warning are feedparser's), a DOCTYPE anywhere means None, and both
  parsers are expat. A document expat rejects goes to feedparser, whose
  loose parser recovers what it can; we do not try.
* Every element is named the way feedparser names it (namespace URI to its
  standard prefix, local name lower-cased), which says which feedparser
  handler would run. An element is accepted only if it is a field modelled
  here, at a place modelled here, or provably changes nothing we read: it
  has no handler and its name collides with no key that is read ("inert"),
  or its handler only writes keys nobody reads and leaves the parser's state
  as it found it ("harmless"). Anything else means None: an `xml:base`,
  xhtml or base64 content, markup inside a text element, two authors in an
  entry, an RSS `source` that holds elements, a namespace whose prefix we
  cannot see, and so on.
* Each field's text goes through what feedparser's `pop` does to it (strip,
  relative-URI join against an empty base, the repair of UTF-8 read as
  Latin-1, the cp1252 mapping of C1 characters), then through feedparser's
  own helpers (`_parse_date`, `_urljoin`, `_enforce_href`, `looks_like_html`,
  `map_content_type`) and the cleaning helpers of `sources.parse`.
* `tests/test_fastparse.py` holds both paths equal on every document of
  `../shared/feed-corpus/`, on the benchmark's generated feeds and on
  generated documents built to hit the quirks below.

The quirks reproduced, since each one changes a value:

* Titles: a title is not stored while a non-empty one was read at the same
  depth or shallower since the last item, image, text input or RSS `source`
  began (`title_depth`); in an entry, a title from a deeper element never
  replaces one from a shallower element (`property_depth_map`), and
  `media:title` leaves `title_depth` as it found it. So an item keeps its own
  title against a `media:title` in its `media:content`, and a channel title
  after the items replaces the first one.
* Summaries: a description or summary read while the entry already has a
  summary and no content element has been seen is read as content
  (`_start_description`); otherwise it is the summary unless one came from
  a shallower element. A content element becomes the summary only if there
  is none yet (`_save`). `hasContent` is reset only when an item ends, so a
  content element in the channel reaches the first item. RSS's plain-text
  elements are re-typed as HTML when `looks_like_html` says so (never Atom).
* `link` is the last `<link>` text or the last alternate HTML `href`; a
  permalink guid (`isPermaLink` absent or exactly "true", and every Atom
  `id`) becomes the link only if no link came before it.
* Dates: last element wins per kind (published, updated, created), and an
  unparseable date overwrites a good one with None.
* RSS authors are cut to `AUTHOR_SCAN_LIMIT` characters (`sources.parse`'s
  bounded author); Atom authors are "name (email)", "name" or "email", and
  not cut.
* Categories: feedparser's tag dicts, a later text filling an earlier
  term-less tag; `media:keywords` split on commas; `media:category` with
  its default scheme.
"""

from __future__ import annotations

import io
import re
import string
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import feedparser.datetimes
import feedparser.encodings
import feedparser.sanitizer
import feedparser.util
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin

from sources.clean import (
    clean_text,
    fold_whitespace,
    html_to_text,
    strip_controls,
    truncate,
)
from sources.parse import (
    _ENCODING_WARNINGS,
    _HTML_TYPES,
    AUTHOR_SCAN_LIMIT,
    MAX_DOCUMENT_BYTES,
    SUMMARY_LIMIT,
    TITLE_LIMIT,
    _base_url,
    _feed_title,
    _link,
    _one_line,
    _StrictParser,
    finish_entry,
    gather_entries,
)
from sources.records import ParsedEntry, ParsedFeed

__all__ = ["fast_parse"]


class _Unsure(Exception):
    """The document holds something this path does not reproduce exactly."""


# --- names: what feedparser calls each element --------------------------------

# feedparser's namespace table (`_FeedParserMixin.namespaces`), keyed as its
# `_matchnamespaces` is: by the lower-cased URI.
_NAMESPACES: dict[str, str] = {
    uri.lower(): prefix for uri, prefix in _FeedParserMixin.namespaces.items()
}
_STANDARD_PREFIXES = frozenset(prefix.lower() for prefix in _NAMESPACES.values() if prefix)
# Every element name some handler of our parser class answers to (`_start_X`
# or `_end_X`), the class `sources.parse` actually runs.
_HANDLERS = frozenset(
    name.split("_", 2)[2] for name in dir(_StrictParser) if name.startswith(("_start_", "_end_"))
)
_MAX_PREFIXES = 64
"""More distinct prefixes than a feed needs; past this the document goes to feedparser."""
_MAX_ENTRY_NESTING = 16
"""Levels of elements inside an entry that are walked (one Python call each)."""
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"
# Namespaces whose elements feedparser copies or rewrites attributes for
# (`decls` for xlink, `xmlns` for svg and math): never in a plain news feed.
_ODD_NAMESPACES = (
    "http://www.w3.org/1999/xlink",
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/1998/math/mathml",
)

# Keys an inert element must not be stored under, because something reads
# them: our fields, the structures feedparser's handlers append to, and the
# `FeedParserDict.keymap` aliases that write to those ("guid" is stored as
# "id", "date_parsed" as "updated_parsed", ...).
_FEED_RESERVED = frozenset(
    {
        "title", "title_detail", "links", "link", "tags", "authors", "author", "author_detail",
        "contributors", "publisher", "publisher_detail", "image", "textinput", "cloud",
        "generator_detail", "license", "summary", "summary_detail", "content", "source",
        "media_content", "media_thumbnail", "media_credit", "media_rating", "media_restriction",
        "media_license", "media_player", "description", "description_detail",
    }
)  # fmt: skip
_ENTRY_RESERVED = _FEED_RESERVED | frozenset(
    {
        "id", "guid", "guidislink", "published_parsed", "updated_parsed", "created_parsed",
        "date_parsed", "modified_parsed", "issued_parsed", "expired_parsed",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Kind:
    """What feedparser makes of an element name."""

    handler: str | None
    """The handler key (`title`, `dc_creator`), when one runs and we know which."""
    unsure: bool
    """The name may reach a handler, but which one depends on a prefix we cannot see."""
    keys: frozenset[str]
    """Every key feedparser may store the element under."""

    def inert(self, reserved: frozenset[str]) -> bool:
        return self.handler is None and not self.unsure and self.keys.isdisjoint(reserved)


class _Names:
    """Element names of one document, as feedparser's strict parser forms them.

    A known namespace URI gives its standard prefix (Atom, RSS 1.0 and plain
    RSS give none). An unknown one gives whatever prefix feedparser finds for
    it in its `namespaces_in_use`, which depends on declaration order we do
    not see; such an element is accepted only if no prefix declared in the
    document (nor any standard one) would make it reach a handler or a read
    key.
    """

    def __init__(self, declared_prefixes: Iterable[str]) -> None:
        self._candidates = tuple(
            sorted(_STANDARD_PREFIXES | {prefix.lower() for prefix in declared_prefixes if prefix})
        )
        self._cache: dict[str, _Kind] = {}

    def kind(self, tag: str) -> _Kind:
        found = self._cache.get(tag)
        if found is None:
            found = self._cache[tag] = self._classify(tag)
        return found

    def _classify(self, tag: str) -> _Kind:
        if tag[:1] != "{":
            key = tag.lower()
            return _Kind(key if key in _HANDLERS else None, False, frozenset({key}))
        uri, _, local = tag[1:].partition("}")
        local = local.lower()
        prefix = _standard_prefix(uri)
        if prefix is not None:
            key = f"{prefix}_{local}" if prefix else local
            return _Kind(key if key in _HANDLERS else None, False, frozenset({key}))
        keys = frozenset({local, *(f"{candidate}_{local}" for candidate in self._candidates)})
        return _Kind(None, not keys.isdisjoint(_HANDLERS), keys)


def _standard_prefix(uri: str) -> str | None:
    """feedparser's prefix for a namespace URI; None for one it does not know."""
    lower = uri.lower()
    if "backend.userland.com/rss" in lower:  # as `startElementNS` folds them
        return ""
    return _NAMESPACES.get(lower)


def _check_declarations(declarations: list[tuple[str, str]]) -> str:
    """Refuse namespace set-ups that make feedparser's names depend on order; give the version.

    feedparser takes the version from the first declaration of the Atom,
    RSS 1.0 or RSS 0.90 namespace (`track_namespace`), and maps a document's
    prefix to a standard one in `namespacemap`, which every later element
    name goes through: a document that binds `dc` to the Media RSS namespace
    would turn `dc:creator` into `media:creator`.
    """
    version = ""
    for prefix, uri in declarations:
        if not uri:
            continue  # xmlns="" undeclares; feedparser ignores it too
        if any(char.isspace() for char in uri) or "}" in uri:
            # The SAX driver splits names on spaces, ElementTree on "}".
            raise _Unsure(f"namespace URI with a space or brace: {uri!r}")
        lower = uri.lower()
        if lower in _ODD_NAMESPACES:
            raise _Unsure(f"namespace feedparser rewrites attributes for: {uri}")
        standard = _standard_prefix(uri)
        if standard is not None and standard != standard.lower():
            raise _Unsure(f"mixed-case standard prefix: {standard}")  # blogChannel, creativeCommons
        # A known namespace under another one's standard prefix would
        # reroute that prefix's elements; an unknown one only names its own
        # elements, which `_Names` treats as possibly any prefix anyway.
        folded = prefix.lower()
        if standard is not None and folded in _STANDARD_PREFIXES and standard != folded:
            raise _Unsure(f"prefix {prefix!r} bound to another known namespace")
        if not version:
            if not prefix and lower == "http://my.netscape.com/rdf/simple/0.9/":
                version = "rss090"
            elif lower == "http://purl.org/rss/1.0/":
                version = "rss10"
            elif lower == "http://www.w3.org/2005/atom":
                version = "atom10"
    return version


# --- text as feedparser's pop leaves it --------------------------------------

_C1 = re.compile("[\x80-\x9f]")
_AMPERSAND_REFERENCE = re.compile("&([A-Za-z0-9_]+);")
_map_content_type = _FeedParserMixin.map_content_type
_looks_like_html = _FeedParserMixin.looks_like_html
_enforce_href = _FeedParserMixin._enforce_href


def _repair(text: str) -> str:
    """feedparser's last steps on every stored value (`_FeedParserMixin.pop`).

    Text that is Latin-1 throughout and valid UTF-8 as bytes is taken for
    UTF-8 read as Latin-1 and decoded again, and C1 characters are mapped to
    what cp1252 puts there. Both are no-ops on ASCII, the common case.
    """
    if text.isascii():
        return text
    try:
        text = text.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    if _C1.search(text):
        text = text.translate(_cp1252)
    return text


def _uri(text: str) -> str:
    """A relative-URI field: joined against feedparser's empty base (`resolve_uri`)."""
    return _urljoin("", text) if text else text


def _leaf(element: ET.Element) -> str:
    """The text of a field element, which must hold no elements."""
    if len(element):
        raise _Unsure(f"elements inside {element.tag}")
    return element.text or ""


def _check_base(element: ET.Element) -> None:
    # feedparser reads `xml:base`, and a bare `base` or any `*:base` too
    # (`unknown_starttag`), and joins every relative link onto it.
    for name in element.attrib:
        if name.rpartition("}")[2].lower() == "base":
            raise _Unsure(f"xml:base or base on {element.tag}")


def _attributes(element: ET.Element, allowed: tuple[str, ...] = (_XML_LANG,)) -> dict[str, str]:
    """The attributes feedparser's handlers see (`attrs_d`), for a modelled element.

    Names are lower-cased and `rel` and `type` values too
    (`_normalize_attributes`). A namespaced attribute other than `allowed`
    means None: feedparser also stores it under the document's prefix,
    which ElementTree does not give us.
    """
    attrs: dict[str, str] = {}
    if not element.attrib:
        return attrs
    for name, value in element.attrib.items():
        if name[0] == "{":
            if name not in allowed:
                raise _Unsure(f"namespaced attribute {name} on {element.tag}")
            continue
        key = name.lower()
        if key == "base":
            raise _Unsure(f"base attribute on {element.tag}")
        attrs[key] = value.lower() if key in ("rel", "type") else value
    return attrs


_TEXT_TYPES = {
    "text": "text/plain",
    "plain": "text/plain",
    "text/plain": "text/plain",
    "html": "text/html",
    "text/html": "text/html",
}


def _content_type(attrs: Mapping[str, str], default: str) -> str:
    """The content type feedparser gives a text construct; only text and HTML are modelled.

    xhtml content has its markup re-serialised by feedparser, and other types
    are base64-decoded (`_is_base64`), as is any `mode="base64"`.
    """
    if "mode" in attrs:
        raise _Unsure("mode attribute (base64 or escaped content)")
    kind = _TEXT_TYPES.get(attrs.get("type", default))
    if kind is None:
        raise _Unsure(f"content type {attrs.get('type', default)!r}")
    return kind


# --- dates ---------------------------------------------------------------------

_DATE_CACHE_SIZE = 4096
_MISSING: Any = object()
_date_cache: dict[str, time.struct_time | None] = {}
_W3DTF = feedparser.datetimes._parse_date_w3dtf
_RFC822 = feedparser.datetimes._parse_date_rfc822
_ASCII_LETTERS = frozenset(string.ascii_letters)


def _parse_date(value: str) -> time.struct_time | None:
    """`feedparser.datetimes._parse_date`, remembering what its pure parsers answered.

    The same loop over the same handler list, so the answer is the one
    feedparser gives, with one step skipped: the W3C-DTF parser, tried first,
    answers None for any string that starts with an ASCII letter (its first
    field is then not a four-digit year: too long, too short, or `int()`
    fails), so RFC 822 dates ("Sun, 01 Jun 2025 ...") go straight to the RFC
    822 parser. Answers from those two parsers depend on the string alone and
    are kept (a re-poll sees the same dates again); the ISO 8601 one reads
    the clock for partial dates, so its answers are not.
    """
    cached = _date_cache.get(value, _MISSING)
    if cached is not _MISSING:
        return cached  # type: ignore[no-any-return]
    if not value:
        return None
    handlers = feedparser.datetimes._date_handlers
    if value[0] in _ASCII_LETTERS and handlers[:1] == [_W3DTF]:
        handlers = handlers[1:]
    for handler in handlers:
        try:
            parsed = handler(value)
        except (KeyError, OverflowError, ValueError, AttributeError):
            continue
        if not parsed or len(parsed) != 9:
            continue
        if handler is _W3DTF or handler is _RFC822:
            _remember(value, parsed)
        return parsed  # type: ignore[no-any-return]
    return None


def _remember(value: str, parsed: time.struct_time) -> None:
    if len(_date_cache) >= _DATE_CACHE_SIZE:
        _date_cache.clear()
    _date_cache[value] = parsed


# --- what each element is ------------------------------------------------------

_TITLES = frozenset({"title", "dc_title"})
_ENTRY_TAGS = frozenset({"item", "entry"})
_IDS = frozenset({"guid", "id"})
# Summary-like elements and the content type each defaults to.
_SUMMARIES = {
    "description": "text/html",
    "dc_description": "text/html",
    "summary": "text/plain",
    "itunes_summary": "text/plain",
}
_CONTENTS = {"content_encoded": "text/html", "content": "text/plain"}
_SUMMARY_LIKE = frozenset(_SUMMARIES) | {"media_description"}
# Content types `_end_content` copies to the summary.
_COPIED_TO_SUMMARY = frozenset({"text/plain", "text/html", "application/xhtml+xml"})
_DATES = {
    "pubdate": "published_parsed",
    "published": "published_parsed",
    "issued": "published_parsed",
    "dcterms_issued": "published_parsed",
    "updated": "updated_parsed",
    "modified": "updated_parsed",
    "lastbuilddate": "updated_parsed",
    "dc_date": "updated_parsed",
    "dcterms_modified": "updated_parsed",
    "created": "created_parsed",
    "dcterms_created": "created_parsed",
}
_DATE_LEAVES = frozenset(_DATES) | {"expirationdate"}
_AUTHORS = frozenset({"author", "dc_creator", "dc_author", "itunes_author", "managingeditor"})
_AUTHOR_PARTS = frozenset({"name", "email", "uri", "url", "homepage"})
_CATEGORIES = frozenset({"category", "dc_subject", "keywords"})

# Harmless handlers, read by hand in feedparser 6.0: each writes only keys we
# never read, and sets no state that outlives the element. The text
# constructs and dates must be leaves: child elements would turn a text
# construct into xhtml, and a date's value goes to the date parser. The
# others may hold harmless or inert elements (a `media:thumbnail` with an
# `<img>` in it), which feedparser handles as if they stood outside.
_ENTRY_LEAVES = frozenset(
    {
        "rights", "copyright", "dc_rights", "subtitle", "tagline", "itunes_subtitle", "info",
        "feedburner_browserfriendly", "expirationdate",
    }
)  # fmt: skip
_ENTRY_CONTAINERS = frozenset(
    {
        "enclosure", "media_content", "media_group", "contributor", "language", "dc_language",
        "generator", "width", "height", "url", "homepage", "uri", "name", "email",
        "itunes_name", "itunes_email", "dc_contributor", "dc_publisher", "webmaster",
        "newlocation", "itunes_explicit", "itunes_block", "itunes_image", "itunes_link",
        "media_credit", "media_rating", "media_license", "media_restriction", "media_player",
        "media_thumbnail", "cloud",
    }
)  # fmt: skip
# At the feed level the entry fields are harmless too (they fill `feed`,
# which only lends its title); titles, images and entries are modelled.
_FEED_LEAVES = (
    _ENTRY_LEAVES
    | frozenset(_SUMMARIES)
    | frozenset(_CONTENTS)
    | _DATE_LEAVES
    | _IDS
    | _CATEGORIES
    | {"link", "itunes_keywords", "media_keywords", "media_category", "media_description"}
)
# An RSS author is text, an Atom one holds name, email and uri.
_FEED_CONTAINERS = _ENTRY_CONTAINERS | _AUTHORS | {"itunes_owner", "itunes_category"}
_IMAGE_PARTS = frozenset({"title", "link", "description", "url", "width", "height"})
_TEXTINPUT_PARTS = frozenset({"title", "link", "description", "name"})


def _check_subtree(
    top: ET.Element,
    names: _Names,
    leaves: frozenset[str],
    containers: frozenset[str],
    reserved: frozenset[str],
) -> bool:
    """Accept an element and everything in it only if all of it is harmless or inert.

    Returns whether a summary or content element was among them (at the feed
    level they are harmless, but they may set feedparser's `hasContent`).
    """
    texts = False
    for element in top.iter():
        if element.attrib:
            _check_base(element)
        kind = names.kind(element.tag)
        key = kind.handler
        if key is None:
            if not kind.inert(reserved):
                raise _Unsure(f"element {element.tag} may reach a handler or a read key")
        elif key in containers:
            continue  # its children come next in `iter()`
        elif key in leaves:
            text = _leaf(element)
            if key in _DATE_LEAVES:
                # Only for what its parser would raise: the value is unused.
                _parse_date(_repair(text.strip()))
            elif key in _SUMMARY_LIKE or key in _CONTENTS:
                texts = True
        else:
            raise _Unsure(f"element {element.tag} ({key}) not modelled here")
    return texts


# --- the document ----------------------------------------------------------------


class _Entry:
    """What feedparser tracks for the entry being read."""

    __slots__ = (
        "authors",
        "depth",
        "has_content",
        "id_depth",
        "raw",
        "summary_depth",
        "title_depth",
    )

    def __init__(self, depth: int, has_content: bool | None) -> None:
        self.depth = depth
        """The depth of the entry's own children."""
        self.raw: dict[str, Any] = {}
        self.has_content = has_content
        """feedparser's `hasContent`: a content element was read in this entry,
        or in the feed before it (None: unknown)."""
        self.title_depth: int | None = None
        """`property_depth_map` for the title: a deeper title never replaces it."""
        self.summary_depth: int | None = None
        """The same for the summary (a summary copied from content records none)."""
        self.id_depth: int | None = None
        """The same for the id (`rdf:about` records none)."""
        self.authors = 0


class _Reader:
    """Walks an accepted document as feedparser's handlers would, collecting raw entries.

    Raw entries are plain dicts with the keys `sources.parse` reads from
    feedparser's entries, holding what feedparser would hold there.
    """

    def __init__(self, names: _Names, atom: bool) -> None:
        self.names = names
        self.atom = atom
        """Atom 1.0: no `looks_like_html` re-typing of plain text."""
        self.title_depth = -1
        """feedparser's `title_depth`: the depth of the last non-empty title."""
        self.title: str | None = None
        """The feed's title as feedparser stores it; None if it stores none."""
        self.has_content: bool | None = False
        """feedparser's `hasContent` between entries; None when not worked out."""
        self.feed_summary: bool | None = False
        """Whether the feed has a `summary` (see `feed_text`); None when not worked out."""
        self.entries: list[dict[str, Any]] = []

    # -- the feed level --

    def feed_children(self, parent: ET.Element, depth: int, in_feed: bool) -> None:
        """The children of the channel (or Atom feed, or RDF root) at `depth`."""
        names = self.names
        for child in parent:
            kind = names.kind(child.tag)
            key = kind.handler
            if key is None:
                if not kind.inert(_FEED_RESERVED):
                    raise _Unsure(f"element {child.tag} may reach a handler or a read key")
                _check_subtree(child, names, _FEED_LEAVES, _FEED_CONTAINERS, _FEED_RESERVED)
            elif key in _TITLES:
                value = self.text_construct(child, "text/plain")
                self.title_seen(depth, value, in_feed)
            elif key in _ENTRY_TAGS:
                self.entries.append(self.entry(child, depth))
            elif key == "image":
                self.box(child, depth, _IMAGE_PARTS)
            elif key == "textinput":
                self.box(child, depth, _TEXTINPUT_PARTS)
            elif key in _SUMMARY_LIKE or key in _CONTENTS:
                _leaf(child)
                self.feed_text(child, key)
            elif key in _FEED_LEAVES or key in _FEED_CONTAINERS:
                if _check_subtree(child, names, _FEED_LEAVES, _FEED_CONTAINERS, _FEED_RESERVED):
                    # A summary or content somewhere inside: feedparser's
                    # `hasContent` after it is not worth working out.
                    self.has_content = self.feed_summary = None
            else:
                raise _Unsure(f"feed-level element {child.tag} ({key}) not modelled")

    def feed_text(self, element: ET.Element, key: str) -> None:
        """A feed-level summary or content: only its effect on `hasContent` matters.

        `hasContent` is set by content elements and reset only when an entry
        ends, so one in the channel reaches the first item; a summary-like
        element finding a `summary` in the feed and no content is read as
        content (`_start_description`, `_start_summary`), which sets it too.
        The feed has a `summary` once a summary element (not a description,
        stored as `subtitle`) or a text or HTML content has been read.
        """
        _check_base(element)
        attrs = _attributes(element)
        if key in _CONTENTS:
            self.has_content = True
            kind = _map_content_type(attrs.get("type", _CONTENTS[key]))
            if kind in _COPIED_TO_SUMMARY and self.feed_summary is not None:
                self.feed_summary = True
        elif self.feed_summary is None or self.has_content is None:
            self.has_content = None
        elif self.feed_summary and not self.has_content:
            self.has_content = True  # read as content
        elif key in ("summary", "itunes_summary"):
            self.feed_summary = True

    def title_seen(self, depth: int, value: str, store: bool) -> bool:
        """A title popped at `depth`: stored unless a shallower-or-equal one came first.

        Returns whether it was stored (`pop` returns early for titles below
        `title_depth`); `_end_title` then records a non-empty title's depth.
        """
        stored = not (-1 < self.title_depth <= depth)
        if stored and store:
            self.title = value
        if value:
            self.title_depth = depth
        return stored

    def box(self, element: ET.Element, depth: int, parts: frozenset[str]) -> None:
        """An image or text input: its titles move `title_depth` but are not the feed's."""
        _check_base(element)
        self.title_depth = -1
        for child in element:
            key = self.names.kind(child.tag).handler
            # Any other child would clear `inimage`/`intextinput`
            # (`unknown_starttag`), sending the next title to the feed.
            if key not in parts:
                raise _Unsure(f"element {child.tag} in an image or text input")
            if key == "title":
                self.title_seen(depth + 1, self.text_construct(child, "text/plain"), False)
            else:
                _check_base(child)
                _leaf(child)

    def text_construct(self, element: ET.Element, default: str) -> str:
        """A title's value (its type decides nothing else we read)."""
        attrs = _attributes(element)
        _content_type(attrs, default)
        return _repair(_leaf(element).strip())

    # -- an entry --

    def entry(self, element: ET.Element, depth: int) -> dict[str, Any]:
        """One item or entry at `depth`: its raw dict, as feedparser's handlers leave it."""
        attrs = _attributes(element, (_XML_LANG, _RDF_ABOUT))
        if "lastmod" in attrs or "href" in attrs:  # `_cdf_common`
            raise _Unsure("lastmod or href attribute on an item")
        entry = _Entry(depth + 1, self.has_content)
        about = element.get(_RDF_ABOUT)
        if about:
            entry.raw["id"] = about  # stored as is, with no depth (`_start_item`)
        self.title_depth = -1
        self.entry_children(entry, element, depth + 1)
        self.has_content = False  # `_end_item`
        return entry.raw

    def entry_children(self, entry: _Entry, parent: ET.Element, depth: int) -> None:
        """The elements inside an entry (or inside one of its containers), at `depth`.

        feedparser handles an element the same wherever it stands in the
        entry, but for two depth rules: a title, summary or id never replaces
        one read from a shallower element (`property_depth_map`), and a title
        blocks later titles as deep or deeper (`title_depth`).
        """
        if depth > entry.depth + _MAX_ENTRY_NESTING:
            raise _Unsure("elements nested too deep in an entry")
        names = self.names
        raw = entry.raw
        for child in parent:
            kind = names.kind(child.tag)
            key = kind.handler
            if key is None:
                if not kind.inert(_ENTRY_RESERVED):
                    raise _Unsure(f"element {child.tag} may reach a handler or a read key")
                if child.attrib:
                    _check_base(child)
                if len(child):
                    self.entry_children(entry, child, depth + 1)
            elif key in _TITLES:
                self.entry_title(entry, child, depth, media=False)
            elif key == "media_title":
                self.entry_title(entry, child, depth, media=True)
            elif key == "link":
                self.link(entry, child, depth)
            elif key in _IDS:
                self.entry_id(entry, child, depth)
            elif key in _SUMMARIES:
                self.summary(entry, child, depth, _SUMMARIES[key])
            elif key == "media_description":
                self.summary(entry, child, depth, "text/html")  # `_start_description`
            elif key in _CONTENTS:
                entry.has_content = True
                self.content(entry, child, _CONTENTS[key])
            elif key in _DATES:
                _check_base(child)
                raw[_DATES[key]] = _parse_date(_repair(_leaf(child).strip()))
            elif key in _CATEGORIES:
                self.category(child, raw)
            elif key == "media_category":
                self.category(child, raw, "http://search.yahoo.com/mrss/category_schema")
            elif key == "media_keywords":
                self.keywords(child, raw)
            elif key in _AUTHORS and depth == entry.depth:
                entry.authors += 1
                if entry.authors > 1:
                    raise _Unsure("more than one author")  # `authors`, `author_detail` merge
                raw["author"] = self.author(child)
            elif key == "source" and depth == entry.depth:
                # An RSS source names the outlet; feedparser resets the title
                # depth for it, so a later title takes over.
                _attributes(child)
                _leaf(child)
                self.title_depth = -1
            elif key in _ENTRY_CONTAINERS:
                if child.attrib:
                    _check_base(child)
                if len(child):
                    self.entry_children(entry, child, depth + 1)
            elif key in _ENTRY_LEAVES:
                if child.attrib:
                    _check_base(child)
                text = _leaf(child)
                if key in _DATE_LEAVES:
                    _parse_date(_repair(text.strip()))  # for what it may raise
            else:
                raise _Unsure(f"entry element {child.tag} ({key}) not modelled")

    def entry_id(self, entry: _Entry, element: ET.Element, depth: int) -> None:
        """A guid or id; a permalink one is also the link if none came before (`_end_guid`)."""
        attrs = _attributes(element)
        permalink = attrs.get("ispermalink", "true") == "true"
        value = _leaf(element).strip()
        if permalink:
            value = _uri(value)
        value = _repair(value)
        if entry.id_depth is None or depth <= entry.id_depth:
            entry.id_depth = depth
            entry.raw["id"] = value
        if permalink:
            entry.raw.setdefault("link", value)

    def entry_title(self, entry: _Entry, element: ET.Element, depth: int, media: bool) -> None:
        """A title in an entry: `title_depth` first, then the entry's property depth.

        `media:title` leaves `title_depth` as it found it (`_end_media_title`).
        """
        value = self.text_construct(element, "text/plain")
        before = self.title_depth
        if self.title_seen(depth, value, False):
            if entry.title_depth is None or depth <= entry.title_depth:
                entry.title_depth = depth
                entry.raw["title"] = value
        if media:
            self.title_depth = before

    def summary(self, entry: _Entry, element: ET.Element, depth: int, default: str) -> None:
        """A description or summary; read as content if a summary came first without content.

        `_start_description` and `_start_summary` turn to `_start_content`
        when the entry already has a summary and no content element has been
        seen: the value joins `content` (typed text/plain by default).
        Otherwise the value is the summary unless one came from a shallower
        element, and its type replaces the summary's type either way.
        """
        raw = entry.raw
        if "summary" in raw and not entry.has_content:
            if entry.has_content is None:
                raise _Unsure("a second summary after feed-level text we did not follow")
            entry.has_content = True
            self.content(entry, element, "text/plain")
            return
        value, kind = self.text(element, default)
        if entry.summary_depth is None or depth <= entry.summary_depth:
            entry.summary_depth = depth
            raw["summary"] = value
        raw["summary_detail"] = {"type": kind}

    def content(self, entry: _Entry, element: ET.Element, default: str) -> None:
        """A content element: appended to `content`, and the summary if there is none yet."""
        value, kind = self.text(element, default)
        entry.raw.setdefault("content", []).append({"type": kind, "value": value})
        # `_end_content` copies text and HTML content (the only types read here).
        entry.raw.setdefault("summary", value)

    def text(self, element: ET.Element, default: str) -> tuple[str, str]:
        """A summary or content: its value and the type feedparser records."""
        kind = _content_type(_attributes(element), default)
        value = _leaf(element).strip()
        # RSS "plain text" that looks like HTML is taken for HTML; the check
        # runs before the repair steps, as in `pop`.
        if kind == "text/plain" and not self.atom and _looks_like_html(value):
            kind = "text/html"
        return _repair(value), kind

    def link(self, entry: _Entry, element: ET.Element, depth: int) -> None:
        """`_start_link` and, for a link given as text, `pop`'s link branch."""
        raw = entry.raw
        attrs: dict[str, Any] = _attributes(element)
        attrs.setdefault("rel", "alternate")
        attrs.setdefault("type", "application/atom+xml" if attrs["rel"] == "self" else "text/html")
        attrs = _enforce_href(attrs)
        if "href" in attrs:
            attrs["href"] = _urljoin("", attrs["href"])
        raw.setdefault("links", []).append(attrs)
        if "href" in attrs:
            if attrs.get("rel") == "alternate" and _map_content_type(attrs["type"]) in _HTML_TYPES:
                raw["link"] = attrs["href"]
            # Nothing is pushed: the text belongs to the entry, and elements
            # inside are read as the entry's own.
            if len(element):
                self.entry_children(entry, element, depth + 1)
            return
        value = _repair(_uri(_leaf(element).strip()))
        if "&" in value:
            # feedparser undoes what it takes for mangled query strings.
            value = _AMPERSAND_REFERENCE.sub(r"&\g<1>", value.replace("&amp;", "&"))
        raw["link"] = value
        if value:
            attrs["href"] = value

    def author(self, element: ET.Element) -> str:
        """The `author` feedparser leaves once `_end_author` has synced the details."""
        _attributes(element)
        pieces = [element.text or ""]
        detail: dict[str, str] = {}
        for child in element:
            key = self.names.kind(child.tag).handler
            if key not in _AUTHOR_PARTS:
                raise _Unsure(f"element {child.tag} in an author")
            _check_base(child)
            text = _leaf(child)
            pieces.append(child.tail or "")
            if key == "name" or key == "email":
                detail[key] = text.strip()  # popped without the repair steps
            else:
                detail["href"] = text
        value = _repair("".join(pieces).strip())
        name, email = detail.get("name"), detail.get("email")
        if name and email:
            return f"{name} ({email})"
        if name or email:
            return name or email or ""
        # Cut as `sources.parse`'s bounded author cuts it before the e-mail regex.
        return value[:AUTHOR_SCAN_LIMIT]

    def category(
        self, element: ET.Element, raw: dict[str, Any], default_scheme: str | None = None
    ) -> None:
        """`_start_category` and `_end_category`, tag dicts and all.

        `media:category` gives its scheme a default first (`_start_media_category`).
        """
        attrs = _attributes(element)
        if default_scheme is not None:
            attrs.setdefault("scheme", default_scheme)
        tags: list[dict[str, str | None]] = raw.setdefault("tags", [])
        scheme = attrs.get("scheme", attrs.get("domain"))
        _add_tag(tags, attrs.get("term"), scheme, attrs.get("label"))
        value = _repair(_leaf(element).strip())
        if value:
            if tags and not tags[-1]["term"]:
                tags[-1]["term"] = value
            else:
                _add_tag(tags, value, None, None)

    def keywords(self, element: ET.Element, raw: dict[str, Any]) -> None:
        """`media:keywords`: a comma-separated list of tags (`_end_media_keywords`)."""
        if element.attrib:
            # Not pushed then (`unknown_starttag`), and the end handler fails quietly.
            raise _Unsure("attributes on media:keywords")
        tags: list[dict[str, str | None]] = raw.setdefault("tags", [])
        for term in _repair(_leaf(element).strip()).split(","):
            if term.strip():
                _add_tag(tags, term.strip(), None, None)


def _add_tag(
    tags: list[dict[str, str | None]], term: str | None, scheme: str | None, label: str | None
) -> None:
    if not term and not scheme and not label:
        return
    tag = {"term": term, "scheme": scheme, "label": label}
    if tag not in tags:
        tags.append(tag)


def _read(root: ET.Element, names: _Names, version: str) -> _Reader:
    """Walk the document from its root; raise `_Unsure` for any other kind of root."""
    _check_base(root)
    key = names.kind(root.tag).handler
    if key == "rss":
        reader = _Reader(names, atom=False)
        channels = 0
        for child in root:
            kind = names.kind(child.tag)
            if kind.handler == "channel":
                channels += 1
                attrs = _attributes(child)
                if channels > 1 or "lastmod" in attrs or "href" in attrs:
                    raise _Unsure("several channels, or lastmod or href on one")
                reader.feed_children(child, 3, in_feed=True)
            elif kind.inert(_FEED_RESERVED):
                _check_subtree(child, names, frozenset(), frozenset(), _FEED_RESERVED)
            else:
                raise _Unsure(f"element {child.tag} beside the channel")
        return reader
    if key == "feed" and version == "atom10":
        reader = _Reader(names, atom=True)
        reader.feed_children(root, 2, in_feed=True)
        return reader
    if root.tag == "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF" and version.startswith("rss"):
        # RSS 1.0: items are the channel's siblings, read after `</channel>`
        # has ended the feed context, so only the channel's title counts.
        reader = _Reader(names, atom=False)
        channels = 0
        for child in root:
            kind = names.kind(child.tag)
            if kind.handler == "channel":
                channels += 1
                attrs = _attributes(child, (_XML_LANG, _RDF_ABOUT))
                if channels > 1 or "lastmod" in attrs or "href" in attrs:
                    raise _Unsure("several channels, or lastmod or href on one")
                reader.feed_children(child, 3, in_feed=True)
            elif kind.handler in _ENTRY_TAGS:
                reader.entries.append(reader.entry(child, 2))
            elif kind.handler == "image":
                reader.box(child, 2, _IMAGE_PARTS)
            elif kind.inert(_FEED_RESERVED):
                _check_subtree(child, names, frozenset(), frozenset(), _FEED_RESERVED)
            else:
                raise _Unsure(f"element {child.tag} beside the channel")
        return reader
    raise _Unsure(f"root element {root.tag} ({version or 'no version'})")


# --- entries, as sources.parse cleans them --------------------------------------


def _is_html(detail: object) -> bool:
    kind = detail.get("type") if isinstance(detail, Mapping) else None
    return kind is None or kind in _HTML_TYPES


def _to_text(value: str, html: bool) -> str:
    """`sources.parse._to_text`, with the type already decided."""
    if not value:
        return ""
    return html_to_text(value) if html else fold_whitespace(strip_controls(value))


def _summary(raw: Mapping[str, Any]) -> str:
    """`sources.parse._summary`, converting a content equal to the summary once.

    An Atom entry with only `<content>`, or an RSS item with only
    `content:encoded`, has the same text as summary and content.
    """
    value = raw.get("summary") or ""
    html = _is_html(raw.get("summary_detail"))
    summary = _to_text(value, html)
    contents = raw.get("content")
    if contents:
        first = contents[0]
        content_html = _is_html(first)
        if first["value"] == value and content_html == html:
            content = summary
        else:
            content = _to_text(first["value"], content_html)
        if len(content) > len(summary):
            summary = content
    return truncate(summary, SUMMARY_LIMIT)


def _entry(raw: dict[str, Any], base: str, now: datetime) -> ParsedEntry | None:
    """`sources.parse._entry` on a raw entry of this module."""
    title = raw.get("title") or ""
    title = clean_text(title, limit=TITLE_LIMIT) if title else ""
    return finish_entry(raw, title, _summary(raw), _link(raw, base), now)


# --- the entry point ---------------------------------------------------------------


def fast_parse(
    body: bytes, header_map: Mapping[str, str], url: str, now: datetime
) -> ParsedFeed | None:
    """Parse an ordinary feed without feedparser's SAX handlers, or decline.

    Gives exactly what `sources.parse.parse_with_feedparser(body, headers,
    url, now)` gives, or None whenever it is not certain to: a document that
    is not well-formed, carries a DOCTYPE, an encoding feedparser could not
    decode, an element or attribute this module does not model, or anything
    that makes an exception. Never raises.

    Args:
        body: the document as fetched (decompressed).
        header_map: the response headers, names lower-cased (as
            `sources.documents.header_map` gives them); only Content-Type and
            Content-Location are read.
        url: the feed's URL, against which relative links are resolved.
        now: the current time (aware UTC); later dates are clamped to it.

    Returns:
        The parsed feed, or None: then ask feedparser.
    """
    try:
        return _fast_parse(body, header_map, url, now)
    except Exception:  # unsure, or a bug here: either way feedparser decides
        return None


def _decline_reason(
    body: bytes, header_map: Mapping[str, str], url: str, now: datetime
) -> str | None:
    """Why `fast_parse` declines a document, in words; None if it accepts it.

    For tests and `tests/bench/bench_parse.py`: which fallback a document
    takes says whether a test exercises the reason it means to.
    """
    try:
        _fast_parse(body, header_map, url, now)
    except _Unsure as unsure:
        return str(unsure)
    except Exception as exc:  # a bug here, or one feedparser shares (its date parsers)
        return f"unexpected {type(exc).__name__}: {exc}"
    return None


def _fast_parse(body: bytes, header_map: Mapping[str, str], url: str, now: datetime) -> ParsedFeed:
    if not isinstance(body, bytes | bytearray) or len(body) > MAX_DOCUMENT_BYTES:
        raise _Unsure("not bytes, or over the size limit")
    if not body.strip():
        raise _Unsure("empty document")
    # The steps of `sources.parse._run_feedparser`, so expat sees the same bytes.
    content_type = header_map.get("content-type", "")
    encoding_headers = {"content-type": content_type} if content_type else {}
    result = feedparser.util.FeedParserDict(bozo=False, entries=[], feed={}, headers={})
    data = feedparser.encodings.convert_to_utf8(encoding_headers, bytes(body), result)
    if not result.get("encoding"):
        # feedparser's loose parser decodes it somehow; we leave it that.
        raise _Unsure("no encoding decodes the document")
    notes: list[str] = []
    problem = result.get("bozo_exception")
    if problem is not None:
        if not isinstance(problem, _ENCODING_WARNINGS):
            raise _Unsure(f"encoding problem: {problem!r}")
        notes.append(_one_line(str(problem)))
    if b"<!DOCTYPE" in data:
        # Entities, default attributes, a netscape RSS 0.91 version: all
        # feedparser's (`replace_doctype`, the entity budget).
        raise _Unsure("DOCTYPE")
    version_hint, replaced, entities = feedparser.sanitizer.replace_doctype(data)
    if version_hint or entities or replaced != data:
        raise _Unsure("entity declarations before the root element")

    try:
        events = ET.iterparse(io.BytesIO(data), events=("start-ns",))
        declarations = [declaration for _, declaration in events]
    except ET.ParseError as exc:
        # feedparser's loose parser recovers entries from ill-formed XML.
        raise _Unsure(f"ill-formed XML: {exc}") from None
    root = events.root  # type: ignore[attr-defined]
    version = _check_declarations(declarations)
    prefixes = {prefix for prefix, _ in declarations}
    if len(prefixes) > _MAX_PREFIXES:
        # Each element of an unknown namespace is checked under every prefix.
        raise _Unsure(f"{len(prefixes)} namespace prefixes")
    names = _Names(prefixes)
    reader = _read(root, names, version)

    base = _base_url(url, header_map.get("content-location", ""))
    entries, skipped = gather_entries(reader.entries, lambda one: _entry(one, base, now), notes)
    if skipped:
        raise _Unsure(f"{skipped} entries could not be built")
    feed = {} if reader.title is None else {"title": reader.title}
    return ParsedFeed(
        title=_feed_title(feed),
        entries=tuple(entries),
        warning="; ".join(notes) or None,
    )
