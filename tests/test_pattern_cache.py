"""The on-disk cache of compiled regexes gives exactly what compiling them gives.

Each run is a fresh process with its own cache directory, as a `poll --once`
is: the first builds the default extractor and writes the cache, the next
builds it from the file. A damaged file, one written by another Python, or
a cache directory that cannot be written must cost time, never a wrong regex
or an error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sources.extraction import pattern_cache

ROOT = Path(__file__).resolve().parents[1]

_RUN = r"""
import json, re
from sources.extraction import Extractor, load_default_specs, literals, pattern_cache

loaded = pattern_cache._from_file
extractor = Extractor(*load_default_specs())
learnt = pattern_cache._learnt
kept = list(literals._KEPT.items())
unequal = [source for (source, flags), regex in kept if regex != re.compile(source, flags)]
texts = [
    "Russian envoy Vassily Nebenzia said Moscow would only back peacekeepers under a UN mandate.",
    "France is considering sending troops to Ukraine, Barrot told reporters on Tuesday.",
    "Kremlin: no talks on a ceasefire until NATO membership for Ukraine is off the table",
]
found = [
    [[s.actor, s.topic, s.stance.value, s.condition, s.cue] for s in extractor.extract(text)]
    for text in texts
]
pattern_cache.save()
print(json.dumps({
    "loaded": loaded, "learnt": learnt, "kept": len(kept), "unequal": unequal, "found": found,
}))
"""


def _python(script: str, cache_home: Path, *args: str) -> dict[str, Any]:
    """The JSON a fresh process running `script` prints, with its cache in `cache_home`."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _run(cache_home: Path) -> dict[str, Any]:
    return _python(_RUN, cache_home)


def _cache_file(cache_home: Path) -> Path:
    files = list((cache_home / "stancewatch").glob("patterns-*.bin"))
    assert len(files) == 1, files
    return files[0]


def test_a_second_run_builds_the_extractor_from_the_file_with_the_same_results(
    tmp_path: Path,
) -> None:
    first = _run(tmp_path)
    assert first["loaded"] == 0
    assert first["learnt"]
    assert first["kept"] > 100
    assert _cache_file(tmp_path).stat().st_size > 0
    second = _run(tmp_path)
    assert second["loaded"] > first["kept"]  # compiled code and facts about patterns
    assert not second["learnt"], "the second run had to compile or parse a pattern again"
    assert second["unequal"] == []
    assert second["found"] == first["found"]
    assert any(second["found"]), "the sample sentences should state something"


def test_a_damaged_or_foreign_file_is_ignored_and_replaced(tmp_path: Path) -> None:
    first = _run(tmp_path)
    path = _cache_file(tmp_path)
    damaged_data = bytearray(path.read_bytes())
    damaged_data[len(damaged_data) // 2] ^= 0xFF
    path.write_bytes(bytes(damaged_data))
    damaged = _run(tmp_path)
    assert damaged["loaded"] == 0
    assert damaged["unequal"] == []
    assert damaged["found"] == first["found"]
    assert _run(tmp_path)["loaded"] > 0, "the damaged file was not replaced"

    # Another Python's file has the same name pattern but its own version line.
    data = path.read_bytes()
    header_end = data.index(b"\n", data.index(b"\n") + 1)
    path.write_bytes(data.replace(data[:header_end], data[:header_end] + b"+other", 1))
    foreign = _run(tmp_path)
    assert foreign["loaded"] == 0
    assert foreign["found"] == first["found"]

    path.write_bytes(data[:100])  # cut short
    assert _run(tmp_path)["loaded"] == 0


def test_a_cache_directory_that_cannot_be_written_costs_nothing_but_time(
    tmp_path: Path,
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache directory would go\n")
    first = _run(blocked)
    second = _run(blocked)
    assert second["loaded"] == 0
    assert second["unequal"] == []
    assert second["found"] == first["found"]


def test_patterns_and_facts_round_trip_in_this_process() -> None:
    source = r"(?P<who>Moscow|Kyiv)\s+(?:said|says)(?=\W)"
    regex = pattern_cache.compiled(source, 0)
    assert regex == __import__("re").compile(source)
    assert regex.groupindex == {"who": 1}
    assert regex.match("Kyiv said.") is not None
    calls = []

    def compute() -> tuple[str, ...]:
        calls.append(1)
        return ("kyiv", "moscow")

    key = f"{source} (a pattern only this test uses)"
    assert pattern_cache.remembered("test-fact", key, 0, compute) == ("kyiv", "moscow")
    assert pattern_cache.remembered("test-fact", key, 0, compute) == ("kyiv", "moscow")
    assert len(calls) == 1


_PRUNE = r"""
import json, sys
from sources.extraction import pattern_cache

pattern_cache._MAX_BYTES = int(sys.argv[1])
loaded = pattern_cache._from_file
pattern_cache.compiled(r"only (?:this|that) run " + sys.argv[1], 0)  # new: a save writes
pattern_cache.save()
print(json.dumps({"loaded": loaded}))
"""


def test_a_file_past_its_size_keeps_only_what_the_saving_process_used(tmp_path: Path) -> None:
    def prune_run(max_bytes: int) -> int:
        loaded: int = _python(_PRUNE, tmp_path, str(max_bytes))["loaded"]
        return loaded

    full = _run(tmp_path)  # the default extractor's patterns, and the import's
    size = _cache_file(tmp_path).stat().st_size
    complete = prune_run(1 << 40)
    assert complete > full["kept"]
    assert _cache_file(tmp_path).stat().st_size > size  # one more pattern, nothing dropped
    prune_run(1)  # this process used only the import's patterns and its own
    assert _cache_file(tmp_path).stat().st_size < size * 0.8
    again = _run(tmp_path)
    assert 0 < again["loaded"] < complete
    assert again["learnt"], "the default extractor's patterns should have been dropped"
    assert again["found"] == full["found"]
