"""Start the judging proxy as a subprocess in front of a reference server (both on loopback ports)."""

from __future__ import annotations

import contextlib
import json
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx

from assistants_conformance.launcher import ReferenceServer, stop_process

STOP_TIMEOUT = 20.0


@dataclass
class Proxy:
    process: subprocess.Popen
    root_url: str  # http://127.0.0.1:PORT
    base_url: str  # what the SDK's base_url is
    report_dir: Path
    stderr_path: Path

    def report_now(self) -> dict:
        return httpx.get(f"{self.root_url}/_conformance/report", timeout=30).json()

    def stop(self) -> dict:
        """SIGTERM, wait, and return the results.json it wrote on the way out."""
        code = stop_process(self.process, signal.SIGTERM, STOP_TIMEOUT)
        results = json.loads((self.report_dir / "results.json").read_text())
        results["_exit_code"] = code
        return results

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")


def start_proxy(target_url: str, folder: Path, *extra: str, startup_timeout: float = 30.0) -> Proxy:
    folder.mkdir(parents=True, exist_ok=True)
    stderr_path = folder / "proxy.stderr.log"
    report_dir = folder / "report"
    cmd = [sys.executable, "-m", "assistants_conformance.cli", "proxy", "--target-url", target_url,
           "--listen", "127.0.0.1:0", "--report-dir", str(report_dir), "--quiet", *extra]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr_path.open("w"), text=True)
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + startup_timeout
    line = ""
    while time.monotonic() < deadline and "listening on" not in line:
        if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
            break
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
    if "listening on" not in line:
        process.kill()
        raise RuntimeError(f"proxy did not start: {line!r} {stderr_path.read_text()}")
    root = line.split("listening on ", 1)[1].split(" ", 1)[0]
    return Proxy(process, root, root + "/v1", report_dir, stderr_path)


@contextlib.contextmanager
def proxied_reference(folder: Path, *faults: str, proxy_args: tuple[str, ...] = (), dialect: str = "openai",
                      **server_kw) -> Iterator[Proxy]:
    """A reference server (with these faults) and a proxy in front of it; both stopped afterwards. Under
    dialect azure the proxy's target is the server's root (the Azure endpoint; the API base is /openai)."""
    server = ReferenceServer(faults=faults, db_path=str(folder / "reference.sqlite3"),
                             log_path=str(folder / "reference.stderr.log"), **server_kw)
    folder.mkdir(parents=True, exist_ok=True)
    with server:
        target = server.root_url if dialect == "azure" else server.base_url
        proxy = start_proxy(target, folder / "proxy", "--dialect", dialect, *proxy_args)
        try:
            yield proxy
        finally:
            if proxy.process.poll() is None:
                proxy.process.kill()
                proxy.process.wait()


def findings(results: dict) -> dict[str, str]:
    """check id -> message of every failing check."""
    return {c["id"]: c["message"] for c in results["checks"] if c["status"] == "fail"}
