"""Every package the code imports directly is declared in pyproject.toml (not left to arrive
as some other package's dependency, where an upgrade of that package could drop it)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    return {_normal(re.split(r"[\s<>=!~;\[(]", r, maxsplit=1)[0]) for r in requirements}


def _imported() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted((ROOT / "src" / "nemwatch").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("nemwatch", "__future__"):
                    found.setdefault(top, path.relative_to(ROOT))
    return found


def test_every_directly_imported_package_is_declared() -> None:
    providers = packages_distributions()
    declared = _declared()
    missing = {
        module: (where, providers.get(module))
        for module, where in _imported().items()
        if not any(_normal(dist) in declared for dist in providers.get(module, []))
    }
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_the_keccak_module_comes_from_a_declared_package() -> None:
    assert "sha3" in _imported()
    assert {_normal(d) for d in packages_distributions()["sha3"]} & _declared() == {"safe-pysha3"}
