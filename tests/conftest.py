"""Fixtures shared by the whole test suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.feedserver import feed_server  # noqa: F401  (the loopback feed server fixture)


@pytest.fixture(autouse=True)
def keep_the_machine_out(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Keep the developer's own config, database and proxies out of the tests.

    Every test gets empty per-user directories, no STANCEWATCH_* variables,
    and no proxy settings (traffic must stay on 127.0.0.1), so a test never
    reads or writes a real config or database.
    """
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
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
