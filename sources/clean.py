"""Feed text and dates, made safe and plain: the one place untrusted text is cleaned.

Everything a feed says passes through here before it is stored or shown, so
terminal escapes die here (STYLE.md, "Terminal escapes die in
`sources/clean.py`"): Textual's `Content` strips only BEL, BS, VT, FF and CR,
and an ESC that got through would reach the terminal from the JSON, table and
CSV outputs too. Markup-looking text such as `[bold red]x[/]` is left as it is:
it is data, and the TUI shows it literally.

The HTML-to-text conversion is a small tokenizer of our own rather than
`html.parser.HTMLParser`: on this Python (3.11.7) HTMLParser takes 27 s on
200 KB of `<a<a<a...` (quadratic rescans of unclosed tags, fixed upstream in
CPython gh-135462) and raises on `<![` sequences. Every pattern below is
possessive or bounded, so each character is looked at a constant number of
times and no input makes it backtrack.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import UTC, datetime, timedelta
from html import unescape

__all__ = [
    "clamp_date",
    "clean_text",
    "fold_whitespace",
    "html_to_text",
    "strip_controls",
    "to_utc",
    "truncate",
]

ELLIPSIS = "\u2026"

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
"""Dates before this are nonsense in a news feed (RSS dates from 1999)."""

FUTURE_SLACK = timedelta(days=1)
"""How far ahead of now a date may be before it is taken for a wrong clock."""

# C0 controls except \t and \n, DEL, and the C1 block (0x80-0x9f, which holds
# CSI 0x9b: a one-byte ESC [ for terminals that honour 8-bit controls). Lone
# surrogates are not controls, but no encoder writes them (orjson and UTF-8
# refuse), and feedparser's loose parser turns `&#55296;` into one.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""C0 (but tab and newline), DEL, C1, and the bidirectional embedding and
isolate controls, which reorder what a terminal shows ("Trojan Source",
CVE-2021-42574) without being visible themselves."""
# Raw strings: the regex module reads the escapes; a literal lone surrogate in
# the source is one thing mypyc cannot compile.
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_CONTROL_OR_SURROGATE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
"""Either of the two above: one pass finds that most text has neither."""

# One token of HTML at a time. Text between tokens is character data. The
# alternatives, in order: comment, CDATA section (its text is kept), other
# declarations and processing instructions, then a start or end tag. An
# unclosed construct runs to the end of the input, as in a browser, which also
# keeps the scan linear: a failed search for its end consumes the rest.
_TOKEN = re.compile(
    r"""
    <!--.*?(?:-->|\Z)
    | <!\[CDATA\[(?P<cdata>.*?)(?:\]\]>|\Z)
    | <[!?][^>]*+(?:>|\Z)
    | <(?P<end>/?)(?P<name>[A-Za-z][^\s/>]*+)
      (?:[^>"'=]++|=\s*+(?:"[^"]*+"|'[^']*+')?|["'])*+
      (?:>|\Z)
    """,
    re.DOTALL | re.VERBOSE,
)

# Elements whose content is not text a reader sees.
_SKIP_CONTENT = frozenset({"script", "style", "template", "noscript", "iframe", "object"})
_SKIP_END = {name: re.compile(rf"</{name}\b[^>]*+(?:>|\Z)", re.I) for name in _SKIP_CONTENT}

# Elements that end a line or a paragraph when rendered: without a break there,
# "<p>Kyiv</p><p>Moscow</p>" would read "KyivMoscow".
_LINE_BREAK = frozenset({"br", "li", "dt", "dd", "tr", "option", "figcaption", "caption"})
_PARAGRAPH = frozenset(
    {
        "address", "article", "aside", "blockquote", "details", "div", "dl", "fieldset",
        "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
        "main", "nav", "ol", "p", "pre", "section", "summary", "table", "ul",
    }
)  # fmt: skip
_CELL = frozenset({"td", "th"})

# Tag names that make a "plain" field count as HTML in `clean_text`: the ones
# feeds actually put in titles. A bare `<Enter>` or `<sic>` is left alone.
_HTML_TAG_NAMES = (
    "a|abbr|b|big|blockquote|br|cite|code|div|em|font|h[1-6]|hr|i|img|li|mark|ol|p|pre|q|s|"
    "small|span|strike|strong|sub|sup|table|td|th|tr|tt|u|ul"
)
_LOOKS_LIKE_HTML = re.compile(rf"</?(?:{_HTML_TAG_NAMES})(?:\s[^<>]*+)?/?>", re.I)


def strip_controls(text: str) -> str:
    """Remove control characters that a terminal would act on.

    C0 controls other than tab and newline, DEL, the C1 block and the bidi
    embedding/isolate controls go; a carriage
    return becomes a newline first, so "a\\rb" does not glue into "ab". Lone
    surrogates become U+FFFD, since no encoder can write them.

    Args:
        text: any string.

    Returns:
        The text with only printable characters, tabs and newlines.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL_OR_SURROGATE.search(text) is None:
        return text
    text = _CONTROLS.sub("", text)
    return _SURROGATES.sub("\ufffd", text)


def fold_whitespace(text: str) -> str:
    """Fold runs of whitespace, keeping at most a paragraph break.

    A run without a newline becomes one space; a run with one newline becomes
    a newline; a run with two or more becomes a blank line. Leading and
    trailing whitespace goes.

    Args:
        text: any string.

    Returns:
        The folded text.
    """
    if "\n" not in text:
        return " ".join(text.split())
    # Line by line: `str.split()` cuts at exactly the characters `\s` matches
    # (a test holds that), in C, where a regex substitution for the blank runs
    # replaced every space between two words with itself, a third of the cost
    # of turning a description into text. Between two lines with words, the
    # newlines in the run are the difference of the lines' numbers.
    folded: list[str] = []
    last = -1
    for number, line in enumerate(text.split("\n")):
        if line and not line.isspace():
            if last >= 0:
                folded.append("\n\n" if number - last > 1 else "\n")
            folded.append(" ".join(line.split()))
            last = number
    return "".join(folded)


def html_to_text(html: str) -> str:
    """Turn an HTML fragment into plain text.

    Tags go, with a line or paragraph break for block elements and a space
    between table cells so words never glue; the content of `<script>`,
    `<style>` and similar is dropped; character references are decoded once;
    control characters are stripped and whitespace folded. Attributes are
    never read, so nothing in them reaches the text.

    Args:
        html: an HTML fragment, possibly broken or hostile.

    Returns:
        Plain text. Never raises; time is linear in the input.
    """
    pieces: list[str] = []
    position = 0
    length = len(html)
    # One `finditer` over the tokens (a fresh one after skipped content):
    # a `search` call per token cost a third of the whole conversion.
    tokens = _TOKEN.finditer(html)
    while (match := next(tokens, None)) is not None:
        start = match.start()
        if start > position:
            pieces.append(_character_data(html[position:start]))
        position = match.end()
        cdata, closing, name = match.groups()
        if cdata is not None:
            pieces.append(_character_data(cdata))
            continue
        if name is None:
            continue
        name = name.lower()
        if name in _SKIP_CONTENT and not closing and not match.group().endswith("/>"):
            end = _SKIP_END[name].search(html, position)
            position = length if end is None else end.end()
            tokens = _TOKEN.finditer(html, position)
        elif name in _PARAGRAPH:
            pieces.append("\n\n")
        elif name in _LINE_BREAK and not closing:
            # Only where an item starts: "</li><li>" is one line break, not two.
            pieces.append("\n")
        elif name in _CELL:
            pieces.append(" ")
    if position < length:
        pieces.append(_character_data(html[position:]))
    return fold_whitespace(strip_controls("".join(pieces)))


def _unescape(text: str) -> str:
    # `html.unescape` is one linear regex pass; skip it where there is no "&".
    return unescape(text) if "&" in text else text


_SOURCE_BREAK = re.compile(r"[ \t]*(?:\r\n|\r|\n)(?:[ \t]*(?:\r\n|\r|\n))*")


def _character_data(text: str) -> str:
    """Newlines typed into the source: a blank line is a paragraph, one newline a space.

    In HTML a newline in text is just whitespace; feeds hard-wrap their
    descriptions, and keeping those newlines would end sentences mid-clause.
    Plain-text descriptions separate paragraphs with a blank line, which stays.
    """
    if "\n" not in text and "\r" not in text:
        return _unescape(text)
    if text == "\n":  # between two tags on their own lines: the common case
        return " "
    return _unescape(_SOURCE_BREAK.sub(_source_break_replacement, text))


def _source_break_replacement(match: re.Match[str]) -> str:
    run = match.group()
    breaks = run.count("\n") + run.count("\r") - run.count("\r\n")
    return "\n\n" if breaks > 1 else " "


def clean_text(text: str, *, limit: int | None = None) -> str:
    """Clean a short plain-ish field such as a title or an author: one line.

    Feeds put escaped and unescaped HTML in titles alike, so entities are
    decoded, and tags are removed only if the text contains a real HTML tag
    (`<b>`, `<br/>`, `<a href=...>`): "a < b" and `[bold red]x[/]` stay as
    written. Controls are stripped after decoding, so `&#27;` cannot smuggle
    an ESC in. All whitespace, newlines too, folds to single spaces.

    Args:
        text: the field as the feed gave it.
        limit: the longest result wanted, in characters; a longer text is cut
            and ends with "…".

    Returns:
        The cleaned single-line text.
    """
    if _LOOKS_LIKE_HTML.search(text):
        text = html_to_text(text)
    else:
        text = _unescape(text)
    text = " ".join(strip_controls(text).split())
    return text if limit is None else truncate(text, limit)


def truncate(text: str, limit: int) -> str:
    """Cut a text to at most `limit` characters, ending it with "…" if cut.

    The cut goes back to a word boundary when one is near (within the last
    fifth), so a title does not end in half a word; text without spaces
    (Chinese, Japanese) is cut where the limit falls.

    Args:
        text: the text.
        limit: the most characters wanted, the ellipsis included.

    Returns:
        The text, or its beginning and "…".
    """
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= (limit - 1) * 4 // 5:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def to_utc(value: time.struct_time | datetime | None) -> datetime | None:
    """Turn a feed date into an aware UTC datetime.

    feedparser's `*_parsed` values are `struct_time` in UTC, so they go through
    `calendar.timegm` (not `time.mktime`, which reads them as local time). A
    naive `datetime` is taken as UTC; an aware one is converted.

    Args:
        value: a UTC `struct_time`, a `datetime`, or None.

    Returns:
        An aware datetime in UTC, or None if the value is missing or cannot be
        a date (out of range, malformed).
    """
    if value is None:
        return None
    try:
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                return value.replace(tzinfo=UTC)
            return value.astimezone(UTC)
        seconds = calendar.timegm(tuple(value)[:6])
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def clamp_date(value: datetime | None, now: datetime) -> datetime | None:
    """Keep a feed date within what can be true.

    A date more than a day after `now` is a wrong clock or a scheduled post:
    it becomes `now`, so it cannot sit on top of every list for months. A date
    before 1990 is nonsense in a news feed (a zeroed field) and becomes None,
    so the poll round uses the fetch time.

    Args:
        value: an aware datetime (a naive one is taken as UTC), or None.
        now: the current time; naive is taken as UTC.

    Returns:
        The date in UTC, `now` in UTC, or None.
    """
    if value is None:
        return None
    value = to_utc(value)
    current = to_utc(now)
    if value is None or current is None:
        return None
    if value < EARLIEST:
        return None
    if value - current > FUTURE_SLACK:
        return current
    return value
