"""How fast the extractor reads items (a benchmark script, not a test).

Usage:
    .venv/bin/python tests/bench/bench_extract.py [--items N] [--extra-aliases N] [--seconds S]
        [--runs R]

Items are about 1,000 characters of news-like text assembled from sentences
written for this script (statements, reported speech, quotes, and background
sentences with and without topic words), so the mix exercises every stage.
Two mixes: "news" (about one statement per item among background sentences,
some with topic words, like a conflict feed's summaries) and "dense" (a
statement in almost every other sentence, the worst case). It prints items
per second on one core (process time) for the default actors and topics, and
again with `--extra-aliases` more aliases (5,000 by default) spread over extra
actors and people, the size of a user's large config. Targets: 3,000 items/s
with the default config, 1,000 items/s with 5,000 extra aliases. The last
column is the poll round's pattern: `tag` and then `extract` on each item
(the second call reuses the first one's scan).

Each figure is the median of `--runs` measurements (the three columns taken in
turn, so a burst of load on a shared machine hits all of them alike), with the
lowest and highest in brackets. The interpreter is printed too: the same code
runs about 13% faster on a CPython built with profile-guided optimisation
(Debian's /usr/bin/python3.11 here) than on one built without it.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sources.extraction import Extractor, load_default_specs  # noqa: E402
from sources.extraction import extractor as extractor_module  # noqa: E402
from sources.records import ActorSpec, PersonSpec  # noqa: E402

SPEAKERS = [
    "Russian Foreign Minister Sergei Lavrov",
    "Kremlin spokesman Dmitry Peskov",
    "President Volodymyr Zelensky",
    "French President Emmanuel Macron",
    "NATO chief Mark Rutte",
    "German Chancellor Friedrich Merz",
    "Prime Minister Keir Starmer",
    "Moscow",
    "the Kremlin",
    "Beijing",
    "Ankara",
    "Hungarian Prime Minister Viktor Orban",
    "UN Secretary-General Antonio Guterres",
    "EU foreign policy chief Kaja Kallas",
    "Polish Prime Minister Donald Tusk",
    "Washington",
]
CLAIMS = [
    "any peacekeeping force in Ukraine would need a UN Security Council mandate",
    "Kyiv's path to NATO membership was irreversible",
    "a 30-day ceasefire could only work if Russia stopped its strikes first",
    "new sanctions on Russian oil exports would be adopted next month",
    "the veto power of the permanent members should be curbed",
    "there was no question of sending troops to Ukraine",
    "peace talks would not start until the occupied regions were returned",
    "the alliance was considering several options for a reassurance force",
    "sanctions had failed and should be lifted",
    "it would back a draft resolution calling for a truce",
]
CUES = [
    "said",
    "told reporters",
    "warned",
    "insisted",
    "stressed on Tuesday",
    "said in a statement",
]
BACKGROUND = [
    "The meeting in Geneva lasted more than four hours and ended without a joint statement.",
    "Heavy rain delayed the arrival of several delegations at the airport on Monday morning.",
    "Officials from both sides exchanged lists of prisoners before the weekend, the ministry said.",
    "Analysts expect the central bank to keep interest rates unchanged at its next meeting.",
    "The city council approved a new budget for road repairs and public transport on Thursday.",
    "Energy prices rose sharply across Europe during the first weeks of the cold season.",
    "Thousands of people gathered in the main square to mark the anniversary of the independence.",
    "The report, published on Wednesday, covers the first half of the year and runs to 80 pages.",
    "Air defence units shot down most of the drones launched overnight, according to the military.",
    "The football federation imposed sanctions on the club after its fans lit flares.",
    "He added that the trade truce between the two economies would be extended for 90 days.",
    "The exhibition opens next week and will run until the end of February in the national museum.",
]


TOPIC_BACKGROUND = [
    "The last round of peace talks was held in Istanbul in the spring of 2022.",
    "Sanctions on Russian oil have been in place since December, when the price cap took effect.",
    "A ceasefire along the front line has never held for more than a few days.",
    "The Security Council has met eleven times on the war since February.",
    "Peacekeeping missions usually need the consent of both sides to deploy.",
    "Ukraine applied for NATO membership in September 2022.",
]
"""Sentences with topic words and no one stating a position."""

MIXES = {
    # Share of sentences that are (statement, quote, according-to, topic background);
    # the rest is background without topic words.
    "news": (0.10, 0.04, 0.02, 0.10),
    "dense": (0.25, 0.10, 0.07, 0.0),
}


def make_item(rng: random.Random, mix: str = "dense") -> str:
    """One item of roughly 1,000 characters mixing statements and background sentences."""
    statement, quote, according, topical = MIXES[mix]
    parts: list[str] = []
    while sum(len(p) + 1 for p in parts) < 950:
        roll = rng.random()
        speaker = rng.choice(SPEAKERS)
        claim = rng.choice(CLAIMS)
        if roll < statement:
            parts.append(f"{speaker} {rng.choice(CUES)} that {claim}.")
        elif roll < statement + quote:
            parts.append(f'"We believe {claim}," {speaker} said.')
        elif roll < statement + quote + according:
            parts.append(f"According to {speaker}, {claim}.")
        elif roll < statement + quote + according + topical:
            parts.append(rng.choice(TOPIC_BACKGROUND))
        else:
            parts.append(rng.choice(BACKGROUND))
    return " ".join(parts)


def extra_actors(count: int, rng: random.Random) -> list[ActorSpec]:
    """Made-up actors and people carrying `count` aliases in all."""
    syllables = [
        "ka",
        "lo",
        "mir",
        "dan",
        "vel",
        "tor",
        "sha",
        "ri",
        "nov",
        "ber",
        "gu",
        "lin",
        "ost",
        "fer",
        "ma",
        "zhu",
        "ta",
        "rek",
        "pol",
        "an",
    ]

    def word() -> str:
        return "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))).capitalize()

    actors: list[ActorSpec] = []
    made = 0
    index = 0
    while made < count:
        aliases = tuple(f"{word()} {word()}" if rng.random() < 0.5 else word() for _ in range(4))
        people = tuple(
            PersonSpec(f"{word()} {word()}", (word(),), "Foreign Minister") for _ in range(3)
        )
        actors.append(ActorSpec(f"extra-{index}", word(), aliases, people))
        made += 1 + len(aliases) + 2 * len(people)
        index += 1
    return actors


def rate(extractor: Extractor, items: list[str], seconds: float) -> float:
    """Items per second over whole passes through `items`, for at least `seconds`."""
    for text in items[:50]:
        extractor.extract(text)  # warm up caches
    done = 0
    began = time.process_time()
    while True:
        for text in items:
            extractor.extract(text)
        done += len(items)
        elapsed = time.process_time() - began
        if elapsed >= seconds:
            return done / elapsed


def poll_rate(extractor: Extractor, items: list[str], seconds: float) -> float:
    """Items per second when each is tagged and then read, as a poll round does."""
    done = 0
    began = time.process_time()
    while True:
        for text in items:
            extractor.tag(text)
            extractor.extract(text)
        done += len(items)
        elapsed = time.process_time() - began
        if elapsed >= seconds:
            return done / elapsed


def _figure(rates: list[float]) -> str:
    """The median items/s with the lowest and highest of the runs."""
    return f"{statistics.median(rates):5.0f} [{min(rates):.0f}-{max(rates):.0f}]"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print items per second."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1000, help="distinct items to cycle through")
    parser.add_argument("--extra-aliases", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=1.0, help="minimum time per measurement")
    parser.add_argument("--runs", type=int, default=5, help="measurements per figure (median)")
    args = parser.parse_args(argv)
    actors, topics = load_default_specs()
    began = time.process_time()
    extractor = Extractor(actors, topics)
    build = time.process_time() - began
    rng = random.Random(20240601)
    more = (*actors, *extra_actors(args.extra_aliases, rng))
    began = time.process_time()
    big = Extractor(more, topics)
    big_build = time.process_time() - began
    print(
        f"{platform.python_implementation()} {platform.python_version()} ({sys.executable}), "
        f"median of {max(1, args.runs)} runs of {args.seconds:g} s per figure"
    )
    where = extractor_module.__file__
    compiled = where.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
    print(f"extractor: {'compiled by mypyc' if compiled else 'Python source'} ({where})")
    print(
        f"build: default config {build * 1000:.0f} ms, "
        f"+{args.extra_aliases} aliases {big_build * 1000:.0f} ms"
    )
    for mix in MIXES:
        items = [make_item(rng, mix) for _ in range(args.items)]
        mean_len = sum(map(len, items)) / len(items)
        statements = sum(len(extractor.extract(text)) for text in items) / len(items)
        runs: tuple[list[float], list[float], list[float]] = ([], [], [])
        for _ in range(max(1, args.runs)):
            runs[0].append(rate(extractor, items, args.seconds))
            runs[1].append(rate(big, items, args.seconds))
            runs[2].append(poll_rate(extractor, items, args.seconds))
        default, more_aliases, poll = (_figure(r) for r in runs)
        print(
            f"{mix:>5} items ({mean_len:.0f} chars, {statements:.1f} statements each): "
            f"default {default}, +{args.extra_aliases} aliases {more_aliases}, "
            f"tag then extract (poll) {poll} items/s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
