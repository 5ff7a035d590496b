"""The catalog: what is stored, without item bodies; and what a round changes in it.

A poll round needs to know, per feed, which items are stored and with what
content hash; to retire old items it needs their fetch times and whether a
statement refers to them; to find an item's text it needs the segment and
the place in it. `Catalog` holds exactly that (about 80 bytes of JSON per
item, against 1.5-2 kB for the item itself), and never the item bodies or
the statements' text.

On disk (`store/parts.py`) the catalog is an index base plus the deltas of
the rounds since. The base holds one document per feed, in columns
(`{"i": [ids], "h": [hashes], "t": [fetched], "s": [segments], "o":
[offsets], "n": [lengths]}`): lists parse several times faster than one
small object per item (measured: 100,000 items in 40 ms as columns, 160 ms
as objects, plus 160 ms more to walk the objects into the maps the store
needs), and `known_items_of_feed` is a `zip` of two of them. What the
deltas and later rounds change is kept beside the base, per item, as an
overlay (`Entry` objects, `None` for a retired item), until the next
compaction writes a new base.

`plan_round` turns a round's records into a `RoundChange`: the entries to
set and drop, the statement changes, and the new segments. It reads the
catalog and changes nothing, so a round that fails to write leaves memory
as it was; `Catalog.apply` adopts the change once the head naming it is on
disk.

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

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any

import orjson

from .parts import encode_segment, item_member
from .storage import DamagedFileError, Members, Tables

Entry = dict[str, Any]
"""An item's catalog entry: {h: content hash, f: feed url, t: fetched (UTC epoch
seconds, None if it has none), s: segment number, o: offset, n: length of its
member in the segment}."""

Columns = dict[str, list[Any]]
"""One feed's entries in an index base: {"i": ids, "h", "t", "s", "o", "n": as in `Entry`}."""

Doc = dict[str, Any]

SEGMENT_ITEMS = 4000
"""Items per segment file at most: about 6 MiB, a few ms to copy or scan."""

SMALL_SEGMENT = 1000
"""A segment with fewer live items than this is merged with others."""

MERGE_AT = 8
"""How many small or mostly-dead segments are let pile up before merging them."""

REFS_PER_DOC = 5000
"""Statement references per document of an index base (one line, ~250 kB)."""

INDEX_TABLES = frozenset({"feeds", "refs", "items", "items_gone", "statements_gone"})
"""The tables of an index base or a delta the catalog reads (it skips statement text)."""

STATEMENT_TABLES = frozenset({"statements", "statements_gone"})
"""The tables of a delta the statement documents are rebuilt from."""

_INTS = {int}
_STRS = {str}
_TIMES = {int, type(None)}


def fetched_epoch(value: Any) -> int | None:
    """A stored `fetched` (ISO-8601) as UTC epoch seconds; None if it is not a date."""
    if type(value) is not str:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return int(moment.timestamp())


def entry_of(doc: Mapping[str, Any], segment: int, where: tuple[int, int]) -> Entry:
    """The catalog entry of an item document stored at `where` in `segment`."""
    return {
        "h": str(doc.get("content_hash", "")),
        "f": str(doc.get("feed_url", "")),
        "t": fetched_epoch(doc.get("fetched")),
        "s": segment,
        "o": where[0],
        "n": where[1],
    }


def _table(tables: Tables | None, name: str) -> dict[str, Any]:
    return (tables or {}).get(name) or {}


def _check_entry(item_id: str, entry: Any) -> Entry:
    try:
        ok = (
            type(entry["h"]) is str
            and type(entry["f"]) is str
            and type(entry["t"]) in _TIMES
            and type(entry["s"]) is int
            and type(entry["o"]) is int
            and type(entry["n"]) is int
        )
    except (KeyError, TypeError):
        ok = False
    if not ok:
        raise DamagedFileError(f"index entry of item {item_id} is malformed")
    result: Entry = entry
    return result


def _check_columns(feed: str, columns: Any) -> Columns:
    try:
        ids = columns["i"]
        ok = (
            type(ids) is list
            and all(type(columns[k]) is list and len(columns[k]) == len(ids) for k in "htson")
            # set(map(type, ...)) runs in C: ~2 ms per column of 100,000.
            and set(map(type, ids)) <= _STRS
            and set(map(type, columns["h"])) <= _STRS
            and set(map(type, columns["t"])) <= _TIMES
            and all(set(map(type, columns[k])) <= _INTS for k in "son")
        )
    except (KeyError, TypeError):
        ok = False
    if not ok:
        raise DamagedFileError(f"index columns of feed {feed} are malformed")
    result: Columns = columns
    return result


def apply_statement_delta(docs: dict[str, Doc], tables: Tables) -> None:
    """Apply one delta's statement tables to the statement documents."""
    for sid in _table(tables, "statements_gone"):
        docs.pop(sid, None)
    docs.update(_table(tables, "statements"))


class Catalog:
    """Every stored item's entry, and which item each statement comes from.

    Mutated only by `apply`, under the store's lock.

    Args:
        base: feed url -> its columns, from the index base (never changed).
        overlay: item id -> entry (None: retired) for what changed since.
        refs: statement id -> item id.

    Raises:
        DamagedFileError: a column or entry is of the wrong shape.
    """

    def __init__(
        self, base: dict[str, Columns], overlay: dict[str, Entry | None], refs: dict[str, str]
    ) -> None:
        self.base = {feed: _check_columns(feed, columns) for feed, columns in base.items()}
        self.overlay = overlay
        self.refs = refs
        self._where: dict[str, str] = {}
        """Base item id -> its feed."""
        for feed, columns in self.base.items():
            self._where.update(dict.fromkeys(columns["i"], feed))
        self._shadow: dict[str, set[str]] = {}
        """Base feed -> its items that the overlay replaces or retires."""
        self._added: dict[str, set[str]] = {}
        """Feed -> items the overlay holds for it."""
        self._positions: dict[str, dict[str, int]] = {}
        """Base feed -> item id -> row, built per feed when first needed."""
        self._by_item: dict[str, set[str]] | None = None
        for item_id, entry in overlay.items():
            if entry is not None:
                _check_entry(item_id, entry)
            self._note(item_id, None, entry)
        self._live: dict[int, int] | None = None

    @classmethod
    def from_tables(cls, base: Tables | None, deltas: Iterable[Tables]) -> Catalog:
        """Build the catalog from an index base's tables and the deltas after it.

        Raises:
            DamagedFileError: the tables are not a catalog.
        """
        overlay: dict[str, Entry | None] = {}
        refs: dict[str, str] = {}
        for doc in _table(base, "refs").values():
            try:
                sids, items = doc["s"], doc["i"]
                ok = type(sids) is list and type(items) is list and len(sids) == len(items)
            except (KeyError, TypeError):
                ok = False
            if not ok or not set(map(type, items)) <= _STRS:
                raise DamagedFileError("statement references are malformed")
            refs.update(zip(sids, items, strict=True))
        for tables in deltas:
            for item_id in _table(tables, "items_gone"):
                overlay[item_id] = None
            overlay.update(_table(tables, "items"))
            for sid in _table(tables, "statements_gone"):
                refs.pop(sid, None)
            for sid, doc in _table(tables, "refs").items():
                target = doc.get("i") if type(doc) is dict else None
                if type(target) is not str:
                    raise DamagedFileError(f"statement reference {sid} is not an item id")
                refs[sid] = target
        return cls(_table(base, "feeds"), overlay, refs)

    # --- reading ----------------------------------------------------------------------

    def _row(self, feed: str, item_id: str) -> int:
        rows = self._positions.get(feed)
        if rows is None:
            ids = self.base[feed]["i"]
            rows = self._positions[feed] = dict(zip(ids, range(len(ids)), strict=True))
        return rows[item_id]

    def entry(self, item_id: str) -> Entry | None:
        """An item's entry, or None if it is not stored."""
        if item_id in self.overlay:
            return self.overlay[item_id]
        feed = self._where.get(item_id)
        if feed is None:
            return None
        columns, row = self.base[feed], self._row(feed, item_id)
        return {
            "h": columns["h"][row],
            "f": feed,
            "t": columns["t"][row],
            "s": columns["s"][row],
            "o": columns["o"][row],
            "n": columns["n"][row],
        }

    def has(self, item_id: str) -> bool:
        """Whether the item is stored."""
        if item_id in self.overlay:
            return self.overlay[item_id] is not None
        return item_id in self._where

    def hashes(self, ids: Iterable[str]) -> dict[str, str]:
        """id -> content hash of the stored items among `ids`."""
        found = {}
        for item_id in ids:
            entry = self.entry(item_id)
            if entry is not None:
                found[item_id] = entry["h"]
        return found

    def hashes_of_feed(self, feed: str) -> dict[str, str]:
        """id -> content hash of every stored item of one feed."""
        columns = self.base.get(feed)
        found: dict[str, str] = {}
        if columns is not None:
            shadow = self._shadow.get(feed)
            if shadow:
                found = {
                    i: h for i, h in zip(columns["i"], columns["h"], strict=True) if i not in shadow
                }
            else:
                found = dict(zip(columns["i"], columns["h"], strict=True))
        for item_id in self._added.get(feed, ()):
            entry = self.overlay[item_id]
            assert entry is not None
            found[item_id] = entry["h"]
        return found

    def entries(self) -> Iterator[tuple[str, Entry]]:
        """Every stored item's entry (builds an object per item: for rare walks)."""
        for feed, columns in self.base.items():
            shadow = self._shadow.get(feed, set())
            for i, h, t, s, o, n in zip(*(columns[k] for k in "ihtson"), strict=True):
                if i not in shadow:
                    yield i, {"h": h, "f": feed, "t": t, "s": s, "o": o, "n": n}
        for item_id, entry in self.overlay.items():
            if entry is not None:
                yield item_id, entry

    def fetched(self) -> Iterator[tuple[str, int | None]]:
        """(id, fetched) of every stored item, without building entries."""
        for feed, columns in self.base.items():
            shadow = self._shadow.get(feed)
            pairs = zip(columns["i"], columns["t"], strict=True)
            if shadow:
                yield from ((i, t) for i, t in pairs if i not in shadow)
            else:
                yield from pairs
        for item_id, entry in self.overlay.items():
            if entry is not None:
                yield item_id, entry["t"]

    def live(self) -> dict[int, int]:
        """segment number -> items stored in it (counted once, then kept current)."""
        if self._live is None:
            live = Counter(chain.from_iterable(c["s"] for c in self.base.values()))
            for item_id in self.overlay:
                feed = self._where.get(item_id)
                if feed is not None:
                    live[self.base[feed]["s"][self._row(feed, item_id)]] -= 1
            for entry in self.overlay.values():
                if entry is not None:
                    live[entry["s"]] += 1
            self._live = {s: n for s, n in live.items() if n > 0}
        return self._live

    def by_item(self) -> dict[str, set[str]]:
        """item id -> ids of the statements drawn from it (built on first use)."""
        if self._by_item is None:
            by_item: dict[str, set[str]] = {}
            for sid, item_id in self.refs.items():
                by_item.setdefault(item_id, set()).add(sid)
            self._by_item = by_item
        return self._by_item

    # --- changing -----------------------------------------------------------------------

    def _note(self, item_id: str, old: Entry | None, new: Entry | None) -> None:
        """Keep `_shadow` and `_added` in step with an overlay change of `item_id`."""
        if old is not None:
            siblings = self._added.get(old["f"])
            if siblings is not None:
                siblings.discard(item_id)
        if new is not None:
            self._added.setdefault(new["f"], set()).add(item_id)
        feed = self._where.get(item_id)
        if feed is not None:
            self._shadow.setdefault(feed, set()).add(item_id)

    def apply(self, change: RoundChange) -> None:
        """Adopt a committed round's change."""
        live = self.live()

        def count(entry: Entry | None, step: int) -> None:
            if entry is not None:
                left = live.get(entry["s"], 0) + step
                if left > 0:
                    live[entry["s"]] = left
                else:
                    live.pop(entry["s"], None)

        for item_id in change.entries_gone:
            count(self.entry(item_id), -1)
            previous = self.overlay.get(item_id)
            self.overlay[item_id] = None
            self._note(item_id, previous, None)
        for item_id, entry in change.entries_set.items():
            old = self.entry(item_id)
            count(old, -1)
            count(entry, +1)
            previous = self.overlay.get(item_id)
            self.overlay[item_id] = entry
            self._note(item_id, previous, entry)
        for sid in change.statements_gone:
            self.refs.pop(sid, None)
        self.refs.update(change.refs_set)
        if change.statements_gone or change.refs_set:
            self._by_item = None

    # --- writing a new base ----------------------------------------------------------------

    def columns_after(self, change: RoundChange) -> dict[str, Columns]:
        """Every feed's columns once `change` is applied: the next index base."""
        touched = set(self.overlay) | set(change.entries_gone) | change.entries_set.keys()
        feeds: dict[str, Columns] = {}
        for feed, columns in self.base.items():
            if touched.isdisjoint(columns["i"]):
                feeds[feed] = {k: list(columns[k]) for k in "ihtson"}
                continue
            rows = [r for r, i in enumerate(columns["i"]) if i not in touched]
            feeds[feed] = {k: [columns[k][r] for r in rows] for k in "ihtson"}
        gone = set(change.entries_gone)
        overlay = {i: e for i, e in self.overlay.items() if i not in gone}
        overlay.update(change.entries_set)
        for item_id, entry in overlay.items():
            if entry is None:
                continue
            columns = feeds.setdefault(entry["f"], {k: [] for k in "ihtson"})
            columns["i"].append(item_id)
            for k in "htson":
                columns[k].append(entry[k])
        return {feed: columns for feed, columns in feeds.items() if columns["i"]}


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
    base_after: dict[str, Columns] | None = None
    """Set by `index_tables`: the new index base, which the catalog is rebuilt on."""
    refs_after: dict[str, str] | None = None

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

    def index_tables(self, catalog: Catalog) -> list[tuple[str, Members, int]]:
        """The catalog after the change, as an index base's tables (a feed per line)."""
        refs = dict(catalog.refs)
        for sid in self.statements_gone:
            refs.pop(sid, None)
        refs.update(self.refs_set)
        self.base_after, self.refs_after = catalog.columns_after(self), refs
        sids = list(refs)
        chunks = (
            (str(k), {"s": part, "i": [refs[s] for s in part]})
            for k, part in enumerate(
                sids[start : start + REFS_PER_DOC] for start in range(0, len(sids), REFS_PER_DOC)
            )
        )
        return [("feeds", self.base_after.items(), 1), ("refs", chunks, 1)]

    def statement_tables(self, docs: Mapping[str, Doc]) -> list[tuple[str, Members]]:
        """The statements after the change, as a statements base's tables."""
        return [("statements", _overlay(docs, self.statements_gone, self.statements_set))]


def _overlay(
    current: Mapping[str, Any], gone: set[str], updates: Mapping[str, Any]
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

    retired: set[str] = set()
    if cutoff is not None:
        referenced = {
            item_id for sid, item_id in catalog.refs.items() if sid not in change.statements_gone
        }
        referenced.update(change.refs_set.values())
        limit = int(cutoff.timestamp())
        retired = {
            item_id
            for item_id, fetched in catalog.fetched()
            if fetched is not None
            and fetched < limit
            and item_id not in referenced
            and item_id not in item_docs
        }
    change.entries_gone = sorted(retired)

    live = dict(catalog.live())
    existing = {item_id: catalog.entry(item_id) for item_id in item_docs}
    for entry in chain((catalog.entry(i) for i in retired), existing.values()):
        if entry is not None:
            live[entry["s"]] -= 1

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
        for item_id, entry in catalog.entries():
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

    # `live` now counts what stays; every item of the round is stored again.
    change.items_after = sum(n for n in live.values() if n > 0) + len(item_docs)
    change.statements_after = (
        len(catalog.refs)
        - len(change.statements_gone)
        + sum(1 for sid in statement_docs if sid not in catalog.refs)
    )
    return change, next_part
