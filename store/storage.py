"""The database file: a TinyDB `Storage` that is atomic, batched and locked.

TinyDB's own `JSONStorage` fails us three ways (msiemens/tinydb
`tinydb/storages.py`):

1. it re-reads and rewrites the whole file on every table operation: 2,000
   single inserts took 5-45 s here, one `insert_multiple` of 2,000 took ms;
2. it writes in place (seek 0, write, truncate), so a kill mid-write leaves
   half a file;
3. it has no lock, so two processes read each other's half-written files.

`AtomicJSONStorage` answers each (TinyDB's `docs/extend.rst` invites custom
storages for this):

1. it reads the file once and keeps the data in memory; `write()` inside
   `deferred()` only marks the data dirty, and the store writes once at the
   end of a round, so one poll round is exactly one file write;
2. a write goes to a temp file in the same directory (so `os.replace` is a
   rename within one filesystem, atomic on POSIX), which is fsynced, renamed
   over the database, and the directory fsynced so the rename itself
   survives a power cut. A kill at any moment leaves either the old file or
   the new one, plus at worst a stale temp file that the next writer removes;
3. `WriterLock` holds `fcntl.flock` on `<db>.lock` while a writer is open.
   flock is released by the kernel when the process dies, however it dies,
   so a SIGKILLed writer never leaves a stale lock behind.

JSON goes through orjson, several times faster than the stdlib in both
directions on a file of this size.
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
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

from sources.errors import StoreError, StoreLockedError

Tables = dict[str, dict[str, Any]]
"""The whole database as TinyDB sees it: table name -> doc id -> document."""

FileIdentity = tuple[int, int, int, int]
"""(inode, size, mtime_ns, ctime_ns): changes whenever the file is replaced."""


class DamagedFileError(Exception):
    """Internal: the file is not a database; `reason` says why in a few words."""

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
exempt, and would leak if they later became cyclic garbage; the load happens
at open and at a reader's `reload`, so that is a handful of objects per
load, against a pause on every full collection. Small databases skip it.
"""


def _parse(fd: int, size: int) -> Any:
    """Parse the JSON behind `fd` with the collector paused (and maybe frozen after).

    The file is mapped rather than read: orjson parses straight from the
    page cache, which saved about 70 ms of 400 on a 110 MB file here and a
    second 110 MB copy in memory. Our writer never changes a file in place
    (it renames a new one over it, and the mapping keeps the old inode), so
    the mapping cannot shrink under the parser.

    Raises:
        DamagedFileError: not JSON.
    """
    try:
        view: Any = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        # A filesystem that cannot map files: read them.
        view = None
    try:
        with gc_paused():
            if view is None:
                data = orjson.loads(_read_all(fd))
            else:
                with memoryview(view) as buffer:
                    data = orjson.loads(buffer)
            if size >= FREEZE_BYTES:
                # See FREEZE_BYTES: keep the collector off this data for good.
                gc.freeze()
    except orjson.JSONDecodeError as error:
        raise DamagedFileError(f"not valid JSON: {error}") from error
    finally:
        if view is not None:
            view.close()
    return data


def _read_all(fd: int) -> bytes:
    with os.fdopen(fd, "rb", closefd=False) as handle:
        return handle.read()


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


def temp_prefix(path: Path) -> str:
    """The name prefix of this database's temp files, so stale ones can be found."""
    return f"{path.name}.tmp-"


def _fsync_dir(directory: Path) -> None:
    # A rename is an update of the directory; without this a power cut can
    # bring back the old name (see the rename notes in fsync(2)).
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class AtomicJSONStorage(Storage):
    """A TinyDB storage that reads once, writes atomically and batches writes.

    Args:
        path: the database file.
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
        `write_bytes()` (which lets the store write the file without holding
        its lock, see `Store._round`). Nestable.
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
            st = os.fstat(fd)
            self._identity = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            if st.st_size == 0:
                return {}
            data = _parse(fd, st.st_size)
        except OSError as error:
            raise StoreError(f"cannot read database {self.path}: {error.strerror}") from error
        finally:
            os.close(fd)
        if not isinstance(data, dict):
            raise DamagedFileError(f"top level is a JSON {type(data).__name__}, not an object")
        for name, table in data.items():
            if not isinstance(table, dict):
                raise DamagedFileError(f"table {name!r} is not an object")
        return data

    def serialize(self) -> bytes:
        """The in-memory data as JSON bytes; from here on it counts as written.

        Raises:
            StoreError: the storage is read-only, or a value cannot be JSON
                (orjson refuses lone surrogates in strings, for one).
        """
        if self.readonly:
            raise StoreError(f"database {self.path} is open read-only")
        try:
            blob = orjson.dumps(self._data if self._data is not None else {})
        except orjson.JSONEncodeError as error:
            raise StoreError(f"cannot write database {self.path}: {error}") from error
        self._dirty = False
        return blob

    def write_bytes(self, blob: bytes) -> None:
        """Replace the file with `blob`: temp file, fsync, rename, fsync the directory.

        Raises:
            StoreError: the file cannot be written (disk full, permissions).
                The database file is untouched and the temp file removed.
        """
        if self.readonly:
            raise StoreError(f"database {self.path} is open read-only")
        directory = self.path.parent
        tmp: Path | None = None
        try:
            fd, name = tempfile.mkstemp(prefix=temp_prefix(self.path), dir=directory)
            tmp = Path(name)
            with os.fdopen(fd, "wb") as handle:
                # mkstemp makes the file 0600; keep the mode the user gave the
                # database, if there is one already.
                with contextlib.suppress(FileNotFoundError):
                    os.fchmod(handle.fileno(), stat.S_IMODE(os.stat(self.path).st_mode))
                handle.write(blob)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
            tmp = None
            _fsync_dir(directory)
        except OSError as error:
            raise StoreError(
                f"cannot write database {self.path}: {error.strerror or error}"
            ) from error
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    tmp.unlink()
        with contextlib.suppress(OSError):
            st = self.path.stat()
            self._identity = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def flush(self) -> None:
        """Write the in-memory data now (`serialize` then `write_bytes`).

        Raises:
            StoreError: the file cannot be written.
        """
        self.write_bytes(self.serialize())

    def changed_on_disk(self) -> bool:
        """Whether the file is no longer the one last read or written.

        Every write replaces the file (new inode), so this is cheap and exact
        enough for a reader polling a writer's database.
        """
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return False
        return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) != self._identity

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
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = path.with_name(f"{path.name}.damaged-{stamp}")
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
