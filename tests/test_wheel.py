"""The distribution as a user installs it: built, checked, and installed beside a project of the same names.

The editable install of development maps the packages from the checkout through an import hook, which hides
what a built wheel holds. So this builds the sdist and the wheel as a release would (``python -m build``),
checks them (``twine check``, the wheel's top-level names, the SQL files, the vendored schemas and their
licences), installs the wheel into a fresh virtual environment at the tested versions (``constraints.txt``),
and there, next to a small dg project whose own packages are called ``pipelines``, ``connectors`` and ``sql``,
runs the command, a snapshot against the installed sandbox, and the Component through ``dg``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

import assistants_export

ROOT = Path(__file__).resolve().parents[1]
TYPE = "assistants_export.AssistantsExportComponent"

PYPROJECT = """\
[project]
name = "mydata"
version = "0.1.0"

[tool.dg]
directory_type = "project"

[tool.dg.project]
root_module = "pipelines"

[tool.dg.cli]
suppress_warnings = ["project_and_activated_venv_mismatch"]
"""

DEFINITIONS = """\
from pathlib import Path

from dagster import definitions, load_from_defs_folder

import connectors  # the user's own, next to ours
import sql

assert connectors.MINE and sql.MINE


@definitions
def defs():
    return load_from_defs_folder(path_within_project=Path(__file__).parent)
"""


def _run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    done = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, f"{command}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--outdir", out, ROOT, cwd=ROOT)  # the wheel is built from the sdist
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (found,) = dist.glob("*.whl")
    return found


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A fresh virtual environment with nothing but the wheel and its dependencies, at the tested versions."""
    where = tmp_path_factory.mktemp("venv") / "v"
    _run(sys.executable, "-m", "venv", where, cwd=ROOT)
    _run(where / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-c", ROOT / "constraints.txt", wheel, cwd=where.parent, timeout=900)
    return where


def test_the_wheel_holds_one_import_package_with_its_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/", 1)[0] for name in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"assistants_export"}
    assert wheel.name.startswith(f"assistants_export-{assistants_export.__version__}-")
    in_repo = {p.relative_to(ROOT).as_posix() for p in (ROOT / "sql").rglob("*.sql")}
    assert in_repo and {f"assistants_export/{p}" for p in in_repo} <= set(names)
    for schema in ("connectors/openai_assistants/schema", "connectors/migration/schema"):
        assert {f"assistants_export/{schema}/{f}" for f in ("LICENSE-openai-openapi", "__init__.py")} <= set(names)
        assert any(n.startswith(f"assistants_export/{schema}/") and n.endswith(".schema.json") for n in names)
    foundry = "assistants_export/connectors/openai_assistants/schema"
    assert {f"{foundry}/foundry_agent.swagger.json", f"{foundry}/LICENSE-azure-rest-api-specs"} <= set(names)
    licence = next(n for n in names if n.endswith(".dist-info/licenses/LICENSE"))
    assert "MIT License" in zipfile.ZipFile(wheel).read(licence).decode()


def test_the_sdist_builds_the_same_package_and_twine_accepts_both(dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    assert any(n.endswith("/assistants_export/connectors/snapshot/fetch.py") for n in names)
    assert any(n.endswith("/LICENSE") for n in names) and any(n.endswith("/CHANGELOG.md") for n in names)
    _run(sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir()), cwd=ROOT)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's dg project whose own packages are named like the folders of this repository."""
    root = tmp_path_factory.mktemp("user") / "mydata"
    for package in ("pipelines", "connectors", "sql"):
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("MINE = True\n", encoding="utf-8")
    (root / "pipelines" / "defs").mkdir()
    (root / "pipelines" / "defs" / "__init__.py").write_text("", encoding="utf-8")
    (root / "pipelines" / "definitions.py").write_text(DEFINITIONS, encoding="utf-8")
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def user_env(venv: Path, project: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The installed environment first on PATH, and the user's packages importable first."""
    home = tmp_path_factory.mktemp("dagster_home")
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ASSISTANTS_", "DAGSTER_"))}
    return {**kept, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}", "PYTHONPATH": str(project),
            "VIRTUAL_ENV": str(venv), "DAGSTER_HOME": str(home), "OPENAI_API_KEY": "sk-sandbox"}


@pytest.fixture(scope="module")
def sandbox(venv: Path, project: Path, user_env: dict[str, str]) -> Iterator[str]:
    """The installed package's own sandbox, in its own process; yields its base URL."""
    process = subprocess.Popen([venv / "bin" / "python", "-m", "assistants_export.sandbox"], cwd=project,
                               env=user_env, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip().removeprefix("base_url=")
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def test_the_installed_command_snapshots_beside_a_project_of_the_same_names(
        venv: Path, project: Path, user_env: dict[str, str], sandbox: str, tmp_path: Path) -> None:
    command = venv / "bin" / "assistants-export"
    assert "snapshot" in _run(command, "--help", cwd=project, env=user_env)
    assert _run(command, "--version", cwd=project, env=user_env).strip() == \
        f"assistants-export, version {assistants_export.__version__}"
    warehouse = tmp_path / "warehouse"
    _run(command, "snapshot", "--discover", "--quiet", "--warehouse", warehouse, "--base-url", sandbox,
         cwd=project, env=user_env)
    with duckdb.connect(str(warehouse / "assistants.duckdb"), read_only=True) as con:
        (count,) = con.execute("SELECT count(*) FROM assistants").fetchone() or (0,)
    assert count > 0


def test_the_component_is_listed_scaffolded_and_loads_in_the_user_project(
        venv: Path, project: Path, user_env: dict[str, str], tmp_path: Path) -> None:
    dg = venv / "bin" / "dg"
    assert TYPE in _run(dg, "list", "components", cwd=project, env=user_env)
    _run(dg, "scaffold", "defs", TYPE, "assistants_archive", cwd=project, env=user_env)
    defs_yaml = project / "pipelines" / "defs" / "assistants_archive" / "defs.yaml"
    assert f"type: {TYPE}" in defs_yaml.read_text(encoding="utf-8")
    defs_yaml.write_text(f"type: {TYPE}\n\nattributes:\n  warehouse: {tmp_path / 'warehouse'}\n", encoding="utf-8")
    assert "All definitions loaded successfully" in _run(dg, "check", "defs", cwd=project, env=user_env)
    done = subprocess.run([str(dg), "list", "defs", "--json"], cwd=project, env=user_env, capture_output=True,
                          text=True, timeout=600, check=True)
    listed = json.loads(done.stdout)
    assert {a["asset_key"] for a in listed["assets"]} >= {"raw_assistants", "assistants", "assistant_history"}
