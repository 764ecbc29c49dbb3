"""``python -m pipelines.cli`` is ``assistants-export``."""

from . import main

main()
