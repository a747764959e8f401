"""The launcher (assistants_conformance.launcher): start, explain a failed start, stop with a status."""

from __future__ import annotations

import subprocess
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


@pytest.mark.parametrize("keys", [(), ("sk-serve-one", "sk-serve-two")], ids=["open", "keyed"])
def test_serve_says_whether_keys_are_enforced_and_how_to_run_against_it(keys):
    with ReferenceServer(api_keys=keys, token_delay_ms=0) as server:
        lines = server.output
        base = server.base_url
    said = "\n".join(lines)
    if keys:
        assert "API keys: enforced (2 accepted" in said
        assert f"test it with: assistants-conformance run --target-url {base} --api-key KEY1 --second-api-key KEY2" in said
        assert "sk-serve-one" not in said  # keys are never echoed
    else:
        assert "API keys: not enforced (no --api-key given: any key or none is accepted)" in said
        assert f"test it with: assistants-conformance run --target-url {base} --profile no-auth -- -n 2" in said


def test_serve_lists_faults_one_per_line_and_help_does_not():
    from assistants_conformance.reference.faults import FAULTS

    run = [sys.executable, "-m", "assistants_conformance.reference"]
    listed = subprocess.run([*run, "--list-faults"], capture_output=True, text=True, timeout=30)
    assert listed.returncode == 0
    assert listed.stdout.splitlines() == [f"{name}: {text}" for name, text in FAULTS.items()]
    helped = subprocess.run([*run, "--help"], capture_output=True, text=True, timeout=30)
    assert helped.returncode == 0 and "no-thread-lock" not in helped.stdout and "--list-faults" in helped.stdout
