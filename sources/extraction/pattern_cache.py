"""What compiling and reading the extractor's regexes gives, kept on disk between runs.

Building an extractor compiles ~550 regexes, some of them thousands of
characters long, and parses ~400 more to learn their literal prefixes. That
is ~0.3 s of `re`'s pure-Python parser and compiler, and in a `poll --once`
it happens in the parse pool's fork server while every fetched feed waits
for a worker. The results depend only on the pattern, its flags and the
Python running them, so they are kept in a file in the user's cache
directory, and the next process builds its regexes from there:
`_sre.compile` takes compiled code directly (and checks it before use).

`re`'s compiler internals are private API. Each process first checks that
they still build exactly what `re.compile` builds, on a probe pattern
(`re.Pattern` equality compares the compiled code); where they do not, or
the file is missing, damaged or written by another Python, everything is
computed as before. The file is only rewritten when a process learnt
something new (`save`), and atomically, so two processes racing cost a write
and nothing else. The file is the user's own, like the config: its digest
catches damage (a cut-short write, a flipped bit), not a forger with write
access to the user's files.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

try:  # private API: without it, patterns are compiled by `re` every time
    import _sre  # type: ignore[import-not-found]
    from re import _compiler, _parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - other Pythons
    _sre = None
    _compiler = _parser = None

__all__ = ["cache_path", "compiled", "remembered", "save"]

T = TypeVar("T")
Key = tuple[str, str, int]
"""(what, pattern, flags): "code" for compiled code, or the name of an analysis."""

_HEADER = b"stancewatch pattern cache 1\n"
_DIGEST_SIZE = 32
_MAX_ENTRIES = 5000
_MAX_BYTES = 32 * 1024 * 1024
"""Past either, a save keeps only what the saving process used: configs come
and go (one with 5,000 extra aliases adds ~1.2 MB), and the file should not
grow with every one of them."""
_PROBE = (r"(?P<word>\w+)(?=\s)|[a-zé]{2,}(?-i:X)|(?:ab)*?\b\d{2}$", re.IGNORECASE)
"""Named and numbered groups, a lookahead, a local flag, classes and repeats."""

_entries: dict[Key, Any] | None = None
"""None until the first use loads the file."""
_enabled = False
"""Whether this Python's compiler internals passed the probe."""
_from_file = 0
"""Entries the file gave this process."""
_used: set[Key] = set()
_learnt = False


def cache_path() -> Path:
    """The cache file for this Python (another version keeps its own)."""
    import platformdirs

    tag = sys.implementation.cache_tag or "python"
    return Path(platformdirs.user_cache_dir("stancewatch")) / f"patterns-{tag}.bin"


def _python_tag() -> bytes:
    # The compiled code belongs to this exact build of `re` and `_sre`.
    magic = getattr(_sre, "MAGIC", None)
    return f"{sys.version}|{magic}|{getattr(_sre, 'CODESIZE', None)}\n".encode()


def _load() -> dict[Key, Any]:
    global _entries, _enabled, _from_file
    if _entries is not None:
        return _entries
    _entries = {}
    _enabled = _sre is not None and _probe_agrees()
    if not _enabled:
        return _entries
    try:
        data = cache_path().read_bytes()
    except (OSError, ValueError):
        return _entries
    head = _HEADER + _python_tag()
    body = data[len(head) + _DIGEST_SIZE :]
    digest = data[len(head) : len(head) + _DIGEST_SIZE]
    checked = hashlib.blake2b(body, digest_size=_DIGEST_SIZE).digest()
    if not data.startswith(head) or checked != digest:
        return _entries  # another Python's, or damaged: rebuilt by the next save
    try:
        loaded = marshal.loads(body)
    except (EOFError, ValueError, TypeError):
        return _entries
    if isinstance(loaded, dict):
        _entries = loaded
        _from_file = len(loaded)
    return _entries


def _probe_agrees() -> bool:
    try:
        ours = _sre.compile(_PROBE[0], *_code_of(*_PROBE))
        return bool(ours == re.compile(*_PROBE))
    except Exception:  # noqa: BLE001 - internals not as expected: no cache
        return False


_Arguments = tuple[int, list[int], int, dict[str, int], tuple[Any, ...]]


def _code_of(source: str, flags: int) -> _Arguments:
    """`_sre.compile`'s arguments after the pattern, as `re._compiler.compile` makes them."""
    parsed = _parser.parse(source, flags)
    code = _compiler._code(parsed, flags)  # noqa: SLF001
    groupindex = dict(parsed.state.groupdict)
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    # Plain ints: the compiler's opcodes are an int subclass marshal cannot write.
    return (
        int(flags | parsed.state.flags),
        [int(word) for word in code],
        parsed.state.groups - 1,
        groupindex,
        tuple(indexgroup),
    )


def compiled(source: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile(source, flags)`, from the cache when this Python compiled it before.

    Raises:
        re.error: the pattern is not valid.
    """
    flags = int(flags)
    entries = _load()
    key: Key = ("code", source, flags)
    found = entries.get(key)
    if found is not None:
        try:
            regex: re.Pattern[str] = _sre.compile(source, *found)
        except Exception:  # noqa: BLE001 - a bad entry: compile it again
            entries.pop(key, None)
        else:
            _used.add(key)
            return regex
    if not _enabled:
        return re.compile(source, flags)
    arguments = _code_of(source, flags)
    regex = _sre.compile(source, *arguments)
    _remember(key, arguments)
    return regex


def remembered(what: str, source: str, flags: int, compute: Callable[[], T]) -> T:
    """`compute()`, a fact about the pattern `source` with `flags`, cached like compiled code.

    Args:
        what: which fact (a name of the caller's own, not "code").
        source: the pattern.
        flags: its flags.
        compute: works the fact out; its result must be marshal-able
            (None, str, int, tuples and lists of them).

    Returns:
        The fact.
    """
    entries = _load()
    key: Key = (what, source, int(flags))
    if key in entries:
        _used.add(key)
        value: T = entries[key]
        return value
    value = compute()
    _remember(key, value)
    return value


def _remember(key: Key, value: Any) -> None:
    global _learnt
    if _entries is None or not _enabled:
        return
    _entries[key] = value
    _used.add(key)
    _learnt = True


def save() -> None:
    """Write what this process learnt to the cache file; a failure to write is ignored.

    Only a process that compiled something new writes, so the usual run
    costs nothing here.
    """
    global _learnt
    if not _learnt or _entries is None:
        return
    entries = _entries
    if len(entries) > _MAX_ENTRIES:
        entries = {key: value for key, value in entries.items() if key in _used}
    try:
        body = marshal.dumps(entries)
        if len(body) > _MAX_BYTES and len(entries) > len(_used):
            entries = {key: value for key, value in entries.items() if key in _used}
            body = marshal.dumps(entries)
    except ValueError:  # something not marshal-able slipped in: keep no file
        return
    digest = hashlib.blake2b(body, digest_size=_DIGEST_SIZE).digest()
    path = cache_path()
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(_HEADER + _python_tag() + digest + body)
        os.replace(temporary, path)
    except OSError:  # a read-only home or a full disk: the cache is only a cache
        try:
            temporary.unlink(missing_ok=True)
        except OSError:
            pass
        return
    _learnt = False
