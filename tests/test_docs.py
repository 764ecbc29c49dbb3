"""The README stays true: its table reference, configuration keys and CLI options match the code."""

import re
from pathlib import Path

from connectors.openai_assistants.schemas import table_reference_markdown
from pipelines.cli import cli
from pipelines.config import HistoryConfig, SnapshotConfig
from pipelines.resources import AssistantsApiResource

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_table_reference_is_generated_from_the_schemas():
    section = README.split("<!-- tables:start -->\n", 1)[1].split("<!-- tables:end -->", 1)[0]
    assert section.strip() == table_reference_markdown().strip(), (
        "README table reference is stale: paste the output of python -m connectors.openai_assistants.schemas")


def test_every_resource_and_run_config_field_is_documented():
    for name in [*AssistantsApiResource.model_fields, *SnapshotConfig.model_fields, *HistoryConfig.model_fields]:
        assert f"`{name}`" in README, name


def test_every_cli_option_is_documented():
    for command in cli.commands.values():
        for param in command.params:
            for option in param.opts:
                if option.startswith("--"):
                    assert re.search(rf"`[^`]*{re.escape(option)}\b", README), option
