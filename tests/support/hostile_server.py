"""A tiny HTTP server on loopback whose every answer is scripted by a function: for hostile behaviour
the sandbox does not imitate (echoing the credentials it receives, multi-line error messages).

Real sockets and real HTTP/1.1, so the client's transport code runs as in production.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedServer:
    """``answer(path, credential) -> (status, body, headers)``; ``body`` is bytes or JSON-able.

    ``credential`` is the request's ``Authorization`` or ``api-key`` header as received.
    Use as a context manager; ``base_url`` ends in ``/v1``.
    """

    def __init__(self, answer):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                credential = self.headers.get("Authorization") or self.headers.get("api-key") or ""
                status, body, headers = answer(self.path, credential)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01})

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def api_error(status, message, error_type="server_error", code=None, headers=()):
    return status, {"error": {"message": message, "type": error_type, "code": code}}, tuple(headers)


def listing(*assistants):
    """A one-page ``GET /assistants`` answer (so a preflight passes)."""
    return 200, {"object": "list", "data": list(assistants), "has_more": False}, ()


def minimal_assistant(assistant_id, **fields):
    body = {"id": assistant_id, "object": "assistant", "created_at": 1700000000, "name": "n", "description": None,
            "model": "gpt-4o", "instructions": None, "tools": [], "metadata": {}}
    body.update(fields)
    return body
