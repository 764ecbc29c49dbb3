"""A tiny HTTP server on loopback whose every answer is scripted by a function: for hostile behaviour
the sandbox does not imitate (echoing the credentials it receives, multi-line error messages, bodies that
trickle in a byte at a time, compression bombs, listings whose cursor goes round in circles).

Real sockets and real HTTP/1.1, so the client's transport code runs as in production. The server stops
with its ``with`` block: a body still trickling stops too, so no test waits on it.
"""

import base64
import gzip
import itertools
import json
import threading
import time
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit


@dataclass(frozen=True)
class Trickle:
    """A body sent ``step`` bytes at a time with ``interval`` seconds between: every read gets a byte well within
    any read timeout, so only a wall-clock deadline can stop it. ``Content-Length`` announces the whole body."""

    data: bytes
    interval: float = 0.05
    step: int = 1
    whole_response: bool = False
    """Trickle the status line and the headers too (``data`` is then the body, framed by the server)."""


class ScriptedServer:
    """``answer(path, credential) -> (status, body, headers)``; ``body`` is bytes, a :class:`Trickle` or JSON-able.

    ``credential`` is the request's ``Authorization`` or ``api-key`` header as received.
    Use as a context manager; ``base_url`` ends in ``/v1``. ``paths`` lists the paths asked for, in order;
    ``trickles_cut`` counts the trickled bodies the client hung up on before their last byte.
    """

    def __init__(self, answer):
        server = self
        self.paths = []
        self.trickles_cut = 0
        self.closing = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                server.paths.append(self.path)
                credential = self.headers.get("Authorization") or self.headers.get("api-key") or ""
                status, body, headers = answer(self.path, credential)
                if isinstance(body, Trickle) and body.whole_response:
                    head = (f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n"
                            f"Content-Length: {len(body.data)}\r\n\r\n").encode()
                    self._trickle(Trickle(head + body.data, body.interval, body.step))
                    return
                if isinstance(body, Trickle):
                    data = body.data
                elif isinstance(body, bytes):
                    data = body
                else:
                    data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                if isinstance(body, Trickle):
                    self._trickle(body)
                else:
                    self.wfile.write(data)

            def _trickle(self, body):
                for start in range(0, len(body.data), body.step):
                    if server.closing.wait(body.interval):
                        return
                    try:
                        self.wfile.write(body.data[start:start + body.step])
                    except OSError:  # the client hung up: its deadline worked
                        server.trickles_cut += 1
                        self.close_connection = True
                        return

            def log_message(self, format, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01})

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def wait_for_cut_trickles(self, count, patience=10.0):
        """Wait (at most ``patience`` seconds) until ``count`` trickled bodies were cut; the count reached."""
        end = time.monotonic() + patience
        while self.trickles_cut < count and time.monotonic() < end:
            time.sleep(0.01)
        return self.trickles_cut

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.closing.set()
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


def query(path):
    """The query parameters of a request path, one value each."""
    return {name: values[-1] for name, values in parse_qs(urlsplit(path).query).items()}


# --- compression bombs -------------------------------------------------------------------------------

def gzip_bomb(decoded_bytes, layers=2):
    """``decoded_bytes`` zero bytes gzipped ``layers`` times over (``Content-Encoding: gzip, gzip``...).

    Two layers of 256 MiB come to under 1 KB on the wire. Built a MiB at a time, so making it costs little memory.
    """
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [packer.compress(block) for _ in range(decoded_bytes // len(block))]
    parts += [packer.compress(bytes(decoded_bytes % len(block))), packer.flush()]
    data = b"".join(parts)
    for _ in range(layers - 1):
        data = gzip.compress(data, 9)
    return data


def encoding_header(layers, coding="gzip"):
    return ("Content-Encoding", ", ".join([coding] * layers))


# --- a key echoed back in every disguise ---------------------------------------------------------------

def json_escaped_every_character(text):
    """``text`` as a JSON string body (no quotes) with every character a ``\\uXXXX`` escape."""
    return "".join(f"\\u{ord(c):04x}" for c in text)


def json_escaped_some_characters(text):
    """Every other character escaped, upper-case hex: ``s\\u006B-\\u0070...``."""
    return "".join(f"\\u{ord(c):04X}" if i % 2 else c for i, c in enumerate(text))


def base64_forms(text):
    """``text`` base64-encoded alone and behind one and two other bytes (each alignment), both alphabets."""
    forms = {}
    for lead in ("", "u:", "us:"):
        raw = (lead + text).encode()
        forms[f"base64_at_{len(lead)}"] = base64.b64encode(raw).decode()
        forms[f"urlsafe_base64_at_{len(lead)}"] = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return forms


def echo_forms(credential):
    """JSON string contents (ready to go between quotes in a body) that each hold ``credential`` in a disguise
    a library or a server may give back."""
    key = credential.removeprefix("Bearer ")
    forms = {
        "json_escaped_every_character": json_escaped_every_character(credential),
        "json_escaped_some_characters": json_escaped_some_characters(key),
        "json_escaped_slash": json.dumps(credential)[1:-1].replace("/", "\\/"),
        "percent_encoded": quote(credential, safe=""),
        "percent_encoded_every_character": "".join(f"%{b:02X}" for b in key.encode()),
        "python_bytes_repr": repr(credential.encode()).replace("\\", "\\\\"),
        "html_entities": "".join(f"&#{ord(c)};" for c in key),
    }
    forms.update({name: value for name, value in base64_forms(key).items()})
    return forms


def echo_body(credential):
    """An error body whose every string member holds the credential in one disguise (raw JSON text)."""
    members = ",".join(f'"{name}": "{value}"' for name, value in echo_forms(credential).items())
    message = json_escaped_every_character(credential)
    return ('{"error": {"message": "bad key ' + message + '", "type": "server_error", "code": null}, '
            + members + "}").encode()


# --- listings that never end --------------------------------------------------------------------------

def cycling_listing(cursors, per_page=1, stop_after=40):
    """``GET /assistants`` answers whose ``last_id`` goes round ``cursors`` (A -> B -> A...); each page holds new
    assistants, so only the cursor gives the cycle away. After ``stop_after`` list requests it ends (has_more
    false), so a client that does not notice still finishes."""
    counter, cycle = itertools.count(), itertools.cycle(cursors)

    def answer(path, credential):
        n = next(counter)
        items = [minimal_assistant(f"asst_c{n:04d}_{i}") for i in range(per_page)]
        return 200, {"object": "list", "data": items, "last_id": next(cycle), "has_more": n < stop_after}, ()

    return answer


def repeating_listing(item_id="asst_same", stop_after=40, empty=False):
    """``GET /assistants`` answers that hold the same assistant (or, ``empty``, none) on every page, with a new
    ``last_id`` each time; after ``stop_after`` requests it ends."""
    counter = itertools.count()

    def answer(path, credential):
        n = next(counter)
        items = [] if empty else [minimal_assistant(item_id)]
        return 200, {"object": "list", "data": items, "last_id": f"cursor_{n}", "has_more": n < stop_after}, ()

    return answer
