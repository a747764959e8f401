"""Start and stop the reference server as a subprocess.

The harness never imports the reference server (it is an independent reading of the spec); it runs it
as a separate process, exactly as a user would run `assistants-conformance serve`.

stderr goes to a file, not a pipe, so a chatty server can never block on it; stdout (one line: the
listening line) is read with a selector until the startup deadline, so no reader thread is needed.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

LISTENING = re.compile(r"listening on (http://\S+)")
OUTPUT_TAIL = 200   # lines of output kept to explain a failure


class LaunchError(RuntimeError):
    """The reference server did not come up; the message says why and shows its output."""


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int | None:
    """Send ``sig`` (SIGTERM: graceful), wait up to ``timeout``, then SIGKILL. Returns the exit status."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
    if proc.stdout is not None:
        proc.stdout.close()
    return proc.returncode


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
    log_path: str | None = None          # the server's stderr; default: a file in a private temp dir
    root_url: str | None = None
    process: subprocess.Popen | None = None
    _tmpdir: tempfile.TemporaryDirectory | None = None
    _stdout: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        """The API base, as the OpenAI SDK's base_url."""
        if not self.root_url:
            raise LaunchError("reference server not started")
        return self.root_url + "/v1"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "assistants_conformance.reference", "--host", "127.0.0.1", "--port", "0"]
        cmd += ["--db", self.db_path or self._private("reference.sqlite3")]
        if self.run_expiry_seconds is not None:
            cmd += ["--run-expiry-seconds", _number(self.run_expiry_seconds)]
        if self.token_delay_ms is not None:
            cmd += ["--token-delay-ms", _number(self.token_delay_ms)]
        for key in self.api_keys:
            cmd += ["--api-key", key]
        for fault in self.faults:
            cmd += ["--fault", fault]
        return cmd + list(self.extra_args)

    def _private(self, name: str) -> str:
        if self._tmpdir is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="assistants-reference-")
        return str(Path(self._tmpdir.name) / name)

    def start(self) -> "ReferenceServer":
        if self.log_path is None:
            self.log_path = self._private("server.stderr.log")
        self._stdout = []
        with open(self.log_path, "wb") as err:
            self.process = subprocess.Popen(
                self.command(), stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL,
                env=dict(os.environ, PYTHONUNBUFFERED="1"))
        try:
            self.root_url = self._await_listening()
        except LaunchError:
            self.stop()
            raise
        return self

    def _await_listening(self) -> str:
        assert self.process is not None and self.process.stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        fd = self.process.stdout.fileno()
        pending = b""
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(timeout=left):
                    raise LaunchError(self._explain(f"not listening after {self.startup_timeout:g} s"))
                chunk = os.read(fd, 65536)   # raw reads: a buffered reader could hide lines from select()
                if not chunk:
                    self.process.wait(timeout=5)
                    raise LaunchError(self._explain(f"exited with status {self.process.returncode} "
                                                    "before it was listening"))
                *lines, pending = (pending + chunk).split(b"\n")
                found = None
                for raw in lines:  # all of them: the lines the server prints with the listening line count too
                    line = raw.decode(errors="replace").rstrip("\r")
                    self._stdout.append(line)
                    match = LISTENING.search(line)
                    found = found or (match.group(1).rstrip("/") if match else None)
                if found:
                    return found

    @property
    def log(self) -> str:
        """Everything the server wrote to stderr so far."""
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        return Path(self.log_path).read_text(errors="replace")

    @property
    def output(self) -> list[str]:
        """The server's stdout lines, then its stderr (the last OUTPUT_TAIL lines)."""
        return (self._stdout + self.log.splitlines())[-OUTPUT_TAIL:]

    def _explain(self, what: str) -> str:
        tail = "\n".join(self.output[-30:]) or "(no output)"
        return f"reference server {what}: {' '.join(self.command())}\n{tail}"

    def stop(self, timeout: float = 10.0, sig: int = signal.SIGTERM) -> int | None:
        """Stop gracefully (SIGTERM, then SIGKILL after ``timeout``); returns the exit status."""
        proc, self.process = self.process, None
        return stop_process(proc, sig, timeout) if proc is not None else None

    def kill(self) -> int | None:
        """SIGKILL, as a crash would: no shutdown code runs."""
        return self.stop(sig=signal.SIGKILL)

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
