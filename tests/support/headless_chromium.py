"""A tiny Chrome DevTools Protocol client for Debian's ``chromium``, over ``--remote-debugging-pipe`` (no port, no
library): open a page, record its console errors, exceptions and network requests, evaluate JavaScript, take a
screenshot.

    python tests/support/headless_chromium.py screenshot report.html docs/report.png [--tab fleet]
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_chromium() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


class CdpError(RuntimeError):
    pass


class Chromium:
    """One headless browser and one page, driven over the DevTools pipe (fd 3 in, fd 4 out)."""

    def __init__(self, binary: str | None = None, *, width: int = 1280, height: int = 900, timeout: float = 30,
                 stderr: Any = subprocess.DEVNULL) -> None:
        binary = binary or find_chromium()
        if binary is None:
            raise FileNotFoundError("chromium is not installed (make system-deps installs it)")
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="cdp-profile-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def fds() -> None:  # the child's fd 3 is what it reads, fd 4 what it writes (inheritable: dup2's default)
            reading, writing = os.dup(to_browser_r) + 0, os.dup(from_browser_w)
            reading = fcntl.fcntl(reading, fcntl.F_DUPFD, 10)
            writing = fcntl.fcntl(writing, fcntl.F_DUPFD, 10)
            os.dup2(reading, 3)
            os.dup2(writing, 4)

        self._process = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             f"--user-data-dir={self._profile}", "--no-first-run", "--no-default-browser-check",
             "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
             "--disable-sync", "--disable-extensions", "--metrics-recording-only", "--mute-audio",
             f"--window-size={width},{height}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
            preexec_fn=fds, close_fds=False)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next = 0
        self._lock = threading.Lock()
        self._answers: dict[int, dict[str, Any]] = {}
        self._arrived = threading.Condition()
        self.events: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.call(f"{domain}.enable", session=True)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=height,
                  deviceScaleFactor=1, mobile=False)

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_browser, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._arrived:
                    self._arrived.notify_all()
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                with self._arrived:
                    if "id" in message:
                        self._answers[message["id"]] = message
                    else:
                        self.events.append(message)
                    self._arrived.notify_all()

    def call(self, method: str, *, session: bool = False, **params: Any) -> dict[str, Any]:
        with self._lock:
            self._next += 1
            ident = self._next
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        with self._arrived:
            while ident not in self._answers:
                left = deadline - time.monotonic()
                if left <= 0 or self._process.poll() is not None:
                    raise CdpError(f"no answer to {method} within {self.timeout} s")
                self._arrived.wait(min(left, 0.5))
            answer = self._answers.pop(ident)
        if "error" in answer:
            raise CdpError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    def wait_event(self, method: str, after: int = 0) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        with self._arrived:
            while True:
                for event in self.events[after:]:
                    if event.get("method") == method:
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CdpError(f"no {method} within {self.timeout} s")
                self._arrived.wait(min(left, 0.5))

    def open(self, url: str) -> None:
        seen = len(self.events)
        self.call("Page.navigate", session=True, url=url)
        self.wait_event("Page.loadEventFired", seen)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise CdpError(f"{expression[:60]}...: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def screenshot(self, path: str | Path) -> None:
        data = self.call("Page.captureScreenshot", session=True, format="png")["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries (a refused request, a CSP violation) so far."""
        found = []
        for event in list(self.events):
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append("console: " + " ".join(str(a.get("value", a.get("description", "")))
                                                     for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                described = details.get("exception", {}).get("description") or details.get("text")
                found.append(f"exception: {described}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                found.append("log: " + str(params["entry"].get("text")))
        return found

    def requests(self) -> list[str]:
        """The URL of every request the page made."""
        return [e["params"]["request"]["url"] for e in list(self.events)
                if e.get("method") == "Network.requestWillBeSent"]

    def close(self) -> None:
        try:
            self._process.terminate()
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        finally:
            for fd in (self._to_browser, self._from_browser):
                with contextlib.suppress(OSError):
                    os.close(fd)
            shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] != "screenshot":
        print(__doc__, file=sys.stderr)
        return 2
    page, png = Path(argv[1]).resolve(), argv[2]
    tab = argv[4] if len(argv) > 4 and argv[3] == "--tab" else "fleet"
    with Chromium(width=1100, height=1250) as browser:
        browser.open(page.as_uri() + "#" + tab)
        browser.screenshot(png)
        problems = browser.errors()
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(f"{png}: {Path(png).stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
