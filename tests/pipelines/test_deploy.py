"""The Docker deployment in deploy/ holds together, checked without a Docker daemon.

* Each container's command is a real command of the installed tools, its options included.
* deploy/dagster.docker.yaml passes Dagster's own instance validation, and an instance built from it has the
  DockerRunLauncher and the run limits it names; the per-source limit holds runs of one source back (judged by
  Dagster's own queue logic) on the tags the snapshot runs carry.
* deploy/workspace.yaml loads and points at the compose service that runs the code server.
* Every variable a run needs reaches the run containers, by name only; no deploy file holds a secret.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster import DagsterInstance, DagsterRun, build_schedule_context
from dagster._core.instance.config import dagster_instance_config
from dagster._core.launcher import RunLauncher
from dagster._core.remote_origin import GrpcServerCodeLocationOrigin
from dagster._core.remote_representation.external_data import PartitionTagsSnap
from dagster._core.run_coordinator import RunCoordinator
from dagster._core.workspace.load import location_origins_from_yaml_paths
from dagster._grpc.impl import get_partition_tags
from dagster._serdes.config_class import ConfigurableClassData
from dagster._utils.tags import TagConcurrencyLimitsCounter

from assistants_export.pipelines.config import DEFAULT_SOURCE, SOURCE_TAG
from assistants_export.pipelines.definitions import defs
from assistants_export.pipelines.instance import instance_settings, variant_names, variant_settings, write_variants
from assistants_export.pipelines.partitions import partition_key, snapshot_partitions

PARTITION_SOURCE_TAG = "dagster/partition/source"
"""Dagster's own tag of a run's source dimension: an asset-graph backfill's runs carry it and not SOURCE_TAG."""

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "docker-compose.yaml").read_text(encoding="utf-8"))
INSTANCE = yaml.safe_load((DEPLOY / "dagster.docker.yaml").read_text(encoding="utf-8"))
DOCKERFILE = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent
DAGSTER_HOME_IN_IMAGE = "/opt/dagster/home"


def _services() -> dict[str, dict[str, Any]]:
    return COMPOSE["services"]


def _service_running(argv_prefix: list[str]) -> tuple[str, list[str]]:
    """The one compose service whose command starts with ``argv_prefix``, and its command."""
    found = [(name, s["command"]) for name, s in _services().items()
             if s.get("command", [])[:len(argv_prefix)] == argv_prefix]
    assert len(found) == 1, f"expected one service running {argv_prefix}, found {found}"
    return found[0]


def _option(argv: list[str], *names: str) -> str:
    """The value given to the first of ``names`` in ``argv``."""
    for i, arg in enumerate(argv[:-1]):
        if arg in names:
            return argv[i + 1]
    raise AssertionError(f"{argv} gives none of {names}")


def _dockerfile_instructions(name: str) -> list[str]:
    """The arguments of each ``name`` instruction of the Dockerfile, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.split(None, 1)[:1] == [name]]


def _copies() -> list[tuple[list[str], str]]:
    """Each COPY of the Dockerfile: its sources and its destination."""
    return [(words[:-1], words[-1]) for words in (c.split() for c in _dockerfile_instructions("COPY"))]


def _dockerfile_exec_form(name: str) -> list[str]:
    (arguments,) = _dockerfile_instructions(name)
    value = json.loads(arguments)
    assert isinstance(value, list), f"{name} in exec form (a JSON array)"
    return value


# --- The containers' commands ----------------------------------------------------------------------


def _commands() -> dict[str, list[str]]:
    """Every command a container of the deployment runs: the services', their health checks', the image's."""
    commands = {"Dockerfile CMD": _dockerfile_exec_form("CMD")}
    for name, service in _services().items():
        if "command" in service:
            commands[name] = service["command"]
        test = service.get("healthcheck", {}).get("test", [])
        if test[:1] == ["CMD"] and Path(test[1]).name.startswith("dagster"):
            commands[f"{name} healthcheck"] = test[1:]
    return commands


def test_the_deployment_runs_the_four_services():
    assert set(_services()) == {"postgres", "code-location", "webserver", "daemon"}
    assert _service_running(["dagster", "code-server", "start"])[0] == "code-location"
    assert _service_running(["dagster-webserver"])[0] == "webserver"
    assert _service_running(["dagster-daemon", "run"])[0] == "daemon"
    # The image's default command is the code location's, so a bare `docker run` of it serves the definitions.
    assert _dockerfile_exec_form("CMD") == _services()["code-location"]["command"]


@pytest.mark.parametrize("where", sorted(_commands()))
def test_each_command_is_a_command_of_the_installed_tools(where):
    """``<command> --help`` with the command's own arguments: click refuses an unknown subcommand or option
    (exit 2) before it prints the help, so a typo or a removed option fails here."""
    argv = _commands()[where]
    executable = BIN / argv[0]
    assert executable.is_file(), f"{where}: {argv[0]} is not installed (pyproject.toml, deploy/Dockerfile)"
    done = subprocess.run([str(executable), *argv[1:], "--help"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DAGSTER_HOME": "/nonexistent"})
    assert done.returncode == 0, f"{where}: {shlex.join(argv)}\n{done.stderr[-2000:]}"
    assert "Usage:" in done.stdout


def test_the_code_server_serves_the_projects_definitions():
    _, argv = _service_running(["dagster", "code-server", "start"])
    assert _option(argv, "-m", "--module-name") == "assistants_export.pipelines.definitions"
    assert _option(argv, "-h", "--host") == "0.0.0.0"  # reachable from the other containers
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert _option(argv, "--location-name") == project["tool"]["dg"]["project"]["code_location_name"]


def test_the_webserver_and_the_daemon_load_the_images_workspace():
    for prefix in (["dagster-webserver"], ["dagster-daemon", "run"]):
        _, argv = _service_running(prefix)
        assert _option(argv, "-w", "--workspace") == f"{DAGSTER_HOME_IN_IMAGE}/workspace.yaml"
    copies = {dst: sources for sources, dst in _copies()}
    assert copies[f"{DAGSTER_HOME_IN_IMAGE}/workspace.yaml"] == ["deploy/workspace.yaml"]
    assert copies[f"{DAGSTER_HOME_IN_IMAGE}/dagster.yaml"] == ["deploy/dagster.docker.yaml"]
    assert f"DAGSTER_HOME={DAGSTER_HOME_IN_IMAGE}" in re.sub(r"\\\n\s*", " ", DOCKERFILE)


# --- The image ----------------------------------------------------------------------------------------


def _dockerignore_keeps(path: str) -> bool:
    """Whether deploy/Dockerfile.dockerignore lets ``path`` into the build context (last matching rule wins)."""
    kept = True
    for line in (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines():
        rule = line.strip()
        if not rule or rule.startswith("#"):
            continue
        negated, pattern = rule.startswith("!"), rule.lstrip("!")
        if pattern == "*" or path == pattern or path.startswith(pattern.rstrip("/") + "/"):
            kept = negated
    return kept


def test_the_image_copies_files_that_exist_into_its_build_context():
    copies = _copies()
    assert copies
    for sources, _ in copies:
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
            assert _dockerignore_keeps(source), f"COPY {source}: Dockerfile.dockerignore leaves it out"
    copied = {s for sources, _ in copies for s in sources}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages <= copied, "the image installs every package of the project"


def test_the_image_installs_the_instances_run_launcher_and_storage():
    (install,) = [r for r in _dockerfile_instructions("RUN") if "pip install" in r]
    assert "'.[postgres]'" in install  # dagster-postgres, for the instance's storage
    launcher_module = INSTANCE["run_launcher"]["module"]
    assert launcher_module.replace("_", "-") in install


def test_the_entrypoint_drops_empty_variables(tmp_path):
    (entrypoint,) = [dst for sources, dst in _copies() if sources == ["deploy/entrypoint.sh"]]
    assert _dockerfile_exec_form("ENTRYPOINT") == ["/bin/sh", entrypoint]
    env = {"PATH": os.environ["PATH"], "AWS_ENDPOINT_URL": "", "ASSISTANTS_SCHEDULE_CRON": "", "KEPT": "a=b"}
    done = subprocess.run(["sh", str(DEPLOY / "entrypoint.sh"), "env"], env=env, capture_output=True, text=True,
                          timeout=30, check=True)
    lines = done.stdout.splitlines()
    assert "KEPT=a=b" in lines
    assert not [line for line in lines if line.startswith(("AWS_ENDPOINT_URL=", "ASSISTANTS_SCHEDULE_CRON="))]
    assert subprocess.run(["sh", str(DEPLOY / "entrypoint.sh"), "false"], env=env, timeout=30).returncode == 1


def test_the_code_location_loads_with_the_optional_variables_left_empty(tmp_path):
    """Compose sets an optional variable deploy/.env leaves out to "": through the entrypoint the definitions
    load with their defaults (an empty ASSISTANTS_SCHEDULE_CRON would be an invalid schedule)."""
    code = ("from assistants_export.pipelines.definitions import defs; "
            "print(defs.resolve_schedule_def('nightly_snapshot').cron_schedule)")
    empty = {name: "" for name in _launcher_env_vars() if name not in _required_variables()}
    env = {**os.environ, **empty, "ASSISTANTS_SCHEDULE_CRON": "", "ASSISTANTS_WAREHOUSE": str(tmp_path / "wh")}
    done = subprocess.run(["sh", str(DEPLOY / "entrypoint.sh"), sys.executable, "-c", code], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "0 2 * * *"


# --- The instance ---------------------------------------------------------------------------------


def test_the_instance_files_are_written_from_the_projects_dagster_yaml():
    """Each setting is written once: the project's in dagster.yaml, each variant's in deploy/instances.yaml; the
    deploy/dagster.<variant>.yaml files are what `python -m assistants_export.pipelines.instance` writes from them."""
    assert write_variants(check=True) == [], \
        "deploy/ is out of date: run python -m assistants_export.pipelines.instance"
    assert set(variant_names()) == {"postgres", "docker"}
    project = instance_settings()
    for name in variant_names():
        variant = variant_settings(name)
        assert variant["telemetry"] == project["telemetry"] and variant["python_logs"] == project["python_logs"]
        assert variant["concurrency"]["pools"] == project["concurrency"]["pools"]  # the DuckDB pool at 1
        assert "local_artifact_storage" not in variant and set(variant["storage"]) == {"postgres"}


def test_the_instance_configuration_passes_dagsters_validation():
    config, _ = dagster_instance_config(str(DEPLOY), "dagster.docker.yaml")
    assert set(config["storage"]) == {"postgres"}
    launcher = ConfigurableClassData(config["run_launcher"]["module"], config["run_launcher"]["class"],
                                     yaml.safe_dump(config["run_launcher"].get("config", {}))).rehydrate(object)
    assert isinstance(launcher, RunLauncher) and type(launcher).__name__ == "DockerRunLauncher"
    coordinator = ConfigurableClassData(config["run_coordinator"]["module"], config["run_coordinator"]["class"],
                                        yaml.safe_dump(config["run_coordinator"].get("config", {}))
                                        ).rehydrate(object)
    assert isinstance(coordinator, RunCoordinator) and type(coordinator).__name__ == "QueuedRunCoordinator"


def _instance(tmp_path: Path) -> DagsterInstance:
    """An instance of deploy/dagster.docker.yaml with its storage in SQLite (there is no PostgreSQL server here;
    the storage section itself is validated by test_the_instance_configuration_passes_dagsters_validation)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = {**INSTANCE, "storage": {"sqlite": {"base_dir": str(home)}}}
    (home / "dagster.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return DagsterInstance.from_config(str(home))


def test_an_instance_has_the_docker_launcher_and_the_run_limits_without_a_warning(tmp_path, caplog):
    # The limits in the instance-wide concurrency section (Dagster's current form, as deploy/dagster.postgres.yaml
    # has them), not in the run coordinator's or run_queue's older ones.
    assert "config" not in INSTANCE["run_coordinator"] and "run_queue" not in INSTANCE
    assert set(INSTANCE["concurrency"]["runs"]) == {"max_concurrent_runs", "tag_concurrency_limits"}
    with caplog.at_level(logging.WARNING, logger="dagster"), _instance(tmp_path) as instance:
        launcher = instance.run_launcher
        assert type(launcher).__name__ == "DockerRunLauncher"
        assert getattr(launcher, "networks", None) == [COMPOSE["networks"]["assistants-export"]["name"]]
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        concurrency = instance.get_concurrency_config()
        queue = concurrency.run_queue_config
        assert queue is not None
        assert queue.max_concurrent_runs == 4
        assert queue.tag_concurrency_limits == [
            {"key": SOURCE_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1},
            {"key": PARTITION_SOURCE_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]
        assert concurrency.pool_config.default_pool_limit == 1  # the pool assistants_duckdb
        assert str(getattr(concurrency.pool_config.pool_granularity, "value", None)) == "op"
    assert not [r.getMessage() for r in caplog.records if r.name.startswith("dagster")]


def _run(tags: dict[str, str]) -> DagsterRun:
    return DagsterRun(job_name="assistants_snapshot", run_id=str(uuid.uuid4()), tags=tags)


def _partition_run(date: str, source: str, *, job: bool = True) -> DagsterRun:
    """A run of one partition with the tags Dagster gives it: a job's run (a launch, a job backfill, a schedule's
    request) has the source tag too, a run of an asset-graph backfill only Dagster's own."""
    tags = {**snapshot_partitions([source]).get_tags_for_partition_key(f"{date}|{source}")}
    if job:
        tags[SOURCE_TAG] = source
    return _run(tags)


def test_runs_of_one_source_queue_behind_each_other_and_other_sources_do_not(tmp_path):
    """Dagster's own queue logic (the daemon's TagConcurrencyLimitsCounter) over the instance's limits."""
    with _instance(tmp_path) as instance:
        queue = instance.get_concurrency_config().run_queue_config
        assert queue is not None
        limits = list(queue.tag_concurrency_limits)
    running = _run({SOURCE_TAG: DEFAULT_SOURCE})
    counter = TagConcurrencyLimitsCounter(limits, [running])
    assert counter.is_blocked(_run({SOURCE_TAG: DEFAULT_SOURCE}))
    assert not counter.is_blocked(_run({SOURCE_TAG: "another-source"}))
    assert not counter.is_blocked(_run({}))  # the freshness check: read-only, untagged, never held back
    assert not TagConcurrencyLimitsCounter(limits, []).is_blocked(_run({SOURCE_TAG: DEFAULT_SOURCE}))
    # Runs of partitions: another date of a running source waits, whichever way it was launched; another source's
    # runs go ahead.
    counter = TagConcurrencyLimitsCounter(limits, [_partition_run("2026-11-20", "eu")])
    assert counter.is_blocked(_partition_run("2026-11-21", "eu"))
    assert counter.is_blocked(_partition_run("2026-11-21", "eu", job=False))
    assert not counter.is_blocked(_partition_run("2026-11-20", DEFAULT_SOURCE))
    assert not counter.is_blocked(_partition_run("2026-11-20", "us", job=False))
    counter = TagConcurrencyLimitsCounter(limits, [_partition_run("2026-11-20", "eu", job=False)])
    assert counter.is_blocked(_partition_run("2026-11-21", "eu"))


# --- The tag on the runs ------------------------------------------------------------------------------


def test_snapshot_runs_carry_the_source_tag(monkeypatch):
    monkeypatch.setenv("ASSISTANTS_DISCOVER", "1")  # the schedule asks for runs of a source that has IDs
    job = defs.resolve_job_def("assistants_snapshot")
    assert job.get_tags_for_partition_key(partition_key("2026-11-20"), selected_asset_keys=None)[SOURCE_TAG] == \
        DEFAULT_SOURCE
    schedule = defs.resolve_schedule_def("nightly_snapshot")
    tick = dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC)
    with build_schedule_context(scheduled_execution_time=tick, repository_def=defs.get_repository_def()) as context:
        (request,) = schedule.evaluate_tick(context).run_requests or []
    assert request.tags.get(SOURCE_TAG) == DEFAULT_SOURCE


def test_the_partition_tags_the_daemon_reads_carry_the_source_tag():
    """The daemon (a job backfill) and the webserver (a launch of a partition) ask the code server for a
    partition's tags and merge them into the run they create."""
    snap = get_partition_tags(defs.get_repository_def(), "assistants_snapshot", str(partition_key("2026-11-20")))
    assert isinstance(snap, PartitionTagsSnap), snap
    assert snap.tags.get(SOURCE_TAG) == DEFAULT_SOURCE


# --- The workspace ------------------------------------------------------------------------------------


def test_the_workspace_loads_and_points_at_the_code_server():
    (origin,) = location_origins_from_yaml_paths([str(DEPLOY / "workspace.yaml")])
    assert isinstance(origin, GrpcServerCodeLocationOrigin)
    service, argv = _service_running(["dagster", "code-server", "start"])
    assert origin.host == service
    assert origin.port == int(_option(argv, "-p", "--port"))
    assert origin.location_name == _option(argv, "--location-name")


# --- Variables and secrets ----------------------------------------------------------------------------


def _launcher_env_vars() -> list[str]:
    return INSTANCE["run_launcher"]["config"]["env_vars"]


def _environment(service: str) -> dict[str, str]:
    environment = _services()[service].get("environment", {})
    assert isinstance(environment, dict), f"{service}: environment as a mapping"
    return environment


REFERENCE = re.compile(r"^\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?::(?P<op>[-?])(?P<rest>.*))?\}$")


def _required_variables() -> set[str]:
    """The variables compose refuses to start without (``${NAME:?message}``)."""
    found = set()
    for service in _services():
        for value in _environment(service).values():
            match = REFERENCE.match(str(value))
            if match and match["op"] == "?":
                found.add(match["name"])
    return found


def test_every_variable_passed_to_runs_is_named_only_and_set_where_it_is_read():
    names = _launcher_env_vars()
    assert all(re.fullmatch(r"[A-Z_][A-Z0-9_]*", name) for name in names), "names only, never NAME=value"
    # DockerRunLauncher refuses to start a run when a named variable is unset in the daemon's environment; the
    # code location needs the same settings to load the definitions the runs execute.
    for service in ("daemon", "code-location"):
        missing = set(names) - set(_environment(service))
        assert not missing, f"{service} lacks {sorted(missing)}"
    # What a snapshot needs in its container: the instance's database, the API key, the warehouse and its keys.
    storage = INSTANCE["storage"]["postgres"]["postgres_db"]
    needed = {field["env"] for field in storage.values() if isinstance(field, dict)}
    needed |= {"OPENAI_API_KEY", "ASSISTANTS_WAREHOUSE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
               "AWS_ENDPOINT_URL", "AWS_REGION"}
    assert needed <= set(names)
    assert {"OPENAI_API_KEY", "ASSISTANTS_WAREHOUSE"} <= _required_variables()
    image = _services()["code-location"]["image"]
    assert _environment("code-location")["DAGSTER_CURRENT_IMAGE"] == image  # the runs' image is the code's


LITERALS = {"DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_CURRENT_IMAGE"}
"""Compose variables set to a value in the file itself: where things are, never a secret."""

SECRET_NAME = re.compile(r"PASSWORD|SECRET|API_KEY|TOKEN|ACCESS_KEY", re.I)
SECRET_VALUE = re.compile(r"\bsk-[A-Za-z0-9_-]{8,}|\bAKIA[0-9A-Z]{16}\b|-----BEGIN [A-Z ]*PRIVATE KEY")


def test_compose_takes_every_value_from_the_environment():
    for service in _services():
        for key, value in _environment(service).items():
            if key in LITERALS:
                assert not SECRET_NAME.search(key)
                continue
            match = REFERENCE.match(str(value))
            assert match, f"{service}: {key}={value!r} is a value, not a ${{NAME}} reference"
            assert match["op"] != "-" or match["rest"] == "", f"{service}: {key} has a default value in the file"
            expected = re.sub(r"^POSTGRES_", "DAGSTER_PG_", key)  # the postgres image's names for the same values
            assert match["name"] == expected, f"{service}: {key} takes ${match['name']}"


def test_the_instance_reads_the_database_settings_from_the_environment():
    storage = INSTANCE["storage"]["postgres"]["postgres_db"]
    for field in ("hostname", "port", "username", "password", "db_name"):
        assert set(storage[field]) == {"env"}, f"{field}: from a variable"


def test_no_deploy_file_holds_a_secret():
    files = [p for p in DEPLOY.rglob("*") if p.is_file() and p.name != ".env"]
    assert {"docker-compose.yaml", "dagster.docker.yaml", ".env.example", "Dockerfile"} <= {p.name for p in files}
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not SECRET_VALUE.search(text), f"{path.name} holds what looks like a key"
        for line in text.splitlines():
            assignment = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*[=:]\s*(\S.*)?$", line)
            if assignment and SECRET_NAME.search(assignment[1]) and assignment[2]:
                value = assignment[2].strip().strip("\"'")
                assert value.startswith("${") or value in ("", "[]"), f"{path.name}: {line.strip()}"


def test_the_env_example_names_every_required_variable_and_its_secrets_are_empty():
    assignments = {}
    for line in (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines():
        match = re.match(r"#?\s*([A-Z_][A-Z0-9_]*)=(.*)$", line)
        if match:
            assignments[match[1]] = match[2]
    assert _required_variables() <= set(assignments)
    shown = set(_launcher_env_vars()) - LITERALS  # where the database is, the compose file says
    assert shown <= set(assignments), "the example shows every variable the runs get"
    for name, value in assignments.items():
        if SECRET_NAME.search(name):
            assert value == "", f"{name} has a value in the example"
    assert assignments["ASSISTANTS_WAREHOUSE"].startswith("s3://")


def test_the_filled_in_env_file_is_not_committed():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    done = subprocess.run(["git", "check-ignore", "-q", "deploy/.env"], cwd=ROOT, timeout=30)
    assert done.returncode == 0, "deploy/.env must be git-ignored"
