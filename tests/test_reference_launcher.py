"""The launcher (assistants_conformance.launcher): start, explain a failed start, stop with a status."""

from __future__ import annotations

import sys
import time

import httpx
import pytest

from assistants_conformance.launcher import LaunchError, ReferenceServer


def test_start_health_and_graceful_stop():
    server = ReferenceServer(token_delay_ms=0, run_expiry_seconds=30)
    try:
        server.start()
        assert server.base_url.startswith("http://127.0.0.1:") and server.pid
        assert httpx.get(server.root_url + "/health", timeout=5).json() == {"status": "ok"}
        assert any("listening on" in line for line in server.output)
        assert server.stop() == 0 and server.process is None
    finally:
        server.close()


def test_failed_start_is_explained_with_the_servers_stderr():
    with pytest.raises(LaunchError) as caught:
        with ReferenceServer(faults=("no-such-fault",)):
            pass
    assert "exited with status 2" in str(caught.value) and "no-such-fault" in str(caught.value)


def test_startup_deadline_holds():
    class Silent(ReferenceServer):   # never prints the listening line
        def command(self):
            return [sys.executable, "-c", "import sys, time; print('noise', file=sys.stderr); time.sleep(60)"]
    server = Silent(startup_timeout=1)
    started = time.monotonic()
    with pytest.raises(LaunchError, match="not listening after 1 s") as caught:
        server.start()
    assert time.monotonic() - started < 5 and "noise" in str(caught.value) and server.process is None
    server.close()
