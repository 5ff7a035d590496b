"""The headless core: feeds, parsing, extraction and polling (never the TUI)."""

__version__ = "0.1.0"
"""The package's version; pyproject.toml reads it from here."""
