"""The package layout is the architecture: every package sits in a layer and imports only the layers below it.

The order (README, "Layout") is :data:`LAYERS`: the core, the SQL and the sandbox depend on nothing of ours; the
source (``connectors/openai_assistants``) knows nothing of the warehouse, the history or Dagster; the warehouse
stores what the source flattens; the history and the fetch's gates share the deletion rules below both; the
fetch prunes held runs and the approval of a held run commits through the fetch; Dagster and the CLI
(``pipelines``) sit on all of it, and the benchmarks on top. Checked on every import statement (inside functions
and ``TYPE_CHECKING`` blocks too) of every package, with no exception, so a shortcut that couples two layers
fails here, not in review. A second check refuses an import circle between modules that an import inside a
function would hide.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

LAYERS: list[set[str]] = [
    {"connectors/core", "sql", "sandbox"},
    {"connectors/openai_assistants"},
    {"connectors/warehouse"},
    {"connectors/deletions", "connectors/migration", "connectors/quality"},
    {"connectors/gates", "connectors/history", "connectors/report"},
    {"connectors/held_runs"},
    {"connectors/snapshot"},
    {"connectors/held"},
    {"pipelines"},
    {"benchmarks"},
]
"""The layers, lowest first. A package may import its own modules and those of any package in a lower layer;
two packages of one layer know nothing of each other."""

FIRST_PARTY = ("connectors", "pipelines", "sql", "sandbox")
FOLDERS = (*FIRST_PARTY, "benchmarks")
PACKAGE = "assistants_export"
LAYER_OF = {package: level for level, packages in enumerate(LAYERS) for package in packages}


def package_of_file(path: Path) -> str:
    """The package a file belongs to: ``connectors/<name>`` for a folder or a module of ``connectors/``, else its
    top-level folder."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[0] == "connectors" and len(parts) > 1 and parts[1] != "__init__":
        return f"connectors/{parts[1]}"
    return parts[0]


def package_of_module(module: str) -> str | None:
    """The package of a first-party module named from the import package's root (``connectors.core.errors``);
    ``None`` for the bare ``connectors`` folder, the namespace that only holds the packages."""
    parts = module.split(".")
    if parts[0] == "connectors":
        return f"connectors/{parts[1]}" if len(parts) > 1 else None
    return parts[0]


def module_name(path: Path) -> str:
    """``connectors.history.engine`` for ``connectors/history/engine.py``; a package by its folder."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, *, typing_too: bool = True) -> Iterator[str]:
    """Every module ``path`` imports (absolute, relative ones resolved), wherever the statement is."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skipped: set[int] = set()
    if not typing_too:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
                skipped.update(id(inner) for inner in ast.walk(node))
    here = module_name(path).split(".")
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here if is_package else here[:-1]
                base = base[:len(base) - (node.level - 1)]
                inside = [*base, *([node.module] if node.module else [])]
                module = ".".join([PACKAGE, *inside] if inside[0] in FIRST_PARTY else inside)
            else:
                module = node.module or ""
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


def first_party_imports(path: Path, *, typing_too: bool = True) -> set[str]:
    """The first-party modules ``path`` imports, named from the import package's root (``connectors.core``,
    ``sql``); ``from x import name`` counts ``x`` and ``x.name`` (a name that is not a module matches nothing)."""
    found = set()
    for name in _imports(path, typing_too=typing_too):
        if name.startswith("benchmarks"):
            found.add(name)
        elif name.startswith(f"{PACKAGE}."):
            inside = name.removeprefix(f"{PACKAGE}.")
            if inside.split(".")[0] in FIRST_PARTY and inside != "connectors":
                found.add(inside)
    return found


def _files() -> list[Path]:
    return sorted(path for folder in FOLDERS for path in (ROOT / folder).rglob("*.py"))


def test_every_package_has_a_layer() -> None:
    found = {package_of_file(path) for path in _files()} - {"connectors"}
    assert found == set(LAYER_OF), (f"packages without a layer: {sorted(found - set(LAYER_OF))}; "
                                    f"layers naming no package: {sorted(set(LAYER_OF) - found)}")


@pytest.mark.parametrize("package", sorted(LAYER_OF))
def test_package_imports_only_the_layers_below_it(package: str) -> None:
    folder = ROOT / package
    paths = sorted(folder.rglob("*.py")) if folder.is_dir() else [folder.with_suffix(".py")]
    wrong = {
        f"{path.relative_to(ROOT)} imports {module}: {target} is not below {package}"
        for path in paths
        for module in first_party_imports(path)
        if (target := package_of_module(module)) is not None and target != package
        and LAYER_OF.get(target, len(LAYERS)) >= LAYER_OF[package]
    }
    assert not wrong, "\n".join(sorted(wrong))


def test_the_root_imports_nothing_of_ours_when_it_is_imported() -> None:
    """``assistants_export/__init__.py`` holds the version every layer may read, so it may import no layer as it
    loads; the Component's type name is imported from ``pipelines`` on first use (Dagster is slow to import)."""
    tree = ast.parse((ROOT / PACKAGE / "__init__.py").read_text())
    loaded = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    ours = [ast.unparse(node) for node in loaded
            if PACKAGE in ({alias.name.split(".")[0] for alias in getattr(node, "names", [])}
                           | {(getattr(node, "module", None) or "").split(".")[0]})]
    assert not ours, ours


def test_no_import_circle_between_modules() -> None:
    """The modules, linked by every import that runs (at the top or inside a function; ``TYPE_CHECKING`` ones
    never run), form no circle: an import moved into a function does not dodge one."""
    modules = {module_name(path): path for path in _files()}
    graph = {name: {m for m in first_party_imports(path, typing_too=False) if m in modules and m != name}
             for name, path in modules.items()}
    done: set[str] = set()
    circles = []

    def visit(name: str, stack: list[str]) -> None:
        if name in stack:
            circles.append(" -> ".join([*stack[stack.index(name):], name]))
            return
        if name in done:
            return
        for target in sorted(graph[name]):
            if not _is_own_init(name, target):
                visit(target, [*stack, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert not circles, "\n".join(circles)


def _is_own_init(importer: str, target: str) -> bool:
    """Whether ``target`` is a package ``importer`` lives in (``from . import x`` names the package first)."""
    return importer.startswith(f"{target}.")


def test_the_readme_states_the_layers() -> None:
    """The README's Layout lists the same layers, lowest first, one row each."""
    text = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| (\d+) \| ([^|]+) \|", text, flags=re.MULTILINE)
    stated = [set(re.findall(r"`([^`]+?)/?`", packages)) for _, packages in rows]
    normalized = [{p.removesuffix(".py") for p in layer} for layer in stated]
    assert normalized == LAYERS, "README.md's layer table differs from tests/test_layering.py's LAYERS"


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


def test_every_path_the_sql_files_name_exists() -> None:
    """A comment of ``sql/`` that points at a module or a statement names one that is there (moved code takes
    its pointers along)."""
    named = re.compile(r"\b(?:connectors|pipelines|sandbox|sql|benchmarks)/[\w/.-]*\w\.(?:py|sql)\b")
    missing = {
        f"{path.relative_to(ROOT)} names {found}"
        for path in sorted((ROOT / "sql").rglob("*.sql"))
        for found in named.findall(path.read_text())
        if not (ROOT / found).exists()
    }
    assert not missing, "\n".join(sorted(missing))
