"""The extractor on the seed article and on sentences written for each rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from sources.extraction import Extractor, load_default_specs
from sources.records import Extraction, Stance

SEED = Path("/work/shared/eval/seed-article.txt")


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    """One extractor for the module: compiling the alias trie is the slow part."""
    actors, topics = load_default_specs()
    return Extractor(actors, topics)


def _find(found: list[Extraction], actor: str, topic: str) -> list[Extraction]:
    return [e for e in found if e.actor == actor and e.topic == topic]


@pytest.mark.skipif(not SEED.exists(), reason="seed article not available")
def test_the_seed_article_yields_its_five_statements(extractor: Extractor) -> None:
    found = extractor.extract(SEED.read_text(encoding="utf-8"))
    wanted = [
        ("russia", "Vassily Nebenzia", "peacekeeping", Stance.CONDITIONAL),
        ("russia", "Vladimir Putin", "nato-membership", Stance.OPPOSES),
        ("russia", None, "ceasefire", Stance.CONDITIONAL),
        ("france", "Jean-Noel Barrot", "peacekeeping", Stance.NEUTRAL),
        ("united-states", "Donald Trump", "nato-membership", Stance.NEUTRAL),
    ]
    for actor, speaker, topic, stance in wanted:
        matches = [
            e for e in _find(found, actor, topic) if e.speaker == speaker and e.stance is stance
        ]
        assert matches, (actor, speaker, topic, stance)
