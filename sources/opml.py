"""OPML, the format feed readers use to hand their subscriptions to each other.

Import keeps where a feed sat in the reader's folders (outline nesting and
the `category` attribute of OPML 2.0) as the feed's tags; export writes the
tags back as `category`, so a round trip loses nothing stancewatch keeps.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

from sources.errors import ConfigError
from sources.records import FeedSpec

MAX_OPML_BYTES = 20 * 2**20
"""A reader's export of even thousands of feeds is a few MB; more is not an OPML file."""


@dataclass(frozen=True, slots=True)
class OpmlFeeds:
    """What an OPML file offers: web feeds to add, and entries left out."""

    feeds: tuple[FeedSpec, ...]
    skipped: tuple[str, ...] = ()
    """URLs that are not http(s): an OPML file comes from elsewhere, and a
    `file:///etc/passwd` or `~/.ssh/...` in it must never become a feed that
    every poll reads."""


def read_opml(path: Path) -> OpmlFeeds:
    """The feeds of an OPML file, with folders and categories as tags.

    Raises:
        ConfigError: the file cannot be read, is not XML, or is not OPML.
    """
    try:
        size = path.stat().st_size
        if size > MAX_OPML_BYTES:
            raise ConfigError(str(path), f"too large for an OPML file ({size // 2**20} MiB)")
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror}") from exc
    return parse_opml(data, str(path))


def parse_opml(data: bytes, name: str = "OPML") -> OpmlFeeds:
    """Parse OPML bytes; `name` is used in error messages.

    A `<!DOCTYPE` is refused outright: OPML never needs one, and refusing it
    shuts out entity-expansion and external-entity tricks whatever the XML
    library's defaults are.
    """
    if re.search(rb"<!DOCTYPE|<!ENTITY", data[:4096], re.IGNORECASE):
        raise ConfigError(name, "OPML files must not declare a DOCTYPE or entities")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise ConfigError(
            name, f"not valid XML: {exc.msg if hasattr(exc, 'msg') else exc}", line=line
        ) from exc
    if root.tag.lower() != "opml":
        raise ConfigError(name, f"not an OPML file (the root element is <{root.tag}>, not <opml>)")
    body = root.find("body")
    if body is None:
        raise ConfigError(name, "OPML file has no <body>")
    return _collect(body)


def _collect(body: ET.Element) -> OpmlFeeds:
    """Walk the outlines in document order; folders (outlines without a feed) become tags.

    An explicit stack rather than recursion: a file nested thousands deep
    must not end in a RecursionError.
    """
    feeds: list[FeedSpec] = []
    skipped: list[str] = []
    seen: set[str] = set()
    empty: tuple[str, ...] = ()
    pending = [(outline, empty) for outline in reversed(body.findall("outline"))]
    while pending:
        outline, folders = pending.pop()
        label = (outline.get("title") or outline.get("text") or "").strip()
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if url:
            if url in seen:
                continue
            seen.add(url)
            if urlsplit(url).scheme.lower() not in ("http", "https"):
                skipped.append(url)
                continue
            tags = _tags((*folders, *_categories(outline.get("category", ""))))
            feeds.append(FeedSpec(url=url, name=label, tags=tags))
            continue
        inner = (*folders, label) if label else folders
        pending.extend((child, inner) for child in reversed(outline.findall("outline")))
    return OpmlFeeds(tuple(feeds), tuple(skipped))


def _categories(value: str) -> list[str]:
    # OPML 2.0: "a string of comma-separated slash-delimited category strings";
    # each slash path is one tag, minus its leading slash.
    return [part.strip().strip("/") for part in value.split(",") if part.strip().strip("/")]


def _tags(raw: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.strip() for t in raw if t.strip()))


def write_opml(
    feeds: Sequence[FeedSpec], *, title: str = "stancewatch feeds", now: datetime | None = None
) -> str:
    """OPML 2.0 text for these feeds, tags as `category`."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(now or datetime.now(UTC), usegmt=True)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        attributes = {"type": "rss", "text": feed.name or feed.url, "xmlUrl": feed.url}
        if feed.name:
            attributes["title"] = feed.name
        if feed.tags:
            attributes["category"] = ",".join(feed.tags)
        ET.SubElement(body, "outline", attributes)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
