"""The connector as a Dagster Component: listed by dg, scaffolded into a fresh dg project, loaded there."""

import json
import os
import subprocess
import sys
from pathlib import Path

from assistants_export.pipelines.component import AssistantsExportComponent
from assistants_export.pipelines.definitions import defs

DG = Path(sys.executable).parent / "dg"
ROOT = Path(__file__).parents[2]
TYPE = "assistants_export.AssistantsExportComponent"

PYPROJECT = """\
[project]
name = "myproj"
version = "0.1.0"

[tool.dg]
directory_type = "project"

[tool.dg.project]
root_module = "myproj"

[tool.dg.cli]
suppress_warnings = ["project_and_activated_venv_mismatch"]
"""

DEFINITIONS = """\
from pathlib import Path

from dagster import definitions, load_from_defs_folder


@definitions
def defs():
    return load_from_defs_folder(path_within_project=Path(__file__).parent)
"""


def _dg(*args, cwd, env, both=False):
    done = subprocess.run([str(DG), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout + done.stderr if both else done.stdout


def test_the_project_definitions_are_the_components():
    built = AssistantsExportComponent().definitions()
    assert {k.to_user_string() for k in built.resolve_asset_graph().get_all_asset_keys()} == \
        {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    custom = AssistantsExportComponent(warehouse="/srv/assistants", api_key_env="MY_KEY",
                                       base_url="https://host/v1").definitions()
    resources = custom.resources or {}
    assert resources["warehouse"].path == "/srv/assistants"
    assert resources["api"].api_key_env == "MY_KEY" and resources["api"].base_url == "https://host/v1"


def test_dg_scaffolds_the_component_into_a_fresh_project_and_loads_it(tmp_path):
    env = {**os.environ, "PATH": f"{DG.parent}{os.pathsep}{os.environ.get('PATH', '')}", "OPENAI_API_KEY": "x",
           "DAGSTER_HOME": str(tmp_path / "home")}
    (tmp_path / "home").mkdir()
    assert TYPE in _dg("list", "components", cwd=ROOT, env=env)

    project = tmp_path / "myproj"
    (project / "myproj" / "defs").mkdir(parents=True)
    (project / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (project / "myproj" / "__init__.py").write_text("", encoding="utf-8")
    (project / "myproj" / "defs" / "__init__.py").write_text("", encoding="utf-8")
    (project / "myproj" / "definitions.py").write_text(DEFINITIONS, encoding="utf-8")

    _dg("scaffold", "defs", TYPE, "assistants_export", cwd=project, env=env)
    defs_yaml = project / "myproj" / "defs" / "assistants_export" / "defs.yaml"
    assert f"type: {TYPE}" in defs_yaml.read_text(encoding="utf-8")
    warehouse = tmp_path / "warehouse"
    defs_yaml.write_text(f"type: {TYPE}\n\nattributes:\n  warehouse: {warehouse}\n  api_key_env: MY_ASSISTANTS_KEY\n",
                         encoding="utf-8")

    assert "All definitions loaded successfully" in _dg("check", "defs", cwd=project, env=env, both=True)
    listed = json.loads(_dg("list", "defs", "--json", cwd=project, env=env))
    assert {a["asset_key"] for a in listed["assets"]} >= {"raw_assistants", "assistants", "assistant_history"}
    assert {j["name"] for j in listed["jobs"]} >= {"assistants_snapshot"}
    assert {s["name"] for s in listed["schedules"]} == {"nightly_snapshot", "hourly_freshness_check"}


def test_every_asset_names_the_version_that_writes_it():
    import assistants_export

    specs = list(defs.resolve_asset_graph().asset_nodes)
    assert specs and all(node.metadata.get("assistants_export/version") == assistants_export.__version__
                         for node in specs if node.key.to_user_string() != "duckdb_warehouse")
