"""The config file: where it lives, reading it strictly, and editing it in place.

Reading uses stdlib `tomllib` into frozen records and rejects anything it
does not know, naming file, line and key. Writing (`feeds add` and friends)
goes through `tomlkit`, which round-trips the user's comments and layout:
harlequin splits its config the same way for the same reason.
"""

from __future__ import annotations

import functools
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import platformdirs

from sources.errors import ConfigError
from sources.records import ActorSpec, FeedSpec, PersonSpec, Settings, TopicSpec

if TYPE_CHECKING:  # tomlkit is imported where the config is written, not by every command
    import tomlkit
    from tomlkit.items import AoT

APP_NAME = "stancewatch"
CONFIG_ENV = "STANCEWATCH_CONFIG"
DB_ENV = "STANCEWATCH_DB"

MIN_INTERVAL = 60.0
"""Polling a feed more than once a minute helps nobody and annoys publishers."""
MAX_INTERVAL = 7 * 86400.0

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class Config:
    """A validated config file."""

    path: Path
    feeds: tuple[FeedSpec, ...]
    actors: tuple[ActorSpec, ...]
    topics: tuple[TopicSpec, ...]
    settings: Settings
    database: Path | None = None
    """The `[settings] database` path, if the file names one."""

    def actor(self, actor_id: str) -> ActorSpec | None:
        """The actor with this id, or None."""
        return next((a for a in self.actors if a.id == actor_id), None)

    def topic(self, topic_id: str) -> TopicSpec | None:
        """The topic with this id, or None."""
        return next((t for t in self.topics if t.id == topic_id), None)


# --- where things live ----------------------------------------------------------


def default_config_path() -> Path:
    """The per-user config file, e.g. ~/.config/stancewatch/config.toml on Linux."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_db_path() -> Path:
    """The per-user database, e.g. ~/.local/share/stancewatch/stancewatch.json on Linux."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "stancewatch.json"


def resolve_config_path(cli_value: str | None, environ: Mapping[str, str] = os.environ) -> Path:
    """`--config`, then $STANCEWATCH_CONFIG, then the per-user default."""
    chosen = cli_value or environ.get(CONFIG_ENV)
    return Path(chosen).expanduser() if chosen else default_config_path()


def resolve_db_path(
    cli_value: str | None, config: Config | None, environ: Mapping[str, str] = os.environ
) -> Path:
    """`--db`, then $STANCEWATCH_DB, then the config's `database`, then the per-user default."""
    chosen = cli_value or environ.get(DB_ENV)
    if chosen:
        return Path(chosen).expanduser()
    if config is not None and config.database is not None:
        return config.database
    return default_db_path()


def bundled_default_text() -> str:
    """The default config: feeds and settings, then the bundled actors and topics."""
    base = resources.files("sources").joinpath("default_config.toml").read_text("utf-8")
    lexicon = _bundled_lexicon_text()
    return base.rstrip("\n") + "\n\n" + lexicon if lexicon else base


def _bundled_lexicon_text() -> str:
    # Read through the parent package: naming `sources.extraction` would
    # import the whole extractor (~0.3 s) for every command, just for a file.
    lexicon = resources.files("sources").joinpath("extraction").joinpath("default_lexicon.toml")
    try:
        return lexicon.read_text("utf-8")
    except FileNotFoundError:
        return ""


def ensure_config(path: Path, *, is_default: bool) -> bool:
    """Write the bundled default to `path` on first run.

    Only the default location is created on demand: a `--config` naming a
    file that is not there is far more often a typo than a wish for a new file.

    Returns:
        Whether the file was created.

    Raises:
        ConfigError: an explicitly named file does not exist, or the default cannot be written.
    """
    if path.exists():
        return False
    if not is_default:
        raise ConfigError(
            str(path),
            "no such config file; check the path, or leave out --config to use the default",
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(path, bundled_default_text())
    except OSError as exc:
        raise ConfigError(str(path), f"cannot write the default config: {exc.strerror}") from exc
    return True


# --- reading ----------------------------------------------------------------------


def load_config(path: Path | str) -> Config:
    """Read and validate a config file.

    Args:
        path: the TOML file.

    Returns:
        The validated config; actors and topics fall back to the bundled ones
        when the file has none.

    Raises:
        ConfigError: the first problem found, as "FILE:LINE: key: message".
    """
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(str(path), "no such config file") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), f"not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror}") from exc
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    """Validate config text; `path` is only used in messages and for relative paths."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _line_of_decode_error(exc)
        raise ConfigError(str(path), f"not valid TOML: {_decode_message(exc)}", line=line) from exc
    except RecursionError:
        # tomllib recurses once per nesting level; no real config nests deep.
        raise ConfigError(str(path), "not valid TOML: arrays or tables nested too deeply") from None
    return _Validator(text, path).config(data)


def _line_of_decode_error(exc: tomllib.TOMLDecodeError) -> int | None:
    lineno = getattr(exc, "lineno", None)  # Python 3.14 adds it
    if isinstance(lineno, int):
        return lineno
    found = re.search(r"at line (\d+)", str(exc))
    return int(found.group(1)) if found else None


def _decode_message(exc: tomllib.TOMLDecodeError) -> str:
    message = getattr(exc, "msg", None) or str(exc)
    return re.sub(r"\s*\(at line \d+, column \d+\)", "", str(message)).rstrip(".").lower()


class _LineIndex:
    """Maps dotted key paths ("feeds[2].url") to the line that sets them.

    tomllib keeps no positions, so this reads the text a second time: table
    headers open a prefix and `key =` lines extend it. A path that cannot be
    placed (an inline table spanning lines, say) gets no line rather than a
    made-up one.
    """

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]#]+?)\s*\]\]?\s*(?:#.*)?$")
    _KEY = re.compile(
        r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
    )

    def __init__(self, text: str) -> None:
        self.lines: dict[str, int] = {}
        counters: dict[str, int] = {}
        prefix = ""
        in_multiline: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_multiline:
                if line.count(in_multiline) % 2 == 1:
                    in_multiline = None
                continue
            header = self._HEADER.match(line)
            if header:
                name = self._resolve(self._join_key(header.group(2)), counters)
                if header.group(1) == "[[":
                    index = counters.get(name, 0)
                    counters[name] = index + 1
                    prefix = f"{name}[{index}]"
                else:
                    prefix = name
                self.lines.setdefault(prefix, number)
                self.lines.setdefault(name, number)
                continue
            key = self._KEY.match(line)
            if key:
                full = (
                    f"{prefix}.{self._join_key(key.group(1))}"
                    if prefix
                    else self._join_key(key.group(1))
                )
                self.lines.setdefault(full, number)
                for quote in ('"""', "'''"):
                    if line.count(quote) % 2 == 1:
                        in_multiline = quote

    @staticmethod
    def _join_key(raw: str) -> str:
        parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", raw)
        return ".".join(p.strip("\"'") for p in parts)

    @staticmethod
    def _resolve(name: str, counters: Mapping[str, int]) -> str:
        # `[[actors.russia.people]]` under `[[feeds]]`-style arrays: the
        # innermost array of tables seen so far owns the later headers.
        for array, count in sorted(counters.items(), key=lambda kv: -len(kv[0])):
            if name.startswith(array + "."):
                return f"{array}[{count - 1}]{name[len(array) :]}"
        return name

    def line(self, key: str) -> int | None:
        """The line setting `key`, else the nearest enclosing key's line."""
        probe = key
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            cut = max(probe.rfind("."), probe.rfind("["))
            probe = probe[:cut] if cut > 0 else ""
        return None


class _Validator:
    """Turns parsed TOML into a Config, failing on the first problem with its line."""

    def __init__(self, text: str, path: Path, *, check_patterns: bool = True) -> None:
        self.path = path
        self.index = _LineIndex(text)
        self.check_patterns = check_patterns

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(str(self.path), message, key=key, line=self.index.line(key))

    def config(self, data: dict[str, Any]) -> Config:
        self.known(data, "", {"settings", "feeds", "actors", "topics"})
        settings, database = self.settings(self.table(data, "settings"))
        feeds = self.feeds(data.get("feeds", []), settings)
        bundled_actors, bundled_topics = _bundled_specs()
        actors = self.actors(self.table(data, "actors")) if "actors" in data else bundled_actors
        topics = self.topics(self.table(data, "topics")) if "topics" in data else bundled_topics
        return Config(self.path, feeds, actors, topics, settings, database)

    # generic checks

    def known(self, table: Mapping[str, Any], where: str, allowed: Iterable[str]) -> None:
        allowed = set(allowed)
        for key in table:
            if key not in allowed:
                full = f"{where}.{key}" if where else key
                hint = ", ".join(sorted(allowed))
                raise self.fail(full, f"unknown key (expected one of: {hint})")

    def table(self, data: Mapping[str, Any], key: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, not {_kind(value)}")
        return value

    def string(
        self, data: Mapping[str, Any], key: str, where: str, *, required: bool = False
    ) -> str:
        value = data.get(key)
        if value is None:
            if required:
                raise self.fail(where, f"missing required key '{key}'")
            return ""
        if not isinstance(value, str):
            raise self.fail(f"{where}.{key}", f"must be a string, not {_kind(value)}")
        return value.strip()

    def strings(self, data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{where}.{key}", "must be a list of strings")
        return tuple(dict.fromkeys(v.strip() for v in value if v.strip()))

    def number(
        self, data: Mapping[str, Any], key: str, where: str, low: float, high: float, default: float
    ) -> float:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise self.fail(f"{where}.{key}", f"must be a number, not {_kind(value)}")
        if not low <= value <= high:
            raise self.fail(
                f"{where}.{key}", f"must be between {low:g} and {high:g}, not {value:g}"
            )
        return float(value)

    def duration(self, value: Any, key: str) -> float:
        """Minutes as a number, or a string with a unit ("90s", "15m", "2h", "1d")."""
        if isinstance(value, bool):
            raise self.fail(key, 'must be minutes or a duration like "15m", not a boolean')
        if isinstance(value, int | float):
            seconds = float(value) * 60
        elif isinstance(value, str) and (found := _DURATION.match(value)):
            seconds = float(found.group(1)) * _UNIT_SECONDS[(found.group(2) or "m").lower()]
        else:
            raise self.fail(key, f'must be minutes or a duration like "15m" or "2h", not {value!r}')
        if math.isnan(seconds) or not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
            raise self.fail(key, "must be between 1 minute and 7 days")
        return seconds

    # sections

    def settings(self, data: Mapping[str, Any]) -> tuple[Settings, Path | None]:
        where = "settings"
        self.known(
            data,
            where,
            {
                "interval",
                "concurrency",
                "per_host",
                "timeout",
                "max_body_mb",
                "retain_days",
                "database",
            },
        )
        defaults = Settings()
        interval = (
            self.duration(data["interval"], f"{where}.interval")
            if "interval" in data
            else defaults.interval
        )
        settings = Settings(
            interval=interval,
            concurrency=int(self.number(data, "concurrency", where, 1, 64, defaults.concurrency)),
            per_host=int(self.number(data, "per_host", where, 1, 16, defaults.per_host)),
            timeout=self.number(data, "timeout", where, 1, 600, defaults.timeout),
            max_body_bytes=int(
                self.number(data, "max_body_mb", where, 0.01, 512, defaults.max_body_bytes / 2**20)
                * 2**20
            ),
            retain_days=int(
                self.number(data, "retain_days", where, 1, 36500, defaults.retain_days)
            ),
        )
        database = self.string(data, "database", where)
        return settings, (self._relative(database) if database else None)

    def _relative(self, value: str) -> Path:
        # Relative paths in a config mean "next to the config", not "wherever I was".
        candidate = Path(value).expanduser()
        return candidate if candidate.is_absolute() else self.path.parent / candidate

    def feeds(self, value: Any, settings: Settings) -> tuple[FeedSpec, ...]:
        if not isinstance(value, list):
            raise self.fail("feeds", "must be an array of tables: write each feed under [[feeds]]")
        feeds: list[FeedSpec] = []
        seen: dict[str, int] = {}
        for index, entry in enumerate(value):
            where = f"feeds[{index}]"
            if not isinstance(entry, dict):
                raise self.fail(where, "each feed must be a table under [[feeds]]")
            self.known(entry, where, {"url", "name", "interval", "tags"})
            url = self.string(entry, "url", where, required=True)
            problem = feed_url_problem(url)
            if problem:
                raise self.fail(f"{where}.url", problem)
            url = normalise_feed_location(url, self.path.parent)
            if url in seen:
                raise self.fail(
                    f"{where}.url", f"the same feed is already listed as feed {seen[url] + 1}"
                )
            seen[url] = index
            interval = (
                self.duration(entry["interval"], f"{where}.interval")
                if "interval" in entry
                else settings.interval
            )
            feeds.append(
                FeedSpec(
                    url=url,
                    name=self.string(entry, "name", where),
                    interval=interval,
                    tags=self.strings(entry, "tags", where),
                )
            )
        return tuple(feeds)

    def actors(self, data: Mapping[str, Any]) -> tuple[ActorSpec, ...]:
        actors = []
        for actor_id, entry in data.items():
            where = f"actors.{actor_id}"
            if not _ID.match(actor_id):
                raise self.fail(
                    where,
                    "actor ids are lower-case letters, digits and dashes (e.g. united-states)",
                )
            if not isinstance(entry, dict):
                raise self.fail(where, "must be a table")
            self.known(entry, where, {"name", "aliases", "people"})
            people_data = entry.get("people", [])
            if not isinstance(people_data, list):
                raise self.fail(
                    f"{where}.people", "must be an array of tables: [[actors.ID.people]]"
                )
            people = []
            for index, person in enumerate(people_data):
                pwhere = f"{where}.people[{index}]"
                if not isinstance(person, dict):
                    raise self.fail(pwhere, "each person must be a table")
                self.known(person, pwhere, {"name", "aliases", "role"})
                people.append(
                    PersonSpec(
                        name=self.string(person, "name", pwhere, required=True),
                        aliases=self.strings(person, "aliases", pwhere),
                        role=self.string(person, "role", pwhere),
                    )
                )
            actors.append(
                ActorSpec(
                    id=actor_id,
                    name=self.string(entry, "name", where) or actor_id,
                    aliases=self.strings(entry, "aliases", where),
                    people=tuple(people),
                )
            )
        return tuple(actors)

    def topics(self, data: Mapping[str, Any]) -> tuple[TopicSpec, ...]:
        topics = []
        for topic_id, entry in data.items():
            where = f"topics.{topic_id}"
            if not _ID.match(topic_id):
                raise self.fail(
                    where, "topic ids are lower-case letters, digits and dashes (e.g. un-veto)"
                )
            if not isinstance(entry, dict):
                raise self.fail(where, "must be a table")
            self.known(entry, where, {"name", "keywords", "patterns", "exclude"})
            patterns = self.strings(entry, "patterns", where)
            exclude = self.strings(entry, "exclude", where)
            for key, regexes in (("patterns", patterns), ("exclude", exclude)):
                for regex in regexes:
                    # Compiling a pattern only to see that it compiles costs ~0.2
                    # ms, and a config carrying the bundled lexicon has ~90: those
                    # are known to compile (tests/test_config.py compiles each).
                    if not self.check_patterns or regex in _bundled_patterns():
                        continue
                    try:
                        re.compile(regex)
                    except re.error as exc:
                        raise self.fail(
                            f"{where}.{key}", f"bad regular expression {regex!r}: {exc}"
                        ) from exc
            keywords = self.strings(entry, "keywords", where)
            if not keywords and not patterns:
                raise self.fail(where, "a topic needs at least one of 'keywords' or 'patterns'")
            topics.append(
                TopicSpec(
                    id=topic_id,
                    name=self.string(entry, "name", where) or topic_id,
                    keywords=keywords,
                    patterns=patterns,
                    exclude=exclude,
                )
            )
        return tuple(topics)


def _kind(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


_BUNDLED: tuple[tuple[ActorSpec, ...], tuple[TopicSpec, ...]] | None = None


def _bundled_specs() -> tuple[tuple[ActorSpec, ...], tuple[TopicSpec, ...]]:
    """The actors and topics of the bundled lexicon, read once per process."""
    global _BUNDLED
    if _BUNDLED is None:
        text = _bundled_lexicon_text()
        if not text:
            _BUNDLED = ((), ())
        else:
            validator = _Validator(text, Path("<bundled lexicon>"), check_patterns=False)
            data = tomllib.loads(text)
            _BUNDLED = (
                validator.actors(validator.table(data, "actors")),
                validator.topics(validator.table(data, "topics")),
            )
    return _BUNDLED


@functools.cache
def _bundled_patterns() -> frozenset[str]:
    """Every pattern and exclude of the bundled topics, as written."""
    return frozenset(p for topic in _bundled_specs()[1] for p in (*topic.patterns, *topic.exclude))


# --- feed locations ---------------------------------------------------------------


def feed_url_problem(url: str) -> str | None:
    """Why `url` cannot be a feed location, or None when it can.

    http(s) URLs and local file paths (absolute, `~/...`, or `file://`) are
    accepted; the latter are for archives and tests, and only ever come from
    the user's own config, never from a redirect.
    """
    if not url:
        return "must not be empty"
    if any(ch.isspace() for ch in url):
        return "must not contain spaces (percent-encode them as %20)"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "must not contain control characters"
    if url.startswith(("/", "~", "./", "../")):
        return None
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname:
            return f"{url!r} has no host name"
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            return f"{url!r} has an invalid port"
        return None
    if scheme == "file":
        return None if parts.path else "a file:// URL needs a path"
    if not scheme:
        return "must start with http:// or https:// (or be a file path)"
    return f"scheme '{scheme}:' is not fetched; use http://, https:// or a local file path"


def normalise_feed_location(url: str, base: Path) -> str:
    """Expand `~` and make relative file paths absolute (relative to the config's folder)."""
    if url.startswith("~"):
        return str(Path(url).expanduser())
    if url.startswith(("./", "../")):
        return str((base / url).resolve())
    return url


# --- editing ----------------------------------------------------------------------


def _write_atomically(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _edit(path: Path, change: Callable[[tomlkit.TOMLDocument], None]) -> Config:
    """Apply `change` to the file's document, validate the result, then write it.

    Validation runs on the new text before anything is written, so an edit
    can never leave behind a config the program refuses to start on.
    """
    import tomlkit

    try:
        original = path.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror}") from exc
    try:
        document = tomlkit.parse(original)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(
            str(path), f"not valid TOML: {exc}", line=getattr(exc, "line", None)
        ) from exc
    change(document)
    text = tomlkit.dumps(document)
    config = parse_config(text, path)
    try:
        _write_atomically(path, text)
    except OSError as exc:
        raise ConfigError(str(path), f"cannot write: {exc.strerror}") from exc
    return config


def _feeds_array(document: tomlkit.TOMLDocument) -> AoT:
    from tomlkit.items import AoT

    feeds = document.get("feeds")
    if feeds is None:
        feeds = AoT([])
        document.append("feeds", feeds)
    if not isinstance(feeds, AoT):
        raise ConfigError(
            "config", "'feeds' must be written as [[feeds]] tables to be edited", key="feeds"
        )
    return feeds


def add_feeds(path: Path, new_feeds: Sequence[FeedSpec]) -> tuple[list[FeedSpec], list[FeedSpec]]:
    """Append feeds to the config, keeping its comments and layout.

    Returns:
        (added, skipped): feeds already in the config are skipped, not duplicated.

    Raises:
        ConfigError: a URL is not a feed location, or the edited file would not validate.
    """
    for feed in new_feeds:
        problem = feed_url_problem(feed.url)
        if problem:
            raise ConfigError(str(path), f"{feed.url!r}: {problem}", key="feeds.url")
    current = {f.url for f in load_config(path).feeds}
    added: list[FeedSpec] = []
    skipped: list[FeedSpec] = []
    for feed in new_feeds:
        location = normalise_feed_location(feed.url, path.parent)
        if location in current:
            skipped.append(feed)
        else:
            current.add(location)
            added.append(feed)

    def change(document: tomlkit.TOMLDocument) -> None:
        import tomlkit

        feeds = _feeds_array(document)
        for feed in added:
            table = tomlkit.table()
            if feed.name:
                table["name"] = feed.name
            table["url"] = feed.url
            if feed.tags:
                table["tags"] = list(feed.tags)
            feeds.append(table)

    if added:
        _edit(path, change)
    return added, skipped


def remove_feed(path: Path, url: str) -> FeedSpec:
    """Remove the feed with this URL from the config.

    Raises:
        ConfigError: no feed has this URL.
    """
    config = load_config(path)
    location = normalise_feed_location(url, path.parent)
    match = next((f for f in config.feeds if f.url in (url, location)), None)
    if match is None:
        raise ConfigError(
            str(path),
            f"no feed with URL {url}; `stancewatch feeds list` shows the configured feeds",
        )

    def change(document: tomlkit.TOMLDocument) -> None:
        from tomlkit.items import Table

        feeds = _feeds_array(document)
        for index, table in enumerate(feeds):
            if (
                isinstance(table, Table | dict)
                and normalise_feed_location(str(table.get("url", "")).strip(), path.parent)
                == match.url
            ):
                del feeds[index]
                return

    _edit(path, change)
    return match
