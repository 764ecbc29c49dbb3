"""The Dagster definitions, the code location `assistants-export` of the dg project (`dg dev`, `dg launch`).

They are what :class:`~assistants_export.pipelines.component.AssistantsExportComponent` builds with its defaults:
settings come
from the environment (and ``$ASSISTANTS_SOURCES_FILE``'s sources), and the key is referenced by the variable's
name, never stored.
"""

from __future__ import annotations

from .component import AssistantsExportComponent, snapshot_job_for
from .sources import source_names

__all__ = ["defs", "snapshot_job"]

SOURCES = tuple(source_names())
"""The sources the definitions are partitioned by, read once as they load."""
snapshot_job = snapshot_job_for(SOURCES)
defs = AssistantsExportComponent().definitions(SOURCES)
