"""The project's Dagster instance: ``dagster.yaml`` at the top of the repository, and homes configured like it.

The project root is the project's ``DAGSTER_HOME`` (``make dev`` sets it): its ``dagster.yaml`` keeps what Dagster
stores under ``.dagster/``, relative to the folder Dagster runs in (the project root). :func:`write_instance_home`
makes another folder a ``DAGSTER_HOME`` with the same settings and its own storage, for the demo's instance
(``demo-data/``) and for tests, so each setting is written once, in ``dagster.yaml``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from assistants_export.connectors.core import settings_registry as registry

PROJECT_ROOT = Path(__file__).resolve().parents[1]
INSTANCE_FILE = PROJECT_ROOT / "dagster.yaml"
"""The project's instance configuration (in a checkout; an installed wheel does not carry it)."""


def instance_settings() -> dict[str, Any]:
    """The settings of the project's ``dagster.yaml``."""
    try:
        text = INSTANCE_FILE.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{INSTANCE_FILE} is missing: the project's Dagster instance is part of a checkout "
                                "of the repository") from None
    settings = yaml.safe_load(text)
    assert isinstance(settings, dict), INSTANCE_FILE
    return settings


def anchored(settings: Any, home: Path) -> Any:
    """``settings`` with every relative ``base_dir`` made a path under ``home``."""
    if isinstance(settings, dict):
        return {key: (str(home / value) if key == "base_dir" and isinstance(value, str) and not os.path.isabs(value)
                      else anchored(value, home))
                for key, value in settings.items()}
    if isinstance(settings, list):
        return [anchored(item, home) for item in settings]
    return settings


def write_instance_home(home: str | Path) -> Path:
    """Make ``home`` a ``DAGSTER_HOME`` configured like the project: its ``dagster.yaml`` is the project's with the
    storage under ``home/.dagster`` (absolute paths, so it does not depend on the working folder). Returns the
    absolute ``home``."""
    folder = Path(home).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    text = ("# Written from the project's dagster.yaml (pipelines/instance.py): the same settings, with this "
            "folder's storage.\n" + yaml.safe_dump(anchored(instance_settings(), folder), sort_keys=False))
    (folder / "dagster.yaml").write_text(text, encoding="utf-8")
    return folder


# --- The production variants (deploy/) ---------------------------------------------------------------------------

DEPLOY = PROJECT_ROOT / "deploy"
VARIANTS_FILE = DEPLOY / "instances.yaml"
LOCAL_ONLY = ("storage", "local_artifact_storage", "compute_logs")
"""The project's settings a production instance does not take: its local SQLite storage under ``.dagster/``."""


def _merged(base: Any, overlay: Any) -> Any:
    """``overlay`` over ``base``: mappings merged key by key, anything else replaced."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        return {**base, **{key: _merged(base.get(key), value) for key, value in overlay.items()}}
    return overlay


FROM_REGISTRY = "from the settings registry"
"""A variant's ``env_vars`` written so in ``deploy/instances.yaml`` become the variables the settings registry hands to
every run container (:func:`~assistants_export.connectors.core.settings_registry.deployment_variables`)."""


def _filled(settings: Any) -> Any:
    """``settings`` with every ``env_vars: from the settings registry`` replaced by the registry's list."""
    if isinstance(settings, dict):
        return {key: (registry.deployment_variables("instance", "runs")
                      if key == "env_vars" and value == FROM_REGISTRY else _filled(value))
                for key, value in settings.items()}
    return settings


def variant_settings(name: str) -> dict[str, Any]:
    """The settings of the production instance ``name`` of ``deploy/instances.yaml``."""
    variants = yaml.safe_load(VARIANTS_FILE.read_text(encoding="utf-8"))
    own = dict(variants[name])
    parent = own.pop("extends", None)
    base = (variant_settings(parent) if parent is not None else
            {key: value for key, value in instance_settings().items() if key not in LOCAL_ONLY})
    merged: dict[str, Any] = _filled(_merged(base, own))
    return merged


def variant_names() -> list[str]:
    return list(yaml.safe_load(VARIANTS_FILE.read_text(encoding="utf-8")))


def variant_text(name: str) -> str:
    """``deploy/dagster.<name>.yaml`` as :func:`write_variants` writes it."""
    return ("# Written by `python -m assistants_export.pipelines.instance` from dagster.yaml and "
            f"deploy/instances.yaml (the {name}\n# variant, explained there): edit those, not this file.\n"
            + yaml.safe_dump(variant_settings(name), sort_keys=False))


COMPOSE_FILE = DEPLOY / "docker-compose.yaml"
COMPOSE_START = ("  # Written from connectors/core/settings_registry.py by `python -m "
                 "assistants_export.pipelines.instance`: edit that.\n")
COMPOSE_END = "  # (end of the variables written from the settings registry)"


def compose_text() -> str:
    """``deploy/docker-compose.yaml`` with its run environment (between :data:`COMPOSE_START` and
    :data:`COMPOSE_END`) written from the settings registry; the rest of the file as it is."""
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    head, found, rest = text.partition(COMPOSE_START)
    _, ended, tail = rest.partition(COMPOSE_END)
    if not (found and ended):
        raise ValueError(f"{COMPOSE_FILE} has lost its markers {COMPOSE_START.strip()!r} ... {COMPOSE_END.strip()!r}")
    lines = "".join(f"  {line}\n" for line in registry.compose_environment())
    return f"{head}{COMPOSE_START}{lines}{COMPOSE_END}{tail}"


def write_variants(check: bool = False) -> list[Path]:
    """Write every variant to ``deploy/dagster.<name>.yaml``, and the compose file's run environment; with
    ``check``, write nothing and return the files that differ from what would be written."""
    stale = []
    written = {DEPLOY / f"dagster.{name}.yaml": variant_text(name) for name in variant_names()}
    written[COMPOSE_FILE] = compose_text()
    for path, text in written.items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if not check:
                path.write_text(text, encoding="utf-8")
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistants_export.pipelines.instance",
                                     description="Write deploy/dagster.<variant>.yaml from dagster.yaml and "
                                     "deploy/instances.yaml, and deploy/docker-compose.yaml's run environment "
                                     "from the settings registry.")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is out of date")
    check = parser.parse_args(argv).check
    for path in write_variants(check=check):
        print(f"{path.relative_to(PROJECT_ROOT)} {'is out of date' if check else 'written'}")
        if check:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
