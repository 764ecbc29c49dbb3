"""``python -m assistants_export.sandbox`` (``make sandbox``) says where it listens and which key opens it."""

import ssl
import subprocess
import sys

import httpx


def test_the_sandbox_prints_its_url_key_and_the_exports_to_use():
    process = subprocess.Popen([sys.executable, "-m", "assistants_export.sandbox", "--api-key", "sk-try-me"],
                               stdout=subprocess.PIPE,
                               text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(3)]
        base_url = lines[0].removeprefix("base_url=")
        assert lines[0].startswith("base_url=http://127.0.0.1:") and lines[1] == "api_key=sk-try-me"
        assert lines[2].startswith("# Sandbox Assistants API (the 64 bundled assistants")
        exports = process.stdout.readline().strip()
        assert exports == f"#   export OPENAI_BASE_URL={base_url} OPENAI_API_KEY=sk-try-me"
        answer = httpx.get(f"{base_url}/assistants", params={"limit": 1},
                           headers={"Authorization": "Bearer sk-try-me", "OpenAI-Beta": "assistants=v2"})
        assert answer.status_code == 200 and len(answer.json()["data"]) == 1
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def test_the_foundry_sandbox_prints_the_project_endpoint_and_the_credential_variables():
    process = subprocess.Popen([sys.executable, "-m", "assistants_export.sandbox", "--foundry", "--generated", "3"],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip().removeprefix("base_url=")
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/api/projects/sandbox-project")
        comment = [process.stdout.readline() for _ in range(3)]
        assert comment[0].startswith("# Sandbox Foundry project (Foundry project: 3 generated agents")
        assert "ASSISTANTS_AUTH_STYLE=entra ASSISTANTS_ENTRA_CREDENTIAL=environment" in comment[1]
        variables = dict(process.stdout.readline().strip().split("=", 1) for _ in range(6))
        assert set(variables) == {"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_AUTHORITY_HOST",
                                  "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"}
        token = httpx.post(f"{variables['AZURE_AUTHORITY_HOST']}/{variables['AZURE_TENANT_ID']}/oauth2/v2.0/token",
                           data={"grant_type": "client_credentials", "client_id": variables["AZURE_CLIENT_ID"],
                                 "client_secret": variables["AZURE_CLIENT_SECRET"],
                                 "scope": "https://ai.azure.com/.default"},
                           verify=ssl.create_default_context(cafile=variables["REQUESTS_CA_BUNDLE"])).json()["access_token"]
        listing = httpx.get(f"{base_url}/assistants", params={"api-version": "v1"},
                            headers={"Authorization": f"Bearer {token}"})
        assert listing.status_code == 200 and len(listing.json()["data"]) == 3
        assert httpx.get(f"{base_url}/assistants", headers={"Authorization": f"Bearer {token}"}).status_code == 400
        assert httpx.get(f"{base_url}/assistants", params={"api-version": "v1"}).status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
