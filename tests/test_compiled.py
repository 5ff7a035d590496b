"""The extractor compiled by mypyc (see setup.py) finds exactly what its `.py` files find.

The installed package's extractor is compiled wherever a C compiler was at
hand; the test suite imports the work tree's. Both run here in subprocesses:
the installed package from outside the work tree, and the work tree with
compiled modules hidden, so the `.py` files themselves run. Every input of a
bounded `extract_equivalence` run must give the same tags, statements and
analyses on both, with the default config and with 5,000 extra aliases.
"""

from __future__ import annotations

import importlib.machinery
import os
import random
from pathlib import Path

import pytest

from tests.bench.bench_extract import extra_actors
from tests.bench.extract_equivalence import Worker, compare_outputs
from tests.conftest import stale_compiled_modules

ROOT = Path(__file__).resolve().parents[1]


def test_the_compiled_extractor_finds_what_its_python_source_finds(tmp_path: Path) -> None:
    extra = extra_actors(5000, random.Random(20240601))
    installed = Worker(extra, None, pure=False, cwd=tmp_path)
    source = Worker(extra, ROOT, pure=True, cwd=ROOT)
    try:
        assert source.module_file == str(ROOT / "sources" / "extraction" / "extractor.py")
        if not installed.module_file.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)):
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
