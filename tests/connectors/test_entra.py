"""auth_style ``entra``: the configuration, the token source's refresh rules and the verdict ladder's Foundry rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest

from assistants_export.connectors.core.errors import AuthenticationError, ConfigError
from assistants_export.connectors.openai_assistants import settings
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.openai_assistants.entra import TokenSource
from assistants_export.connectors.openai_assistants.verdicts import Answer, Kind, Policy, judge

ENDPOINT = "https://sandbox-ai.services.ai.azure.com/api/projects/sandbox-project"


def entra(**overrides: object) -> ClientConfig:
    return ClientConfig.from_env({}, base_url=ENDPOINT, auth_style="entra", **overrides)


def test_an_entra_source_needs_no_key_and_talks_to_the_project_endpoint_with_api_version_v1() -> None:
    config = entra()
    assert config.api_root == ENDPOINT and config.api_version == "v1" and config.dialect == "foundry"
    assert (config.entra_credential, config.entra_scope) == ("default", "https://ai.azure.com/.default")
    assert config.secrets() == ()
    assert ClientConfig(api_key=Secret("sk-x")).dialect == "openai"


@pytest.mark.parametrize(("overrides", "says"), [
    ({"entra_credential": "password"}, "entra_credential must be one of default, environment, workload_identity, "
                                       "managed_identity, azure_cli, got 'password'"),
    ({"entra_scope": " "}, "entra_scope must be an OAuth2 scope such as https://ai.azure.com/.default"),
    ({"api_version": ""}, None),
])
def test_bad_entra_settings_are_one_line(overrides: dict[str, object], says: str | None) -> None:
    if says is None:  # an empty api_version falls back to Foundry's v1
        assert entra(**overrides).api_version == "v1"
        return
    with pytest.raises(ConfigError, match=re.escape(says)):
        entra(**overrides)


def test_the_environment_variables_choose_the_credential_and_scope() -> None:
    config = ClientConfig.from_env({"ASSISTANTS_AUTH_STYLE": "entra", "OPENAI_BASE_URL": ENDPOINT,
                                    "ASSISTANTS_ENTRA_CREDENTIAL": "azure_cli",
                                    "ASSISTANTS_ENTRA_SCOPE": "api://custom/.default"})
    assert (config.entra_credential, config.entra_scope, config.auth_style) == ("azure_cli", "api://custom/.default",
                                                                                "entra")


@dataclass
class _Got:
    token: str
    expires_on: int


class FakeCredential:
    """Tokens ``t1``, ``t2``... each valid ``lifetime`` seconds from the fake clock's now."""

    def __init__(self, clock: list[float], lifetime: float) -> None:
        self.clock, self.lifetime, self.calls = clock, lifetime, 0

    def get_token(self, *scopes: str, **kwargs: object) -> _Got:
        self.calls += 1
        return _Got(f"t{self.calls}", int(self.clock[0] + self.lifetime))


def test_a_token_is_renewed_five_minutes_before_it_expires_and_a_short_one_at_half_its_life() -> None:
    now = [1000.0]
    credential = FakeCredential(now, 3600)
    source = TokenSource("default", credential=credential, clock=lambda: now[0])
    assert source.first() == "t1"
    now[0] += 3600 - settings.ENTRA_REFRESH_MARGIN - 1
    assert source.token() == "t1"
    now[0] += 2
    assert source.token() == "t2" and source.refreshes == 1
    short = FakeCredential(now, 10)
    source = TokenSource("default", credential=short, clock=lambda: now[0])
    assert source.token() == "t1"
    now[0] += 4.9
    assert source.token() == "t1"
    now[0] += 0.2
    assert source.token() == "t2"
    assert source.secrets() == ["t1", "t2"]


def test_after_a_401_one_new_token_but_not_twice_for_the_same_refusal() -> None:
    now = [0.0]
    credential = FakeCredential(now, 3600)
    issued: list[str] = []
    source = TokenSource("default", credential=credential, clock=lambda: now[0], issued=issued)
    first = source.token()
    assert source.refresh_after(first) == "t2"
    assert source.refresh_after(first) == "t2"  # another request refused the same old token: already renewed
    assert credential.calls == 2 and issued == ["t1", "t2"]


def test_a_credential_that_fails_is_one_line_naming_it_and_what_to_set() -> None:
    class Broken:
        def get_token(self, *scopes: str, **kwargs: object) -> _Got:
            raise RuntimeError("EnvironmentCredential authentication unavailable.\nEnvironment variables are not set")

    source = TokenSource("environment", credential=Broken())
    with pytest.raises(AuthenticationError) as raised:
        source.first()
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("Entra ID sign-in failed: EnvironmentCredential (entra_credential 'environment') "
                              "could not get a token for https://ai.azure.com/.default: EnvironmentCredential "
                              "authentication unavailable.")
    assert message.endswith("set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or "
                            "AZURE_CLIENT_CERTIFICATE_PATH)")


def _answer(status: int, body: object) -> Answer:
    return Answer(status, httpx.Headers({"content-type": "application/json"}), "", body)


FOUNDRY = Policy(3, 60.0, 60.0, 0.5, 8.0, re.compile(settings.NOT_FOUND_PATTERN), "foundry", True)
OPENAI = Policy(3, 60.0, 60.0, 0.5, 8.0, re.compile(settings.NOT_FOUND_PATTERN))
UNAUTHORIZED = {"error": {"message": "Unauthorized. Access token is missing, invalid, audience is incorrect "
                                     "(https://ai.azure.com), or have expired.", "type": "invalid_request_error",
                          "param": None, "code": "invalid_token"}}


def _judge(answer: Answer, policy: Policy, **kwargs: object) -> Kind:
    return judge(answer, expected_id="asst_1", attempt=1, elapsed=0.1, policy=policy, jitter=0.0,
                 **kwargs).kind  # type: ignore[arg-type]


def test_the_verdict_ladder_gives_an_entra_401_one_new_token_then_stops_the_run() -> None:
    assert _judge(_answer(401, UNAUTHORIZED), FOUNDRY) is Kind.NEW_TOKEN
    assert _judge(_answer(401, UNAUTHORIZED), FOUNDRY, refreshed=True) is Kind.UNAUTHORIZED
    assert _judge(_answer(403, UNAUTHORIZED), FOUNDRY) is Kind.UNAUTHORIZED  # a role missing: no token helps
    assert _judge(_answer(401, UNAUTHORIZED), OPENAI) is Kind.UNAUTHORIZED  # a key does not renew


@pytest.mark.parametrize("error", [
    {"message": "Missing required query parameter: api-version", "type": "invalid_request_error",
     "param": "api-version", "code": "missing_required_parameter"},
    {"message": "Unsupported api-version '2099-01-01'.", "type": "invalid_request_error", "param": None,
     "code": "invalid_value"},
    {"code": "UnsupportedApiVersion", "message": "The HTTP resource does not support the API version."},
])
def test_a_400_about_the_api_version_stops_the_run_as_a_gone_endpoint(error: dict[str, object]) -> None:
    assert _judge(_answer(400, {"error": error}), FOUNDRY) is Kind.ENDPOINT_GONE
    assert _judge(_answer(400, {"error": {"message": "bad value", "param": "limit"}}), FOUNDRY) is Kind.GIVE_UP


def test_foundry_answers_for_a_missing_agent_and_a_wrong_project() -> None:
    missing = {"error": {"message": "No assistant found with id 'asst_1'.", "type": "invalid_request_error",
                         "param": None, "code": None}}
    project = {"error": {"message": "Project 'other' not found.", "type": "not_found_error", "param": None,
                         "code": "project_not_found"}}
    assert _judge(_answer(404, missing), FOUNDRY) is Kind.NOT_FOUND
    assert _judge(_answer(404, project), FOUNDRY) is Kind.ENDPOINT_GONE
