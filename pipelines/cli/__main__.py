"""``python -m assistants_export.pipelines.cli`` is ``assistants-export``."""

from . import main

main()
