"""The bundled default actors and topics, read from `default_lexicon.toml`."""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

from sources.records import ActorSpec, PersonSpec, TopicSpec

LEXICON_FILE = "default_lexicon.toml"


def load_default_specs() -> tuple[tuple[ActorSpec, ...], tuple[TopicSpec, ...]]:
    """Parse the bundled actors and topics.

    This is the content the default config is built from, and the fallback
    when no config is given (tests, benchmarks, `stancewatch extract`).

    Returns:
        (actors, topics) in file order.
    """
    text = resources.files("sources.extraction").joinpath(LEXICON_FILE).read_text("utf-8")
    return specs_from_mapping(tomllib.loads(text))


def specs_from_mapping(
    data: dict[str, Any],
) -> tuple[tuple[ActorSpec, ...], tuple[TopicSpec, ...]]:
    """Build specs from parsed TOML with `[actors.ID]` and `[topics.ID]` tables.

    Args:
        data: the parsed document (only the `actors` and `topics` tables are read).

    Returns:
        (actors, topics) in document order.
    """
    actors = tuple(
        ActorSpec(
            id=actor_id,
            name=str(table.get("name", actor_id)),
            aliases=tuple(str(a) for a in table.get("aliases", ())),
            people=tuple(
                PersonSpec(
                    name=str(person["name"]),
                    aliases=tuple(str(a) for a in person.get("aliases", ())),
                    role=str(person.get("role", "")),
                )
                for person in table.get("people", ())
            ),
        )
        for actor_id, table in data.get("actors", {}).items()
    )
    topics = tuple(
        TopicSpec(
            id=topic_id,
            name=str(table.get("name", topic_id)),
            keywords=tuple(str(k) for k in table.get("keywords", ())),
            patterns=tuple(str(p) for p in table.get("patterns", ())),
            exclude=tuple(str(p) for p in table.get("exclude", ())),
        )
        for topic_id, table in data.get("topics", {}).items()
    )
    return actors, topics
