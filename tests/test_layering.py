"""The dependency rules between the rooms hold: service -> browser only through its public names."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@functools.cache
def _tree(path: Path) -> ast.Module:
    """A source file's syntax tree, parsed once per process: every rule below walks the same files
    (read only)."""
    return ast.parse(path.read_text(encoding="utf-8"))


def _imports(package: str) -> list[tuple[Path, str, list[str]]]:
    """Every (file, imported module, imported names) in a package."""
    found: list[tuple[Path, str, list[str]]] = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = _tree(path)
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


_VALUE_BASES = {"Enum", "StrEnum", "IntEnum", "NamedTuple", "TypedDict"}
# Records shaped like a browser record by coincidence, each with why it is not a copy.
_NOT_COPIES = {
    ("service/fetch.py", "Fetched"): "a client's image URL fetched by the service itself, not page media",
}


def _base_name(node: ast.expr) -> str:
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""


def _is_value_class(node: ast.ClassDef) -> bool:
    """Enums, dataclasses, NamedTuples, TypedDicts: shapes whose copies need a by-value bridge.
    Protocols are views (the browser's types fit them); pydantic models are configuration."""
    decorated = any(
        _base_name(d.func if isinstance(d, ast.Call) else d) == "dataclass" for d in node.decorator_list
    )
    return decorated or any(_base_name(base) in _VALUE_BASES for base in node.bases)


def _class_fields(node: ast.ClassDef) -> set[str]:
    """Names the class body declares: annotated fields and enum members (``NAME = value``)."""
    names = {
        s.target.id for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
    }
    for statement in node.body:
        if isinstance(statement, ast.Assign):
            names.update(target.id for target in statement.targets if isinstance(target, ast.Name))
    return names


def _enum_values(node: ast.ClassDef) -> set[str]:
    return {
        s.value.value
        for s in node.body
        if isinstance(s, ast.Assign) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str)
    }


def _browser_shapes() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """The exported browser enums' values and the exported dataclasses' field names, by name."""
    import dataclasses
    import enum

    import browser

    enums: dict[str, set[str]] = {}
    records: dict[str, set[str]] = {}
    for name in browser.__all__:
        value = getattr(browser, name)
        if isinstance(value, type) and issubclass(value, enum.Enum):
            enums[name] = {str(member.value) for member in value}
        elif dataclasses.is_dataclass(value):
            records[name] = {f.name for f in dataclasses.fields(value)}
    return enums, records


def test_service_does_not_redeclare_browser_types() -> None:
    """One port: the service uses the browser's exported types, never a look-alike copy of them
    (a re-declared ``Family`` once dropped THINKING, and ``TurnSpec`` needed a by-value bridge)."""
    import browser

    exported = set(browser.__all__)
    enums, records = _browser_shapes()
    offenders: list[str] = []
    for path in sorted((ROOT / "service").rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        for node in ast.walk(_tree(path)):
            if not isinstance(node, ast.ClassDef):
                continue
            if node.name in exported:
                offenders.append(f"{where}: class {node.name} shadows browser.{node.name}")
            if not _is_value_class(node) or (where, node.name) in _NOT_COPIES:
                continue
            values = _enum_values(node)
            for name, members in enums.items():
                if len(values) >= 2 and values <= members:
                    offenders.append(f"{where}: enum {node.name} repeats values of browser.{name}")
            fields = _class_fields(node)
            for name, record in records.items():
                shared = fields & record
                # Most of its fields are the browser record's: a copy (TurnSpec ~ TurnRequest).
                if len(shared) >= 3 and 3 * len(shared) >= 2 * len(fields):
                    offenders.append(
                        f"{where}: {node.name} copies browser.{name} ({', '.join(sorted(shared))})"
                    )
    assert offenders == []


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph(package: str) -> dict[str, set[str]]:
    """Which of the package's modules each of its modules imports, at module level or inside a
    function (a deferred import only hides a cycle from the interpreter); imports for type checkers
    only (``if TYPE_CHECKING:``) are left out: they run nothing."""
    modules = {_module_name(path): path for path in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = _tree(path)
        typing_only = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and _base_name(node.test) == "TYPE_CHECKING"
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # ``from pkg import submodule`` imports the submodule; ``from pkg import name``, pkg.
                module = node.module
                targets = [
                    t if (t := f"{module}.{alias.name}") in modules else module for alias in node.names
                ]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            graph[name].update(target for target in targets if target in modules and target != name)
    return graph


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """A path of imports from ``start`` back to itself, if there is one."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        module, path = stack.pop()
        for target in sorted(graph[module]):
            if target == start:
                return [*path, start]
            if target not in seen:
                seen.add(target)
                stack.append((target, [*path, target]))
    return None


@pytest.mark.parametrize("package", ["service", "browser"])
def test_no_import_cycles(package: str) -> None:
    """Modules import one way: a module that needs what imports it is two concepts in one
    (``service.admin`` once had its operations import the routers that import the operations)."""
    graph = _import_graph(package)
    cycles = {" -> ".join(cycle) for name in graph if (cycle := _cycle_from(name, graph)) is not None}
    assert sorted(cycles) == []
