"""The dependency rules between the rooms hold: service -> browser only through its public names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(package: str) -> list[tuple[Path, str, list[str]]]:
    """Every (file, imported module, imported names) in a package."""
    found: list[tuple[Path, str, list[str]]] = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.extend((path, alias.name, []) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.module, [alias.name for alias in node.names]))
    return found


def _top(module: str) -> str:
    return module.split(".", 1)[0]


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("browser", {"service", "simulator"}),
        ("simulator", {"browser", "service"}),
        ("service", {"simulator"}),
    ],
)
def test_package_does_not_import_forbidden_rooms(package: str, forbidden: set[str]) -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path, module, _ in _imports(package)
        if _top(module) in forbidden
    ]
    assert offenders == []


def test_service_uses_only_public_browser_names() -> None:
    import browser

    public = set(browser.__all__)
    offenders: list[str] = []
    for path, module, names in _imports("service"):
        if _top(module) != "browser":
            continue
        if module != "browser":
            offenders.append(f"{path.relative_to(ROOT)}: imports {module}")
        offenders.extend(f"{path.relative_to(ROOT)}: {name}" for name in names if name not in public)
    assert offenders == []


def test_browser_exports_exist() -> None:
    import browser

    missing = [name for name in browser.__all__ if not hasattr(browser, name)]
    assert missing == []
