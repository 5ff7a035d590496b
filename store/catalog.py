"""The catalog: what is stored, without item bodies; and what a round changes in it.

A poll round needs to know, per feed, which items are stored and with what
content hash; to retire old items it needs their fetch times and whether a
statement refers to them; to find an item's text it needs the segment and
the place in it. `Catalog` holds exactly that (about 120 bytes of JSON per
item, against 1.5-2 kB for the item itself), loaded from the index base
and the deltas after it (`store/parts.py`), and never the item bodies or
the statements' text.

`plan_round` turns a round's records into a `RoundChange`: the catalog
entries to set and drop, the statement changes, and the new segments. It
reads the catalog and changes nothing, so a round that fails to write
leaves memory as it was; `Catalog.apply` adopts the change once the head
naming it is on disk.

Segments: each round that adds items writes them to new segments of at
most `SEGMENT_ITEMS` (a 100,000-item first round is 25 files, so reading
one item's neighbourhood never means parsing 165 MB). Items edited or
retired leave garbage behind. Once `MERGE_AT` segments are small (fewer
than `SMALL_SEGMENT` live items, as a round of a few dozen new items
leaves) or mostly garbage (under half live), their live items are copied,
as raw bytes without parsing, into the round's new segments and the old
files dropped; a segment with no live item left is dropped at once. That
keeps the number of files near items / `SEGMENT_ITEMS` + `MERGE_AT`, and
copies each item a handful of times over its life.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from .codec import encode_datetime
from .parts import encode_segment, item_member
from .storage import DamagedFileError, Members, Tables

Entry = dict[str, Any]
"""An item's catalog entry: {h: content hash, f: feed url, t: fetched (ISO-8601),
s: segment number, o: offset, n: length of its member in the segment}."""

Doc = dict[str, Any]

SEGMENT_ITEMS = 4000
"""Items per segment file at most: about 6 MiB, a few ms to copy or scan."""

SMALL_SEGMENT = 1000
"""A segment with fewer live items than this is merged with others."""

MERGE_AT = 8
"""How many small or mostly-dead segments are let pile up before merging them."""

INDEX_TABLES = frozenset({"items", "items_gone", "refs", "statements_gone"})
"""The tables of a delta the catalog reads (the statement text it skips)."""

STATEMENT_TABLES = frozenset({"statements", "statements_gone"})
"""The tables of a delta the statement documents are rebuilt from."""


def is_older(fetched: Any, cutoff: str, cutoff_dt: datetime) -> bool:
    """Whether a stored fetch time is before the cutoff (unknown: no, keep it)."""
    if type(fetched) is not str:
        return False  # keep what cannot be dated rather than guess
    # `codec` writes fixed-width UTC, which compares correctly as text; the
    # parse is only for a value written some other way.
    if len(fetched) == len(cutoff) and fetched.endswith("+00:00"):
        return fetched < cutoff
    try:
        return datetime.fromisoformat(fetched) < cutoff_dt
    except (ValueError, TypeError):
        return False


def entry_of(doc: Mapping[str, Any], segment: int, where: tuple[int, int]) -> Entry:
    """The catalog entry of an item document stored at `where` in `segment`."""
    return {
        "h": str(doc.get("content_hash", "")),
        "f": str(doc.get("feed_url", "")),
        "t": doc.get("fetched"),
        "s": segment,
        "o": where[0],
        "n": where[1],
    }


def _table(tables: Tables, name: str) -> dict[str, Any]:
    return tables.get(name) or {}


def apply_index_delta(entries: dict[str, Entry], refs: dict[str, str], tables: Tables) -> None:
    """Apply one delta's catalog tables, in the order every writer relies on.

    Raises:
        DamagedFileError: a statement reference is not an item id.
    """
    for item_id in _table(tables, "items_gone"):
        entries.pop(item_id, None)
    entries.update(_table(tables, "items"))
    for sid in _table(tables, "statements_gone"):
        refs.pop(sid, None)
    _add_refs(refs, _table(tables, "refs"))


def apply_statement_delta(docs: dict[str, Doc], tables: Tables) -> None:
    """Apply one delta's statement tables to the statement documents."""
    for sid in _table(tables, "statements_gone"):
        docs.pop(sid, None)
    docs.update(_table(tables, "statements"))


def _add_refs(refs: dict[str, str], docs: Mapping[str, Any]) -> None:
    for sid, doc in docs.items():
        item_id = doc.get("i") if type(doc) is dict else None
        if type(item_id) is not str:
            raise DamagedFileError(f"statement reference {sid} is not an item id")
        refs[sid] = item_id


class Catalog:
    """Every stored item's entry, and which item each statement comes from.

    Mutated only by `apply`, under the store's lock.

    Args:
        entries: item id -> entry.
        refs: statement id -> item id.

    Raises:
        DamagedFileError: an entry lacks a field or has one of the wrong type.
    """

    def __init__(self, entries: dict[str, Entry], refs: dict[str, str]) -> None:
        self.entries = entries
        self.refs = refs
        self.by_feed: dict[str, dict[str, str]] = {}
        """feed url -> item id -> content hash: what `known_items_of_feed` answers."""
        self.live: dict[int, int] = {}
        """segment number -> entries pointing into it."""
        self._by_item: dict[str, set[str]] | None = None
        by_feed, live = self.by_feed, self.live
        # One pass checks every entry and builds both maps (100,000 entries:
        # ~40 ms, done once per process, when the first round needs it).
        for item_id, entry in entries.items():
            try:
                content_hash, feed, segment = entry["h"], entry["f"], entry["s"]
                ok = (
                    type(content_hash) is str
                    and type(feed) is str
                    and type(segment) is int
                    and type(entry["o"]) is int
                    and type(entry["n"]) is int
                )
            except (KeyError, TypeError):
                ok = False
            if not ok:
                raise DamagedFileError(f"index entry of item {item_id} is malformed")
            found = by_feed.get(feed)
            if found is None:
                by_feed[feed] = {item_id: content_hash}
            else:
                found[item_id] = content_hash
            live[segment] = live.get(segment, 0) + 1

    @classmethod
    def from_tables(cls, base: Tables | None, deltas: Iterable[Tables]) -> Catalog:
        """Build the catalog from an index base's tables and the deltas after it.

        Raises:
            DamagedFileError: the tables are not a catalog.
        """
        entries: dict[str, Entry] = dict(_table(base, "items")) if base else {}
        refs: dict[str, str] = {}
        if base:
            _add_refs(refs, _table(base, "refs"))
        for tables in deltas:
            apply_index_delta(entries, refs, tables)
        return cls(entries, refs)

    def by_item(self) -> dict[str, set[str]]:
        """item id -> ids of the statements drawn from it (built on first use)."""
        if self._by_item is None:
            by_item: dict[str, set[str]] = {}
            for sid, item_id in self.refs.items():
                by_item.setdefault(item_id, set()).add(sid)
            self._by_item = by_item
        return self._by_item

    def apply(self, change: RoundChange) -> None:
        """Adopt a committed round's change."""
        entries, by_feed, live = self.entries, self.by_feed, self.live

        def forget(item_id: str, entry: Entry) -> None:
            siblings = by_feed.get(entry["f"])
            if siblings is not None:
                siblings.pop(item_id, None)
                if not siblings:
                    del by_feed[entry["f"]]
            left = live.get(entry["s"], 0) - 1
            if left > 0:
                live[entry["s"]] = left
            else:
                live.pop(entry["s"], None)

        for item_id in change.entries_gone:
            old = entries.pop(item_id, None)
            if old is not None:
                forget(item_id, old)
        for item_id, entry in change.entries_set.items():
            old = entries.get(item_id)
            if old is not None:
                forget(item_id, old)
            entries[item_id] = entry
            by_feed.setdefault(entry["f"], {})[item_id] = entry["h"]
            live[entry["s"]] = live.get(entry["s"], 0) + 1
        for sid in change.statements_gone:
            self.refs.pop(sid, None)
        self.refs.update(change.refs_set)
        if change.statements_gone or change.refs_set:
            self._by_item = None


@dataclass
class RoundChange:
    """What one round changes in the catalog, the statements and the segments."""

    entries_set: dict[str, Entry] = field(default_factory=dict)
    """New, edited and moved items' entries."""
    entries_gone: list[str] = field(default_factory=list)
    """Retired items."""
    refs_set: dict[str, str] = field(default_factory=dict)
    statements_set: dict[str, Doc] = field(default_factory=dict)
    """Statements to store (new, or replacing one with the same id)."""
    statements_gone: set[str] = field(default_factory=set)
    """Statements of replaced items that the round does not store again."""
    segments_new: list[tuple[int, list[bytes], int]] = field(default_factory=list)
    """(number, file pieces, items) of each new segment."""
    segments_dropped: list[int] = field(default_factory=list)
    """Segments no entry points into any more."""
    items_after: int = 0
    statements_after: int = 0

    @property
    def empty(self) -> bool:
        """Whether the round changes nothing in the catalog or the statements."""
        return not (
            self.entries_set
            or self.entries_gone
            or self.statements_set
            or self.statements_gone
            or self.segments_dropped
        )

    def delta_tables(self) -> list[tuple[str, Members]]:
        """The change as a delta file's tables (`store/parts.py`)."""
        return [
            ("items", self.entries_set.items()),
            ("items_gone", ((item_id, {}) for item_id in self.entries_gone)),
            ("refs", ((sid, {"i": item_id}) for sid, item_id in self.refs_set.items())),
            ("statements", self.statements_set.items()),
            ("statements_gone", ((sid, {}) for sid in sorted(self.statements_gone))),
        ]

    def index_tables(self, catalog: Catalog) -> list[tuple[str, Members]]:
        """The catalog after the change, as an index base's tables."""
        gone = set(self.entries_gone)
        refs_gone = self.statements_gone
        return [
            ("items", _overlay(catalog.entries, gone, self.entries_set)),
            (
                "refs",
                (
                    (sid, {"i": item_id})
                    for sid, item_id in _overlay(catalog.refs, refs_gone, self.refs_set)
                ),
            ),
        ]

    def statement_tables(self, docs: Mapping[str, Doc]) -> list[tuple[str, Members]]:
        """The statements after the change, as a statements base's tables."""
        return [("statements", _overlay(docs, self.statements_gone, self.statements_set))]


def _overlay(
    current: Mapping[str, Any], gone: set[str] | frozenset[str], updates: Mapping[str, Any]
) -> Iterator[tuple[str, Any]]:
    """`current` minus `gone`, with `updates` set: without copying `current`."""
    for key, value in current.items():
        if key not in gone and key not in updates:
            yield key, value
    yield from updates.items()


def plan_round(
    catalog: Catalog,
    segment_totals: Mapping[int, int],
    next_part: int,
    item_docs: Mapping[str, Doc],
    statement_docs: Mapping[str, Doc],
    replaced_items: Sequence[str],
    cutoff: datetime | None,
    read_segment: Callable[[int], bytes],
) -> tuple[RoundChange, int]:
    """Work out what a round changes, without changing anything.

    Args:
        catalog: the catalog as committed.
        segment_totals: segment number -> members written to it.
        next_part: the first free part number.
        item_docs: the round's items (new or edited), as documents.
        statement_docs: the round's statements, as documents.
        replaced_items: items whose earlier statements are to go.
        cutoff: retire unreferenced items fetched before this (None: don't).
        read_segment: the bytes of a segment, for merging it.

    Returns:
        The change and the next free part number after its segments.

    Raises:
        orjson.JSONEncodeError: an item is not JSON.
        DamagedFileError: a segment to merge does not hold what the catalog says.
    """
    change = RoundChange()
    by_item = catalog.by_item()
    stale: set[str] = set()
    for item_id in replaced_items:
        stale |= by_item.get(item_id, set())
    change.statements_gone = stale - statement_docs.keys()
    change.statements_set = dict(statement_docs)
    change.refs_set = {sid: str(doc.get("item_id", "")) for sid, doc in statement_docs.items()}

    entries = catalog.entries
    retired: set[str] = set()
    if cutoff is not None:
        referenced = {
            item_id for sid, item_id in catalog.refs.items() if sid not in change.statements_gone
        }
        referenced.update(change.refs_set.values())
        cutoff_text = encode_datetime(cutoff)
        retired = {
            item_id
            for item_id, entry in entries.items()
            if item_id not in referenced
            and item_id not in item_docs
            and is_older(entry["t"], cutoff_text, cutoff)
        }
    change.entries_gone = sorted(retired)

    live = dict(catalog.live)
    for item_id in (*retired, *(i for i in item_docs if i in entries)):
        live[entries[item_id]["s"]] -= 1

    members = [(item_id, item_member(item_id, doc)) for item_id, doc in item_docs.items()]
    moved: dict[str, Entry] = {}
    dropped = [s for s in segment_totals if live.get(s, 0) <= 0]
    candidates = {
        s
        for s, total in segment_totals.items()
        if 0 < live.get(s, 0) and (live[s] < SMALL_SEGMENT or 2 * live[s] < total)
    }
    if len(candidates) + (0 < len(members) % SEGMENT_ITEMS < SMALL_SEGMENT) >= MERGE_AT:
        keep: dict[int, list[tuple[str, Entry]]] = {}
        for item_id, entry in entries.items():
            if entry["s"] in candidates and item_id not in retired and item_id not in item_docs:
                keep.setdefault(entry["s"], []).append((item_id, entry))
        for segment in sorted(keep):
            data = read_segment(segment)
            for item_id, entry in keep[segment]:
                member = data[entry["o"] : entry["o"] + entry["n"]]
                # The member must start with the item's id: anything else
                # means the catalog points at the wrong bytes.
                if not member.startswith(orjson.dumps(item_id) + b":"):
                    raise DamagedFileError(
                        f"segment {segment}: item {item_id} is not where the index says"
                    )
                members.append((item_id, member))
                moved[item_id] = entry
        dropped.extend(sorted(candidates))

    for start in range(0, len(members), SEGMENT_ITEMS):
        chunk = members[start : start + SEGMENT_ITEMS]
        number, next_part = next_part, next_part + 1
        pieces, where = encode_segment(chunk)
        for item_id, _ in chunk:
            old = moved.get(item_id)
            if old is None:
                change.entries_set[item_id] = entry_of(item_docs[item_id], number, where[item_id])
            else:
                place = where[item_id]
                change.entries_set[item_id] = {**old, "s": number, "o": place[0], "n": place[1]}
        change.segments_new.append((number, pieces, len(chunk)))
    change.segments_dropped = dropped

    change.items_after = len(entries) - len(retired) + sum(1 for i in item_docs if i not in entries)
    change.statements_after = (
        len(catalog.refs)
        - len(change.statements_gone)
        + sum(1 for sid in statement_docs if sid not in catalog.refs)
    )
    return change, next_part
