"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import importlib.machinery
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.feedserver import feed_server  # noqa: F401  (the loopback feed server fixture)

ROOT = Path(__file__).resolve().parents[1]


def stale_compiled_modules(root: Path = ROOT) -> list[str]:
    """Compiled modules in the work tree older than the `.py` file they were built from.

    An editable install (`pip install -e .`) puts the modules mypyc compiles
    beside their sources, and Python loads a compiled module before a `.py` file
    of the same name: after an edit, the tests would run the old code.
    """
    stale: list[str] = []
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        for compiled in (root / "sources").rglob(f"*{suffix}"):
            source = compiled.with_name(compiled.name.removesuffix(suffix) + ".py")
            if source.exists() and source.stat().st_mtime > compiled.stat().st_mtime:
                stale.append(str(source.relative_to(root)))
    return sorted(stale)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stop before any test runs on compiled modules older than their sources."""
    stale = stale_compiled_modules()
    if stale:
        pytest.exit(
            f"{', '.join(stale)} changed after the compiled modules beside them were built: "
            "run `.venv/bin/pip install -e '.[dev]'` again to recompile, or delete the "
            "compiled modules (sources/**/*.so) to test the .py files",
            returncode=4,
        )


@pytest.fixture(autouse=True)
def keep_the_machine_out(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Keep the developer's own config, database and proxies out of the tests.

    Every test gets empty per-user directories (but for the cache of
    compiled regexes, shared by the session), no STANCEWATCH_* variables,
    and no proxy settings (traffic must stay on 127.0.0.1), so a test never
    reads or writes a real config or database.
    """
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    # One cache for the session: it only holds compiled regexes, the same for
    # every test, and a test that starts from an empty one says so.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))
    for name in ("STANCEWATCH_CONFIG", "STANCEWATCH_DB"):
        monkeypatch.delenv(name, raising=False)
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")
    yield


@pytest.fixture
def data_dir() -> Path:
    """The folder of the suite's own sample files."""
    return Path(__file__).parent / "data"
