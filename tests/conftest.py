"""Fixtures shared by the whole test suite."""

from __future__ import annotations

from tests.feedserver import feed_server  # noqa: F401
