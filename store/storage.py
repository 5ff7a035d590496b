"""Files: the JSON they hold, how they are written, locked and set aside.

TinyDB's own `JSONStorage` fails us three ways (msiemens/tinydb
`tinydb/storages.py`):

1. it re-reads and rewrites the whole file on every table operation: 2,000
   single inserts took 5-45 s here, one `insert_multiple` of 2,000 took ms;
2. it writes in place (seek 0, write, truncate), so a kill mid-write leaves
   half a file;
3. it has no lock, so two processes read each other's half-written files.

`AtomicJSONStorage` answers each for the head file (TinyDB's
`docs/extend.rst` invites custom storages for this), and the part files of
`store/parts.py` are written with the same helpers:

1. it reads the file once and keeps the data in memory; `write()` inside
   `deferred()` only marks the data dirty, and the store writes once at the
   end of a round;
2. a file that is replaced (the head) goes to a temp file in the same
   directory (so `os.replace` is a rename within one filesystem, atomic on
   POSIX), which is fsynced, renamed over the old one, and the directory
   fsynced so the rename itself survives a power cut. A kill at any moment
   leaves either the old file or the new one, plus at worst a stale temp
   file that the next writer removes. A part file is never replaced: it is
   written once under a new name, and only becomes part of the database
   when the head naming it is renamed into place;
3. `WriterLock` holds `fcntl.flock` on `<db>.lock` while a writer is open.
   flock is released by the kernel when the process dies, however it dies,
   so a SIGKILLed writer never leaves a stale lock behind.

**Framed JSON.** Every file is one JSON object in TinyDB's shape (table
name -> document id -> document), so plain `json.load` or TinyDB reads it.
But it is laid out so that it can also be read and written a piece at a
time: one line per table header, then lines of members (up to `PER_LINE`
documents each, the first without and the others with a leading comma),
then a line `}` closing the table:

    {
    "feeds":{
    "https://a.example/rss":{...},"https://b.example/rss":{...}
    ,"https://c.example/rss":{...}
    }
    ,"meta":{
    "1":{"schema":2,...}
    }
    }

orjson escapes every control character inside strings, so a raw newline
only ever separates lines. Reading parses each line on its own (a few ms
of GIL each) instead of the whole file in one call, and writing
serialises `PER_LINE` documents per call: a dashboard's event loop sharing
the GIL with a thread that opens or commits gets it back every few
milliseconds (one `orjson.loads` of a 165 MiB database held it 0.58 s, one
`orjson.dumps` 0.2-0.8 s). A file not laid out this way (an older
stancewatch's, or one edited by hand) is parsed whole, as before.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gc
import mmap
import os
import stat
import tempfile
from collections.abc import Container, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

from sources.errors import StoreError, StoreLockedError

Tables = dict[str, dict[str, Any]]
"""A file's content as TinyDB sees it: table name -> doc id -> document."""

Members = Iterable[tuple[str, Any]]
"""One table's (doc id, document) pairs, to be written."""

FileIdentity = tuple[int, int, int, int]
"""(inode, size, mtime_ns, ctime_ns): changes whenever the file is replaced."""

PER_LINE = 1000
"""Documents per line of a framed file: one `orjson` call of ~1 ms each way."""

WRITE_BLOCK = 1 << 20
"""Pieces are joined into blocks of about this size before each `write`."""


class DamagedFileError(Exception):
    """Internal: the file is not what it should be; `reason` says why in a few words."""

    def __init__(self, reason: str) -> None:
        self.reason = " ".join(reason.split())  # one line, whatever the parser said
        super().__init__(self.reason)


FREEZE_BYTES = 8 * 1024 * 1024
"""From this file size on, the loaded data is moved out of the collector's sight.

A 110 MB database is some 400,000 tracked dicts and lists. Each full
collection walks them all (measured here: about 300 ms), and the first
collections after a load walk them once per generation (200 + 300 ms), so a
dashboard would freeze for a third of a second now and then. `gc.freeze()`
moves every object alive now to a generation the collector never examines.
The data has no reference cycles, so it is still freed by reference counting
when it is dropped. The price: other objects alive at that moment are also
exempt, and would leak if they later became cyclic garbage; loads happen a
few times per process (open, first query, a reader's `reload`), so that is a
handful of objects per load, against a pause on every full collection.
Small files skip it.
"""


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector while building many containers.

    Parsing 100,000 items allocates some million dicts and lists, and every
    few thousand allocations CPython runs a collection that walks the
    young ones, with full collections as the heap grows: measured here, that
    nearly tripled `orjson.loads` of a 110 MB database (about 1,000 ms
    against 370 ms). JSON data has no cycles, so nothing is missed; the
    collector is only re-enabled if it was enabled before.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --- framed JSON --------------------------------------------------------------------------


def _member_line(chunk: dict[str, Any], first: bool) -> bytes:
    blob = orjson.dumps(chunk)
    with memoryview(blob) as view:
        return b"".join((b"" if first else b",", view[1:-1], b"\n"))


def encode_tables(
    tables: Iterable[tuple[str, Members] | tuple[str, Members, int]], per_line: int = PER_LINE
) -> list[bytes]:
    """Lay tables out as a framed JSON file (see the module docstring).

    Args:
        tables: (table name, its (doc id, document) pairs[, documents per
            line for this table]), in file order.
        per_line: documents per line, where the table does not say.

    Returns:
        The file's bytes, in pieces (joining them is the writer's business).

    Raises:
        orjson.JSONEncodeError: a value is not JSON (a lone surrogate, say).
    """
    pieces = [b"{\n"]
    for number, table in enumerate(tables):
        name, members = table[0], table[1]
        limit = table[2] if len(table) == 3 else per_line
        pieces.append(b"".join((b"," if number else b"", orjson.dumps(name), b":{\n")))
        first = True
        chunk: dict[str, Any] = {}
        for key, doc in members:
            chunk[key] = doc
            if len(chunk) >= limit:
                pieces.append(_member_line(chunk, first))
                first, chunk = False, {}
        if chunk:
            pieces.append(_member_line(chunk, first))
        pieces.append(b"}\n")
    pieces.append(b"}\n")
    return pieces


class _Unframed(Exception):
    """The bytes are not laid out as `encode_tables` writes them."""


def _parse_framed(buf: Any, wanted: Container[str] | None) -> Tables:
    size = len(buf)
    pos = 0

    def line() -> bytes:
        nonlocal pos
        end = buf.find(b"\n", pos)
        if end < 0:
            raise _Unframed
        piece: bytes = buf[pos:end]
        pos = end + 1
        return piece

    if line() != b"{":
        raise _Unframed
    tables: Tables = {}
    first_table = True
    while True:
        header = line()
        if header == b"}":
            break
        if not first_table:
            if header[:1] != b",":
                raise _Unframed
            header = header[1:]
        if not header.endswith(b":{"):
            raise _Unframed
        try:
            name = orjson.loads(header[:-2])
        except orjson.JSONDecodeError:
            raise _Unframed from None
        if type(name) is not str:
            raise _Unframed
        keep = wanted is None or name in wanted
        table: dict[str, Any] = {}
        first_line = True
        while True:
            body = line()
            if body == b"}":
                break
            if not first_line:
                if body[:1] != b",":
                    raise _Unframed
                body = body[1:]
            first_line = False
            if keep:
                try:
                    table.update(orjson.loads(b"".join((b"{", body, b"}"))))
                except orjson.JSONDecodeError:
                    raise _Unframed from None
        if keep:
            tables[name] = table
        first_table = False
    if pos != size:
        raise _Unframed
    return tables


def parse_tables(buf: Any, wanted: Container[str] | None = None) -> Tables:
    """Parse a file's bytes into tables, a line at a time when it is framed.

    Args:
        buf: the bytes (or an mmap of them).
        wanted: only these tables (the others' lines are skipped unparsed);
            None for all.

    Returns:
        table name -> doc id -> document. Documents are not checked.

    Raises:
        DamagedFileError: not JSON, or not an object of objects.
    """
    try:
        return _parse_framed(buf, wanted)
    except _Unframed:
        pass
    # Not our layout (an older file, an edited one, or damage): parse it
    # whole, which also gives the parser's own words for what is wrong.
    try:
        with memoryview(buf) as view:
            data = orjson.loads(view)
    except orjson.JSONDecodeError as error:
        raise DamagedFileError(f"not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise DamagedFileError(f"top level is a JSON {type(data).__name__}, not an object")
    for name, table in data.items():
        if not isinstance(table, dict):
            raise DamagedFileError(f"table {name!r} is not an object")
    if wanted is not None:
        data = {name: table for name, table in data.items() if name in wanted}
    return data


def read_tables(fd: int, wanted: Container[str] | None = None) -> Tables:
    """Parse the file behind `fd` (from its start), with the collector paused.

    The file is mapped rather than read: the lines are parsed straight from
    the page cache, with no second copy of the file in memory. Part files
    are never changed once written and the head is replaced by rename, so
    the mapping cannot shrink under the parser.

    Raises:
        DamagedFileError: not JSON, or not an object of objects.
        OSError: the file cannot be read.
    """
    size = os.fstat(fd).st_size
    if size == 0:
        return {}
    try:
        view: Any = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        # A filesystem that cannot map files: read them.
        view = os.pread(fd, size, 0)
    try:
        with gc_paused():
            data = parse_tables(view, wanted)
            if size >= FREEZE_BYTES:
                # See FREEZE_BYTES: keep the collector off this data for good.
                gc.freeze()
    finally:
        if isinstance(view, mmap.mmap):
            view.close()
    return data


# --- writing files ----------------------------------------------------------------------------


def _write_all(fd: int, pieces: Sequence[bytes]) -> int:
    """Write the pieces in blocks of about `WRITE_BLOCK`; return the byte count."""
    total = 0
    block: list[bytes] = []
    held = 0
    for piece in [*pieces, b""]:
        if piece:
            block.append(piece)
            held += len(piece)
        if block and (held >= WRITE_BLOCK or not piece):
            data = block[0] if len(block) == 1 else b"".join(block)
            with memoryview(data) as view:
                done = 0
                while done < len(view):
                    done += os.write(fd, view[done:])
            total += len(data)
            block, held = [], 0
    return total


def fsync_dir(directory: Path) -> None:
    """Make the renames and new names in `directory` durable.

    A rename or a new file is an update of the directory; without this a
    power cut can bring back the old name or lose the new one (see the
    rename notes in fsync(2)).
    """
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class WriteError(StoreError):
    """A file of the database could not be written.

    `renamed` is set when the failure came after the new head was renamed
    into place (fsyncing the directory): the round is then on disk, only
    perhaps not durably.
    """

    renamed: bool = False


def _failed(db: Path, error: OSError, *, renamed: bool = False) -> WriteError:
    failure = WriteError(f"cannot write database {db}: {error.strerror or error}")
    failure.renamed = renamed
    return failure


def write_new_file(path: Path, pieces: Sequence[bytes], *, db: Path, mode: int) -> int:
    """Write a part file that nothing refers to yet, and fsync it.

    A kill half way leaves a file no head names, which the next writer
    removes (`store/parts.py`).

    Args:
        path: the new file.
        pieces: its bytes.
        db: the database, for the error message.
        mode: permission bits for the file.

    Returns:
        Its size.

    Raises:
        StoreError: it cannot be written (disk full, permissions); the
            partial file is removed.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    except OSError as error:
        raise _failed(db, error) from error
    try:
        size = _write_all(fd, pieces)
        os.fsync(fd)
    except OSError as error:
        os.close(fd)
        with contextlib.suppress(OSError):
            path.unlink()
        raise _failed(db, error) from error
    os.close(fd)
    return size


def temp_prefix(path: Path) -> str:
    """The name prefix of a file's temp files, so stale ones can be found."""
    return f"{path.name}.tmp-"


def replace_file(path: Path, pieces: Sequence[bytes], *, db: Path) -> None:
    """Replace `path` with `pieces`: temp file, fsync, rename, fsync the directory.

    Raises:
        WriteError: the file cannot be written (disk full, permissions). If
            the rename has not happened, `path` is untouched and the temp
            file removed; `renamed` says whether it had.
    """
    directory = path.parent
    tmp: Path | None = None
    renamed = False
    try:
        fd, name = tempfile.mkstemp(prefix=temp_prefix(path), dir=directory)
        tmp = Path(name)
        try:
            # mkstemp makes the file 0600; keep the mode the user gave the
            # file, if there is one already.
            with contextlib.suppress(FileNotFoundError):
                os.fchmod(fd, stat.S_IMODE(os.stat(path).st_mode))
            _write_all(fd, pieces)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        tmp = None
        renamed = True
        fsync_dir(directory)
    except OSError as error:
        raise _failed(db, error, renamed=renamed) from error
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()


def identity_of(st: os.stat_result) -> FileIdentity:
    """What tells one version of a replaced file from the next."""
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


# --- the head file, through TinyDB --------------------------------------------------------------


class AtomicJSONStorage(Storage):
    """A TinyDB storage that reads once, writes atomically and batches writes.

    Used for the head file (meta and feed states, see `store/database.py`).

    Args:
        path: the file.
        readonly: refuse every write (a reader next to a running writer).
    """

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        super().__init__()
        self.path = path
        self.readonly = readonly
        self._data: Tables | None = None
        self._depth = 0
        self._dirty = False
        self._identity: FileIdentity | None = None

    # --- TinyDB's interface -------------------------------------------------

    def read(self) -> Tables | None:
        """Give TinyDB the in-memory data, loading the file on first use.

        The same dict is returned every time and TinyDB updates it in place,
        which is what lets a batch hold many operations before one write.
        """
        if self._data is None:
            self._data = self.load()
        return self._data

    def write(self, data: Tables) -> None:
        """Take TinyDB's new state: write it now, or only note it inside `deferred()`.

        Raises:
            StoreError: the storage is read-only, or the file cannot be written
                (the change is then dropped from memory too).
        """
        if self.readonly:
            raise StoreError(f"database {self.path} is open read-only")
        self._data = data
        self._dirty = True
        if self._depth == 0:
            try:
                self.flush()
            except BaseException:
                self.discard()
                raise

    def close(self) -> None:
        """Let go of the data (the store flushes every round before this)."""
        self._data = None

    # --- batching -------------------------------------------------------------

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Make TinyDB's writes in the body only mark the data dirty.

        The caller then writes once, with `flush()` or with `serialize()` and
        `write_pieces()`. Nestable.
        """
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    @property
    def dirty(self) -> bool:
        """Whether memory holds changes the file does not."""
        return self._dirty

    def discard(self) -> None:
        """Forget the in-memory data; the next read reloads the file."""
        self._data = None
        self._dirty = False

    def reset(self, data: Tables) -> None:
        """Adopt data just `load`ed and checked, in place of what memory holds."""
        self._data = data
        self._dirty = False

    # --- the file -------------------------------------------------------------

    def load(self) -> Tables:
        """Read and parse the file, recording its identity for `changed_on_disk`.

        A missing or empty file is an empty database (TinyDB treats an empty
        file the same way; there is nothing in it to lose).

        Returns:
            The tables, without any check of their contents.

        Raises:
            DamagedFileError: the bytes are not JSON or not an object of tables.
            StoreError: the file cannot be read at all (permissions, I/O).
        """
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            self._identity = None
            return {}
        except OSError as error:
            raise StoreError(f"cannot read database {self.path}: {error.strerror}") from error
        try:
            # fstat the descriptor we read from, so the identity recorded is
            # the one of these bytes even if a writer replaces the file now.
            self._identity = identity_of(os.fstat(fd))
            return read_tables(fd)
        except OSError as error:
            raise StoreError(f"cannot read database {self.path}: {error.strerror}") from error
        finally:
            os.close(fd)

    def serialize(self) -> list[bytes]:
        """The in-memory data as framed JSON; from here on it counts as written.

        Raises:
            StoreError: the storage is read-only, or a value cannot be JSON
                (orjson refuses lone surrogates in strings, for one).
        """
        if self.readonly:
            raise StoreError(f"database {self.path} is open read-only")
        data = self._data if self._data is not None else {}
        try:
            pieces = encode_tables((name, table.items()) for name, table in data.items())
        except orjson.JSONEncodeError as error:
            raise StoreError(f"cannot write database {self.path}: {error}") from error
        self._dirty = False
        return pieces

    def write_pieces(self, pieces: Sequence[bytes]) -> None:
        """Replace the file with `pieces` (see `replace_file`).

        Raises:
            StoreError: the file cannot be written (disk full, permissions).
        """
        if self.readonly:
            raise StoreError(f"database {self.path} is open read-only")
        try:
            replace_file(self.path, pieces, db=self.path)
        finally:
            with contextlib.suppress(OSError):
                self._identity = identity_of(self.path.stat())

    def flush(self) -> None:
        """Write the in-memory data now (`serialize` then `write_pieces`).

        Raises:
            StoreError: the file cannot be written.
        """
        self.write_pieces(self.serialize())

    def changed_on_disk(self) -> bool:
        """Whether the file is no longer the one last read or written.

        Every write replaces the file (new inode), so this is cheap and exact
        enough for a reader polling a writer's database.
        """
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return self._identity is not None
        return identity_of(st) != self._identity

    def remove_stale_temps(self) -> list[Path]:
        """Delete temp files a killed writer left behind; call with the lock held.

        Only the lock holder writes temp files, so while we hold it every
        temp file of this database is a leftover.

        Returns:
            The files removed.
        """
        removed = []
        prefix = temp_prefix(self.path)
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self.path.parent):
                if entry.name.startswith(prefix) and entry.is_file(follow_symlinks=False):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                        removed.append(Path(entry.path))
        return removed


# --- damaged files and the writer's lock ------------------------------------------------------


def _stamp(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def move_aside(path: Path, now: datetime | None = None) -> Path:
    """Rename a damaged database to `<db>.damaged-<UTC timestamp>`, never overwriting.

    Args:
        path: the damaged file.
        now: the time to stamp (defaults to the clock).

    Returns:
        Where the file now is.

    Raises:
        StoreError: the rename failed; the file is where it was.
    """
    base = path.with_name(f"{path.name}.damaged-{_stamp(now)}")
    aside = base
    n = 1
    # os.rename would silently replace an earlier aside file of the same
    # second; link() refuses an existing name, so nothing is ever lost.
    while True:
        try:
            os.link(path, aside)
            break
        except FileExistsError:
            n += 1
            aside = base.with_name(f"{base.name}-{n}")
        except OSError as error:
            if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
                raise StoreError(f"cannot move damaged database {path} aside: {error}") from error
            # A filesystem without hard links: the lock we hold keeps other
            # stancewatch writers away, so check-then-rename is safe enough.
            while aside.exists():
                n += 1
                aside = base.with_name(f"{base.name}-{n}")
            os.rename(path, aside)
            return aside
    os.unlink(path)
    return aside


def move_dir_aside(path: Path, now: datetime | None = None) -> Path:
    """Rename a directory to `<dir>.damaged-<UTC timestamp>`, never over another.

    Call with the writer's lock held: the check for a free name and the
    rename are two steps, and only stancewatch writers make these names.

    Raises:
        StoreError: the rename failed; the directory is where it was.
    """
    base = path.with_name(f"{path.name}.damaged-{_stamp(now)}")
    aside = base
    n = 1
    while aside.exists():
        n += 1
        aside = base.with_name(f"{base.name}-{n}")
    try:
        os.rename(path, aside)
    except OSError as error:
        raise StoreError(f"cannot move damaged database {path} aside: {error}") from error
    return aside


class WriterLock:
    """An exclusive `flock` on `<db>.lock`, holding the owner's pid.

    The lock file is never deleted: unlinking it while another process waits
    on the old inode would let two writers each hold "the" lock.

    Args:
        db_path: the database the lock guards.
    """

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.path = db_path.with_name(db_path.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock without waiting and write our pid into the file.

        Raises:
            StoreLockedError: another process (or another open Store in this
                process) holds it.
            StoreError: the lock file cannot be created.
        """
        try:
            # No O_TRUNC: the file may hold the running owner's pid, which the
            # error message needs.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise StoreError(f"cannot create lock file {self.path}: {error.strerror}") from error
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise StoreLockedError(
                f"database {self.db_path} is in use by another stancewatch (pid {pid}); "
                "close that one or pass --db to use another file"
            ) from None
        except OSError as error:
            os.close(fd)
            raise StoreError(f"cannot lock {self.path}: {error.strerror}") from error
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Let go of the lock (closing the descriptor releases the flock)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)


def _read_pid(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return "unknown"
    return text if text.isdigit() else "unknown"
