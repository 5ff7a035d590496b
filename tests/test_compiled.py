"""The modules mypyc compiles (see setup.py) give exactly what their `.py` files give.

The installed package's extractor, HTML cleaner and fast feed parser are
compiled wherever a C compiler was at hand; the test suite imports the work
tree's `.py` files. Both run here in subprocesses: the installed package from
outside the work tree, and the work tree with compiled modules hidden. Every
input of a bounded `extract_equivalence` run must give the same tags,
statements and analyses on both, with the default config and with 5,000
extra aliases; every document of the shared feed corpus and the benchmark's
generated feeds must parse to the same `ParsedFeed`.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import random
import subprocess
from pathlib import Path

import pytest

from tests.bench.bench_extract import extra_actors
from tests.bench.extract_equivalence import (
    CHOOSE_SOURCES,
    Worker,
    compare_outputs,
    start_script,
)
from tests.bench.gen_feeds import feed_document
from tests.conftest import stale_compiled_modules

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "feed-corpus"
COMPILED_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)

_PARSER = (
    CHOOSE_SOURCES
    + r"""
import hashlib, json
from datetime import UTC, datetime
from sources import clean, fastparse
from sources.parse import parse_document

print(json.dumps([fastparse.__file__, clean.__file__]), flush=True)
now = datetime(2026, 11, 29, 12, tzinfo=UTC)
for line in sys.stdin:
    path, content_type = json.loads(line)
    headers = {"content-type": content_type} if content_type else {}
    parsed = parse_document(open(path, "rb").read(), headers, "https://feed.example/f", now)
    # The dataclasses' repr shows every field, entries and dates included.
    print(hashlib.sha256(repr(parsed).encode()).hexdigest(), len(parsed.entries), flush=True)
"""
)


def _answer(side: subprocess.Popen[str]) -> str:
    assert side.stdout is not None
    return side.stdout.readline()


def test_the_compiled_extractor_finds_what_its_python_source_finds(tmp_path: Path) -> None:
    extra = extra_actors(5000, random.Random(20240601))
    installed = Worker(extra, None, pure=False, cwd=tmp_path)
    source = Worker(extra, ROOT, pure=True, cwd=ROOT)
    try:
        assert source.module_file == str(ROOT / "sources" / "extraction" / "extractor.py")
        if not installed.module_file.endswith(COMPILED_SUFFIXES):
            pytest.skip(
                f"the installed extractor is not compiled ({installed.module_file}): "
                "no C compiler when it was installed, or STANCEWATCH_PURE_PYTHON was set"
            )
        compared, statements, differences = compare_outputs(
            installed.run, source.run, items=40, fuzz=300
        )
    finally:
        installed.close()
        source.close()
    assert not differences, "\n".join(differences)
    assert compared > 1000
    assert statements > 500


def test_the_compiled_parser_reads_every_document_as_its_python_source_does(
    tmp_path: Path,
) -> None:
    documents: list[tuple[str, str]] = []
    for number in range(25):
        body, content_type = feed_document(number, 20)
        path = tmp_path / f"bench-{number}.xml"
        path.write_bytes(body)
        documents.append((str(path), content_type))
    if CORPUS.is_dir():
        for path in sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix != ".txt"):
            documents.append((str(path), "application/xml"))
    sides = [
        start_script(_PARSER, None, pure=False, cwd=tmp_path),
        start_script(_PARSER, ROOT, pure=True, cwd=ROOT),
    ]
    try:
        installed, source = (json.loads(_answer(side)) for side in sides)
        assert source == [
            str(ROOT / "sources" / "fastparse.py"),
            str(ROOT / "sources" / "clean.py"),
        ]
        if not all(path.endswith(COMPILED_SUFFIXES) for path in installed):
            pytest.skip(f"the installed parser is not compiled ({installed})")
        differences: list[str] = []
        entries = 0
        for document, content_type in documents:
            for side in sides:
                assert side.stdin is not None
                side.stdin.write(json.dumps([document, content_type]) + "\n")
                side.stdin.flush()
            answers = [_answer(side) for side in sides]
            entries += int(answers[1].split()[1])
            if answers[0] != answers[1]:
                differences.append(document)
    finally:
        for side in sides:
            assert side.stdin is not None
            side.stdin.close()
            side.wait(timeout=60)
    assert not differences, differences[:20]
    assert entries >= 25 * 20


def test_a_compiled_module_older_than_its_source_is_found(tmp_path: Path) -> None:
    package = tmp_path / "sources" / "extraction"
    package.mkdir(parents=True)
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    for name, compiled_first in (("fresh", False), ("edited", True)):
        source, compiled = package / f"{name}.py", package / f"{name}{suffix}"
        first, second = (compiled, source) if compiled_first else (source, compiled)
        first.write_text("")
        second.write_text("")
        # Explicit times: two writes in a row may share one file-system tick.
        os.utime(first, (1_000_000, 1_000_000))
        os.utime(second, (2_000_000, 2_000_000))
    assert stale_compiled_modules(tmp_path) == ["sources/extraction/edited.py"]
