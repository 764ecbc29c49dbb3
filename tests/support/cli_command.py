"""The CLI as a process of its own: ``[*CLI, "snapshot", ...]`` runs ``assistants-export snapshot ...`` with the
interpreter of the tests, from the one import package (so it works before the console script is installed)."""

import sys

CLI = (sys.executable, "-m", "assistants_export.pipelines.cli")
