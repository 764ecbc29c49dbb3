"""A loopback Microsoft Entra ID token endpoint, for the Foundry sandbox and its tests.

``azure-identity`` accepts only an ``https`` authority, so :class:`TokenServer` serves TLS on 127.0.0.1 with a
certificate made for it (:func:`make_certificate`, with ``cryptography``); a test trusts it through
``REQUESTS_CA_BUNDLE`` (what ``azure-core``'s requests transport reads) and ``SSL_CERT_FILE``. It answers what
MSAL asks of an authority, and nothing else:

* ``GET /<tenant>/v2.0/.well-known/openid-configuration``: where the token endpoint is;
* ``POST /<tenant>/oauth2/v2.0/token``: a client-credentials grant of the one client it knows, for a scope, with
  an opaque random token valid ``lifetime`` seconds (short in tests, so a run sees its token expire).

The Foundry sandbox asks :meth:`TokenServer.check` whether a bearer token is one it issued, for its scope, and
not expired. Standard library plus ``cryptography``; loopback only.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs

SCOPE = "https://ai.azure.com/.default"
"""The scope Foundry Agent Service's tokens are asked for (its Swagger's OAuth2 scope)."""


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for ``127.0.0.1`` (and ``localhost``), valid one day: ``(cert.pem, key.pem)``.

    The certificate is its own CA, so pointing ``REQUESTS_CA_BUNDLE`` / ``SSL_CERT_FILE`` at ``cert.pem`` trusts it.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "assistants-export sandbox token endpoint")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                    x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


@dataclass
class TokenStats:
    """What the token endpoint did, for tests."""

    issued: int = 0
    refused: int = 0
    discovery: int = 0


@dataclass
class _Issued:
    scope: str
    expires: float


@dataclass
class TokenServer:
    """The loopback token endpoint of one tenant and one client (use as a context manager).

    ``lifetime``: seconds each token is valid. :meth:`revoke_all` makes every issued token invalid at once (a
    rotated signing key, say), so a test can show a run getting a fresh token after a 401.
    """

    folder: Path
    tenant: str = "00000000-0000-0000-0000-00000000a11c"
    client_id: str = "11111111-2222-3333-4444-555555555555"
    client_secret: str = field(default_factory=lambda: "sbx~" + secrets.token_urlsafe(24))
    lifetime: float = 3600.0
    stats: TokenStats = field(default_factory=TokenStats)
    _tokens: dict[str, _Issued] = field(default_factory=dict)
    _all: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    cert_path: Path | None = None

    @property
    def authority(self) -> str:
        """The authority host to give ``azure-identity`` (``AZURE_AUTHORITY_HOST``): ``https://127.0.0.1:PORT``."""
        assert self._server is not None, "start the token server first"
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def environment(self) -> dict[str, str]:
        """The variables that point ``EnvironmentCredential`` (and so ``DefaultAzureCredential``) at this server."""
        assert self.cert_path is not None
        return {"AZURE_TENANT_ID": self.tenant, "AZURE_CLIENT_ID": self.client_id,
                "AZURE_CLIENT_SECRET": self.client_secret, "AZURE_AUTHORITY_HOST": self.authority,
                "REQUESTS_CA_BUNDLE": str(self.cert_path), "SSL_CERT_FILE": str(self.cert_path)}

    def check(self, token: str, scope: str = SCOPE) -> str | None:
        """``None`` when ``token`` is valid for ``scope`` now, else why not (``expired``, ``unknown``...)."""
        with self._lock:
            issued = self._tokens.get(token)
        if issued is None:
            return "the token is not one this tenant issued"
        if issued.scope != scope:
            return f"the token is for {issued.scope}, not {scope}"
        if time.time() >= issued.expires:
            return "the token has expired"
        return None

    def revoke_all(self) -> None:
        with self._lock:
            self._tokens.clear()

    def all_issued(self) -> list[str]:
        """Every token ever issued, revoked ones included (for the secret tests)."""
        with self._lock:
            return list(self._all)

    def start(self) -> TokenServer:
        self.cert_path, key_path = make_certificate(self.folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, key_path)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        server.daemon_threads = True
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="sandbox-token-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> TokenServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    # --- what the handler calls -----------------------------------------------------------------------------

    def _configuration(self) -> dict[str, object]:
        base = f"{self.authority}/{self.tenant}"
        return {"token_endpoint": f"{base}/oauth2/v2.0/token", "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
                "response_types_supported": ["code", "token"], "tenant_region_scope": "WW"}

    def _grant(self, form: dict[str, list[str]]) -> tuple[int, dict[str, object]]:
        def one(name: str) -> str:
            values = form.get(name) or [""]
            return values[0]

        if one("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "AADSTS70003: client credentials "
                                                                                 "only"}
        if one("client_id") != self.client_id or not secrets.compare_digest(one("client_secret"),
                                                                            self.client_secret):
            with self._lock:
                self.stats.refused += 1
            return 401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret "
                                                                         "provided."}
        scope = one("scope").split()
        wanted = next((s for s in scope if s.endswith("/.default")), "")
        token = "sbx." + secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = _Issued(wanted, time.time() + self.lifetime)
            self._all.append(token)
            self.stats.issued += 1
        seconds = max(int(self.lifetime), 1)
        return 200, {"token_type": "Bearer", "expires_in": seconds, "ext_expires_in": seconds,
                     "access_token": token}


def _handler(server: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def _send(self, status: int, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == f"/{server.tenant}/v2.0/.well-known/openid-configuration":
                with server._lock:
                    server.stats.discovery += 1
                self._send(200, server._configuration())
            else:
                self._send(404, {"error": "not_found", "error_description": f"no such path {path[:80]}"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(min(length, 65536)).decode("utf-8", "replace"))
            if self.path.split("?", 1)[0] != f"/{server.tenant}/oauth2/v2.0/token":
                self._send(404, {"error": "not_found", "error_description": "no such path"})
                return
            self._send(*server._grant(form))

    return Handler
