"""Data flows one way: the headless core never pulls in the TUI or Textual."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEADLESS_PACKAGES = ("sources", "store")


def headless_modules() -> list[str]:
    modules = []
    for package in HEADLESS_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    # The CLI module is the entry point of the headless commands too.
    return [*modules, "tui.cli"]


@pytest.mark.parametrize("module", headless_modules())
def test_headless_modules_do_not_import_textual(module: str) -> None:
    code = (
        f"import importlib, sys; importlib.import_module({module!r}); "
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.') "
        "or (m.startswith('tui') and m != 'tui' and m != 'tui.cli')); "
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, f"{module} imports {run.stdout.strip()} {run.stderr[-500:]}"


@pytest.mark.parametrize("package", HEADLESS_PACKAGES)
def test_sources_and_store_never_name_the_tui(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(("tui", "textual")), f"{path}: imports {name}"
                if package == "sources":
                    assert not name.startswith("store"), (
                        f"{path}: sources must not import store ({name})"
                    )


def test_headless_commands_run_without_loading_textual(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[[feeds]]\nurl = "https://news.example/rss"\n', "utf-8")
    paths = ["--config", str(config), "--db", str(tmp_path / "db.json")]
    code = (
        "import sys; from tui.cli import main; "
        f"rc = main({paths!r} + ['check-config']) + main({paths!r} + ['positions']); "
        "print(rc, any(m.startswith('textual') for m in sys.modules))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.stdout.strip().splitlines()[-1] == "0 False", run.stdout + run.stderr


def _modules_after_import(modules: list[str]) -> set[str]:
    code = (
        f"import importlib, sys; [importlib.import_module(m) for m in {modules!r}]; "
        "print(' '.join(sys.modules))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    return set(run.stdout.split())


def test_the_polling_process_does_not_load_the_parser_or_the_extractor() -> None:
    # They run in the parse pool's workers; in the main process they would
    # only cost start-up time (feedparser alone is 17-33 ms).
    loaded = _modules_after_import(["tui.cli", "sources.poll", "sources.pool", "sources.fetch"])
    assert not {m for m in loaded if m.split(".")[0] == "feedparser"}
    assert not {"sources.parse", "sources.fastparse", "sources.extraction"} & loaded


def test_the_workers_preload_does_not_load_the_pools_event_loop_machinery() -> None:
    loaded = _modules_after_import(["sources.worker_preload"])
    assert "asyncio" not in loaded
    assert "sources.pool" not in loaded


def test_the_console_script_imports_a_light_entry_point() -> None:
    # Each parse worker runs the console script again (multiprocessing's
    # `__mp_main__`): what it imports at its top, every worker loads.
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["scripts"]
    module = scripts["stancewatch"].partition(":")[0]
    loaded = _modules_after_import([module])
    assert not {"asyncio", "tui.cli", "sources.config", "textual"} & loaded
