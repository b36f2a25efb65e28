"""One core, many faces: the core never imports Textual, plotext or a face."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import nemwatch.core

FORBIDDEN = ("textual", "textual_plotext", "plotext", "nemwatch.tui", "nemwatch.headless", "nemwatch.sim", "nemwatch.cli")


def test_core_imports_nothing_forbidden_in_a_fresh_interpreter() -> None:
    modules = [m.name for m in pkgutil.walk_packages(nemwatch.core.__path__, "nemwatch.core.")]
    assert "nemwatch.core.models" in modules
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r} or m.startswith({FORBIDDEN!r}))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core pulled in: {out.stdout.strip()}"


def test_import_contract_holds() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "KEPT" in result.stdout
