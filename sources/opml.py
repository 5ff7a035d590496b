"""OPML, the format feed readers use to hand their subscriptions to each other.

Import keeps where a feed sat in the reader's folders (outline nesting and
the `category` attribute of OPML 2.0) as the feed's tags; export writes the
tags back as `category`, so a round trip loses nothing stancewatch keeps.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from sources.errors import ConfigError
from sources.records import FeedSpec

MAX_OPML_BYTES = 20 * 2**20
"""A reader's export of even thousands of feeds is a few MB; more is not an OPML file."""


def read_opml(path: Path) -> list[FeedSpec]:
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


def parse_opml(data: bytes, name: str = "OPML") -> list[FeedSpec]:
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
    feeds: list[FeedSpec] = []
    seen: set[str] = set()
    _collect(body, (), feeds, seen)
    return feeds


def _collect(
    node: ET.Element, folders: tuple[str, ...], feeds: list[FeedSpec], seen: set[str]
) -> None:
    for outline in node.findall("outline"):
        label = (outline.get("title") or outline.get("text") or "").strip()
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if url:
            if url not in seen:
                seen.add(url)
                tags = _tags((*folders, *_categories(outline.get("category", ""))))
                feeds.append(FeedSpec(url=url, name=label, tags=tags))
            continue
        _collect(outline, (*folders, label) if label else folders, feeds, seen)


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
