"""The project's Dagster instance: ``dagster.yaml`` at the top of the repository, and homes configured like it.

The project root is the project's ``DAGSTER_HOME`` (``make dev`` sets it): its ``dagster.yaml`` keeps what Dagster
stores under ``.dagster/``, relative to the folder Dagster runs in (the project root). :func:`write_instance_home`
makes another folder a ``DAGSTER_HOME`` with the same settings and its own storage, for the demo's instance
(``demo-data/``) and for tests, so each setting is written once, in ``dagster.yaml``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

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
