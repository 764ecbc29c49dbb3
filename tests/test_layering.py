"""The package layout is the architecture: the core depends on nothing of ours, and the source
(``connectors/openai_assistants``) knows nothing of the warehouse, the history or Dagster.

Checked on the import statements, so a shortcut that couples two layers fails here, not in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> the first-party packages it may import (itself always allowed)
ALLOWED = {
    "connectors/core": set(),
    "connectors/openai_assistants": {"connectors.core"},
    "connectors/warehouse": {"connectors.core", "sql"},
    "connectors/history": {"connectors.core", "connectors.warehouse", "sql"},
    "connectors/report": {"connectors.core", "connectors.warehouse", "connectors.migration", "sql"},
}
FIRST_PARTY = ("connectors", "pipelines", "sql", "sandbox")
PACKAGE = "assistants_export"

# file -> the one import across layers it needs, and why
EXCEPTIONS = {
    # converting an old warehouse re-derives the payload tables from the bodies it kept, with the
    # flattener of the source that wrote them; nothing else in the warehouse knows the Assistant
    ("connectors/warehouse/upgrade.py", "connectors.openai_assistants.flatten"),
}


def imported_modules(path: Path) -> set[str]:
    """The first-party modules ``path`` imports, named by their folder (``connectors.core``, ``sql``): every one
    of them lives in the one import package, ``assistants_export``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module in (PACKAGE, f"{PACKAGE}.connectors"):
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    inside = {name.removeprefix(f"{PACKAGE}.") for name in found if name.startswith(f"{PACKAGE}.")}
    return {name for name in inside if name.split(".")[0] in FIRST_PARTY and name != "connectors"}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_the_layers_below_it(package: str) -> None:
    own = package.replace("/", ".")
    allowed = ALLOWED[package] | {own}
    wrong = {
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for module in imported_modules(path)
        if not any(module == a or module.startswith(a + ".") for a in allowed)
        and (str(path.relative_to(ROOT)), module) not in EXCEPTIONS
    }
    assert not wrong, "\n".join(sorted(wrong))


@pytest.mark.parametrize("folder", [*FIRST_PARTY, "benchmarks", "tests"])
def test_the_parts_are_imported_through_the_one_package(folder: str) -> None:
    """``import connectors`` or ``from sql import load`` would work from a checkout and fail from the wheel, which
    installs only ``assistants_export`` (and would pick up a user's own ``pipelines`` or ``sql`` instead)."""
    bare = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / folder).rglob("*.py"))
        for name in _top_level_imports(path)
        if name in FIRST_PARTY
    }
    assert not bare, "\n".join(sorted(bare))


def _top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names
