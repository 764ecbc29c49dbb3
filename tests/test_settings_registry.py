"""The settings registry (``connectors/core/settings_registry.py``) is the one place a variable is named.

* The README's "Environment variables" section is generated from it.
* No module (product, sandbox or benchmark) names an ``ASSISTANTS_*``/``OPENAI_*`` variable the registry does not
  declare (in code, messages or docstrings), and no product module but the registry spells one out as a whole
  string or a keyword to read or set it: they go through its :class:`Setting`.
* What the code falls back to when a variable is unset is the registry's default.
* The Docker deployment's variables (``deploy/``) are written from it.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from assistants_export.connectors.core import settings as warehouse_settings
from assistants_export.connectors.core import settings_registry as registry
from assistants_export.connectors.openai_assistants.config import ClientConfig, describe
from assistants_export.pipelines import schedules
from assistants_export.pipelines.instance import COMPOSE_FILE, variant_settings, write_variants
from assistants_export.pipelines.resources import AssistantsApiResource, WarehouseResource

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
REGISTRY = ROOT / "connectors" / "core" / "settings_registry.py"
FOLDERS = ("connectors", "pipelines", "sandbox", "benchmarks")
VARIABLE = re.compile(r"(?<![A-Za-z0-9_])(?:ASSISTANTS|OPENAI)_[A-Z0-9_]*[A-Z0-9]")
"""A variable of ours, in any text (``EU_OPENAI_API_KEY``, a source's own key variable, is not one)."""


def names_in_source(text: str, filename: str = "<source>") -> Iterator[tuple[int, str, bool]]:
    """Every variable of ours ``text`` names: (line, name, whether it is spelled out whole, as a string or a keyword
    argument, which is how a module would read or set it without the registry)."""
    tree = ast.parse(text, filename=filename)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            whole = VARIABLE.fullmatch(node.value) is not None
            for name in VARIABLE.findall(node.value):
                yield node.lineno, name, whole
        elif isinstance(node, ast.keyword) and node.arg and VARIABLE.fullmatch(node.arg):
            yield node.lineno, node.arg, True


def _sources(folders: tuple[str, ...] = FOLDERS) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py"))


@functools.cache
def _named(path: Path) -> list[tuple[int, str, bool]]:
    """:func:`names_in_source` of a file, parsed once for both tests."""
    return list(names_in_source(path.read_text(encoding="utf-8"), str(path)))


def test_the_readme_table_is_generated_from_the_registry() -> None:
    section = README.split("<!-- environment:start -->\n", 1)[1].split("<!-- environment:end -->", 1)[0]
    assert section == registry.environment_table_markdown(), (
        "README environment variables are stale: paste the output of "
        "python -m assistants_export.connectors.core.settings_registry")


def test_the_scan_finds_an_undeclared_variable_and_a_literal_read() -> None:
    source = ('import os\nos.environ.get("ASSISTANTS_NOT_DECLARED")\n"""Set ``OPENAI_API_KEY``."""\n'
              'env = {"OPENAI_BASE_URL": "x"}\nf(ASSISTANTS_DEBUG="1")\nprefix = "ASSISTANTS_"\n'
              'name = "EU_OPENAI_API_KEY"\n')
    assert sorted(names_in_source(source)) == [
        (2, "ASSISTANTS_NOT_DECLARED", True), (3, "OPENAI_API_KEY", False), (4, "OPENAI_BASE_URL", True),
        (5, "ASSISTANTS_DEBUG", True)]


def test_every_variable_a_module_names_is_declared_in_the_registry() -> None:
    undeclared = {
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in _sources()
        for line, name, _ in _named(path)
        if name not in registry.BY_ENV
    }
    assert not undeclared, ("declare these variables in connectors/core/settings_registry.py:\n"
                            + "\n".join(sorted(undeclared)))


def test_only_the_registry_spells_a_variable_out_to_read_or_set_it() -> None:
    """In the product's code (``connectors/``, ``pipelines/``). The sandbox, which sits beside the core and may not
    import it, only prints the variables in its hints, and the benchmarks set them for the processes
    they start; both are held to the declared names by the test above."""
    literal = {
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in _sources(("connectors", "pipelines")) if path != REGISTRY
        for line, name, whole in _named(path)
        if whole
    }
    assert not literal, ("read or set these through their Setting (settings_registry.X.variable, .raw(), .text()):\n"
                         + "\n".join(sorted(literal)))


def test_each_variable_is_declared_once_and_named_by_its_setting() -> None:
    variables = [s.env for s in registry.SETTINGS if s.env is not None]
    names = [s.name for s in registry.SETTINGS]
    assert len(variables) == len(set(variables)) and len(names) == len(set(names))
    for setting in registry.SETTINGS:
        assert setting.help.strip() and "\n" not in setting.help, setting.name
        if setting.deploy_required is not None:
            assert setting.deploy in ("runs", "services"), setting.name


def test_the_code_falls_back_to_the_registrys_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in registry.SETTINGS:
        if setting.env is not None:
            monkeypatch.delenv(setting.env, raising=False)
    client = ClientConfig.from_env({"OPENAI_API_KEY": "sk-x"})
    for setting in (registry.BASE_URL, registry.AUTH_STYLE, registry.ENTRA_CREDENTIAL, registry.ENTRA_SCOPE,
                    registry.ORGANIZATION, registry.PROJECT, registry.API_VERSION):
        assert getattr(client, setting.name) == setting.default, setting.name
        assert describe(setting.name) == setting.help
    assert client.api_key_env == registry.API_KEY.default
    assert WarehouseResource().root() == registry.WAREHOUSE.default == warehouse_settings.default_warehouse()
    assert WarehouseResource().writer_wait_seconds() == float(registry.WRITER_WAIT.fallback)
    assert schedules.schedule_settings({}) == (registry.SCHEDULE_CRON.default, registry.SCHEDULE_TIMEZONE.default)
    monkeypatch.setenv(registry.AUTH_STYLE.variable, "azure")
    monkeypatch.setenv(registry.API_KEY.variable, "sk-y")
    assert ClientConfig.from_env({"OPENAI_API_KEY": "sk-x"}).auth_style == "bearer"  # the mapping given, not os's
    assert ClientConfig.from_env().auth_style == "azure"


def test_the_resource_describes_each_variable_with_its_registry_help() -> None:
    fields = AssistantsApiResource.model_fields
    for setting in (registry.BASE_URL, registry.AUTH_STYLE, registry.API_VERSION, registry.ORGANIZATION,
                    registry.PROJECT, registry.ENTRA_CREDENTIAL, registry.ENTRA_SCOPE):
        description = fields[setting.name].description or ""
        assert description.startswith(setting.help) and f"${setting.env}" in description, setting.name


def test_the_docker_deployment_takes_its_variables_from_the_registry() -> None:
    """``deploy/`` is written from the registry (``python -m assistants_export.pipelines.instance``): the variables
    handed to the run containers, and those the compose file sets for the code location and the daemon."""
    assert write_variants(check=True) == [], "run python -m assistants_export.pipelines.instance"
    launcher = variant_settings("docker")["run_launcher"]["config"]["env_vars"]
    assert launcher == registry.deployment_variables("instance", "runs")
    assert {"DAGSTER_PG_PASSWORD", "OPENAI_API_KEY", "ASSISTANTS_WAREHOUSE", "AWS_SECRET_ACCESS_KEY"} <= set(launcher)
    compose = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    environment = compose["x-run-environment"]
    written = dict(line.split(": ", 1) for line in registry.compose_environment())
    assert {key: environment[key] for key in written} == written
    assert set(environment) == set(written) | {s.variable for s in registry.DAGSTER_PG}
    assert environment["OPENAI_API_KEY"].startswith("${OPENAI_API_KEY:?")


def test_the_cli_and_the_run_config_say_what_the_registry_says() -> None:
    from assistants_export.pipelines.cli import all_commands
    from assistants_export.pipelines.config import HistoryConfig, SnapshotConfig

    options = {param.name: param for param in all_commands()["snapshot"].params}
    for setting in (registry.BASE_URL, registry.AUTH_STYLE, registry.API_VERSION, registry.WAREHOUSE,
                    registry.WRITER_WAIT, registry.MAX_FAILED_SHARE, registry.MASS_DELETION_THRESHOLD):
        help_text = getattr(options[setting.name], "help", None) or ""
        assert help_text.startswith(setting.help), setting.name
        assert setting.env is None or f"${setting.env}" in help_text, setting.name
    for config in (SnapshotConfig, HistoryConfig):
        field = config.model_fields["mass_deletion_threshold"]
        assert field.description == registry.MASS_DELETION_THRESHOLD.help
        assert field.default == float(registry.MASS_DELETION_THRESHOLD.fallback)
    assert SnapshotConfig.model_fields["max_failed_share"].description == registry.MAX_FAILED_SHARE.help
