"""Start and stop the reference server as a subprocess.

The harness never imports the reference server (it is an independent reading of the spec); it runs it
as a separate process, exactly as a user would run `assistants-conformance serve`.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

LISTENING = re.compile(r"listening on (http://\S+)")


class LaunchError(RuntimeError):
    """The reference server did not come up; the message says why and shows its output."""


@dataclass
class ReferenceServer:
    """A reference server process on 127.0.0.1. Use as a context manager, or start()/stop()."""

    api_keys: tuple[str, ...] = ()
    faults: tuple[str, ...] = ()
    run_expiry_seconds: float | None = None
    token_delay_ms: int | None = None
    db_path: str | None = None
    extra_args: tuple[str, ...] = ()
    startup_timeout: float = 20.0
    root_url: str | None = None
    process: subprocess.Popen | None = None
    _tmpdir: tempfile.TemporaryDirectory | None = None
    _output: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        """The API base, as the OpenAI SDK's base_url."""
        if not self.root_url:
            raise LaunchError("reference server not started")
        return self.root_url + "/v1"

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "assistants_conformance.reference", "--host", "127.0.0.1", "--port", "0"]
        cmd += ["--db", self.db_path or self._default_db()]
        if self.run_expiry_seconds is not None:
            cmd += ["--run-expiry-seconds", _number(self.run_expiry_seconds)]
        if self.token_delay_ms is not None:
            cmd += ["--token-delay-ms", str(self.token_delay_ms)]
        for key in self.api_keys:
            cmd += ["--api-key", key]
        for fault in self.faults:
            cmd += ["--fault", fault]
        return cmd + list(self.extra_args)

    def _default_db(self) -> str:
        if self._tmpdir is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="assistants-reference-")
        return str(Path(self._tmpdir.name) / "reference.sqlite3")

    def start(self) -> "ReferenceServer":
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            self.command(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        lines: queue.Queue[str | None] = queue.Queue()
        # A reader thread, because a pipe read has no timeout of its own.
        threading.Thread(target=self._pump, args=(lines,), daemon=True).start()
        try:
            while True:
                line = lines.get(timeout=self.startup_timeout)
                if line is None:
                    raise LaunchError(self._explain("exited before it was listening"))
                match = LISTENING.search(line)
                if match:
                    self.root_url = match.group(1).rstrip("/")
                    return self
        except queue.Empty:
            self.stop()
            raise LaunchError(self._explain(f"not listening after {self.startup_timeout:g} s")) from None

    def _pump(self, lines: queue.Queue) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self._output.append(line.rstrip("\n"))
            del self._output[:-200]  # keep the tail only: enough to explain a failure
            lines.put(line)
        lines.put(None)

    def _explain(self, what: str) -> str:
        tail = "\n".join(self._output[-30:]) or "(no output)"
        return f"reference server {what}: {' '.join(self.command())}\n{tail}"

    @property
    def output(self) -> list[str]:
        return list(self._output)

    def stop(self, timeout: float = 10.0) -> None:
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown code runs."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    def close(self) -> None:
        self.stop()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def __enter__(self) -> "ReferenceServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
