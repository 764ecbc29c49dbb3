"""Configuration is validated before any request, with messages that name the setting."""

import pytest

from assistants_export.connectors.core.errors import ConfigError
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret


def make(**overrides):
    values = {"api_key": Secret("sk-abcdef")}
    values.update(overrides)
    return ClientConfig(**values)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"base_url": "ftp://files.example.com"}, "not an http"),
    ({"base_url": "not a url"}, "not an http"),
    ({"base_url": "http://:80"}, "not an http"),
    ({"base_url": "https://api.example.com/v1?x=1"}, "query"),
    ({"concurrency": 0}, "concurrency must be a whole number from 1"),
    ({"concurrency": -3}, "concurrency"),
    ({"concurrency": True}, "concurrency"),
    ({"max_attempts": 0}, "max_attempts"),
    ({"read_timeout": 0}, "read_timeout must be a positive number"),
    ({"requests_per_minute": -1}, "requests_per_minute"),
    ({"auth_style": "basic"}, "auth_style must be one of"),
    ({"auth_style": "azure"}, "api_version"),
    ({"not_found_pattern": "("}, "not_found_pattern"),
    ({"extra_headers": {"Bad Name": "x"}}, "extra header"),
    ({"api_key": Secret("")}, "OPENAI_API_KEY is not set"),
])
def test_bad_settings_fail_with_one_clear_line(overrides, message):
    with pytest.raises(ConfigError, match=message) as info:
        make(**overrides)
    assert "\n" not in str(info.value)


def test_missing_key_names_the_configured_variable():
    with pytest.raises(ConfigError, match="MY_KEY is not set"):
        ClientConfig.from_env({}, api_key_env="MY_KEY")


def test_from_env_reads_documented_variables_and_overrides_win():
    env = {"OPENAI_API_KEY": "sk-env", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_ORG_ID": "org",
           "OPENAI_PROJECT_ID": "proj"}
    config = ClientConfig.from_env(env, concurrency=3, base_url=None)
    assert config.api_key.reveal() == "sk-env"
    assert (config.base_url, config.organization, config.project, config.concurrency) == (
        "http://127.0.0.1:9/v1", "org", "proj", 3)


def test_azure_from_env_gets_a_default_api_version_and_the_openai_path():
    config = ClientConfig.from_env({"OPENAI_API_KEY": "k-azure", "ASSISTANTS_AUTH_STYLE": "azure",
                                    "OPENAI_BASE_URL": "https://res.openai.azure.com/"})
    assert config.api_version == "2024-05-01-preview"  # the default the README documents
    assert config.api_root == "https://res.openai.azure.com/openai"


def test_the_key_never_shows_in_repr():
    config = make(api_key=Secret("sk-very-secret-value"))
    assert "sk-very-secret-value" not in repr(config)
    assert "sk-very-secret-value" not in str(config.api_key)
    assert f"{config.api_key}" == "Secret('**********')"
