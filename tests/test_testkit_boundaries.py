"""The benchmarks run without the test suite, and the application never imports test code."""

import ast
import tomllib
from pathlib import Path

import pytest

from hearus_testkit import ROOT

# The application's packages: what pyproject.toml ships ("classroom*" -> classroom).
APP_PACKAGES = tuple(
    pattern.rstrip("*")
    for pattern in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
)


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at any depth (function-local imports included)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def offenders(folders: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for module in sorted(imported_modules(path)):
                if module.split(".")[0] in forbidden:
                    found.append(f"{path.relative_to(ROOT)} imports {module}")
    return found


@pytest.mark.parametrize(
    ("folders", "forbidden"),
    [
        (("bench", "hearus_testkit"), ("tests", "pytest", "_pytest")),
        (APP_PACKAGES, ("tests", "bench", "hearus_testkit", "pytest")),
    ],
    ids=["bench-and-testkit-without-tests", "app-without-test-code"],
)
def test_imports_stay_on_their_side(folders: tuple[str, ...], forbidden: tuple[str, ...]) -> None:
    assert offenders(folders, forbidden) == []


def test_the_check_sees_function_local_imports(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text("def f():\n    from tests.ml import speech\n    import pytest\n")
    assert imported_modules(module) == {"tests.ml", "pytest"}


def test_every_django_app_is_an_application_package() -> None:
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert apps <= set(APP_PACKAGES)
