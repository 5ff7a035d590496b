"""What the parse pool's fork server loads once, so each worker it forks starts ready.

A worker needs feedparser, the parser and the extractor's modules (about
0.5 s of imports, most of it compiling the extractor's regexes) and an
extractor built for the config (another 0.3-0.5 s, more regex compiling).
Started with `spawn`, every worker paid all of it, every round: two workers
cost as much CPU as parsing 3,000 entries. The fork server imports this
module once; the workers it forks inherit the imports, and the pattern
caches filled by building an extractor from the bundled actors and topics,
so a worker builds the extractor for its config from those caches instead
of from nothing (a config's own patterns are the only ones still compiled).
The compiling itself is mostly skipped too, after the first run: the
compiled patterns are read from `sources.extraction.pattern_cache`.

Importing this module has those side effects (and freezes what it loaded,
below) and nothing else; no code calls into it.
"""

from __future__ import annotations

import gc

import sources.fastparse  # noqa: F401 - imported for the fork server's children
import sources.itemize  # noqa: F401
import sources.parse  # noqa: F401
import sources.worker  # noqa: F401
from sources.extraction import Extractor, load_default_specs, pattern_cache


def _warm_pattern_caches() -> None:
    try:
        Extractor(*load_default_specs())
    except Exception:  # noqa: BLE001 - a worker builds its own extractor anyway
        return
    pattern_cache.save()


_warm_pattern_caches()
# The workers forked from here never free what was loaded above: out of the
# collector's reach, it is not traversed by every full collection in each
# worker, nor its pages copied on write by the collector touching them (the
# `gc.freeze` documentation's advice for servers that fork).
gc.freeze()
