"""The part files beside the head: item segments, the catalog bases and deltas.

A database `D` is the head file `D` (see `store/database.py`) and the
folder `D.d` of part files it names. Every part is written once, under a
name no committed head has used (`<kind>-<number>.json`, numbered from a
counter kept in the head), fsynced, and only then named by a new head;
it is never changed afterwards, and it is deleted only once a committed
head no longer names it. So a kill at any moment leaves at worst files no
head names: the next writer's `PartsDir.sweep` removes them.

Kinds of part, all framed TinyDB JSON (`store/storage.py`):

- `seg-N.json`: table `items`, item documents, **one per line**, so the
  catalog can point at an item's bytes (offset, length) and `item(id)`
  reads and parses just those. Segments are append-only: an item edited
  or retired leaves its old bytes behind as garbage until the segment is
  merged (`store/catalog.py`).
- `index-N.json`: tables `items` (item id -> {h: content hash, f: feed, t:
  fetched, s: segment number, o: offset, n: length}) and `refs`
  (statement id -> {i: item id}): everything a poll round needs, without
  item bodies or statement text.
- `statements-N.json`: table `statements`, the statement documents.
- `delta-N.json`: one round's changes to the two above (tables `items`,
  `items_gone`, `refs`, `statements`, `statements_gone`), applied in the
  order the head lists them; folded into new bases now and then.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Collection, Container, Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from .storage import (
    DamagedFileError,
    Tables,
    fsync_dir,
    read_tables,
    write_new_file,
)

PART_NAME = re.compile(r"(seg|index|statements|delta)-(\d{6,})\.json")
"""What a part's file name looks like; `sweep` touches nothing else."""


def part_name(kind: str, number: int) -> str:
    """The file name of part `number` of `kind` ("seg", "index", "statements", "delta")."""
    return f"{kind}-{number:06d}.json"


def parts_dir(db: Path) -> Path:
    """The folder of a database's part files: `<db>.d` beside it."""
    return db.with_name(db.name + ".d")


# --- segments -------------------------------------------------------------------------------


def item_member(item_id: str, doc: Any) -> bytes:
    """An item's line in a segment: `"<id>":{...}`, JSON without a newline.

    Raises:
        orjson.JSONEncodeError: the document is not JSON.
    """
    return b"".join((orjson.dumps(item_id), b":", orjson.dumps(doc)))


_SEGMENT_HEAD = b'{\n"items":{\n'
_SEGMENT_TAIL = b"}\n}\n"


def encode_segment(
    members: Sequence[tuple[str, bytes]],
) -> tuple[list[bytes], dict[str, tuple[int, int]]]:
    """Lay out a segment, one member per line, and say where each one is.

    Args:
        members: (item id, `item_member` bytes) pairs.

    Returns:
        (the file's pieces, item id -> (offset, length) of its member).
    """
    pieces = [_SEGMENT_HEAD]
    where: dict[str, tuple[int, int]] = {}
    pos = len(_SEGMENT_HEAD)
    for k, (item_id, member) in enumerate(members):
        if k:
            pieces.append(b",")
            pos += 1
        where[item_id] = (pos, len(member))
        pieces.append(member)
        pieces.append(b"\n")
        pos += len(member) + 1
    pieces.append(_SEGMENT_TAIL)
    return pieces, where


def decode_member(item_id: str, member: bytes) -> dict[str, Any]:
    """The item document in a segment member read at its recorded place.

    Raises:
        DamagedFileError: the bytes there are not this item's member.
    """
    try:
        parsed = orjson.loads(b"".join((b"{", member, b"}")))
    except orjson.JSONDecodeError as error:
        raise DamagedFileError(f"item {item_id} is not where the index says") from error
    doc = parsed.get(item_id) if len(parsed) == 1 else None
    if type(doc) is not dict:
        raise DamagedFileError(f"item {item_id} is not where the index says")
    return doc


# --- the folder -----------------------------------------------------------------------------


class PartsDir:
    """The `<db>.d` folder: writing, opening and sweeping part files.

    Args:
        db: the database (head file) the parts belong to.
    """

    def __init__(self, db: Path) -> None:
        self.db = db
        self.path = parts_dir(db)

    def ensure(self) -> None:
        """Create the folder if it is missing (writers only).

        Raises:
            OSError: it cannot be created.
        """
        self.path.mkdir(exist_ok=True)

    def write(self, name: str, pieces: Sequence[bytes], mode: int) -> int:
        """Write and fsync a new part; return its size.

        Raises:
            StoreError: it cannot be written; nothing of it is left.
        """
        return write_new_file(self.path / name, pieces, db=self.db, mode=mode)

    def sync(self) -> None:
        """Make the new parts' names durable before a head names them."""
        fsync_dir(self.path)

    def open(self, name: str) -> int:
        """A read-only descriptor on a part.

        Raises:
            FileNotFoundError: there is no such part.
            OSError: it cannot be opened.
        """
        return os.open(self.path / name, os.O_RDONLY)

    def remove(self, names: Iterable[str]) -> None:
        """Delete parts no committed head names any more (missing ones are fine)."""
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path / name)

    def sweep(self, keep: Container[str]) -> list[Path]:
        """Delete every part the head does not name; call with the lock held.

        Only the lock holder writes here, so while we hold it any part the
        head does not name was left by a writer killed mid-round (or made
        obsolete by a round whose clean-up a kill cut short). Files that do
        not look like parts are left alone.

        Returns:
            The files removed.
        """
        removed = []
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self.path):
                ours = PART_NAME.fullmatch(entry.name)
                if ours and entry.name not in keep and entry.is_file(follow_symlinks=False):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                        removed.append(Path(entry.path))
        return removed

    def files(self, names: Collection[str]) -> list[Path]:
        """Paths of the named parts."""
        return [self.path / name for name in names]


def read_part(fd: int, name: str, wanted: Container[str] | None = None) -> Tables:
    """Parse a pinned part (see `read_tables`), naming it in any error.

    Raises:
        DamagedFileError: it is not JSON of the expected shape.
    """
    try:
        return read_tables(fd, wanted)
    except DamagedFileError as damage:
        raise DamagedFileError(f"{name}: {damage.reason}") from None
    except OSError as error:
        raise DamagedFileError(f"{name}: cannot be read: {error.strerror}") from None


def read_member(fd: int, name: str, item_id: str, offset: int, length: int) -> dict[str, Any]:
    """Read one item's document from a pinned segment.

    Raises:
        DamagedFileError: the bytes there are not the item (or cannot be read).
    """
    try:
        member = os.pread(fd, length, offset)
    except OSError as error:
        raise DamagedFileError(f"{name}: cannot be read: {error.strerror}") from None
    if len(member) != length:
        raise DamagedFileError(f"{name}: shorter than the index says")
    try:
        return decode_member(item_id, member)
    except DamagedFileError as damage:
        raise DamagedFileError(f"{name}: {damage.reason}") from None
