"""Many ``assistants-export`` runs, each a process of its own, started in milliseconds instead of seconds.

A CLI process spends seconds importing Dagster before it does anything, and a test that starts forty of them
spends minutes on imports. :class:`CliForks` starts one runner process that imports the CLI once and then, on
request, forks a child per run: the child is a real process of its own (its own PID, locks, signals, exit
status), ready at once. The runner has one thread, so forking it is safe.

    with CliForks(environ) as forks:
        first = forks.start(["snapshot", ...], tmp_path / "first")     # stdout.txt and stderr.txt in that folder
        second = forks.start([...], tmp_path / "second", {"ASSISTANTS_WRITER_WAIT": "0"})
        assert forks.wait(first) == 0

A child's exit status is what :func:`assistants_export.pipelines.cli.run` returned, or minus the signal that ended it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RUNNER = r"""
import json, os, sys
from assistants_export.pipelines.cli import all_commands, run
from assistants_export.connectors.core import failpoints
all_commands()  # every command's module (and Dagster) imported here, once, not in each child

for line in sys.stdin:
    request = json.loads(line)
    if "wait" in request:
        _, status = os.waitpid(request["wait"], 0)
        code = os.waitstatus_to_exitcode(status)
        print(json.dumps({"status": code}), flush=True)
        continue
    pid = os.fork()
    if pid == 0:  # the child: its own environment and files, then the CLI
        try:
            os.environ.update(request["env"])
            for name in request.get("unset", []):
                os.environ.pop(name, None)
            failpoints.arm(os.environ)
            folder = request["folder"]
            for fd, name in ((1, "stdout.txt"), (2, "stderr.txt")):
                out = os.open(os.path.join(folder, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(out, fd)
                os.close(out)
            sys.stdout = os.fdopen(1, "w", buffering=1)
            sys.stderr = os.fdopen(2, "w", buffering=1)
            status = run(request["argv"])
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException as exc:  # anything run() let through: the test reads it in stderr.txt
            import traceback
            traceback.print_exc()
            status = 99
        os._exit(status)
    print(json.dumps({"pid": pid}), flush=True)
"""


class CliForks:
    """A runner that forks one ``assistants-export`` process per :meth:`start` (see the module docstring)."""

    def __init__(self, environ: dict[str, str], cwd: str | Path | None = None) -> None:
        self._process = subprocess.Popen([sys.executable, "-c", RUNNER], env=environ, cwd=cwd,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def __enter__(self) -> CliForks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ask(self, request: dict[str, object]) -> dict[str, int]:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        answer = self._process.stdout.readline()
        if not answer:
            raise RuntimeError("the CLI runner ended")
        return json.loads(answer)

    def start(self, argv: list[str], folder: Path, env: dict[str, str] | None = None,
              unset: list[str] | None = None) -> int:
        """Start ``assistants-export ARGV`` in a process of its own (``env`` added to its environment); its PID.

        Its output goes to ``folder/stdout.txt`` and ``folder/stderr.txt``."""
        folder.mkdir(parents=True, exist_ok=True)
        return self._ask({"argv": argv, "folder": str(folder), "env": env or {}, "unset": unset or []})["pid"]

    def wait(self, pid: int) -> int:
        """The exit status of a started run, once it has ended (minus the signal that ended it, if one did)."""
        return self._ask({"wait": pid})["status"]

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._process.wait(timeout=60)
