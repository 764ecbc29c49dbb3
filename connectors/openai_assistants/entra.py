"""Microsoft Entra ID tokens for auth_style ``entra`` (Azure AI Foundry Agent Service), through ``azure-identity``.

Foundry Agent Service accepts only Entra ID bearer tokens (scope ``https://ai.azure.com/.default``; "Azure resource
keys are not yet supported"). :class:`TokenSource` holds one run's token:

* it is obtained before the first request (:meth:`TokenSource.first`), so a credential that cannot produce one ends
  the run in one line naming the credential tried and what to set, before anything is asked of the service;
* it is refreshed before it expires (five minutes ahead, or half its lifetime when that is shorter), so a run
  longer than a token's life never sends an expired one;
* a 401 gets one fresh token and one more try of that request (:meth:`TokenSource.refresh_after`; the verdict
  ladder decides when, :mod:`.verdicts`);
* it is never written anywhere: the client sends it in the ``Authorization`` header of each request and redacts
  every token this source handed out from logs, errors, Dagster metadata and the warehouse (:meth:`secrets`).

Credentials (``entra_credential``): ``default`` (``DefaultAzureCredential``: environment service principal,
workload identity, managed identity, Azure CLI and the other developer tools, in that order), ``environment``,
``workload_identity``, ``managed_identity`` or ``azure_cli``. ``AZURE_AUTHORITY_HOST`` set to a host other than
Microsoft's public, US Government or China clouds (Azure Stack, a private authority, the sandbox's loopback token
endpoint) turns MSAL's instance discovery off, which would ask ``login.microsoftonline.com`` about it.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from assistants_export.connectors.core.errors import AuthenticationError, ConfigError

from . import settings

CREDENTIALS: Mapping[str, str] = {
    "default": "DefaultAzureCredential",
    "environment": "EnvironmentCredential",
    "workload_identity": "WorkloadIdentityCredential",
    "managed_identity": "ManagedIdentityCredential",
    "azure_cli": "AzureCliCredential",
}
"""The ``entra_credential`` names and the ``azure-identity`` class each stands for."""

WHAT_TO_SET: Mapping[str, str] = {
    "default": "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (a service principal), run on an Azure "
               "host with a managed or workload identity, or sign in with `az login`",
    "environment": "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH)",
    "workload_identity": "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE (Kubernetes workload "
                         "identity sets them)",
    "managed_identity": "run on an Azure host with a managed identity (AZURE_CLIENT_ID picks a user-assigned one)",
    "azure_cli": "sign in with `az login` (and `az account set` to the subscription of the project)",
}

_PUBLIC_AUTHORITIES = frozenset({"login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn",
                                 "login.partner.microsoftonline.cn"})


class Credential(Protocol):
    """What :class:`TokenSource` needs of an ``azure-identity`` credential."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...


def make_credential(name: str, environ: Mapping[str, str] | None = None) -> Credential:
    """The ``azure-identity`` credential ``name`` stands for (one of :data:`CREDENTIALS`)."""
    if name not in CREDENTIALS:
        raise ConfigError(f"entra_credential must be one of {', '.join(CREDENTIALS)}, got {name!r}")
    import azure.identity as identity  # imported when used: the OpenAI sources never load it

    env = os.environ if environ is None else environ
    host = urlsplit(env.get("AZURE_AUTHORITY_HOST") or "").hostname
    options: dict[str, Any] = {}
    if host and host not in _PUBLIC_AUTHORITIES:
        options["disable_instance_discovery"] = True
    if name == "default":
        return identity.DefaultAzureCredential(**options)
    if name == "environment":
        return identity.EnvironmentCredential(**options)
    if name == "workload_identity":
        return identity.WorkloadIdentityCredential(**options)
    if name == "managed_identity":
        return identity.ManagedIdentityCredential()
    return identity.AzureCliCredential()


@dataclass
class _Token:
    value: str
    expires_on: float
    obtained_at: float


class TokenSource:
    """One run's Entra ID token for ``scope``: obtained first, refreshed ahead of expiry and once after a 401."""

    def __init__(self, credential_name: str, scope: str = settings.DEFAULT_ENTRA_SCOPE, *,
                 credential: Credential | None = None, clock: Callable[[], float] = time.time,
                 issued: list[str] | None = None) -> None:
        """``issued``: a list every token handed out is appended to (the client's list of what it redacts)."""
        self.credential_name = credential_name
        self.scope = scope
        self._credential = credential
        self._clock = clock
        self._token: _Token | None = None
        self._issued: list[str] = [] if issued is None else issued
        self._lock = threading.Lock()
        self.refreshes = 0
        """Tokens obtained after the first (ahead of expiry or after a 401), for the run's stats."""

    def secrets(self) -> list[str]:
        """Every token this source handed out: the client redacts each of them (the list grows as tokens do)."""
        return self._issued

    def describe(self) -> str:
        """The credential, as messages name it."""
        return f"{CREDENTIALS.get(self.credential_name, self.credential_name)} (entra_credential " \
               f"{self.credential_name!r})"

    def _obtain(self) -> _Token:
        """A new token from the credential; a failure is one line naming the credential and what to set."""
        try:
            if self._credential is None:
                self._credential = make_credential(self.credential_name)
            got = self._credential.get_token(self.scope)
        except ConfigError:
            raise
        except Exception as exc:  # azure-identity raises ClientAuthenticationError, CredentialUnavailableError...
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise AuthenticationError(
                f"Entra ID sign-in failed: {self.describe()} could not get a token for {self.scope}: "
                f"{first[:300]}; {WHAT_TO_SET.get(self.credential_name, '')}") from None
        token = _Token(str(got.token), float(got.expires_on), self._clock())
        if token.value not in self._issued:
            self._issued.append(token.value)
        return token

    def _fresh(self, token: _Token | None) -> bool:
        if token is None:
            return False
        margin = min(settings.ENTRA_REFRESH_MARGIN, (token.expires_on - token.obtained_at) / 2)
        return self._clock() < token.expires_on - margin

    def first(self) -> str:
        """The run's first token (raises :class:`AuthenticationError` before any request when there is none)."""
        return self.token()

    def token(self) -> str:
        """A token with time left, obtained again when the one held is near its expiry."""
        with self._lock:
            token = self._token
            if token is None or not self._fresh(token):
                if token is not None:
                    self.refreshes += 1
                token = self._token = self._obtain()
            return token.value

    def refresh_after(self, rejected: str) -> str:
        """A new token after the service refused ``rejected`` (401); one already renewed by another request is kept."""
        with self._lock:
            token = self._token
            if token is None or token.value == rejected:
                self.refreshes += 1
                token = self._token = self._obtain()
            return token.value

    async def atoken(self) -> str:
        """:meth:`token` off the event loop when it must ask the credential (a network round trip)."""
        token = self._token
        if token is not None and self._fresh(token):
            return token.value
        return await asyncio.to_thread(self.token)

    async def arefresh_after(self, rejected: str) -> str:
        return await asyncio.to_thread(self.refresh_after, rejected)
