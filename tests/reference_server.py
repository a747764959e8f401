"""Start the reference server as a real subprocess for tests (reusable by any test module).

    with running_server(tmp_path, "--token-delay-ms", "5") as server:
        client = OpenAI(base_url=server.base_url, api_key="k")
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

LINE = re.compile(r"assistants-conformance reference server listening on (http://\S+)")
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0


@dataclass
class RunningServer:
    process: subprocess.Popen
    root_url: str          # http://host:port
    db: Path

    @property
    def log(self) -> str:
        return self.db.with_suffix(".stderr.log").read_text()

    @property
    def base_url(self) -> str:
        return self.root_url + "/v1"


def start_server(db: Path, *args: str) -> RunningServer:
    command = [sys.executable, "-m", "assistants_conformance.reference", "--port", "0", "--db", str(db), *args]
    log = db.with_suffix(".stderr.log")   # a file, not a pipe: a chatty server can never block on it
    with open(log, "w") as err:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, text=True,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while time.monotonic() < deadline:
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            line = process.stdout.readline()
            if not line:
                break
            match = LINE.search(line)
            if match:
                return RunningServer(process, match.group(1), db)
    finally:
        selector.close()
    stop_server(process)
    raise RuntimeError(f"reference server did not start: {log.read_text()[-2000:]}")


def stop_server(process: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)
    if process.stdout:
        process.stdout.close()
    return process.returncode


@contextlib.contextmanager
def running_server(tmp_path: Path, *args: str, db_name: str = "reference.sqlite3") -> Iterator[RunningServer]:
    server = start_server(tmp_path / db_name, *args)
    try:
        yield server
    finally:
        stop_server(server.process)


def poll_run(http, thread_id: str, run_id: str, while_in: tuple[str, ...], bound: float = 10.0) -> dict:
    """GET the run (with an httpx.Client on the base URL) until its status leaves ``while_in`` or ``bound`` passes."""
    deadline = time.monotonic() + bound
    while True:
        run = http.get(f"/threads/{thread_id}/runs/{run_id}").json()
        if run.get("status") not in while_in or time.monotonic() > deadline:
            return run
        time.sleep(0.02)
