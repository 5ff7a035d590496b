"""What a fetched document gets before any parser: the size limit, the empty check, its headers.

Both the parse pool (in the main process) and the parsers (in its workers)
need these; they live apart from both so that neither side imports the
other's modules: the main process never loads feedparser, and the workers
never load asyncio.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sources.records import ParsedFeed

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
"""Documents above this are refused before feedparser sees them."""


def refuse_unread(body: bytes | bytearray) -> ParsedFeed | None:
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


def header_map(headers: Mapping[str, str] | Sequence[tuple[str, str]]) -> dict[str, str]:
    """Response headers as a dict with lower-case names."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return {str(name).lower(): str(value) for name, value in pairs}
