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
}
FIRST_PARTY = ("connectors", "pipelines", "sql", "sandbox", "benchmarks")

# file -> the one import across layers it needs, and why
EXCEPTIONS = {
    # converting an old warehouse re-derives the payload tables from the bodies it kept, with the
    # flattener of the source that wrote them; nothing else in the warehouse knows the Assistant
    ("connectors/warehouse/upgrade.py", "connectors.openai_assistants.flatten"),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names if node.module == "connectors")
    return {name for name in found if name.split(".")[0] in FIRST_PARTY and name != "connectors"}


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
