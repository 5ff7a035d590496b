"""Measure the extractor on a labelled JSONL set (not a test: a measurement).

Usage:
    .venv/bin/python tests/bench/eval_extractor.py /work/shared/eval/dev.jsonl [--show]

Each line holds `id`, `text` and `expected` (a list of {actor, speaker, topic,
stance}). Printed:

- precision, recall and F1 of (actor, topic) pairs, summed over passages
  (micro average), and the per-passage mean F1;
- stance accuracy on matched pairs: the pair's stance is that of its first
  extraction in text order (the lead states the line; later sentences repeat
  or qualify it);
- speaker accuracy on matched pairs: the pair's speaker is the first named
  speaker among its extractions, else none;
- the false-positive rate on passages that state nothing (`expected: []`):
  the share of them that yield any statement;
- passages per second (extraction only, best of several runs).

`--show` lists every miss: pairs not found, pairs found but not labelled,
wrong stances and wrong speakers, with the passage id and text.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sources.extraction import Extractor, load_default_specs  # noqa: E402
from sources.records import Extraction  # noqa: E402


@dataclass
class Tally:
    """Counts over a whole set."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    f1_sum: float = 0.0
    passages: int = 0
    stance_ok: int = 0
    speaker_ok: int = 0
    matched: int = 0
    negatives: int = 0
    negatives_hit: int = 0
    misses: list[str] = field(default_factory=list)


def load(path: Path) -> list[dict[str, Any]]:
    """Read a JSONL set.

    Args:
        path: the file, one JSON object per line.

    Returns:
        The records, in file order.
    """
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def pair_view(found: list[Extraction]) -> dict[tuple[str, str], tuple[str, str | None]]:
    """Per (actor, topic): the stance of the first extraction, the first named speaker."""
    view: dict[tuple[str, str], tuple[str, str | None]] = {}
    for extraction in found:
        key = (extraction.actor, extraction.topic)
        if key not in view:
            view[key] = (extraction.stance.value, extraction.speaker)
        elif view[key][1] is None and extraction.speaker is not None:
            view[key] = (view[key][0], extraction.speaker)
    return view


def score(records: list[dict[str, Any]], extractor: Extractor) -> Tally:
    """Compare the extractor's output with the labels.

    Args:
        records: labelled passages.
        extractor: the extractor to measure.

    Returns:
        The tally, with a line per miss.
    """
    tally = Tally()
    for record in records:
        found = extractor.extract(record["text"])
        view = pair_view(found)
        expected = {(e["actor"], e["topic"]): e for e in record["expected"]}
        predicted = set(view)
        gold = set(expected)
        tp = len(predicted & gold)
        fp = len(predicted - gold)
        fn = len(gold - predicted)
        tally.tp += tp
        tally.fp += fp
        tally.fn += fn
        tally.passages += 1
        if gold or predicted:
            precision = tp / (tp + fp) if tp + fp else 0.0
            recall = tp / (tp + fn) if tp + fn else 0.0
            tally.f1_sum += (
                2 * precision * recall / (precision + recall) if precision + recall else 0.0
            )
        else:
            tally.f1_sum += 1.0
        if not gold:
            tally.negatives += 1
            tally.negatives_hit += bool(predicted)
        snippet = record["text"].replace("\n", " ")
        snippet = snippet if len(snippet) <= 300 else snippet[:300] + "..."
        for pair in sorted(gold - predicted):
            tally.misses.append(
                f"[{record['id']}] MISSED {pair} {_label(expected[pair])}\n    {snippet}"
            )
        for pair in sorted(predicted - gold):
            extra = [e for e in found if (e.actor, e.topic) == pair][0]
            tally.misses.append(
                f"[{record['id']}] EXTRA {pair} {extra.stance.value} speaker={extra.speaker} "
                f"cue={extra.cue!r} alias={extra.alias!r} words={extra.topic_words}\n"
                f"    claim: {extra.claim[:240]}"
            )
        for pair in sorted(predicted & gold):
            tally.matched += 1
            stance, speaker = view[pair]
            want = expected[pair]
            if stance == want["stance"]:
                tally.stance_ok += 1
            else:
                first = [e for e in found if (e.actor, e.topic) == pair][0]
                tally.misses.append(
                    f"[{record['id']}] STANCE {pair} got {stance} want {want['stance']} "
                    f"cue={first.cue!r} condition={first.condition!r}\n"
                    f"    claim: {first.claim[:240]}"
                )
            if speaker == want["speaker"]:
                tally.speaker_ok += 1
            else:
                tally.misses.append(
                    f"[{record['id']}] SPEAKER {pair} got {speaker} want {want['speaker']}"
                )
    return tally


def _label(expected: dict[str, Any]) -> str:
    return f"{expected['stance']} speaker={expected['speaker']}"


def speed(records: list[dict[str, Any]], extractor: Extractor, rounds: int = 5) -> float:
    """Passages per second, best of `rounds` passes over the set."""
    texts = [record["text"] for record in records]
    best = float("inf")
    for _ in range(rounds):
        began = time.process_time()
        for text in texts:
            extractor.extract(text)
        best = min(best, time.process_time() - began)
    return len(texts) / best if best > 0 else float("inf")


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and print it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="labelled JSONL set")
    parser.add_argument("--show", action="store_true", help="list every miss")
    args = parser.parse_args(argv)
    records = load(args.path)
    actors, topics = load_default_specs()
    extractor = Extractor(actors, topics)
    tally = score(records, extractor)
    precision = tally.tp / (tally.tp + tally.fp) if tally.tp + tally.fp else 0.0
    recall = tally.tp / (tally.tp + tally.fn) if tally.tp + tally.fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    if args.show:
        for line in tally.misses:
            print(line)
        print()
    print(f"passages            {tally.passages}")
    print(f"pairs  precision    {precision:.3f}  ({tally.tp} of {tally.tp + tally.fp} found)")
    print(f"pairs  recall       {recall:.3f}  ({tally.tp} of {tally.tp + tally.fn} labelled)")
    print(f"pairs  F1           {f1:.3f}  (mean per passage {tally.f1_sum / tally.passages:.3f})")
    if tally.matched:
        print(
            f"stance accuracy     {tally.stance_ok / tally.matched:.3f}  "
            f"({tally.stance_ok} of {tally.matched} matched pairs)"
        )
        print(
            f"speaker accuracy    {tally.speaker_ok / tally.matched:.3f}  "
            f"({tally.speaker_ok} of {tally.matched} matched pairs)"
        )
    if tally.negatives:
        print(
            f"false-positive rate {tally.negatives_hit / tally.negatives:.3f}  "
            f"({tally.negatives_hit} of {tally.negatives} passages that state nothing)"
        )
    print(f"passages per second {speed(records, extractor):.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
