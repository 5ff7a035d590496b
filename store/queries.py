"""The query API the TUI and the CLI read through, over in-memory indexes.

TinyDB answers a query by scanning a table; at 20,000 statements and
100,000 items that is far too slow for a dashboard that redraws on every
keypress (an actor switch must take under 50 ms). So the store builds
indexes once on open and keeps them current on every commit:

- statements per (actor, topic), sorted by (published, -ordinal, id): a position is
  the last entry, its history the list read backwards;
- topics per actor, so `positions(actor=...)` is a dict lookup;
- statements per item, for replaced items and for retirement;
- (lazily, on first use) normalised claims, for `items_of`, and a
  newest-first order plus folded text, for `search`.

The statements are read from disk on the first query that needs them, and
the index built then (about 150 ms for 20,000); after that every round
updates it in place. Statements are decoded from their documents only when
asked for (and then cached): decoding costs about 5 us each, while a screen
needs a few dozen. Items are not kept in memory at all: the catalog says
where each one's bytes are, and `item`/`items_of` read just those (see
`store/database.py`).

"Latest" means greatest (published, -ordinal, id): of statements published
at the same moment, the one earliest in its item's text (the lead) wins, and
the id breaks what ties remain, so the answer never depends on insertion
order.
"""

from __future__ import annotations

import bisect
import functools
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Concatenate, NamedTuple, ParamSpec, TypeVar

from sources.records import FeedState, Item, Outcome, Position, Statement

from .codec import CodecError, from_doc

Doc = Mapping[str, Any]
Pair = tuple[str, str]

P = ParamSpec("P")
T = TypeVar("T")
Q = TypeVar("Q", bound="Queries")


class Row(NamedTuple):
    """What the indexes keep of one statement; ordered by (published, rank, id)."""

    published: datetime
    rank: int
    """Minus the statement's ordinal in its item, so the lead sorts last (latest)."""
    id: str
    actor: str
    topic: str
    stance: str
    item_id: str


def row_of(statement_id: str, doc: Doc) -> Row:
    """Index entry of a stored statement, checking the fields the index relies on.

    Written flat because it runs for every statement at open (20,000 in the
    benchmark): this shape costs about half of a loop over field names.

    Args:
        statement_id: the TinyDB document id, which must equal `doc["id"]`.
        doc: the stored statement.

    Returns:
        The row.

    Raises:
        CodecError: a field is missing or of the wrong type.
    """
    try:
        actor, topic = doc["actor"], doc["topic"]
        stance, item_id = doc["stance"], doc["item_id"]
        published = datetime.fromisoformat(doc["published"])
        ordinal = doc.get("ordinal", 0)
        ok = (
            doc["id"] == statement_id
            and type(actor) is str
            and type(topic) is str
            and type(stance) is str
            and type(item_id) is str
            and published.tzinfo is not None
            and type(ordinal) is int
        )
    except (KeyError, TypeError, ValueError) as error:
        raise CodecError(f"statement {statement_id}: {type(error).__name__}: {error}") from None
    if not ok:
        raise CodecError(f"statement {statement_id}: a field is missing or of the wrong type")
    if published.tzinfo is not UTC:
        published = published.astimezone(UTC)
    return Row(published, -ordinal, statement_id, actor, topic, stance, item_id)


_NOT_WORD = re.compile(r"[\W_]+")


def normalise_claim(text: str) -> str:
    """Claim text reduced to what two outlets quoting the same words share.

    Unicode-compatibility folding, case folding, and punctuation and spacing
    collapsed, so "NATO troops are a  'potential option'." and "Nato troops
    are a potential option" compare equal.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NOT_WORD.sub(" ", folded).strip()


class StatementIndex:
    """The statement indexes; mutated only under the store's lock."""

    def __init__(self) -> None:
        self.by_id: dict[str, Row] = {}
        self.by_pair: dict[Pair, list[Row]] = {}
        """Rows of one (actor, topic), oldest first."""
        self.topics_of: dict[str, list[str]] = {}
        """Sorted topics each actor has statements on."""
        self.by_item: dict[str, set[str]] = {}
        """Statement ids per item id."""
        self.norm_claims: dict[str, str] = {}
        """`normalise_claim` of each statement's claim, filled by `items_of`."""
        self.newest: list[Row] | None = None
        """All rows, newest first; built on demand, dropped on change."""
        self.haystacks: dict[str, str] = {}
        """Folded claim/speaker/source per statement id, filled by `search`."""
        self.decoded: dict[str, Statement] = {}
        self.positions: dict[Pair, Position] = {}
        self.sorted_pairs: list[Pair] | None = None

    @classmethod
    def build(cls, docs: Mapping[str, Doc]) -> StatementIndex:
        """Index every stored statement.

        Raises:
            CodecError: a statement lacks a field the index needs.
        """
        index = cls()
        rows = [row_of(sid, doc) for sid, doc in docs.items()]
        # One sort of everything, then appends: cheaper than an insort each.
        rows.sort()
        for row in rows:
            index.by_id[row.id] = row
            index.by_pair.setdefault((row.actor, row.topic), []).append(row)
            index.by_item.setdefault(row.item_id, set()).add(row.id)
        topics: dict[str, set[str]] = {}
        for actor, topic in index.by_pair:
            topics.setdefault(actor, set()).add(topic)
        index.topics_of = {actor: sorted(ts) for actor, ts in topics.items()}
        return index

    def statements_of_items(self, item_ids: Iterable[str]) -> set[str]:
        """Ids of the statements drawn from these items."""
        found: set[str] = set()
        for item_id in item_ids:
            found |= self.by_item.get(item_id, set())
        return found

    def remove(self, ids: Iterable[str]) -> None:
        """Drop statements from every index (call before or after the table op)."""
        for sid in ids:
            row = self.by_id.pop(sid, None)
            if row is None:
                continue
            pair = (row.actor, row.topic)
            rows = self.by_pair[pair]
            del rows[bisect.bisect_left(rows, row)]
            if not rows:
                del self.by_pair[pair]
                self.topics_of[row.actor].remove(row.topic)
                if not self.topics_of[row.actor]:
                    del self.topics_of[row.actor]
                self.sorted_pairs = None
            self.positions.pop(pair, None)
            siblings = self.by_item[row.item_id]
            siblings.discard(sid)
            if not siblings:
                del self.by_item[row.item_id]
            self.norm_claims.pop(sid, None)
            self.haystacks.pop(sid, None)
            self.decoded.pop(sid, None)
            self.newest = None

    def add(self, docs: Mapping[str, Doc]) -> None:
        """Index new statements (ids not already indexed; remove them first)."""
        for sid, doc in docs.items():
            row = row_of(sid, doc)
            self.by_id[sid] = row
            pair = (row.actor, row.topic)
            rows = self.by_pair.get(pair)
            if rows is None:
                self.by_pair[pair] = [row]
                bisect.insort(self.topics_of.setdefault(row.actor, []), row.topic)
                self.sorted_pairs = None
            else:
                bisect.insort(rows, row)
            self.positions.pop(pair, None)
            self.by_item.setdefault(row.item_id, set()).add(sid)
            self.newest = None


def locked(method: Callable[Concatenate[Q, P], T]) -> Callable[Concatenate[Q, P], T]:
    """Run a store method under the store's lock.

    The poll round commits from a worker thread while the TUI queries from
    others; without the lock a query could walk an index mid-update.
    """

    def wrapper(self: Q, /, *args: P.args, **kwargs: P.kwargs) -> T:
        with self._lock:
            return method(self, *args, **kwargs)

    functools.update_wrapper(wrapper, method)
    return wrapper


class Queries:
    """The read side of `Store`: every query the TUI and the CLI make.

    A mixin: `Store` provides the lock, the feed states, and the statement
    index, statement documents and items, each loaded on first use.
    """

    _lock: threading.RLock
    _feeds: dict[str, FeedState]

    def _index(self) -> StatementIndex:
        raise NotImplementedError

    def _statement_docs(self) -> Mapping[str, Doc]:
        raise NotImplementedError

    def _item_doc(self, item_id: str) -> Doc | None:
        raise NotImplementedError

    def _counts(self) -> dict[str, int]:
        raise NotImplementedError

    # --- decoding, cached -----------------------------------------------------

    def _statement(self, statement_id: str) -> Statement:
        ix = self._index()
        found = ix.decoded.get(statement_id)
        if found is None:
            found = from_doc(Statement, self._statement_docs()[statement_id])
            ix.decoded[statement_id] = found
        return found

    def _norm_claim(self, statement_id: str) -> str:
        ix = self._index()
        found = ix.norm_claims.get(statement_id)
        if found is None:
            doc = self._statement_docs()[statement_id]
            found = normalise_claim(str(doc.get("claim", "")))
            ix.norm_claims[statement_id] = found
        return found

    def _position(self, pair: Pair) -> Position:
        ix = self._index()
        cached = ix.positions.get(pair)
        if cached is not None:
            return cached
        rows = ix.by_pair[pair]
        latest = self._statement(rows[-1].id)
        # The position before is the latest statement of another item: the
        # later paragraphs of one article are not a change of position.
        earlier = next(
            (row for row in reversed(rows[:-1]) if row.item_id != rows[-1].item_id), None
        )
        previous = self._statement(earlier.id) if earlier is not None else None
        position = Position(
            statement=latest,
            previous=previous,
            changed=previous is not None and previous.stance != latest.stance,
            count=len(rows),
        )
        ix.positions[pair] = position
        return position

    # --- positions and history ------------------------------------------------

    @locked
    def positions(self, actor: str | None = None, topic: str | None = None) -> list[Position]:
        """The latest statement per (actor, topic), optionally for one actor or topic.

        Args:
            actor: only this actor's positions (a dict lookup, not a scan).
            topic: only positions on this topic.

        Returns:
            Positions sorted by actor, then topic. `changed` is set when the
            stance differs from the previous statement of the same pair;
            `count` is the number of statements on record for the pair.
        """
        ix = self._index()
        if actor is not None:
            topics = ix.topics_of.get(actor, [])
            if topic is not None:
                topics = [topic] if topic in topics else []
            return [self._position((actor, t)) for t in topics]
        if ix.sorted_pairs is None:
            ix.sorted_pairs = sorted(ix.by_pair)
        pairs = ix.sorted_pairs
        if topic is not None:
            pairs = [p for p in pairs if p[1] == topic]
        return [self._position(p) for p in pairs]

    @locked
    def history(self, actor: str, topic: str, limit: int | None = None) -> list[Statement]:
        """Every statement of one actor on one topic, newest first.

        Args:
            actor: actor id.
            topic: topic id.
            limit: at most this many (the newest).

        Returns:
            The statements; empty for an unknown pair.
        """
        rows = self._index().by_pair.get((actor, topic), [])
        stop = len(rows) if limit is None else min(max(limit, 0), len(rows))
        return [self._statement(rows[-1 - i].id) for i in range(stop)]

    @locked
    def actors_summary(self) -> dict[str, tuple[int, int]]:
        """Per actor: (positions held, positions whose stance just changed).

        Returns:
            actor id -> (positions, changed positions), actors in sorted order.
        """
        summary: dict[str, tuple[int, int]] = {}
        topics_of = self._index().topics_of
        for actor in sorted(topics_of):
            topics = topics_of[actor]
            changed = sum(1 for t in topics if self._position((actor, t)).changed)
            summary[actor] = (len(topics), changed)
        return summary

    @locked
    def activity(self, actor: str, topic: str, days: int, now: datetime) -> list[int]:
        """Statements per UTC day over the last `days` days, for a sparkline.

        Args:
            actor: actor id.
            topic: topic id.
            days: how many days; the last one is `now`'s UTC day.
            now: the present (passed in, so tests and snapshots are fixed).

        Returns:
            `days` counts, oldest day first. Statements dated after `now`'s
            day are not counted.
        """
        if days <= 0:
            return []
        today = now.astimezone(UTC).date()
        start = today - timedelta(days=days - 1)
        counts = [0] * days
        for row in reversed(self._index().by_pair.get((actor, topic), [])):
            day = row.published.date()
            if day < start:
                break  # rows are sorted: everything further back is older
            if day <= today:
                counts[(day - start).days] += 1
        return counts

    # --- single records and their sources -----------------------------------

    @locked
    def statement(self, statement_id: str) -> Statement | None:
        """One statement by id, or None."""
        if statement_id not in self._index().by_id:
            return None
        return self._statement(statement_id)

    @locked
    def item(self, item_id: str) -> Item | None:
        """One item by id, or None."""
        doc = self._item_doc(item_id)
        return None if doc is None else from_doc(Item, doc)

    @locked
    def items_of(self, statement_id: str) -> list[Item]:
        """The items behind a statement: its own, then other outlets' with the same claim.

        "The same claim" is the same (actor, topic, stance) with the same
        claim text after `normalise_claim`: the trace a user follows to see
        who else reported these words.

        Args:
            statement_id: the statement.

        Returns:
            Its own item first (if still stored), then the other items in
            order of publication, earliest first, each once. Empty for an
            unknown statement.
        """
        ix = self._index()
        row = ix.by_id.get(statement_id)
        if row is None:
            return []
        # Same actor, topic and stance means the same (actor, topic) list:
        # a few hundred rows to compare, not every statement.
        claim = self._norm_claim(statement_id)
        item_ids = [row.item_id]
        for other in ix.by_pair[(row.actor, row.topic)]:
            if (
                other.stance == row.stance
                and other.item_id not in item_ids
                and self._norm_claim(other.id) == claim
            ):
                item_ids.append(other.item_id)
        docs = [self._item_doc(i) for i in item_ids]
        return [from_doc(Item, doc) for doc in docs if doc is not None]

    @locked
    def search(self, text: str, limit: int = 200) -> list[Statement]:
        """Statements whose claim, speaker or source contains `text`, ignoring case.

        Args:
            text: the substring (case-folded, so "STRASSE" finds "Straße").
            limit: at most this many.

        Returns:
            Matches, newest first.
        """
        ix = self._index()
        if ix.newest is None:
            ix.newest = sorted(ix.by_id.values(), reverse=True)
        needle = text.casefold()
        docs = self._statement_docs()
        found: list[Statement] = []
        for row in ix.newest:
            if len(found) >= limit:
                break
            hay = ix.haystacks.get(row.id)
            if hay is None:
                doc = docs[row.id]
                # NUL between fields so a match cannot straddle two of them.
                hay = "\0".join(
                    (
                        str(doc.get("claim", "")),
                        str(doc.get("speaker") or ""),
                        str(doc.get("source", "")),
                    )
                ).casefold()
                ix.haystacks[row.id] = hay
            if needle in hay:
                found.append(self._statement(row.id))
        return found

    # --- feeds and totals -----------------------------------------------------

    @locked
    def feed_health(self) -> list[FeedState]:
        """Every feed's state: failing feeds first, then by title (or url).

        A feed is failing when its last fetch failed or it has consecutive
        failures on record.
        """

        def key(state: FeedState) -> tuple[bool, str, str]:
            failing = state.failures > 0 or state.outcome is Outcome.ERROR
            return (not failing, (state.title or state.url).casefold(), state.url)

        return sorted(self._feeds.values(), key=key)

    @locked
    def counts(self) -> dict[str, int]:
        """How many feeds, items and statements are stored."""
        return self._counts()
