"""`Store`: the TinyDB database of feeds, items and statements.

**Layout (schema 2).** A database at path `D` is the head file `D` and a
folder `D.d` of part files (`store/parts.py`). Every file is TinyDB JSON
(table -> document id -> document), written framed (`store/storage.py`).

- `D`, the head: tables `meta` (one document: the schema, the part files
  that make up the database with their sizes, the next part number, the
  counts, the last retirement) and `feeds` (url -> `FeedState`). Small
  (a few hundred feeds), rewritten by every round that stores anything,
  read whole on open. Its atomic replacement is each round's commit point.
- `D.d/seg-N.json`: item documents, one per line, append-only.
- `D.d/index-N.json` + the deltas after it: the catalog (`store/catalog.py`):
  per item its content hash, feed, fetch time and place in a segment, and
  per statement its item.
- `D.d/statements-N.json` + the same deltas: the statement documents.

So a warm round (feed states only) rewrites only the head; a round with
new items writes its segment(s), one delta, then the head, and never
rewrites an old segment; opening reads only the head. The catalog is read
on the first call that needs it (`known_items*`, a round with items), the
statements on the first query that needs them, and an item's bytes when
it is asked for.

**Write order** in a round: segments, then the delta (or new catalog
bases), each fsynced, then the folder fsynced, then the head (temp file,
fsync, rename, fsync). Until the rename nothing names the new parts, so a
kill leaves the previous round whole plus unnamed files, which the next
writer deletes when it opens (`PartsDir.sweep`); after it, the round is
whole. A feed state with a new ETag is therefore never on disk without
its items (else the next round would get a 304 and never see them). Parts
a round makes obsolete are deleted only after its head is in place.

**Readers** (`readonly=True`, no lock) read the head and at once open
every part it names, keeping the descriptors: a writer may delete those
files after its next round, and an open descriptor still reads them, so
a reader sees exactly the round its head describes until `reload()`. A
part missing when the reader opens it means a writer moved on between
the two steps: the reader reads the new head.

**Damage.** A head that is not a database, or a part that is missing or
of another size than the head says, is found on open: a writer moves the
head to `D.damaged-<time>` and the folder to `D.d.damaged-<time>`, and
raises `StoreDamagedError` naming them (or, with `recover=True`, starts an
empty database). Damage inside a part is found when it is first read:
then the store raises `StoreDamagedError`, refuses every further call,
and a writer moves the database aside at once (or, if another thread is
mid-round, when it is closed). A reader never moves anything.

**Migration from schema 1** (one JSON file holding meta, feeds, items and
statements): the first writer to open such a file checks it as before,
writes its items into segments and its statements and catalog into new
bases, and then replaces the file with a schema-2 head naming them. Until
that rename the old file is untouched, so a migration cut short by a kill
or a full disk is simply done again by the next writer. Readers of a
schema-1 file read it whole, as before, and write nothing.

The records' stable ids are the TinyDB document ids (a `Table` whose
`document_id_class` is `str`), in every file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn, TypeVar

import orjson
from tinydb import TinyDB
from tinydb.table import Document, Table

from sources.errors import StoreDamagedError, StoreError
from sources.records import FeedState, Item, Statement

from .catalog import (
    INDEX_TABLES,
    STATEMENT_TABLES,
    Catalog,
    Doc,
    Entry,
    RoundChange,
    apply_statement_delta,
    entry_of,
    plan_round,
)
from .codec import CodecError, from_doc, to_doc
from .parts import PartsDir, part_name, read_member, read_part
from .queries import Queries, StatementIndex, locked
from .storage import (
    AtomicJSONStorage,
    DamagedFileError,
    Tables,
    WriteError,
    WriterLock,
    encode_tables,
    gc_paused,
    move_aside,
    move_dir_aside,
    replace_file,
)

SCHEMA_VERSION = 2
"""Bump when the stored shape changes in a way an older stancewatch cannot read."""

_META_ID = "1"

MAX_DELTAS = 16
"""Deltas after a catalog base before the next round writes new bases instead."""

COMPACT_MIN_BYTES = 4 << 20
"""Deltas may add up to this (or half the bases' size, if more) before new bases."""

ADOPT_TRIES = 8
"""How often a reader re-reads a head that a writer keeps replacing under it."""

T = TypeVar("T")


def _new_meta() -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "next": 1,
        "index": None,
        "statements": None,
        "deltas": [],
        "segments": {},
        "sizes": {},
        "counts": {"items": 0, "statements": 0},
    }


def _part_names(meta: Mapping[str, Any]) -> list[str]:
    """Every part file a head's meta names."""
    names = [part_name("seg", int(n)) for n in meta["segments"]]
    if meta["index"] is not None:
        names.append(part_name("index", meta["index"]))
    if meta["statements"] is not None:
        names.append(part_name("statements", meta["statements"]))
    names += [part_name("delta", n) for n in meta["deltas"]]
    return names


def _is_count(value: Any) -> bool:
    return type(value) is int and value >= 0


def _check_meta(meta: Mapping[str, Any]) -> None:
    """Check a schema-2 meta document's shape (a damaged head fails here)."""
    counts = meta.get("counts")
    ok = (
        _is_count(meta.get("next"))
        and all(meta.get(k) is None or _is_count(meta.get(k)) for k in ("index", "statements"))
        and type(meta.get("deltas")) is list
        and all(_is_count(n) for n in meta["deltas"])
        and type(meta.get("segments")) is dict
        and all(k.isdigit() and _is_count(v) for k, v in meta["segments"].items())
        and type(meta.get("sizes")) is dict
        and all(_is_count(v) for v in meta["sizes"].values())
        and type(counts) is dict
        and _is_count(counts.get("items"))
        and _is_count(counts.get("statements"))
    )
    if not ok or any(name not in meta["sizes"] for name in _part_names(meta)):
        raise DamagedFileError("meta is malformed")


class _Head:
    """A checked head: its meta, feeds, and (schema 1) the whole old database."""

    def __init__(
        self,
        meta: dict[str, Any],
        feeds: dict[str, FeedState],
        legacy: Tables | None = None,
        legacy_index: StatementIndex | None = None,
    ) -> None:
        self.meta = meta
        self.feeds = feeds
        self.legacy = legacy
        self.legacy_index = legacy_index


def _check_head(path: Path, data: Tables) -> _Head:
    """Check a loaded head's shape and decode the feed states.

    Raises:
        DamagedFileError: the data is not a stancewatch database.
        StoreError: it is one, written by a newer stancewatch.
    """
    if not data:
        return _Head(_new_meta(), {})
    meta = data.get("meta", {}).get(_META_ID)
    schema = meta.get("schema") if isinstance(meta, dict) else None
    if type(schema) is not int or schema < 1:
        raise DamagedFileError("no schema version: not a stancewatch database")
    if schema > SCHEMA_VERSION:
        raise StoreError(
            f"database {path} has schema {schema}, newer than this stancewatch knows "
            f"({SCHEMA_VERSION}); upgrade stancewatch or pass --db to use another file"
        )
    assert isinstance(meta, dict)
    try:
        with gc_paused():
            feeds = {url: from_doc(FeedState, doc) for url, doc in data.get("feeds", {}).items()}
            if schema == 1:
                # Schema 1 kept everything in this file: check what the
                # old store checked on open (items are objects, statements
                # index), and keep the index for a reader.
                for item_id, doc in data.get("items", {}).items():
                    if type(doc) is not dict:
                        raise CodecError(f"item {item_id}: not an object")
                index = StatementIndex.build(data.get("statements", {}))
                return _Head(_new_meta(), feeds, data, index)
    except CodecError as error:
        raise DamagedFileError(str(error)) from error
    _check_meta(meta)
    return _Head(meta, feeds)


class _StrIdTable(Table):
    """A TinyDB table keyed by our string ids, updated in place.

    TinyDB supports a custom id class (docs/extend.rst) but types ids as
    int, hence the ignores here and the `Any` in `Store._insert`/`_remove`.
    """

    document_id_class = str  # type: ignore[assignment]

    def _update_table(self, updater: Callable[[dict[int, Mapping[str, Any]]], None]) -> None:
        # TinyDB 4's version copies the whole table into a new dict (turning
        # keys into `document_id_class`), runs the updater, and copies it back
        # with str keys: two full copies for every insert. Our keys are str
        # already, so the updater can work on the table itself. If it raises
        # half way, the table is half updated in memory; `Store._write_head`
        # then puts back the tables it saved, as for any failed write.
        tables = self._storage.read() or {}
        updater(tables.setdefault(self.name, {}))  # type: ignore[arg-type]  # str keys
        self._storage.write(tables)
        self.clear_cache()


class _TinyDB(TinyDB):
    table_class = _StrIdTable


class Store(Queries):
    """The stancewatch database: the poll round's sink and the TUI's query API.

    Open it with `Store.open`; use it as a context manager or call `close`.
    Every method is thread-safe (one lock per store; rounds are written by
    one thread at a time, while queries answer from memory).
    """

    path: Path
    """The database's head file (its parts are in `<path>.d`)."""
    recovered_from: Path | None
    """Set when `open(recover=True)` found the database damaged: where its head now is."""

    def __init__(self, path: Path, lock: WriterLock | None) -> None:
        """Use `Store.open`; this only sets up an empty, unopened store."""
        self.path = path
        self.recovered_from = None
        self.readonly = lock is None
        self._storage = AtomicJSONStorage(path, readonly=self.readonly)
        self._parts = PartsDir(path)
        self._writer_lock = lock
        self._lock = threading.RLock()
        self._write_lock = threading.RLock()
        self._closed = False
        self._broken: str | None = None
        """The damage found after opening: every call raises it."""
        self._aside_pending = False
        self._meta: dict[str, Any] = _new_meta()
        self._feeds: dict[str, FeedState] = {}
        self._pins: dict[str, int] = {}
        """Part file name -> a descriptor kept open on it (see the module docstring)."""
        self._legacy: Tables | None = None
        self._cat: Catalog | None = None
        self._docs: dict[str, Doc] | None = None
        self._ix: StatementIndex | None = None
        self._db = _TinyDB(storage=lambda: self._storage)

    # --- opening and closing ------------------------------------------------

    @classmethod
    def open(cls, path: Path | str, *, readonly: bool = False, recover: bool = False) -> Store:
        """Open (or, for a writer, create) the database at `path`.

        A writer takes the lock, removes temp files and parts a killed
        writer left, migrates a schema-1 file (see the module docstring),
        and creates the database if it does not exist. A damaged database
        is moved to `<db>.damaged-<UTC time>` (its parts folder beside it),
        never overwritten or deleted.

        Args:
            path: the database's head file.
            readonly: open as a reader: no lock, no writes, a missing file
                reads as empty, and a damaged database is left where it is.
            recover: (writers) after moving a damaged database aside, carry
                on with an empty one and set `recovered_from`, instead of
                raising.

        Returns:
            The open store.

        Raises:
            StoreLockedError: another writer has the database open.
            StoreDamagedError: the database is damaged (and was moved aside,
                unless `readonly`); the message names both paths.
            StoreError: the schema is newer than this version knows, or the
                files or their folder cannot be read or written.
        """
        path = Path(path).expanduser()
        lock = None
        if not readonly:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(f"cannot create {path.parent}: {error.strerror}") from error
            lock = WriterLock(path)
            lock.acquire()
        store = cls(path, lock)
        try:
            store._start(recover)
        except BaseException:
            store._unpin(list(store._pins))
            if lock is not None:
                lock.release()
            raise
        return store

    def _start(self, recover: bool) -> None:
        if not self.readonly:
            self._storage.remove_stale_temps()
        try:
            self._adopt()
        except DamagedFileError as damage:
            if self.readonly:
                raise StoreDamagedError(
                    f"database {self.path} is damaged ({damage.reason}); left in place, "
                    "the next stancewatch that opens it for writing moves it aside"
                ) from None
            aside = self._move_aside()
            if not recover:
                raise StoreDamagedError(
                    f"database {self.path} is damaged ({damage.reason}); moved it aside to {aside}"
                ) from None
            self.recovered_from = aside
            self._install({}, _Head(_new_meta(), {}), {})
        if self.readonly:
            return
        if self._legacy is not None:
            self._migrate()
        elif not self._storage.read():
            # Write the schema at once: the file exists from the first
            # open, and a reader never sees a database without a version.
            self._write_round([], dict(self._meta), {})
        self._parts.sweep(set(self._pins))

    def _adopt(self) -> None:
        """Read the head and pin every part it names; adopt them only if all is well.

        Raises:
            DamagedFileError: the head is not a database, or a part it
                names is missing or of the wrong size.
            StoreError: a newer schema, or unreadable files.
        """
        for _ in range(ADOPT_TRIES):
            data = self._storage.load()
            head = _check_head(self.path, data)
            try:
                pins = self._pin(head.meta) if head.legacy is None else {}
            except FileNotFoundError as missing:
                if self.readonly and self._storage.changed_on_disk():
                    continue  # a writer committed and cleaned up between the two reads
                name = Path(missing.filename or "?").name
                raise DamagedFileError(f"part {name} is missing") from None
            self._install(data, head, pins)
            return
        raise StoreError(
            f"database {self.path} changed {ADOPT_TRIES} times while being read; try again"
        )

    def _pin(self, meta: Mapping[str, Any]) -> dict[str, int]:
        pins: dict[str, int] = {}
        try:
            for name in _part_names(meta):
                pins[name] = fd = self._parts.open(name)
                size = os.fstat(fd).st_size
                if size != meta["sizes"][name]:
                    raise DamagedFileError(
                        f"part {name} is {size} bytes, the head says {meta['sizes'][name]}"
                    )
        except OSError as error:
            for fd in pins.values():
                os.close(fd)
            if isinstance(error, FileNotFoundError):
                raise
            raise StoreError(f"cannot read database {self.path}: {error.strerror}") from error
        except BaseException:
            for fd in pins.values():
                os.close(fd)
            raise
        return pins

    def _unpin(self, names: Iterable[str]) -> None:
        for name in names:
            fd = self._pins.pop(name, None)
            if fd is not None:
                os.close(fd)

    def _install(self, data: Tables, head: _Head, pins: dict[str, int]) -> None:
        with self._lock:
            old = [name for name in self._pins if name not in pins]
            self._unpin(old)
            self._pins.update(pins)
            self._storage.reset(data)
            self._meta, self._feeds = head.meta, head.feeds
            self._legacy = head.legacy
            self._cat = None
            self._docs = None
            self._ix = head.legacy_index
            if head.legacy is not None:
                self._docs = head.legacy.get("statements", {})
                self._meta["counts"] = {
                    "items": len(head.legacy.get("items", {})),
                    "statements": len(self._docs),
                }

    def _move_aside(self) -> Path:
        """Move the head and the parts folder aside; return where the head went."""
        aside: Path | None = None
        if self.path.exists():
            aside = move_aside(self.path)
        if self._parts.path.exists():
            parts_aside = move_dir_aside(self._parts.path)
            aside = aside or parts_aside
        self._storage.discard()
        return aside or self.path

    def close(self) -> None:
        """Release the lock, the files and the data; the store cannot be used afterwards.

        Waits for a round being written by another thread: letting go of the
        lock mid-write would let a second writer in.
        """
        with self._write_lock, self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if self._aside_pending:
                    with contextlib.suppress(StoreError, OSError):
                        self._move_aside()
                self._unpin(list(self._pins))
                self._db.close()
                self._cat = self._docs = self._ix = self._legacy = None
            finally:
                if self._writer_lock is not None:
                    self._writer_lock.release()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "reader" if self.readonly else "writer"
        return f"<Store {self.path} ({mode})>"

    # --- damage found after opening -------------------------------------------------

    def _usable(self) -> None:
        if self._closed:
            raise StoreError(f"database {self.path} is closed")
        if self._broken is not None:
            raise StoreDamagedError(self._broken)

    def _guard(self, load: Callable[[], T]) -> T:
        """Run a lazy load; damage found in it is reported (and handled) once."""
        try:
            return load()
        except (DamagedFileError, CodecError) as damage:
            reason = damage.reason if isinstance(damage, DamagedFileError) else str(damage)
            self._damaged(" ".join(reason.split()))

    def _damaged(self, reason: str) -> NoReturn:
        if self.readonly:
            raise StoreDamagedError(f"database {self.path} is damaged ({reason}); left in place")
        # Moving files away under a round being written by another thread
        # would let its head name parts that are gone: only move them now if
        # no other thread is mid-round, else when the store is closed.
        if self._write_lock.acquire(blocking=False):
            try:
                aside = self._move_aside()
            finally:
                self._write_lock.release()
            message = f"database {self.path} is damaged ({reason}); moved it aside to {aside}"
        else:
            self._aside_pending = True
            message = (
                f"database {self.path} is damaged ({reason}); it is moved aside when "
                "this stancewatch closes it"
            )
        self._broken = message
        raise StoreDamagedError(message)

    # --- lazily loaded parts (for Queries and rounds) ------------------------------------

    def _read(self, name: str, wanted: frozenset[str]) -> Tables:
        return read_part(self._pins[name], name, wanted)

    def _catalog(self) -> Catalog:
        with self._lock:
            self._usable()
            if self._cat is None:
                self._cat = self._guard(self._load_catalog)
            return self._cat

    def _load_catalog(self) -> Catalog:
        legacy = self._legacy
        if legacy is not None:
            # A schema-1 file read by a reader: items are in memory already,
            # so their entries point nowhere (segment -1).
            overlay: dict[str, Entry | None] = {
                item_id: entry_of(doc, -1, (0, 0))
                for item_id, doc in legacy.get("items", {}).items()
            }
            refs = {
                sid: str(doc.get("item_id", ""))
                for sid, doc in legacy.get("statements", {}).items()
            }
            return Catalog({}, overlay, refs)
        meta = self._meta
        base = None
        if meta["index"] is not None:
            base = self._read(part_name("index", meta["index"]), INDEX_TABLES)
        deltas = (self._read(part_name("delta", n), INDEX_TABLES) for n in meta["deltas"])
        with gc_paused():
            return Catalog.from_tables(base, deltas)

    def _statement_docs(self) -> dict[str, Doc]:
        with self._lock:
            self._usable()
            if self._docs is None:
                self._docs = self._guard(self._load_statement_docs)
            return self._docs

    def _load_statement_docs(self) -> dict[str, Doc]:
        meta = self._meta
        docs: dict[str, Doc] = {}
        if meta["statements"] is not None:
            name = part_name("statements", meta["statements"])
            docs = self._read(name, STATEMENT_TABLES).get("statements", {})
        for n in meta["deltas"]:
            apply_statement_delta(docs, self._read(part_name("delta", n), STATEMENT_TABLES))
        return docs

    def _index(self) -> StatementIndex:
        with self._lock:
            self._usable()
            if self._ix is None:
                docs = self._statement_docs()
                self._ix = self._guard(lambda: StatementIndex.build(docs))
            return self._ix

    def _item_doc(self, item_id: str) -> Doc | None:
        with self._lock:
            entry = self._catalog().entry(item_id)
            if entry is None:
                return None
            if self._legacy is not None:
                found: Doc | None = self._legacy.get("items", {}).get(item_id)
                return found
            name = part_name("seg", entry["s"])
            return self._guard(
                lambda: read_member(self._pins[name], name, item_id, entry["o"], entry["n"])
            )

    def _counts(self) -> dict[str, int]:
        with self._lock:
            self._usable()
            counts = self._meta["counts"]
            return {
                "feeds": len(self._feeds),
                "items": counts["items"],
                "statements": counts["statements"],
            }

    def _writable(self) -> None:
        self._usable()
        if self.readonly:
            raise StoreError(f"database {self.path} is open read-only")

    # --- the poll round's sink ------------------------------------------------

    @locked
    def feed_states(self) -> dict[str, FeedState]:
        """Every known feed's state, by url."""
        self._usable()
        return dict(self._feeds)

    @locked
    def known_items(self, ids: Iterable[str]) -> dict[str, str]:
        """The content hash of each of these items that is already stored.

        Args:
            ids: item ids from a fetched feed.

        Returns:
            id -> content_hash, for the ids found.
        """
        return self._catalog().hashes(ids)

    @locked
    def known_items_of_feed(self, feed_url: str) -> dict[str, str]:
        """Every stored item of one feed, with its content hash.

        A poll sends this along with the feed's document, so the worker that
        parses it can skip the entries already stored before extracting.

        Args:
            feed_url: the feed's url.

        Returns:
            id -> content_hash of the feed's stored items.
        """
        return self._catalog().hashes_of_feed(feed_url)

    def commit_round(
        self,
        feeds: Sequence[FeedState],
        items: Sequence[Item],
        statements: Sequence[Statement],
        *,
        now: datetime,
        retain_days: int | None = None,
        replaced_items: Sequence[str] = (),
    ) -> None:
        """Store one poll round, committed by a single atomic rename of the head.

        Feeds, items and statements are upserted by id (a later duplicate in
        the same call wins). The statements of `replaced_items` (a guid
        reused with new content) are removed before the new ones are added,
        so an edited article does not keep claims it no longer makes. A
        round of feed states only writes the head alone.

        Args:
            feeds: the polled feeds' new states.
            items: new and changed items.
            statements: statements extracted from them.
            now: the round's time, for retirement.
            retain_days: when given, items fetched more than this many days
                before `now` that no statement refers to are retired. The
                check runs on the first round of each UTC day (the day is
                kept in the head, so a `poll --once` per process does not
                rescan), so an item may outlive its term by up to a day.
            replaced_items: ids of items whose content changed.

        Raises:
            StoreError: read-only, or the files cannot be written; nothing of
                the round is kept then, in memory or on disk.
            StoreDamagedError: a part the round needed to read is damaged.
        """
        self._writable()
        # Encode first: a bad record fails the round before anything changes.
        feed_docs = {f.url: to_doc(f) for f in feeds}
        item_docs = {i.id: to_doc(i) for i in items}
        statement_docs = {s.id: to_doc(s) for s in statements}
        with self._write_lock:
            self._writable()
            meta = _copy_meta(self._meta)
            cutoff = None
            if retain_days is not None:
                retired = {"day": now.astimezone(UTC).date().isoformat(), "days": retain_days}
                if meta.get("retired") != retired:
                    cutoff = now - timedelta(days=retain_days)
                    meta["retired"] = retired
            files: list[tuple[str, list[bytes]]] = []
            change = None
            if item_docs or statement_docs or replaced_items or cutoff is not None:
                catalog = self._catalog()
                change, files = self._plan(
                    catalog, meta, item_docs, statement_docs, replaced_items, cutoff
                )
            if change is None and not feed_docs:
                # Nothing to write (a retirement check that found nothing is
                # recorded with the next round that writes).
                with self._lock:
                    self._meta = meta
                return
            self._write_round(files, meta, feed_docs, change)

    def _plan(
        self,
        catalog: Catalog,
        meta: dict[str, Any],
        item_docs: Mapping[str, Doc],
        statement_docs: Mapping[str, Doc],
        replaced_items: Sequence[str],
        cutoff: datetime | None,
    ) -> tuple[RoundChange | None, list[tuple[str, list[bytes]]]]:
        """The round's change and the part files it writes; `meta` is updated to name them."""
        segments = {int(n): total for n, total in meta["segments"].items()}

        def read_segment(number: int) -> bytes:
            name = part_name("seg", number)
            return os.pread(self._pins[name], meta["sizes"][name], 0)

        try:
            change, next_part = self._guard(
                lambda: plan_round(
                    catalog,
                    segments,
                    meta["next"],
                    item_docs,
                    statement_docs,
                    replaced_items,
                    cutoff,
                    read_segment,
                )
            )
            if change.empty:
                return None, []
            files, next_part = self._catalog_files(change, catalog, meta, next_part, force=False)
        except orjson.JSONEncodeError as error:
            raise StoreError(f"cannot write database {self.path}: {error}") from error
        for number in change.segments_dropped:
            del segments[number]
        for number, pieces, count in change.segments_new:
            files.insert(0, (part_name("seg", number), pieces))
            segments[number] = count
        meta["segments"] = {str(n): total for n, total in sorted(segments.items())}
        meta["next"] = next_part
        meta["counts"] = {"items": change.items_after, "statements": change.statements_after}
        return change, files

    def _catalog_files(
        self,
        change: RoundChange,
        catalog: Catalog,
        meta: dict[str, Any],
        next_part: int,
        *,
        force: bool,
    ) -> tuple[list[tuple[str, list[bytes]]], int]:
        """One delta, or (every `MAX_DELTAS` or so) new catalog and statement bases."""
        sizes = meta["sizes"]
        delta = encode_tables(change.delta_tables())
        pending = sum(sizes[part_name("delta", n)] for n in meta["deltas"])
        pending += sum(map(len, delta))
        bases = sum(
            sizes[part_name(kind, meta[kind])]
            for kind in ("index", "statements")
            if meta[kind] is not None
        )
        if not force and (
            len(meta["deltas"]) < MAX_DELTAS and pending <= max(COMPACT_MIN_BYTES, bases // 2)
        ):
            meta["deltas"] = [*meta["deltas"], next_part]
            return [(part_name("delta", next_part), delta)], next_part + 1
        docs = self._statement_docs() if not force else {}
        index_n, statements_n = next_part, next_part + 1
        files = [
            (part_name("index", index_n), encode_tables(change.index_tables(catalog))),
            (part_name("statements", statements_n), encode_tables(change.statement_tables(docs))),
        ]
        meta["index"], meta["statements"], meta["deltas"] = index_n, statements_n, []
        return files, next_part + 2

    def _file_mode(self) -> int:
        try:
            return stat.S_IMODE(os.stat(self.path).st_mode)
        except OSError:
            return 0o600

    def _write_round(
        self,
        files: Sequence[tuple[str, list[bytes]]],
        meta: dict[str, Any],
        feed_docs: Mapping[str, dict[str, Any]],
        change: RoundChange | None = None,
        removed_feeds: Sequence[str] = (),
    ) -> None:
        """Write the parts, then the head; then adopt the round in memory.

        Memory is changed only once the head is on disk, so a failure leaves
        the store answering as before, and queries from other threads read
        the previous round meanwhile (without waiting for the disk).

        Raises:
            StoreError: a file cannot be written. The parts written are
                removed and the head is untouched, unless the failure came
                after the head's rename (then the round stands and the error
                is raised after adopting it).
        """
        written: dict[str, int] = {}
        sizes = dict(meta["sizes"])
        failure: WriteError | None = None
        try:
            if files:
                self._parts.ensure()
                mode = self._file_mode()
                for name, pieces in files:
                    sizes[name] = self._parts.write(name, pieces, mode)
                    written[name] = self._parts.open(name)
                self._parts.sync()
            named = _part_names(meta)
            meta["sizes"] = {name: sizes[name] for name in named}
            self._write_head(meta, feed_docs, removed_feeds)
        except WriteError as error:
            if not error.renamed:
                self._discard(written)
                raise
            failure = error
        except OSError as error:
            self._discard(written)
            raise StoreError(f"cannot write database {self.path}: {error.strerror}") from error
        except BaseException:
            self._discard(written)
            raise
        obsolete = [name for name in self._pins if name not in meta["sizes"]]
        with self._lock:
            self._pins.update(written)
            if change is not None:
                self._adopt_change(change)
            for url, doc in feed_docs.items():
                self._feeds[url] = from_doc(FeedState, doc)
            for url in removed_feeds:
                self._feeds.pop(url, None)
            self._meta = meta
            self._unpin(obsolete)
        self._parts.remove(obsolete)
        if failure is not None:
            raise failure

    def _discard(self, written: Mapping[str, int]) -> None:
        for fd in written.values():
            os.close(fd)
        self._parts.remove(written)

    def _adopt_change(self, change: RoundChange) -> None:
        if change.base_after is not None and change.refs_after is not None:
            # New bases were written: start again from them, so the overlay
            # of a long-running writer does not grow without end.
            self._cat = Catalog(change.base_after, {}, change.refs_after)
        elif self._cat is not None:
            self._cat.apply(change)
        if self._docs is not None:
            for sid in change.statements_gone:
                self._docs.pop(sid, None)
            self._docs.update(change.statements_set)
        if self._ix is not None:
            stale = change.statements_gone | (change.statements_set.keys() & self._ix.by_id.keys())
            if stale:
                self._ix.remove(stale)
            if change.statements_set:
                self._ix.add(change.statements_set)

    def _write_head(
        self,
        meta: dict[str, Any],
        feed_docs: Mapping[str, dict[str, Any]],
        removed_feeds: Sequence[str],
    ) -> None:
        """Replace the head with `meta` and the feeds after this round's changes.

        Raises:
            WriteError: it cannot be written; unless `renamed`, the head's
                tables in memory are put back as they were.
        """
        data = self._storage.read() or {}
        saved = {name: dict(table) for name, table in data.items()}
        try:
            with self._storage.deferred():
                if removed_feeds:
                    self._remove("feeds", removed_feeds)
                self._upsert("feeds", feed_docs)
                self._upsert("meta", {_META_ID: meta})
            self._storage.write_pieces(self._storage.serialize())
        except WriteError as error:
            if not error.renamed:
                self._storage.reset(saved)
            raise
        except BaseException:
            self._storage.reset(saved)
            raise

    def _upsert(self, name: str, docs: Mapping[str, dict[str, Any]]) -> None:
        if not docs:
            return
        current = (self._storage.read() or {}).get(name, {})
        existing = [key for key in docs if key in current]
        if existing:
            self._remove(name, existing)
        table: Any = self._db.table(name)  # str ids: see _StrIdTable
        table.insert_multiple(Document(doc, key) for key, doc in docs.items())  # type: ignore[arg-type]

    def _remove(self, name: str, ids: Iterable[str]) -> None:
        table: Any = self._db.table(name)
        table.remove(doc_ids=list(ids))

    def remove_feed(self, url: str) -> None:
        """Forget a feed's state (its items and statements stay).

        Args:
            url: the feed's url.
        """
        self._writable()
        with self._write_lock:
            self._writable()
            if url in self._feeds:
                self._write_round([], _copy_meta(self._meta), {}, removed_feeds=[url])

    # --- migration ------------------------------------------------------------------

    def _migrate(self) -> None:
        """Turn a schema-1 file into a schema-2 head and parts (see the module docstring)."""
        legacy = self._legacy
        assert legacy is not None
        items = legacy.get("items", {})
        statements = legacy.get("statements", {})
        meta = _new_meta()
        try:
            empty = Catalog({}, {}, {})
            change, next_part = plan_round(empty, {}, 1, items, statements, (), None, lambda n: b"")
            files, next_part = self._catalog_files(change, empty, meta, next_part, force=True)
        except orjson.JSONEncodeError as error:
            raise StoreError(f"cannot migrate database {self.path}: {error}") from error
        for number, pieces, count in change.segments_new:
            files.insert(0, (part_name("seg", number), pieces))
            meta["segments"][str(number)] = count
        meta["next"] = next_part
        meta["counts"] = {"items": change.items_after, "statements": change.statements_after}
        data = self._storage.read() or {}
        saved = dict(data)
        for table in ("items", "statements"):
            data.pop(table, None)
        try:
            self._write_round(files, meta, {})
        except BaseException:
            self._storage.reset(saved)
            raise
        with self._lock:
            # The statements and their index are already in memory; the
            # catalog is read back from the new files when first needed.
            self._legacy = None
            self._cat = None

    # --- readers --------------------------------------------------------------

    @locked
    def reload(self) -> bool:
        """Re-read the head (and pin its parts) if a writer has replaced it since.

        For readers; a writer is the only one writing, so for it this does
        nothing.

        Returns:
            Whether the data changed.

        Raises:
            StoreDamagedError: the new head is damaged (left in place).
            StoreError: its schema is newer than this version knows.
        """
        if self._closed:
            raise StoreError(f"database {self.path} is closed")
        if not self.readonly or not self._storage.changed_on_disk():
            return False
        try:
            self._adopt()
        except DamagedFileError as damage:
            raise StoreDamagedError(
                f"database {self.path} is damaged ({damage.reason}); left in place"
            ) from None
        self._broken = None
        return True

    @locked
    def all_items(self, feed_url: str | None = None) -> list[Item]:
        """Every stored item (of one feed, if given), decoded; for tests and exports.

        This reads every item's bytes: the dashboard never needs it.

        Args:
            feed_url: only this feed's items.

        Returns:
            The items, in no particular order.
        """
        catalog = self._catalog()
        if feed_url is not None:
            ids = list(catalog.hashes_of_feed(feed_url))
        else:
            ids = [item_id for item_id, _ in catalog.fetched()]
        found = []
        for item_id in ids:
            doc = self._item_doc(item_id)
            if doc is not None:
                try:
                    found.append(from_doc(Item, doc))
                except CodecError as error:
                    self._damaged(str(error))
        return found

    def files(self) -> list[Path]:
        """The files that make up the database now: the head, then its parts."""
        with self._lock:
            return [self.path, *self._parts.files(sorted(self._pins))]


def _copy_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    copied = dict(meta)
    for key in ("deltas",):
        copied[key] = list(meta[key])
    for key in ("segments", "sizes", "counts"):
        copied[key] = dict(meta[key])
    return copied


def database_files(path: Path | str) -> list[Path]:
    """The files of the database at `path` now: its head, then the parts it names.

    For tools and tests that copy or inspect a database; reads the head only.

    Raises:
        StoreDamagedError: the head is damaged.
    """
    with Store.open(path, readonly=True) as store:
        return store.files()


def copy_database(source: Path | str, target: Path | str) -> None:
    """Copy a whole database (head and parts) to a new path, consistently.

    The source is read as a reader does (its parts pinned), so a writer may
    keep committing meanwhile: the copy is one whole round. The parts go
    first, the head last, so a copy cut short is not a database.

    Args:
        source: the database to copy.
        target: the new database's head file (its folder is created). It
            must not be a database in use: its parts are overwritten.

    Raises:
        StoreError: a file cannot be read or written.
    """
    target = Path(target).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    with Store.open(source, readonly=True) as store, store._lock:
        parts = PartsDir(target)
        if store._pins:
            parts.ensure()
            for name, fd in sorted(store._pins.items()):
                size = os.fstat(fd).st_size
                parts.write(name, [os.pread(fd, size, 0)], 0o600)
            parts.sync()
        data = store._storage.read() or {}
        replace_file(target, encode_tables((n, t.items()) for n, t in data.items()), db=target)
