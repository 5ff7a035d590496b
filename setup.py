"""Compiles the extractor with mypyc when it can; the metadata lives in pyproject.toml.

The extractor runs on every new item of every poll round, and the HTML cleaner
and the fast feed parser on every entry; their time goes to Python-level loops
over matches, tokens and words. mypyc compiles those same typed modules to C
extension modules: the extractor reads ~1.3x more items per second and the
fast path parses ~1.2x more entries, with output identical to the interpreted
modules (see `tests/test_compiled.py`). The `.py` files stay the source of truth and run
as they are wherever the compiled modules are missing.

Compiling needs a C compiler and Python's headers. Without them (or with
STANCEWATCH_PURE_PYTHON=1 in the environment) the install goes on with the
pure-Python modules: each extension is marked optional, so a failed compile is
a warning, not a failed install.
"""

from __future__ import annotations

import os

from setuptools import Extension, setup

COMPILED = [
    "sources/clean.py",
    "sources/fastparse.py",
    "sources/extraction/actors.py",
    "sources/extraction/cues.py",
    "sources/extraction/extractor.py",
    "sources/extraction/lexicon.py",
    "sources/extraction/literals.py",
    "sources/extraction/sentences.py",
    "sources/extraction/specs.py",
    "sources/extraction/stance.py",
    "sources/extraction/topics.py",
    "sources/extraction/trie.py",
]


def compiled_extensions() -> list[Extension]:
    """The mypyc extensions of COMPILED, or none when compiling is off or unavailable."""
    if os.environ.get("STANCEWATCH_PURE_PYTHON", "") not in ("", "0"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        return []
    extensions = mypycify(COMPILED, group_name="stancewatch")
    for extension in extensions:
        extension.optional = True
    return extensions


setup(ext_modules=compiled_extensions())
