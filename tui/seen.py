"""Which statement the user last saw for each (actor, topic), to mark what moved since.

Kept in a small JSON file beside the database, so marks survive a restart.
It is the dashboard's own state, not the store's: losing it only means
every changed position is marked again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from sources.records import Position, Stance

Pair = tuple[str, str]


class SeenMarks:
    """The last statement (id and stance) the user saw per (actor, topic)."""

    def __init__(self, marks: dict[Pair, tuple[str, Stance]] | None = None) -> None:
        self._marks: dict[Pair, tuple[str, Stance]] = dict(marks or {})

    def __len__(self) -> int:
        return len(self._marks)

    def changed_since_seen(self, position: Position) -> bool:
        """The stance moved since the user last looked at this pair.

        A pair never looked at counts as changed when its latest statement
        changed stance: that is news the user has not seen.
        """
        statement = position.statement
        seen = self._marks.get((statement.actor, statement.topic))
        if seen is None:
            return position.changed
        seen_id, seen_stance = seen
        return seen_id != statement.id and seen_stance != statement.stance

    def unseen(self, position: Position) -> bool:
        """A newer statement than the one last seen (same stance or not)."""
        statement = position.statement
        seen = self._marks.get((statement.actor, statement.topic))
        return seen is not None and seen[0] != statement.id

    def seen_stance(self, actor: str, topic: str) -> Stance | None:
        """The stance the user last saw for this pair."""
        seen = self._marks.get((actor, topic))
        return seen[1] if seen else None

    def mark(self, positions: Iterable[Position]) -> bool:
        """Record these positions as seen; True when anything changed."""
        changed = False
        for position in positions:
            statement = position.statement
            pair = (statement.actor, statement.topic)
            value = (statement.id, statement.stance)
            if self._marks.get(pair) != value:
                self._marks[pair] = value
                changed = True
        return changed

    @classmethod
    def load(cls, path: Path) -> SeenMarks:
        """Read marks; a missing or damaged file gives no marks (never an error)."""
        try:
            raw = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return cls()
        marks: dict[Pair, tuple[str, Stance]] = {}
        if isinstance(raw, list):
            for entry in raw:
                try:
                    actor, topic, statement_id, stance = entry
                    marks[(str(actor), str(topic))] = (str(statement_id), Stance(stance))
                except (TypeError, ValueError):
                    continue
        return cls(marks)

    def save(self, path: Path) -> None:
        """Write marks atomically (blocking: call it from a thread worker)."""
        rows = [
            [actor, topic, statement_id, str(stance)]
            for (actor, topic), (statement_id, stance) in sorted(self._marks.items())
        ]
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            temp.write_text(json.dumps(rows), "utf-8")
            os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)

    def copy(self) -> SeenMarks:
        """An independent copy, so a worker can save while the UI keeps marking."""
        return SeenMarks(self._marks)
