"""`Store`: the TinyDB database of feeds, items and statements.

Layout of the file (one JSON object, TinyDB's own shape):

    {"meta": {"1": {"schema": 1}},
     "feeds": {"<url>": {...FeedState...}},
     "items": {"<item id>": {...Item...}},
     "statements": {"<statement id>": {...Statement...}}}

The records' stable ids are the TinyDB document ids (a `Table` whose
`document_id_class` is `str`). That makes "upsert by id" a dict key
assignment instead of a query over the table, and makes TinyDB's id -> doc
dict the items index for free.

Every TinyDB operation ends in a storage write, so `commit_round` does a
fixed handful of operations per round, each over many documents
(`remove(doc_ids=...)`, `insert_multiple`), never one per record; does them
inside `AtomicJSONStorage.deferred()`, where a write only marks the data
dirty; and then writes the file once (`Store._round`). `_StrIdTable` also
stops TinyDB copying a whole table per operation.

Who may open what: one writer at a time (the lock, see `store/storage.py`);
any number of readers, who take no lock, never write, and pick up a writer's
rounds with `reload()`. A writer's replace-by-rename means a reader always
reads a whole file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from tinydb import TinyDB
from tinydb.table import Document, Table

from sources.errors import StoreDamagedError, StoreError
from sources.records import FeedState, Item, Statement

from .codec import CodecError, encode_datetime, from_doc, to_doc
from .queries import Doc, Queries, StatementIndex, locked
from .storage import (
    AtomicJSONStorage,
    DamagedFileError,
    Tables,
    WriterLock,
    gc_paused,
    move_aside,
)

SCHEMA_VERSION = 1
"""Bump when the stored shape changes in a way an older stancewatch cannot read."""

_META_ID = "1"
_TABLES = ("feeds", "items", "statements")


class _StrIdTable(Table):
    """A TinyDB table keyed by our string ids, updated in place.

    TinyDB supports a custom id class (docs/extend.rst) but types ids as
    int, hence the ignores here and the `Any` in `Store._insert`/`_remove`.
    """

    document_id_class = str  # type: ignore[assignment]

    def _update_table(self, updater: Callable[[dict[int, Mapping[str, Any]]], None]) -> None:
        # TinyDB 4's version copies the whole table into a new dict (turning
        # keys into `document_id_class`), runs the updater, and copies it back
        # with str keys: two 100,000-entry copies for every insert, 30-100 ms
        # per operation here. Our keys are str already, so the updater can
        # work on the table itself. If it raises half way, the table is half
        # updated in memory; `Store._round` then reloads the file, which is
        # what it does for any failed round anyway.
        tables = self._storage.read() or {}
        updater(tables.setdefault(self.name, {}))  # type: ignore[arg-type]  # str keys
        self._storage.write(tables)
        self.clear_cache()


class _TinyDB(TinyDB):
    table_class = _StrIdTable


def _check(path: Path, data: Tables) -> tuple[dict[str, FeedState], StatementIndex]:
    """Check a loaded file's shape and build what the store keeps in memory.

    Items are only checked to be objects: decoding 100,000 of them would
    cost more than the rest of opening, and they are decoded one at a time
    when asked for.

    Raises:
        DamagedFileError: the data is not a stancewatch database.
        StoreError: it is one, written by a newer stancewatch.
    """
    if not data:
        return {}, StatementIndex()
    meta = data.get("meta", {}).get(_META_ID)
    schema = meta.get("schema") if isinstance(meta, dict) else None
    if type(schema) is not int or schema < 1:
        raise DamagedFileError("no schema version: not a stancewatch database")
    if schema > SCHEMA_VERSION:
        raise StoreError(
            f"database {path} has schema {schema}, newer than this stancewatch knows "
            f"({SCHEMA_VERSION}); upgrade stancewatch or pass --db to use another file"
        )
    try:
        with gc_paused():
            feeds = {url: from_doc(FeedState, doc) for url, doc in data.get("feeds", {}).items()}
            for item_id, doc in data.get("items", {}).items():
                if type(doc) is not dict:
                    raise CodecError(f"item {item_id}: not an object")
            index = StatementIndex.build(data.get("statements", {}))
    except CodecError as error:
        raise DamagedFileError(str(error)) from error
    return feeds, index


def _is_older(fetched: Any, cutoff: str, cutoff_dt: datetime) -> bool:
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


class Store(Queries):
    """The stancewatch database: the poll round's sink and the TUI's query API.

    Open it with `Store.open`; use it as a context manager or call `close`.
    Every method is thread-safe (one lock per store).
    """

    path: Path
    """The database file."""
    recovered_from: Path | None
    """Set when `open(recover=True)` found the file damaged: where it now is."""

    def __init__(
        self,
        path: Path,
        storage: AtomicJSONStorage,
        lock: WriterLock | None,
        feeds: dict[str, FeedState],
        index: StatementIndex,
        recovered_from: Path | None,
    ) -> None:
        """Use `Store.open`; this only assembles what it prepared."""
        self.path = path
        self.recovered_from = recovered_from
        self.readonly = lock is None
        self._storage = storage
        self._writer_lock = lock
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._feeds = feeds
        self._ix = index
        self._closed = False
        self._retired: tuple[date, int] | None = None
        """(UTC day, retain_days) of the last retirement: one scan a day is plenty."""
        self._hashes_by_feed: dict[str, dict[str, str]] | None = None
        """feed url -> item id -> content hash; built on demand, dropped on change."""
        self._db = _TinyDB(storage=lambda: storage)

    # --- opening and closing ------------------------------------------------

    @classmethod
    def open(cls, path: Path | str, *, readonly: bool = False, recover: bool = False) -> Store:
        """Open (or, for a writer, create) the database at `path`.

        A writer takes the lock, removes temp files a killed writer left,
        and creates the file if it does not exist. A damaged file is renamed
        to `<db>.damaged-<UTC time>`, never overwritten or deleted.

        Args:
            path: the database file.
            readonly: open as a reader: no lock, no writes, a missing file
                reads as empty, and a damaged file is left where it is.
            recover: (writers) after moving a damaged file aside, carry on
                with an empty database and set `recovered_from`, instead of
                raising.

        Returns:
            The open store.

        Raises:
            StoreLockedError: another writer has the database open.
            StoreDamagedError: the file is damaged (and was moved aside,
                unless `readonly`); the message names both paths.
            StoreError: the schema is newer than this version knows, or the
                file or its directory cannot be read or written.
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
        try:
            storage = AtomicJSONStorage(path, readonly=readonly)
            if lock is not None:
                storage.remove_stale_temps()
            recovered_from = None
            try:
                feeds, index = _check(path, storage.read() or {})
            except DamagedFileError as damage:
                storage.discard()
                if readonly:
                    raise StoreDamagedError(
                        f"database {path} is damaged ({damage.reason}); left in place, "
                        "the next stancewatch that opens it for writing moves it aside"
                    ) from None
                aside = move_aside(path)
                if not recover:
                    raise StoreDamagedError(
                        f"database {path} is damaged ({damage.reason}); moved it aside to {aside}"
                    ) from None
                recovered_from = aside
                feeds, index = {}, StatementIndex()
            store = cls(path, storage, lock, feeds, index, recovered_from)
            if lock is not None and not (storage.read() or {}).get("meta"):
                # Write the schema at once: the file exists from the first
                # open, and a reader never sees a database without a version.
                store._insert("meta", {_META_ID: {"schema": SCHEMA_VERSION}})
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        return store

    def close(self) -> None:
        """Release the lock and the data; the store cannot be used afterwards.

        Waits for a round being written by another thread: letting go of the
        lock mid-write would let a second writer in.
        """
        with self._write_lock, self._lock:
            self._closed = True
            try:
                self._db.close()
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

    # --- raw tables (for Queries) ---------------------------------------------

    def _table(self, name: str) -> Mapping[str, Doc]:
        # Looked up on every call: a reload or a rolled-back round replaces
        # the whole data, so a reference kept across one would go stale.
        if self._closed:
            raise StoreError(f"database {self.path} is closed")
        data = self._storage.read() or {}
        table: Mapping[str, Doc] = data.get(name, {})
        return table

    def _reindex_from_disk(self) -> None:
        # Check before adopting: if the new file is bad, the store keeps
        # answering from what it had.
        data = self._storage.load()
        feeds, index = _check(self.path, data)
        self._storage.reset(data)
        self._feeds, self._ix = feeds, index
        self._retired = None
        self._hashes_by_feed = None

    def _writable(self) -> None:
        if self._closed:
            raise StoreError(f"database {self.path} is closed")
        if self.readonly:
            raise StoreError(f"database {self.path} is open read-only")

    # --- the poll round's sink ------------------------------------------------

    @locked
    def feed_states(self) -> dict[str, FeedState]:
        """Every known feed's state, by url."""
        return dict(self._feeds)

    @locked
    def known_items(self, ids: Iterable[str]) -> dict[str, str]:
        """The content hash of each of these items that is already stored.

        Args:
            ids: item ids from a fetched feed.

        Returns:
            id -> content_hash, for the ids found.
        """
        items = self._table("items")
        return {i: str(items[i].get("content_hash", "")) for i in ids if i in items}

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
        if self._hashes_by_feed is None:
            by_feed: dict[str, dict[str, str]] = {}
            for item_id, doc in self._table("items").items():
                feed = str(doc.get("feed_url", ""))
                by_feed.setdefault(feed, {})[item_id] = str(doc.get("content_hash", ""))
            self._hashes_by_feed = by_feed
        return dict(self._hashes_by_feed.get(feed_url, {}))

    @contextmanager
    def _round(self) -> Iterator[None]:
        """Apply the body's changes to memory, then write the file once.

        The changes are made under the store's lock, so no query sees an
        index half updated. The file is serialized and written after letting
        go of it: only a round changes the data, and `_write_lock` keeps the
        next round out until this one is on disk, so queries from the TUI can
        answer from memory meanwhile instead of waiting for 100 MB to reach
        the disk. If the body or the write fails, memory is reloaded from the
        file: a round is kept whole or not at all.

        Raises:
            StoreError: read-only, or the file cannot be written.
        """
        self._writable()
        with self._write_lock:
            with self._lock:
                self._hashes_by_feed = None
                try:
                    with self._storage.deferred():
                        yield
                except BaseException:
                    self._reindex_from_disk()
                    raise
            if not self._storage.dirty:
                return
            try:
                self._storage.write_bytes(self._storage.serialize())
            except BaseException:
                with self._lock:
                    self._reindex_from_disk()
                raise

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
        """Store one poll round with a single atomic file write.

        Feeds, items and statements are upserted by id (a later duplicate in
        the same call wins). The statements of `replaced_items` (a guid
        reused with new content) are removed before the new ones are added,
        so an edited article does not keep claims it no longer makes.

        Args:
            feeds: the polled feeds' new states.
            items: new and changed items.
            statements: statements extracted from them.
            now: the round's time, for retirement.
            retain_days: when given, items fetched more than this many days
                before `now` that no statement refers to are retired. The
                check runs on the first round of each UTC day (and after a
                reopen), so an item may outlive its term by up to a day.
            replaced_items: ids of items whose content changed.

        Raises:
            StoreError: read-only, or the file cannot be written; nothing of
                the round is kept then, in memory or on disk.
        """
        self._writable()
        # Encode first: a bad record fails the round before anything changes.
        feed_docs = {f.url: to_doc(f) for f in feeds}
        item_docs = {i.id: to_doc(i) for i in items}
        statement_docs = {s.id: to_doc(s) for s in statements}
        with self._round():
            self._upsert("feeds", feed_docs)
            self._upsert("items", item_docs)
            stale = self._ix.statements_of_items(replaced_items)
            stale.update(sid for sid in statement_docs if sid in self._ix.by_id)
            if stale:
                self._remove("statements", stale)
                self._ix.remove(stale)
            if statement_docs:
                self._insert("statements", statement_docs)
                self._ix.add(statement_docs)
            for state in feeds:
                self._feeds[state.url] = state
            if retain_days is not None:
                # A scan of every item costs 40-100 ms at 100,000 items, under
                # the lock; once a day keeps items at most a day past their term.
                today = (now.astimezone(UTC).date(), retain_days)
                if self._retired != today:
                    self._retire(now - timedelta(days=retain_days))
                    self._retired = today

    def _upsert(self, name: str, docs: Mapping[str, dict[str, Any]]) -> None:
        if not docs:
            return
        current = self._table(name)
        existing = [key for key in docs if key in current]
        if existing:
            self._remove(name, existing)
        self._insert(name, docs)

    def _insert(self, name: str, docs: Mapping[str, dict[str, Any]]) -> None:
        table: Any = self._db.table(name)  # str ids: see _StrIdTable
        table.insert_multiple(Document(doc, key) for key, doc in docs.items())  # type: ignore[arg-type]

    def _remove(self, name: str, ids: Iterable[str]) -> None:
        table: Any = self._db.table(name)
        table.remove(doc_ids=list(ids))

    def _retire(self, cutoff: datetime) -> None:
        """Drop items fetched before `cutoff` that no statement refers to.

        Items with statements stay: they are the evidence behind a position
        (`items_of`). The rest only served to recognise an entry already
        seen, which a feed stops repeating long before `retain_days`.
        """
        cutoff_text = encode_datetime(cutoff)
        referenced = self._ix.by_item
        old = [
            item_id
            for item_id, doc in self._table("items").items()
            if item_id not in referenced and _is_older(doc.get("fetched"), cutoff_text, cutoff)
        ]
        if old:
            self._remove("items", old)

    def remove_feed(self, url: str) -> None:
        """Forget a feed's state (its items and statements stay).

        Args:
            url: the feed's url.
        """
        with self._round():
            if url in self._feeds:
                self._remove("feeds", [url])
                del self._feeds[url]

    # --- readers --------------------------------------------------------------

    @locked
    def reload(self) -> bool:
        """Re-read the file if a writer has replaced it since it was read.

        For readers; a writer is the only one writing, so for it this does
        nothing.

        Returns:
            Whether the data changed.

        Raises:
            StoreDamagedError: the new file is damaged (left in place).
            StoreError: its schema is newer than this version knows.
        """
        if self._closed:
            raise StoreError(f"database {self.path} is closed")
        if not self.readonly or not self._storage.changed_on_disk():
            return False
        try:
            self._reindex_from_disk()
        except DamagedFileError as damage:
            raise StoreDamagedError(
                f"database {self.path} is damaged ({damage.reason}); left in place"
            ) from None
        return True
