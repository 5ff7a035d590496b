"""Instructions the extractor runs per item, counted by callgrind (a bench script).

Usage:
    .venv/bin/python tests/bench/instructions_extract.py [--base REV ...] [--mix news]
        [--items 300]

Wall-clock A/B runs of `bench_extract.py` move by ±2% on a shared machine,
which hides the changes a speed-up of the extractor is made of. Instruction
counts do not move with load: under `valgrind --tool=callgrind` the same
Python, hash seed and items give the same count, run after run. Each tree is
counted twice, extracting the items once and twice; the difference divided by
the number of items is the cost of an item with imports, config compilation
and interpreter start-up taken out.

Without `--base` it counts this working tree; each `--base REV` adds the
`sources/` of that commit (unpacked into a temporary directory), so
`--base HEAD` shows what the uncommitted change is worth. Needs valgrind
(Debian/Ubuntu: `sudo apt-get install -y valgrind`); a count takes about a
minute per tree.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.bench_extract import MIXES  # noqa: E402
from tests.bench.extract_equivalence import _unpack  # noqa: E402

_DRIVER = r"""
import random, sys
tree, bench, mix = sys.argv[1:4]
count, passes = int(sys.argv[4]), int(sys.argv[5])
sys.path.insert(0, tree)
# Imported before bench_extract, which puts its own checkout first on sys.path;
# nor may an editable install of the project stand in for the tree asked for.
import sources
assert sources.__file__.startswith(tree + "/"), sources.__file__
from sources.extraction import Extractor, load_default_specs
sys.path.insert(0, bench)
from bench_extract import make_item
extractor = Extractor(*load_default_specs())
rng = random.Random(20240601)
items = [make_item(rng, mix) for _ in range(count)]
for _ in range(passes):
    for item in items:
        extractor.extract(item)
"""

_COLLECTED = re.compile(r"Collected : (\d+)")


def _instructions(tree: Path, mix: str, items: int, passes: int) -> int:
    # A fixed hash seed: set and dict order (and so the work done) is the same every run.
    env = dict(os.environ, PYTHONHASHSEED="0")
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            _DRIVER,
            str(tree),
            str(ROOT / "tests" / "bench"),
            mix,
            str(items),
            str(passes),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        lines = [line for line in done.stderr.splitlines() if not line.startswith("==")]
        raise SystemExit(f"error: callgrind run on {tree} failed: " + " | ".join(lines[-3:]))
    return int(found.group(1))


def per_item(tree: Path, mix: str, items: int) -> float:
    """Instructions per extracted item in `tree` (a directory holding `sources/`)."""
    once = _instructions(tree, mix, items, 1)
    twice = _instructions(tree, mix, items, 2)
    return (twice - once) / items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Instructions per item of the extractor (callgrind), here and at --base revs."
    )
    parser.add_argument(
        "--base",
        action="append",
        default=[],
        metavar="REV",
        help="also count the sources/ of this commit (repeatable)",
    )
    parser.add_argument(
        "--mix", choices=sorted(MIXES), default="news", help="item mix (default news)"
    )
    parser.add_argument("--items", type=int, default=300, help="items per pass (default 300)")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print(
            "error: valgrind is not installed; on Debian/Ubuntu: sudo apt-get install -y valgrind",
            file=sys.stderr,
        )
        return 2
    print(
        f"{sys.implementation.name} {sys.version.split()[0]}, {args.mix} mix, {args.items} items",
        flush=True,
    )
    figures: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="stancewatch-ir-") as scratch:
        for rev in args.base:
            tree = Path(scratch) / re.sub(r"\W", "_", rev)
            tree.mkdir()
            _unpack(rev, tree)
            figures.append((rev, per_item(tree, args.mix, args.items)))
            print(f"{rev:>12}: {figures[-1][1]:,.0f} instructions/item", flush=True)
        here = per_item(ROOT, args.mix, args.items)
        print(f"{'this tree':>12}: {here:,.0f} instructions/item", end="")
        if figures:
            changes = ", ".join(f"{(here / ir - 1) * 100:+.2f}% vs {rev}" for rev, ir in figures)
            print(f" ({changes})", end="")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
