"""assistants-export: the one import package of the distribution.

Its parts live in the repository's top-level folders and are mapped in here (symbolic links in the
source tree, plain folders in the wheel), so a project that has its own ``pipelines``, ``connectors``
or ``sql`` package can install this one beside it:

- :mod:`assistants_export.connectors`: the API client, validation, flattening, the warehouse, the history;
  no Dagster.
- :mod:`assistants_export.pipelines`: the Dagster definitions, the Component and the CLI.
- :mod:`assistants_export.sql`: every SQL statement the code runs, one job per file.
- :mod:`assistants_export.sandbox`: a loopback imitation of the API, for tests and the demo.

``assistants_export.AssistantsExportComponent`` is the Dagster Component's type name. It is imported on
first use, so the CLI's commands that never run Dagster do not pay for importing it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

__all__ = ["AssistantsExportComponent", "__version__"]

if TYPE_CHECKING:
    from assistants_export.pipelines.component import AssistantsExportComponent


def __getattr__(name: str) -> Any:
    if name == "AssistantsExportComponent":
        from assistants_export.pipelines.component import AssistantsExportComponent

        return AssistantsExportComponent
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "AssistantsExportComponent"])
