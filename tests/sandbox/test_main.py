"""``python -m assistants_export.sandbox`` (``make sandbox``) says where it listens and which key opens it."""

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
