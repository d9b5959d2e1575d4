"""The code's import direction (docs/development.md, "Layers"), checked on the source itself.

    ml  <-  accounts  <-  lectures  <-  captions  <-  classroom  <-  hearus_site

A module may import its own package and the packages to its left, never one to its right; `ml/`
imports nothing of Django. No module-level import cycle exists anywhere, and no import hides
inside a function to dodge one (the few that are there for another reason are listed below).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["ml", "accounts", "lectures", "captions", "classroom", "hearus_site"]

# Function-local imports of the project's own modules, each with the reason it is not at the top.
LOCAL_IMPORTS_ALLOWED = {
    # Django's documented place to connect receivers: when the app registry is ready.
    ("classroom.apps", "classroom.notes"),
    ("classroom.apps", "classroom.recordings"),
    ("classroom.apps", "classroom.recovery"),
    ("classroom.apps", "classroom.audio_retention"),
    ("classroom.apps", "classroom.journal_tasks"),
    # torch and the encoder load only in the processes that summarise.
    ("classroom.notes", "classroom.summary_models"),
}


def _modules() -> dict[str, Path]:
    found = {}
    for package in LAYERS:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module, whether at module level) for every import of `path`."""
    tree = ast.parse(path.read_text(), str(path))
    module_level = {id(node) for node in tree.body} | {
        id(child)
        for node in tree.body
        if isinstance(node, ast.If | ast.Try)  # TYPE_CHECKING blocks and optional imports
        for child in ast.walk(node)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in module_level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from package import module` imports the module; `from module import name` not.
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                target = candidate if candidate in MODULES else node.module
                found.append((target, id(node) in module_level))
    return found


def _project(name: str) -> str | None:
    """The project module `name` refers to (itself or its nearest known parent)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _layer(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = [
        f"{module} -> {target}"
        for module, path in MODULES.items()
        for name, _top in _imports(path)
        if (target := _project(name)) is not None and _layer(target) > _layer(module)
    ]
    assert upward == []


def test_ml_knows_nothing_of_django() -> None:
    offenders = [
        f"{module} -> {name}"
        for module, path in MODULES.items()
        if module.split(".")[0] == "ml"
        for name, _top in _imports(path)
        if name.split(".")[0] in {"django", "channels", "rest_framework", "celery"}
    ]
    assert offenders == []


def test_no_function_local_import_of_the_project() -> None:
    hidden = {
        (module, target)
        for module, path in MODULES.items()
        for name, top in _imports(path)
        if not top and (target := _project(name)) is not None and target != module
    }
    assert hidden - LOCAL_IMPORTS_ALLOWED == set()


def test_no_import_cycle() -> None:
    graph = {
        module: {
            target
            for name, top in _imports(path)
            if top and (target := _project(name)) is not None and target != module
        }
        for module, path in MODULES.items()
    }
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_checks_see_the_code() -> None:
    """A guard for the checks themselves: they must find the modules and their imports."""
    assert {"captions.consumers", "lectures.lifecycle", "classroom.notes", "ml.streaming"} <= set(
        MODULES
    )
    assert ("lectures.lifecycle", True) in [
        (_project(name), top) for name, top in _imports(MODULES["lectures.services"])
    ]


def test_only_the_lifecycle_assigns_a_lecture_status() -> None:
    """Every status change must lock, check, publish and signal (`lectures.lifecycle`)."""
    assigning = [
        f"{module}:{node.lineno}"
        for module, path in MODULES.items()
        if module != "lectures.lifecycle"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Attribute) and target.attr == "status"
    ]
    assert assigning == []
