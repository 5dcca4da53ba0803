"""The tests' own layout: test files sit in folders that mirror the code, and a test module
imports shared builders and stand-ins only from tests/support, never from another test module,
so a test file can move or split without breaking the files that borrowed from it."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
SUPPORT = "tests.support"
# The bootstrap program's tests keep their own helpers beside them (tests/bootstrap/iam_eval.py,
# requests.py): a suite of its own, for a program of its own (bootstrap/).
OWN_HELPERS = "tests.bootstrap"


def imported_modules(source: str, package: str) -> list[str]:
    """Every module an import statement names, relative imports resolved against ``package``;
    ``from a import b`` yields both ``a`` and ``a.b``, since ``b`` may be a module."""
    modules = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            modules.append(module)
            modules += [f"{module}.{alias.name}" for alias in node.names]
    return modules


def allowed(module: str, package: str) -> bool:
    parts = module.split(".")
    if any(part.startswith("test_") for part in parts):
        return False
    if parts[0] != "tests" or len(parts) == 1:
        return True  # not the tests' code (or the bare package, whose names are checked next)
    own = OWN_HELPERS.split(".")
    return parts[:2] == SUPPORT.split(".") or (package.startswith(OWN_HELPERS) and parts[:2] == own)


def forbidden_imports(source: str, package: str) -> list[str]:
    """The imports of a test module that reach into the tests other than through tests/support
    (or, for the bootstrap suite, its own helper modules): any ``test_*`` module included."""
    return [m for m in imported_modules(source, package) if not allowed(m, package)]


def test_no_test_module_imports_another_test_module_or_anything_outside_support():
    found = {}
    for path in sorted(TESTS.rglob("test_*.py")):
        package = ".".join(path.relative_to(TESTS.parent).parent.parts)
        problems = forbidden_imports(path.read_text(), package)
        if problems:
            found[str(path.relative_to(TESTS.parent))] = problems
    assert found == {}, "move shared names to tests/support/ and import them from there"


def test_the_check_refuses_borrowing_from_test_modules_and_helpers_outside_support():
    refused = {
        "from tests.config.test_config import broken": "tests.config.test_config",
        "from tests.conftest import typed": "tests.conftest",
        "import tests.project.test_docs": "tests.project.test_docs",
        "from tests.config import test_config": "tests.config.test_config",
        "from .test_day2 import judged": "tests.tools.transitions.test_day2",
        "from . import helpers": "tests.tools.transitions",
    }
    for source, module in refused.items():
        assert module in forbidden_imports(source, "tests.tools.transitions"), source
    allowed = [
        "from tests.support.stack_values import broken",
        "from tests.support import upstream_schema",
        "from tools import transitions",
        "import pytest",
    ]
    for source in allowed:
        assert forbidden_imports(source, "tests.tools.transitions") == [], source
    assert forbidden_imports("from tests.bootstrap import iam_eval", "tests.bootstrap") == []
    assert forbidden_imports("from tests.bootstrap import iam_eval", "tests.config") == [
        "tests.bootstrap",
        "tests.bootstrap.iam_eval",
    ]


def test_test_files_sit_in_folders_that_mirror_the_code():
    assert sorted(p.name for p in TESTS.glob("test_*.py")) == []
    folders = {p.name for p in TESTS.iterdir() if p.is_dir() and p.name != "__pycache__"}
    mirrored = {"config", "design", "components", "policies", "tools", "jobs", "support"}
    assert mirrored <= folders, sorted(mirrored - folders)
    concerns = {p.name for p in (TESTS / "components").iterdir() if p.is_dir()}
    assert {"foundation", "storage", "secrets", "backup", "apps"} <= concerns
    for folder in (p for p in TESTS.rglob("*") if p.is_dir() and any(p.glob("*.py"))):
        assert (folder / "__init__.py").is_file(), folder  # unique module names: packages
