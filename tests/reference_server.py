"""Start the reference server as a real subprocess for tests (reusable by any test module).

A thin layer over `assistants_conformance.launcher.ReferenceServer`, keyed by the database file:

    with running_server(tmp_path, "--token-delay-ms", "5") as server:
        client = OpenAI(base_url=server.base_url, api_key="k")
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from assistants_conformance.launcher import ReferenceServer, stop_process

START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0


@dataclass
class RunningServer:
    server: ReferenceServer
    db: Path

    @property
    def process(self) -> subprocess.Popen:
        assert self.server.process is not None, "server already stopped"
        return self.server.process

    @property
    def root_url(self) -> str:          # http://host:port
        assert self.server.root_url
        return self.server.root_url

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def log(self) -> str:
        return self.server.log


def start_server(db: Path, *args: str) -> RunningServer:
    server = ReferenceServer(db_path=str(db), extra_args=tuple(args), startup_timeout=START_TIMEOUT,
                             log_path=str(db.with_suffix(".stderr.log")))
    return RunningServer(server.start(), db)


def stop_server(process: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
    return stop_process(process, sig, STOP_TIMEOUT)


@contextlib.contextmanager
def running_server(tmp_path: Path, *args: str, db_name: str = "reference.sqlite3") -> Iterator[RunningServer]:
    running = start_server(tmp_path / db_name, *args)
    try:
        yield running
    finally:
        running.server.close()


def poll_run(http, thread_id: str, run_id: str, while_in: tuple[str, ...], bound: float = 10.0) -> dict:
    """GET the run (with an httpx.Client on the base URL) until its status leaves ``while_in`` or ``bound`` passes."""
    deadline = time.monotonic() + bound
    while True:
        run = http.get(f"/threads/{thread_id}/runs/{run_id}").json()
        if run.get("status") not in while_in or time.monotonic() > deadline:
            return run
        time.sleep(0.02)
