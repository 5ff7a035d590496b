"""The config file: strict reading with file:line:key errors, and edits that keep comments."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sources.config import (
    add_feeds,
    bundled_default_text,
    ensure_config,
    load_config,
    parse_config,
    remove_feed,
    resolve_config_path,
    resolve_db_path,
)
from sources.errors import ConfigError
from sources.opml import parse_opml, write_opml
from sources.records import FeedSpec

BROKEN = Path(__file__).parent / "data" / "config"

# file name -> (line the message must name, key it must name, words it must contain)
BROKEN_CASES = {
    "syntax_error.toml": (4, None, "not valid TOML"),
    "unknown_key.toml": (6, "feeds[0].colour", "unknown key"),
    "feed_without_url.toml": (4, "feeds[1]", "missing required key 'url'"),
    "non_http_scheme.toml": (5, "feeds[1].url", "scheme 'gopher:'"),
    "zero_interval.toml": (2, "settings.interval", "between 1 minute and 7 days"),
    "negative_feed_interval.toml": (3, "feeds[0].interval", "between 1 minute and 7 days"),
    "huge_interval.toml": (3, "feeds[0].interval", "between 1 minute and 7 days"),
    "url_with_spaces.toml": (2, "feeds[0].url", "spaces"),
    "duplicate_feed.toml": (5, "feeds[1].url", "already listed"),
    "bad_topic_pattern.toml": (4, "topics.ceasefire.patterns", "bad regular expression"),
    "person_without_name.toml": (5, "actors.russia.people[0]", "missing required key 'name'"),
    "feeds_not_array.toml": (1, "feeds", "[[feeds]]"),
}


@pytest.mark.parametrize("name", sorted(BROKEN_CASES))
def test_each_broken_config_is_refused_with_file_line_and_key(name: str) -> None:
    line, key, words = BROKEN_CASES[name]
    with pytest.raises(ConfigError) as caught:
        load_config(BROKEN / name)
    error = caught.value
    message = str(error)
    assert message.startswith(f"{BROKEN / name}:{line}: "), message
    assert error.line == line
    if key:
        assert error.key == key
        assert f": {key}: " in message
    assert words in message
    assert "\n" not in message


def test_every_broken_config_file_has_a_case() -> None:
    assert {p.name for p in BROKEN.glob("*.toml")} == set(BROKEN_CASES)


def test_the_bundled_default_is_valid_and_tracks_the_named_actors_and_topics(
    tmp_path: Path,
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(bundled_default_text(), "utf-8")
    config = load_config(path)
    assert len(config.feeds) >= 5
    assert all(f.url.startswith("https://") for f in config.feeds)
    actor_ids = {a.id for a in config.actors}
    assert {"russia", "ukraine", "united-states", "france", "nato", "united-nations"} <= actor_ids
    assert {t.id for t in config.topics} >= {
        "peacekeeping",
        "nato-membership",
        "un-veto",
        "ceasefire",
        "sanctions",
    }
    russia = config.actor("russia")
    assert russia is not None
    people = {p.name for p in russia.people}
    assert any("Nebenzia" in n for n in people)
    assert any("Lavrov" in n for n in people)
    assert any("Putin" in n for n in people)
    assert any("Peskov" in n for n in people)
    france = config.actor("france")
    assert france is not None
    assert any("Macron" in p.name for p in france.people)
    assert any("Barrot" in p.name for p in france.people)


def test_every_bundled_topic_pattern_compiles() -> None:
    # Configs skip compiling the bundled patterns to check them; this is that check.
    config = parse_config("", Path("empty.toml"))
    patterns = [p for topic in config.topics for p in (*topic.patterns, *topic.exclude)]
    assert len(patterns) > 20
    for pattern in patterns:
        re.compile(pattern)
        re.compile(pattern, re.IGNORECASE)


def test_a_pattern_differing_from_a_bundled_one_is_still_checked(tmp_path: Path) -> None:
    bundled = parse_config("", Path("empty.toml")).topics[0].patterns[0]
    path = tmp_path / "c.toml"
    path.write_text(
        f"[topics.ceasefire]\npatterns = [{json.dumps(bundled)}, {json.dumps(bundled + '(')}]\n",
        "utf-8",
    )
    with pytest.raises(ConfigError, match="bad regular expression"):
        load_config(path)


def test_a_config_with_only_feeds_uses_the_bundled_actors_and_topics(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[feeds]]\nurl = "https://news.example/rss"\n', "utf-8")
    config = load_config(path)
    assert config.feeds[0].url == "https://news.example/rss"
    assert config.actor("russia") is not None
    assert config.topic("peacekeeping") is not None


def test_durations_accept_minutes_and_units(tmp_path: Path) -> None:
    text = (
        "[settings]\ninterval = 45\n"
        '[[feeds]]\nurl = "https://a.example/rss"\ninterval = "2h"\n'
        '[[feeds]]\nurl = "https://b.example/rss"\ninterval = "90s"\n'
        '[[feeds]]\nurl = "https://c.example/rss"\n'
    )
    config = parse_config(text, tmp_path / "c.toml")
    assert [f.interval for f in config.feeds] == [7200.0, 90.0, 2700.0]


def test_relative_file_feeds_and_database_are_relative_to_the_config(tmp_path: Path) -> None:
    text = '[settings]\ndatabase = "data/db.json"\n[[feeds]]\nurl = "./archive/feed.xml"\n'
    config = parse_config(text, tmp_path / "c.toml")
    assert config.feeds[0].url == str(tmp_path / "archive" / "feed.xml")
    assert config.database == tmp_path / "data" / "db.json"


def test_the_default_config_is_written_on_first_run_only(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "config.toml"
    assert ensure_config(path, is_default=True) is True
    assert "[[feeds]]" in path.read_text("utf-8")
    path.write_text("# mine\n", "utf-8")
    assert ensure_config(path, is_default=True) is False
    assert path.read_text("utf-8") == "# mine\n"


def test_a_missing_explicit_config_is_an_error_not_a_new_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        ensure_config(tmp_path / "typo.toml", is_default=False)
    assert not (tmp_path / "typo.toml").exists()


def test_paths_come_from_flag_then_environment_then_default(tmp_path: Path) -> None:
    env = {
        "STANCEWATCH_CONFIG": str(tmp_path / "env.toml"),
        "STANCEWATCH_DB": str(tmp_path / "env.json"),
    }
    assert resolve_config_path(str(tmp_path / "flag.toml"), env) == tmp_path / "flag.toml"
    assert resolve_config_path(None, env) == tmp_path / "env.toml"
    assert resolve_config_path(None, {}).name == "config.toml"
    assert resolve_db_path(str(tmp_path / "flag.json"), None, env) == tmp_path / "flag.json"
    assert resolve_db_path(None, None, env) == tmp_path / "env.json"
    assert resolve_db_path(None, None, {}).name == "stancewatch.json"


COMMENTED = """\
# My feeds, hand-kept.
[settings]
interval = 20  # minutes; the wire moves fast

# --- wires ---
[[feeds]]
name = "Wire"  # the main one
url = "https://wire.example/rss"
"""


def test_adding_a_feed_keeps_comments_and_layout(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(COMMENTED, "utf-8")
    added, skipped = add_feeds(
        path, [FeedSpec(url="https://new.example/atom", name="New", tags=("eu",))]
    )
    assert [f.url for f in added] == ["https://new.example/atom"] and not skipped
    text = path.read_text("utf-8")
    assert text.startswith(COMMENTED)
    assert "# minutes; the wire moves fast" in text and "# the main one" in text
    urls = [f.url for f in load_config(path).feeds]
    assert urls == ["https://wire.example/rss", "https://new.example/atom"]
    assert load_config(path).feeds[1].tags == ("eu",)


def test_adding_a_feed_twice_does_not_duplicate_it(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(COMMENTED, "utf-8")
    added, skipped = add_feeds(path, [FeedSpec(url="https://wire.example/rss")])
    assert not added and len(skipped) == 1
    assert path.read_text("utf-8") == COMMENTED


def test_adding_a_bad_url_leaves_the_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(COMMENTED, "utf-8")
    with pytest.raises(ConfigError, match="scheme 'javascript:'"):
        add_feeds(path, [FeedSpec(url="javascript:alert(1)")])
    assert path.read_text("utf-8") == COMMENTED


def test_removing_a_feed_keeps_the_rest_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(COMMENTED, "utf-8")
    add_feeds(path, [FeedSpec(url="https://new.example/atom")])
    remove_feed(path, "https://wire.example/rss")
    text = path.read_text("utf-8")
    assert "# My feeds, hand-kept." in text and "the wire moves fast" in text
    assert [f.url for f in load_config(path).feeds] == ["https://new.example/atom"]
    with pytest.raises(ConfigError, match="no feed with URL"):
        remove_feed(path, "https://wire.example/rss")


def test_adding_to_a_config_without_feeds_creates_the_array(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("# empty but for this\n", "utf-8")
    add_feeds(path, [FeedSpec(url="https://a.example/rss", name="A")])
    assert [f.name for f in load_config(path).feeds] == ["A"]


OPML = b"""<?xml version="1.0"?>
<opml version="2.0">
  <head><title>reader export</title></head>
  <body>
    <outline text="Europe">
      <outline text="Wire" type="rss" xmlUrl="https://wire.example/rss"
               category="/news/world,wires"/>
      <outline text="Daily" title="The Daily" type="rss" xmlUrl="https://daily.example/feed"/>
    </outline>
    <outline text="Loose" type="rss" xmlUrl="https://loose.example/rss"/>
    <outline text="Duplicate" type="rss" xmlUrl="https://loose.example/rss"/>
  </body>
</opml>
"""


def test_opml_import_keeps_folders_and_categories_as_tags() -> None:
    feeds = parse_opml(OPML).feeds
    assert [(f.url, f.name, f.tags) for f in feeds] == [
        ("https://wire.example/rss", "Wire", ("Europe", "news/world", "wires")),
        ("https://daily.example/feed", "The Daily", ("Europe",)),
        ("https://loose.example/rss", "Loose", ()),
    ]


def test_opml_export_then_import_round_trips() -> None:
    feeds = parse_opml(OPML).feeds
    assert parse_opml(write_opml(feeds).encode()).feeds == feeds


def test_opml_import_takes_only_web_feeds() -> None:
    data = (
        b'<opml version="2.0"><body>'
        b'<outline text="pw" xmlUrl="file:///etc/passwd"/>'
        b'<outline text="key" xmlUrl="~/.ssh/id_rsa"/>'
        b'<outline text="web" xmlUrl="https://web.example/rss"/>'
        b"</body></opml>"
    )
    offered = parse_opml(data)
    assert [f.url for f in offered.feeds] == ["https://web.example/rss"]
    assert offered.skipped == ("file:///etc/passwd", "~/.ssh/id_rsa")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"<opml><body><outline", "not valid XML"),
        (b"<rss><channel/></rss>", "not an OPML file"),
        (b"<opml version='2.0'><head/></opml>", "no <body>"),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><opml><body/></opml>',
            "DOCTYPE",
        ),
    ],
)
def test_bad_opml_is_refused_with_a_reason(data: bytes, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        parse_opml(data, "subs.opml")
