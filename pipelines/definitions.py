"""The Dagster definitions, the code location `assistants-export` of the dg project (`dg dev`, `dg launch`).

They are what :class:`~pipelines.component.AssistantsExportComponent` builds with its defaults: settings come
from the environment, and the key is referenced by the variable's name, never stored.
"""

from __future__ import annotations

from .component import AssistantsExportComponent, snapshot_job

__all__ = ["defs", "snapshot_job"]

defs = AssistantsExportComponent().definitions()
