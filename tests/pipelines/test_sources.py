"""The sources file: read, checked in one line per problem, falling back to the environment; and what the Dagster
definitions, the schedule and the API resource make of it (a partition per source and date, a run per source)."""

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from dagster import build_schedule_context

from assistants_export.connectors.core.errors import ConfigError
from assistants_export.connectors.core.settings import DEFAULT_SOURCE, SOURCES_FILE_ENV
from assistants_export.pipelines.cli import run
from assistants_export.pipelines.component import AssistantsExportComponent, source_tags
from assistants_export.pipelines.config import SOURCE_TAG, SnapshotConfig
from assistants_export.pipelines.partitions import date_and_source, partition_key, partition_sources
from assistants_export.pipelines.resources import AssistantsApiResource
from assistants_export.pipelines.sources import (
    ENVIRONMENT_SOURCE,
    SOURCE_KEYS,
    SourceSpec,
    configured_sources,
    get_source,
    load_sources,
    source_names,
)

TWO_SOURCES = """\
# Two sources: the root's own and one in Europe.
[sources.default]
discover = true

[sources.eu]
base_url = "https://eu.example.com/v1"
auth_style = "azure"
api_key_env = "EU_OPENAI_API_KEY"
api_version = "2024-05-01-preview"
organization = "org-eu"
project = "proj-eu"
ids_file = "ids/eu.csv"
"""


@pytest.fixture
def sources_file(tmp_path, monkeypatch):
    """Write a sources file and point $ASSISTANTS_SOURCES_FILE at it."""
    def write(text: str, name: str = "sources.toml") -> Path:
        path = tmp_path / "conf" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv(SOURCES_FILE_ENV, str(path))
        return path
    return write


def one_line_error(text: str, path: Path | None = None) -> str:
    """The ConfigError loading ``text`` raises, checked to be one line."""
    with pytest.raises(ConfigError) as caught:
        load_sources(str(path)) if path is not None else configured_sources()
    message = str(caught.value)
    assert "\n" not in message and message.strip() == message, message
    return message


# --- Without a file: the one source of the environment ------------------------------------------------------------


def test_without_a_file_there_is_one_default_source_configured_by_the_environment(monkeypatch):
    assert configured_sources() == {DEFAULT_SOURCE: ENVIRONMENT_SOURCE}
    assert source_names() == [DEFAULT_SOURCE]
    monkeypatch.setenv(SOURCES_FILE_ENV, "")  # an empty variable means not set
    assert source_names() == [DEFAULT_SOURCE]
    env = {"OPENAI_API_KEY": "sk-env-key-0001", "OPENAI_BASE_URL": "https://env.example.com/v1",
           "OPENAI_PROJECT_ID": "proj-env"}
    config = ENVIRONMENT_SOURCE.client_config(environ=env)
    assert (config.base_url, config.project, config.api_key.reveal()) == \
        ("https://env.example.com/v1", "proj-env", "sk-env-key-0001")
    assert ENVIRONMENT_SOURCE.id_source(environ={}) is None
    assert ENVIRONMENT_SOURCE.id_source(environ={"ASSISTANTS_IDS_FILE": "/x.txt"}).ids_file == "/x.txt"
    assert ENVIRONMENT_SOURCE.id_source(environ={"ASSISTANTS_DISCOVER": "1"}).discover


def test_without_a_file_no_ids_says_what_to_set_as_before():
    with pytest.raises(ConfigError, match=r"^no assistants to fetch: set assistant_ids, ids_file or discover in the "
                                          r"run config, or \$ASSISTANTS_IDS_FILE, or \$ASSISTANTS_DISCOVER=1$"):
        SnapshotConfig().id_source()


# --- Reading the file ---------------------------------------------------------------------------------------------


def test_the_file_gives_each_source_its_settings_in_the_files_order(sources_file):
    path = sources_file(TWO_SOURCES)
    sources = configured_sources()
    assert list(sources) == ["default", "eu"]
    eu = sources["eu"]
    assert eu == SourceSpec(name="eu", base_url="https://eu.example.com/v1", auth_style="azure",
                            api_key_env="EU_OPENAI_API_KEY", api_version="2024-05-01-preview",
                            organization="org-eu", project="proj-eu",
                            ids_file=str(path.parent / "ids" / "eu.csv"), file=str(path))
    assert sources["default"] == SourceSpec(name="default", discover=True, file=str(path))
    assert set(SOURCE_KEYS) == {"base_url", "auth_style", "api_key_env", "api_version", "organization", "project",
                                "entra_credential", "entra_scope", "ids_file", "discover"}


def test_a_relative_ids_file_is_read_from_the_files_folder_whatever_the_working_folder(sources_file, tmp_path,
                                                                                     monkeypatch):
    path = sources_file('[sources.eu]\nids_file = "eu.txt"\n')
    monkeypatch.chdir(tmp_path)
    assert get_source("eu").ids_file == str(path.parent / "eu.txt")
    absolute = tmp_path / "elsewhere.txt"
    sources_file(f'[sources.eu]\nids_file = "{absolute}"\n')
    assert get_source("eu").ids_file == str(absolute)


def test_unset_keys_fall_back_to_the_environment_and_set_ones_win(sources_file, monkeypatch):
    sources_file(TWO_SOURCES + '\n[sources.us]\nproject = "proj-us"\n')
    env = {"OPENAI_API_KEY": "sk-default-key-01", "EU_OPENAI_API_KEY": "sk-eu-key-000001",
           "OPENAI_BASE_URL": "https://env.example.com/v1", "OPENAI_ORG_ID": "org-env", "OPENAI_PROJECT_ID": "proj-env",
           "ASSISTANTS_IDS_FILE": "/env/ids.txt"}
    us = get_source("us").client_config(environ=env)
    assert (us.base_url, us.organization, us.project, us.auth_style, us.api_key_env, us.api_key.reveal()) == \
        ("https://env.example.com/v1", "org-env", "proj-us", "bearer", "OPENAI_API_KEY", "sk-default-key-01")
    eu = get_source("eu").client_config(environ=env)
    assert (eu.base_url, eu.organization, eu.project, eu.auth_style, eu.api_key_env, eu.api_key.reveal()) == \
        ("https://eu.example.com/v1", "org-eu", "proj-eu", "azure", "EU_OPENAI_API_KEY", "sk-eu-key-000001")
    # IDs: the table's, else the environment's, as for the single source.
    assert get_source("eu").id_source(env).ids_file.endswith("eu.csv")
    assert get_source("default").id_source(env).discover
    assert get_source("us").id_source(env).ids_file == "/env/ids.txt"
    assert get_source("us").id_source({}) is None


def test_a_missing_key_names_the_sources_variable_and_file(sources_file):
    path = sources_file(TWO_SOURCES)
    with pytest.raises(ConfigError) as caught:
        get_source("eu").client_config(environ={"OPENAI_API_KEY": "sk-not-this-one"})
    message = str(caught.value)
    assert message.startswith(f"source eu ({path}): EU_OPENAI_API_KEY is not set") and "\n" not in message


def test_an_unknown_source_lists_the_configured_ones(sources_file, monkeypatch):
    path = sources_file(TWO_SOURCES)
    with pytest.raises(ConfigError, match=rf"^no source named 'us': {path} \(ASSISTANTS_SOURCES_FILE\) configures "
                                          r"default, eu$"):
        get_source("us")
    monkeypatch.delenv(SOURCES_FILE_ENV)
    with pytest.raises(ConfigError, match=r"the environment \(no ASSISTANTS_SOURCES_FILE\) configures default$"):
        get_source("eu")


@pytest.mark.parametrize(("text", "expected"), [
    ('[sources.eu]\nbase_url = "https://eu.example.com/v1"\nbase_ur1 = "x"\n',
     r":3: \[sources.eu\] base_ur1 is not a setting of a source \(the settings: base_url, auth_style"),
    ('[sources.EU]\nproject = "p"\n', r":1: \[sources.EU\]: source name 'EU'"),
    ('[sources.9lives]\nproject = "p"\n', r":1: \[sources.9lives\]: source name"),
    ('[sources.eu]\nbase_url = "https://eu.example.com/v1\n', r": not valid TOML: .*line 2"),
    ('[sources.eu]\nids_file = "a.txt"\ndiscover = true\n', r":3: \[sources.eu\] give ids_file or discover, not both"),
    ('[sources.eu]\ndiscover = "yes"\n', r":2: \[sources.eu\] discover must be true or false"),
    ('[sources.eu]\nauth_style = "basic"\n', r":2: \[sources.eu\] auth_style must be one of bearer, azure, entra"),
    ('[sources.ai]\nauth_style = "entra"\nentra_credential = "client_secret"\n',
     r":3: \[sources.ai\] entra_credential must be one of default, environment, workload_identity, managed_identity, "
     r"azure_cli, got 'client_secret'"),
    ('[sources.ai]\nauth_style = "entra"\nentra_secret = "x"\n',
     r":3: \[sources.ai\] entra_secret: the API key is never written in the sources file"),
    ('[sources.eu]\nbase_url = "ftp://eu.example.com"\n', r":2: \[sources.eu\] base_url 'ftp://eu.example.com' is "
                                                          r"not an http\(s\) URL"),
    ('[sources.eu]\nproject = 7\n', r":2: \[sources.eu\] project must be a non-empty string"),
    ('[sources.eu]\nproject = ""\n', r":2: \[sources.eu\] project must be a non-empty string"),
    ('warehouse = "/srv"\n[sources.eu]\nproject = "p"\n', r":1: warehouse is not a setting of a sources file"),
    ('# nothing yet\n', r": no source: add a \[sources.<name>\] table"),
    ('[sources]\neu = "https://eu.example.com"\n', r":2: sources.eu must be a table of settings"),
])
def test_each_problem_of_the_file_is_one_line_naming_the_file_and_the_line(sources_file, text, expected):
    path = sources_file(text)
    message = one_line_error(text)
    assert message.startswith(str(path)), message
    assert re.search(expected, message), message


def test_a_missing_or_unreadable_file_is_one_line_naming_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(SOURCES_FILE_ENV, str(tmp_path / "nowhere.toml"))
    assert one_line_error("") == f"ASSISTANTS_SOURCES_FILE={tmp_path / 'nowhere.toml'}: no such file"
    monkeypatch.setenv(SOURCES_FILE_ENV, str(tmp_path))  # a folder
    assert one_line_error("").startswith(f"ASSISTANTS_SOURCES_FILE={tmp_path}: cannot be read")
    (tmp_path / "latin1.toml").write_bytes('[sources.eu]\nproject = "caf\xe9"\n'.encode("latin-1"))
    monkeypatch.setenv(SOURCES_FILE_ENV, str(tmp_path / "latin1.toml"))
    assert "not UTF-8" in one_line_error("")


@pytest.mark.parametrize("key", ["api_key", "API_KEY", "apikey", "openai_api_key", "key", "secret", "token",
                                 "api-key", "bearer_token", "password"])
def test_a_key_in_the_file_is_refused_without_repeating_it(sources_file, key):
    secret = "sk-proj-Zq8Wn2Lx5Tb7Rc4M"
    sources_file(f'[sources.eu-west]\nbase_url = "https://eu.example.com/v1"\n{key} = "{secret}"\n')
    message = one_line_error("")
    assert f":3: [sources.eu-west] {key}: the API key is never written in the sources file" in message
    assert 'api_key_env = "EU_WEST_OPENAI_API_KEY"' in message
    assert secret not in message


def test_a_key_pasted_as_the_variables_name_is_refused_without_repeating_it(sources_file):
    secret = "sk-proj-Zq8Wn2Lx5Tb7Rc4M"
    sources_file(f'[sources.eu]\napi_key_env = "{secret}"\n')
    message = one_line_error("")
    assert ":2: [sources.eu] api_key_env must be the name of the environment variable" in message
    assert secret not in message


def test_line_numbers_follow_quoted_and_spaced_headers(sources_file):
    sources_file('[sources.default]\ndiscover = true\n\n[ sources . "eu" ]\n  project = "p"\n  colour = "blue"\n')
    assert ":6: [sources.eu] colour is not a setting" in one_line_error("")


# --- The run config and the API resource ---------------------------------------------------------------------------


def test_the_run_config_wins_over_the_sources_ids(sources_file):
    sources_file(TWO_SOURCES + '\n[sources.us]\nproject = "proj-us"\n')
    assert SnapshotConfig(assistant_ids=["asst_1"]).id_source(get_source("eu")).ids == ("asst_1",)
    assert SnapshotConfig().id_source(get_source("eu")).ids_file.endswith("eu.csv")
    assert SnapshotConfig().id_source(get_source("default")).discover
    with pytest.raises(ConfigError, match=r"^no assistants to fetch: set assistant_ids, ids_file or "
                                          r"discover in the run config, or ids_file or discover in \[sources.us\] of "):
        SnapshotConfig().id_source(get_source("us"))


def test_the_resource_builds_each_sources_client_reading_its_key_when_the_run_starts(sources_file, monkeypatch):
    sources_file(TWO_SOURCES)
    api = AssistantsApiResource(base_url="https://resource.example.com/v1", concurrency=3)
    assert "sk-" not in repr(api) and api.api_key is None  # the definitions hold names only
    monkeypatch.setenv("OPENAI_API_KEY", "sk-default-key-01")
    monkeypatch.setenv("EU_OPENAI_API_KEY", "sk-eu-key-000001")
    default = api.client_config(get_source("default"))
    assert (default.base_url, default.concurrency, default.api_key.reveal()) == \
        ("https://resource.example.com/v1", 3, "sk-default-key-01")
    eu = api.client_config(get_source("eu"))  # the source's settings over the resource's, its own key
    assert (eu.base_url, eu.concurrency, eu.auth_style, eu.api_key.reveal()) == \
        ("https://eu.example.com/v1", 3, "azure", "sk-eu-key-000001")
    monkeypatch.setenv("EU_OPENAI_API_KEY", "sk-eu-key-rotated")  # read when a run starts, never kept
    assert api.client_config(get_source("eu")).api_key.reveal() == "sk-eu-key-rotated"
    # A key given to the resource itself (a program's) serves the sources that name no variable of their own.
    held = AssistantsApiResource(api_key="sk-held-by-the-program")
    assert held.client_config(get_source("default")).api_key.reveal() == "sk-held-by-the-program"
    assert held.client_config(get_source("eu")).api_key.reveal() == "sk-eu-key-rotated"


# --- The Dagster definitions ------------------------------------------------------------------------------------


def test_the_definitions_have_a_partition_per_source_and_date_and_a_run_per_source_each_night(sources_file,
                                                                                              monkeypatch):
    monkeypatch.setenv("ASSISTANTS_DISCOVER", "1")  # every source's scheduled runs take their IDs from it
    sources_file(TWO_SOURCES + '\n[sources.us-east]\nproject = "proj-us"\n')
    defs = AssistantsExportComponent().definitions()
    job = defs.resolve_job_def("assistants_snapshot")
    assert partition_sources(job.partitions_def) == ["default", "eu", "us-east"]
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).partitions_def == job.partitions_def, key
    # Every run of a partition carries its source's tag: a UI launch's and a job backfill's come from here ...
    for key in ("2026-11-20|eu", "2026-11-20|default", "2026-11-21|us-east"):
        tags = job.get_tags_for_partition_key(key, selected_asset_keys=None)
        assert tags[SOURCE_TAG] == date_and_source(key)[1] == tags["dagster/partition/source"]
    assert SOURCE_TAG not in job.run_tags  # no job-wide source: it would be wrong for every other source
    # ... and the schedule's: one request per source for the night before the tick.
    schedule = defs.resolve_schedule_def("nightly_snapshot")
    tick = dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC)
    with build_schedule_context(scheduled_execution_time=tick, repository_def=defs.get_repository_def()) as context:
        requests = schedule.evaluate_tick(context).run_requests or []
    assert [(r.partition_key, r.tags[SOURCE_TAG]) for r in requests] == [
        (partition_key("2026-11-20", name), name) for name in ("default", "eu", "us-east")]
    assert len({r.run_key for r in requests}) == 3
    assert source_tags("2026-11-20|eu") == {SOURCE_TAG: "eu"}


def test_a_broken_sources_file_stops_the_definitions_in_one_line(sources_file):
    path = sources_file('[sources.eu]\napi_key = "sk-proj-Zq8Wn2Lx5Tb7Rc4M"\n')
    with pytest.raises(ConfigError, match=rf"^{path}:2: \[sources.eu\] api_key: the API key is never written"):
        AssistantsExportComponent().definitions()


# --- The CLI's choice of sources ----------------------------------------------------------------------------------


def _cli(capsys, *args):
    status = run(["snapshot", "--date", dt.datetime.now(dt.UTC).date().isoformat(), "-q", *args])
    return status, capsys.readouterr().err


def test_one_sources_options_are_refused_in_one_line_when_several_sources_run(sources_file, capsys, tmp_path):
    sources_file(TWO_SOURCES)
    for args, named in ((["--base-url", "https://x.example.com/v1"], "--base-url"), (["--ids", "asst_1"], "--ids"),
                        (["--discover", "--api-key-env", "K"], "--discover, --api-key-env")):
        status, err = _cli(capsys, "--warehouse", str(tmp_path / "wh"), *args)
        assert status == 2 and err.count("\n") == 1, err
        assert f"error: {named} set one source's endpoint or IDs, and 2 sources are selected (default, eu): add " \
               "--source NAME" in err
    assert not (tmp_path / "wh").exists()


def test_an_unknown_source_or_a_bad_file_is_one_line_before_any_run(sources_file, capsys, tmp_path):
    sources_file(TWO_SOURCES)
    status, err = _cli(capsys, "--source", "us", "--warehouse", str(tmp_path / "wh"))
    assert status == 1 and err.count("\n") == 1 and "no source named 'us'" in err and "default, eu" in err
    sources_file('[sources.eu]\ncolour = "blue"\n')
    status, err = _cli(capsys, "--warehouse", str(tmp_path / "wh"))
    assert status == 1 and err.count("\n") == 1 and "colour is not a setting of a source" in err
    assert not (tmp_path / "wh").exists()


def test_a_sources_missing_key_fails_that_source_alone_before_dagster(sources_file, capsys, tmp_path, monkeypatch):
    """The other source runs (and fails here for want of an endpoint: the end-to-end test has real ones)."""
    sources_file(TWO_SOURCES.replace("discover = true", 'base_url = "http://127.0.0.1:9/v1"'))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-default-key-01")
    status, err = _cli(capsys, "--warehouse", str(tmp_path / "wh"), "--max-attempts", "1", "--no-preflight")
    lines = err.splitlines()
    assert status == 1 and len(lines) == 2, err
    assert lines[0].startswith("error: source default: no assistants to fetch: set --ids, --ids-file or --discover, "
                               "or ids_file or discover in [sources.default] of ")
    assert lines[1].startswith("error: source eu (") and "EU_OPENAI_API_KEY is not set" in lines[1]
    assert os.environ.get("EU_OPENAI_API_KEY") is None
