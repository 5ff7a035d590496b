"""The headless pipeline end to end: config → poll → parse → store → positions.

These run the real `stancewatch` command in a subprocess against feeds on a
loopback HTTP server, as a user (or cron) would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sources.records import stable_id
from store import Store
from tests.feedserver import FeedServer, refused_url

ROOT = Path(__file__).resolve().parent.parent
FEEDS = Path(__file__).parent / "data" / "feeds"
SEED = ROOT / "tui" / "demo" / "seed-article.txt"
SHARED_SEED = ROOT.parent / "shared" / "eval" / "seed-article.txt"


def stancewatch(
    *args: str, stdin: str | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """Run the command as a user would, with this interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )


def seed_text() -> str:
    for path in (SEED, SHARED_SEED):
        if path.exists():
            return path.read_text("utf-8")
    pytest.skip("the seed article is not available")


def write_config(path: Path, urls: list[str]) -> Path:
    lines = ["# test config", "[settings]", "timeout = 5", ""]
    for url in urls:
        lines += ["[[feeds]]", f'url = "{url}"', ""]
    path.write_text("\n".join(lines), "utf-8")
    return path


def serve_fixture_feeds(srv: FeedServer) -> list[str]:
    srv.add("/wire.rss", (FEEDS / "wire.rss").read_bytes(), etag='"wire-v1"')
    srv.add(
        "/bulletin.atom",
        (FEEDS / "bulletin.atom").read_bytes(),
        content_type="application/atom+xml",
        last_modified="Tue, 11 Mar 2025 17:00:00 GMT",
    )
    srv.add(
        "/digest.rdf",
        (FEEDS / "digest.rdf").read_bytes(),
        content_type="application/rdf+xml",
        etag='"digest-1"',
        gzip=True,
    )
    srv.add("/sloppy.rss", (FEEDS / "sloppy.rss").read_bytes(), etag='"sloppy"')
    return [srv.url(p) for p in ("/wire.rss", "/bulletin.atom", "/digest.rdf", "/sloppy.rss")]


def test_two_polls_send_conditional_headers_and_add_no_duplicates(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    urls = serve_fixture_feeds(feed_server)
    broken = [feed_server.url("/status/500"), refused_url("/feed")]
    config = write_config(tmp_path / "c.toml", [*urls, *broken])
    db = tmp_path / "db.json"

    first = stancewatch("--config", str(config), "--db", str(db), "poll", "--once")
    assert first.returncode == 0, first.stderr
    assert "2 failing" in first.stderr
    for url in urls:
        assert url in first.stdout
    assert "HTTP 500" in first.stdout
    with Store.open(db, readonly=True) as store:
        assert store.counts()["items"] == 6
        # wire.rss repeats a guid: the first copy wins.
        first = store.item(stable_id("item", urls[0], "guid", "wire-0001"))
        assert first is not None and first.title == "Kremlin rejects talks timetable"
        # The sloppy feed is ill-formed but usable: its entry is kept.
        sloppy = store.item(stable_id("item", urls[3], "link", "https://sloppy.example/1"))
        assert sloppy is not None and "&" in sloppy.title

    feed_server.reset()
    second = stancewatch("--config", str(config), "--db", str(db), "poll", "--once")
    assert second.returncode == 0, second.stderr
    wire = feed_server.requests_to("/wire.rss")
    bulletin = feed_server.requests_to("/bulletin.atom")
    assert wire and wire[-1][2].get("if-none-match") == '"wire-v1"'
    assert bulletin and bulletin[-1][2].get("if-modified-since") == "Tue, 11 Mar 2025 17:00:00 GMT"
    assert second.stdout.count("not modified") == 4, second.stdout
    # The failing feeds wait out their backoff instead of being hit again.
    assert not feed_server.requests_to("/status/500")
    with Store.open(db, readonly=True) as store:
        assert store.counts()["items"] == 6
        states = store.feed_states()
    assert states[urls[0]].etag == '"wire-v1"'
    assert states[broken[0]].failures == 1 and "500" in (states[broken[0]].last_error or "")


def test_positions_json_shows_the_seed_articles_russian_peacekeeping_line(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    article = seed_text()
    escaped = article.replace("&", "&amp;").replace("<", "&lt;")
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Seed Times</title>'
        "<item><title>Russia sets terms for peacekeepers</title>"
        "<link>https://seed.example/article</link><guid>seed-1</guid>"
        "<pubDate>Wed, 20 Nov 2024 10:00:00 GMT</pubDate>"
        f"<description>{escaped}</description></item></channel></rss>"
    )
    feed_server.add("/seed.rss", feed.encode())
    config = write_config(tmp_path / "c.toml", [feed_server.url("/seed.rss")])
    db = tmp_path / "db.json"
    assert stancewatch("--config", str(config), "--db", str(db), "poll", "--once").returncode == 0

    shown = stancewatch("--config", str(config), "--db", str(db), "positions", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    positions = json.loads(shown.stdout)
    for row in positions:
        assert {
            "actor",
            "topic",
            "stance",
            "speaker",
            "claim",
            "published",
            "link",
            "changed",
        } <= set(row)
    russia = [p for p in positions if p["actor"] == "russia" and p["topic"] == "peacekeeping"]
    assert russia, positions
    assert russia[0]["link"] == "https://seed.example/article"
    assert russia[0]["published"].startswith("2024-11-20T10:00:00")

    history = stancewatch(
        "--config",
        str(config),
        "--db",
        str(db),
        "history",
        "russia",
        "peacekeeping",
        "--format",
        "json",
    )
    assert history.returncode == 0
    assert any("Nebenzia" in (row["speaker"] or "") for row in json.loads(history.stdout))


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown"])
def test_positions_prints_every_format(feed_server: FeedServer, tmp_path: Path, fmt: str) -> None:
    serve_fixture_feeds(feed_server)
    config = write_config(tmp_path / "c.toml", [feed_server.url("/bulletin.atom")])
    db = tmp_path / "db.json"
    assert stancewatch("--config", str(config), "--db", str(db), "poll", "--once").returncode == 0
    shown = stancewatch("--config", str(config), "--db", str(db), "positions", "--format", fmt)
    assert shown.returncode == 0, shown.stderr
    assert "france" in shown.stdout and "peacekeeping" in shown.stdout


def test_extract_json_prints_the_contract_fields_for_the_seed_article() -> None:
    run = stancewatch("extract", "--format", "json", stdin=seed_text())
    assert run.returncode == 0, run.stderr
    statements = json.loads(run.stdout)
    for statement in statements:
        assert {"actor", "speaker", "topic", "stance", "claim", "cue"} <= set(statement)
    pairs = {(s["actor"], s["topic"]) for s in statements}
    assert ("russia", "peacekeeping") in pairs
    nebenzia = [s for s in statements if s["actor"] == "russia" and s["topic"] == "peacekeeping"]
    assert any(
        s["stance"] == "conditional" and "Nebenzia" in (s["speaker"] or "") for s in nebenzia
    )
    assert all(s["cue"] for s in statements)


def test_a_bad_config_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        '[[feeds]]\nurl = "https://ok.example/rss"\n\n[[feeds]]\nurl = "ftp://x.example/f"\n'
    )
    for command in (["check-config"], ["poll", "--once"], ["positions"]):
        run = stancewatch("--config", str(config), "--db", str(tmp_path / "db.json"), *command)
        assert run.returncode == 2
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1, run.stderr
        assert f"{config}:5: feeds[1].url:" in lines[0]
    assert not (tmp_path / "db.json").exists()


def test_feeds_add_then_list_round_trips_and_keeps_comments(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("# hand-written, keep me\n[settings]\ninterval = 15  # fast\n", "utf-8")
    args = ["--config", str(config), "--db", str(tmp_path / "db.json")]
    added = stancewatch(*args, "feeds", "add", "https://news.example/rss", "--name", "Example News")
    assert added.returncode == 0, added.stderr
    listed = stancewatch(*args, "feeds", "list")
    assert "Example News" in listed.stdout and "https://news.example/rss" in listed.stdout
    text = config.read_text("utf-8")
    assert "# hand-written, keep me" in text and "# fast" in text
    exported = stancewatch(*args, "feeds", "export")
    assert 'xmlUrl="https://news.example/rss"' in exported.stdout
    removed = stancewatch(*args, "feeds", "remove", "https://news.example/rss")
    assert removed.returncode == 0
    assert "news.example" not in stancewatch(*args, "feeds", "list").stdout


def test_a_second_writer_is_refused_with_a_clear_message(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    serve_fixture_feeds(feed_server)
    config = write_config(tmp_path / "c.toml", [feed_server.url("/wire.rss")])
    db = tmp_path / "db.json"
    with Store.open(db):
        run = stancewatch("--config", str(config), "--db", str(db), "poll", "--once")
    assert run.returncode == 1
    assert "in use" in run.stderr and str(db) in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_version_and_help_read_well() -> None:
    version = stancewatch("--version")
    assert version.returncode == 0 and version.stdout.startswith("stancewatch ")
    helptext = stancewatch("--help")
    for word in ("demo", "poll", "positions", "history", "feeds", "extract", "check-config"):
        assert word in helptext.stdout
