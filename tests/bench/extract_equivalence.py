"""Whether the extractor gives the same output as an earlier commit's (a check script).

Usage:
    .venv/bin/python tests/bench/extract_equivalence.py [--base REV | --installed]
        [--items N] [--fuzz N] [--hypothesis N]

A speed-up of the extractor must not change a single statement. This script
unpacks `sources/` as it was at `--base` (default HEAD) into a temporary
directory, runs that version in a subprocess, and feeds both versions the same
inputs through `tag`, `extract` and `analyse`, with the default actors and with
`bench_extract`'s 5,000 extra aliases. With `--installed` the two sides are the
installed package (whose extractor setup.py compiles with mypyc) and this
tree's `.py` files, loaded with compiled modules hidden. The inputs:

- both of `bench_extract`'s mixes, with and without headline-form titles;
- the labelled passages and the seed article under `/work/shared/eval/` (read
  by path, skipped when missing), whole and cut into lines;
- the entries of the real feeds under `/work/shared/feed-corpus/real-feeds/`;
- every sentence-like string literal of `tests/test_extraction*.py`;
- seeded random text stitched from all of the above, lexicon words, quotes,
  punctuation, line breaks and odd characters;
- Hypothesis-generated text from the same pieces and from arbitrary Unicode.

It prints how many inputs were compared and every difference (at most 20),
and exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import random
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sources.extraction import Extractor, load_default_specs  # noqa: E402
from sources.records import ActorSpec  # noqa: E402
from tests.bench.bench_extract import MIXES, extra_actors, make_item  # noqa: E402

EVAL = Path("/work/shared/eval")
REAL_FEEDS = Path("/work/shared/feed-corpus/real-feeds")

CHOOSE_SOURCES = r"""
import sys
root, pure = sys.argv[1], sys.argv[2] == "pure"
if pure:
    # Only the .py files under `root`: compiled modules beside them are not loaded.
    import importlib.machinery as machinery

    def source_only(path):
        if not path.startswith(root):
            raise ImportError(path)
        return machinery.FileFinder(path, (machinery.SourceFileLoader, machinery.SOURCE_SUFFIXES))

    sys.path_hooks.insert(0, source_only)
    sys.path_importer_cache.clear()
if root:
    sys.path.insert(0, root)
"""
"""The start of a subprocess script run with arguments (root, "pure" or "any"): imports
come from `root` (the installed package when empty), `.py` files only when "pure"."""

_WORKER = (
    CHOOSE_SOURCES
    + r"""
import dataclasses, json
from sources.extraction import Extractor, extractor, load_default_specs
from sources.records import ActorSpec, PersonSpec

sys.stdout.write(json.dumps(extractor.__file__) + "\n")
sys.stdout.flush()


def plain(value):
    if dataclasses.is_dataclass(value):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "value"):
        return value.value
    return value


actors, topics = load_default_specs()
extra = json.loads(sys.stdin.readline())
more = tuple(
    ActorSpec(a["id"], a["name"], tuple(a["aliases"]),
              tuple(PersonSpec(p["name"], tuple(p["aliases"]), p["role"]) for p in a["people"]))
    for a in extra
)
extractors = [Extractor(actors, topics), Extractor((*actors, *more), topics)]
for line in sys.stdin:
    which, text, title = json.loads(line)
    ex = extractors[which]
    out = [plain(ex.tag(text, title=title)), plain(ex.extract(text, title=title)),
           plain(ex.analyse(text, title=title)), plain(ex.extract(text))]
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
"""
)


def plain(value: Any) -> Any:
    """Records as JSON-able values, the same way the worker makes them."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "value"):
        return value.value
    return value


def _unpack(rev: str, into: Path) -> None:
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, "sources"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def _test_strings() -> list[str]:
    strings: list[str] = []
    for path in sorted((ROOT / "tests").glob("test_extraction*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if len(node.value) >= 15 and " " in node.value:
                    strings.append(node.value)
    return strings


def _eval_texts() -> list[str]:
    texts: list[str] = []
    if (EVAL / "dev.jsonl").exists():
        for line in (EVAL / "dev.jsonl").read_text("utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    if (EVAL / "seed-article.txt").exists():
        texts.append((EVAL / "seed-article.txt").read_text("utf-8"))
    return texts


def _feed_entries() -> list[tuple[str, str]]:
    if not REAL_FEEDS.is_dir():
        return []
    import feedparser

    from sources.clean import clean_text, html_to_text

    entries: list[tuple[str, str]] = []
    for path in sorted(REAL_FEEDS.glob("*.xml")):
        parsed = feedparser.parse(path.read_bytes())
        for entry in parsed.entries:
            title = clean_text(html_to_text(str(entry.get("title", ""))))
            summary = clean_text(html_to_text(str(entry.get("summary", ""))))
            entries.append((summary, title))
    return entries


_ODD = [
    '"',
    "“",
    "”",
    "«",
    "»",
    "„",
    "'",
    "’",
    "‘",
    ",",
    ".",
    ";",
    ":",
    "?",
    "!",
    "…",
    " - ",
    " – ",
    " — ",
    "(",
    ")",
    "\n",
    "\n\n",
    "  ",
    "\t",
    "İ",
    "ß",
    "Σ",
    "é",
    "U.S.",
    "Gen.",
    "'s",
    "n't",
    "\u00a0",
]


def _lexicon_words() -> list[str]:
    from sources.extraction import lexicon

    words: set[str] = set()

    def add(value: Any) -> None:
        if isinstance(value, str):
            # Words of regexes too: "(?:said|told)" gives "said" and "told".
            words.update(w for w in re.findall(r"[A-Za-z][\w'-]*", value) if len(w) > 1)
        elif isinstance(value, frozenset | tuple | list):
            for item in value:
                add(item)
        elif isinstance(value, dict):
            for key, item in value.items():
                add(key)
                add(item)

    for name in dir(lexicon):
        if not name.startswith("_"):
            add(getattr(lexicon, name))
    actors, topics = load_default_specs()
    for actor in actors:
        words.update((actor.name, *actor.aliases))
        for person in actor.people:
            words.update((person.name, *person.aliases, person.role))
    for topic in topics:
        words.update(topic.keywords)
        add((topic.patterns, topic.exclude))
    return sorted(w for w in words if w)


def _soup(rng: random.Random, pieces: list[str], sentences: list[str]) -> str:
    """Random text: whole sentences, cut sentences, and single words and marks."""
    parts: list[str] = []
    for _ in range(rng.randint(1, 40)):
        roll = rng.random()
        if roll < 0.25:
            parts.append(rng.choice(sentences))
        elif roll < 0.4:
            sentence = rng.choice(sentences)
            cut = sorted(rng.randrange(len(sentence) + 1) for _ in range(2))
            parts.append(sentence[cut[0] : cut[1]])
        elif roll < 0.55:
            parts.append(rng.choice(_ODD))
        else:
            parts.append(rng.choice(pieces))
    joiners = [" ", " ", " ", "", ", ", ". ", "\n", '" ', " “"]
    text = "".join(p + rng.choice(joiners) for p in parts)
    if rng.random() < 0.1:
        # Characters case-insensitive matching takes for other letters: "ſ"
        # for "s", "ı" and "İ" for "i", the Kelvin sign for "k".
        odd = {"s": "ſ", "i": "ıİ", "I": "İ", "k": "K", "K": "K"}
        text = "".join(rng.choice(odd[c]) if c in odd and rng.random() < 0.2 else c for c in text)
    return text


def inputs(items: int, fuzz: int) -> Iterator[tuple[str, str]]:
    """(text, title) pairs to compare on, in a fixed order."""
    rng = random.Random(7)
    titles: list[str] = [""]
    sentences: list[str] = []
    for mix in MIXES:
        for _ in range(items):
            text = make_item(rng, mix)
            sentences.extend(re.split(r"(?<=[.!?\"])\s+", text))
            yield text, ""
            first, _, rest = text.partition(". ")
            yield rest, first
            speaker = rng.choice(["Russia", "Lavrov", "the Kremlin", "Zelensky", "NATO"])
            yield text, f"{speaker}: {first}"
            yield text, f"{first} - {speaker}"
            titles.append(first)
    for text in [*_eval_texts(), *_test_strings()]:
        sentences.extend(re.split(r"(?<=[.!?\"])\s+", text))
        yield text, ""
        for line in text.splitlines():
            if line.strip():
                yield line, ""
        head, _, body = text.partition(". ")
        yield body, head
    for text, title in _feed_entries():
        sentences.append(title)
        yield text, title
        yield title, ""
    pieces = _lexicon_words()
    for _ in range(fuzz):
        yield _soup(rng, pieces, sentences), rng.choice(titles) if rng.random() < 0.2 else ""


def start_script(script: str, root: Path | None, *, pure: bool, cwd: Path) -> subprocess.Popen[str]:
    """Run a script that starts with `CHOOSE_SOURCES`, talking over its stdin and stdout."""
    return subprocess.Popen(
        [sys.executable, "-c", script, str(root or ""), "pure" if pure else "any"],
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


class Worker:
    """An extractor in a subprocess, one request per line."""

    def __init__(
        self, extra: list[ActorSpec], root: Path | None, *, pure: bool = True, cwd: Path
    ) -> None:
        """Start it with the same extra actors as this side.

        Args:
            extra: the extra actors of the second extractor.
            root: the directory holding the `sources` to import, or None for
                the installed package.
            pure: load only `.py` files under `root`, never compiled modules.
            cwd: the directory to run in (outside the work tree for the
                installed package, which the work tree would hide).
        """
        self._process = start_script(_WORKER, root, pure=pure, cwd=cwd)
        assert self._process.stdout is not None
        self.module_file: str = json.loads(self._process.stdout.readline())
        """Where its `sources.extraction.extractor` came from (`.py` or compiled)."""
        self._send(plain(extra))

    def _send(self, value: Any) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(value) + "\n")
        self._process.stdin.flush()

    def run(self, which: int, text: str, title: str) -> Any:
        """Its (tag, extract, analyse, extract without title) on one input, as JSON values."""
        self._send([which, text, title])
        assert self._process.stdout is not None
        return json.loads(self._process.stdout.readline())

    def close(self) -> None:
        """Stop the subprocess and wait for it."""
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=30)


def compare_outputs(
    ours: Callable[[int, str, str], Any],
    theirs: Callable[[int, str, str], Any],
    *,
    items: int,
    fuzz: int,
    hypothesis: int = 0,
) -> tuple[int, int, list[str]]:
    """Feed both sides every input; (inputs compared, statements, differences, at most 20).

    Each side maps (extractor: 0 default, 1 with 5,000 extra aliases; text;
    title) to its (tag, extract, analyse, extract without title) as JSON values.
    """
    differences: list[str] = []
    compared = 0
    statements = 0

    def compare(which: int, text: str, title: str) -> None:
        nonlocal compared, statements
        mine = ours(which, text, title)
        other = theirs(which, text, title)
        compared += 1
        statements += len(mine[1])
        if mine != other and len(differences) < 20:
            differences.append(f"{which=} {title=!r} {text=!r}\n  base: {other}\n  now:  {mine}")

    for number, (text, title) in enumerate(inputs(items, fuzz)):
        compare(0, text, title)
        if number % 4 == 0:
            compare(1, text, title)
    if hypothesis:
        _hypothesis(hypothesis, lambda t, h: compare(0, t, h))
    return compared, statements, differences


def in_process(extra: list[ActorSpec]) -> Callable[[int, str, str], Any]:
    """This process's extractors (compiled, where the modules imported here are)."""
    actors, topics = load_default_specs()
    extractors = [Extractor(actors, topics), Extractor((*actors, *extra), topics)]

    def run(which: int, text: str, title: str) -> Any:
        ex = extractors[which]
        outputs = [
            ex.tag(text, title=title),
            ex.extract(text, title=title),
            ex.analyse(text, title=title),
            ex.extract(text),
        ]
        return json.loads(json.dumps(plain(outputs)))

    return run


def main(argv: list[str] | None = None) -> int:
    """Compare, print the differences, and exit 1 if there is any."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--base", default="HEAD", help="commit to compare with")
    which.add_argument(
        "--installed",
        action="store_true",
        help="compare the installed package (compiled by mypyc) with this tree's .py files",
    )
    parser.add_argument("--items", type=int, default=500, help="bench items per mix")
    parser.add_argument("--fuzz", type=int, default=5000, help="random texts")
    parser.add_argument("--hypothesis", type=int, default=2000, help="Hypothesis examples")
    args = parser.parse_args(argv)
    extra = extra_actors(5000, random.Random(20240601))
    ours: Callable[[int, str, str], Any]
    with tempfile.TemporaryDirectory() as tmp:
        if args.installed:
            workers = [Worker(extra, None, pure=False, cwd=Path(tmp))]
            workers.append(Worker(extra, ROOT, pure=True, cwd=ROOT))
            ours, label = workers[0].run, f"this tree's .py files ({workers[1].module_file})"
            print(f"installed: {workers[0].module_file}")
        else:
            _unpack(args.base, Path(tmp))
            workers = [Worker(extra, Path(tmp), cwd=Path(tmp))]
            ours, label = in_process(extra), args.base
        try:
            compared, statements, differences = compare_outputs(
                ours,
                workers[-1].run,
                items=args.items,
                fuzz=args.fuzz,
                hypothesis=args.hypothesis,
            )
        finally:
            for worker in workers:
                worker.close()
    print(f"compared {compared} inputs ({statements} statements) with {label}")
    for difference in differences:
        print(difference)
    return 1 if differences else 0


def _hypothesis(examples: int, check: Any) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    words = _lexicon_words()
    piece = st.one_of(
        st.sampled_from(words),
        st.sampled_from(_ODD),
        st.text(max_size=8),
        st.sampled_from([" ", " ", " ", ", ", ". "]),
    )
    text = st.lists(piece, max_size=80).map(" ".join) | st.lists(piece, max_size=80).map("".join)

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(text, st.one_of(st.just(""), text))
    def run(body: str, title: str) -> None:
        check(body, title)

    run()


if __name__ == "__main__":
    raise SystemExit(main())
