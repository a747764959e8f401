"""The whole conformance suite through the judging proxy (opt in: --proxy-suites).

In front of the clean reference server the proxy is invisible to the suite (every check passes as
without it) and finds nothing in thousands of exchanges, fuzzing included; in front of a server with
faults, the proxy finds the rules the suite finds broken, wherever it judges that rule.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from proxy_helpers import findings, start_proxy

from assistants_conformance.launcher import ReferenceServer

KEYS = ("sk-suites-one-1234", "sk-suites-two-5678")
# what the reference profile asks of an embedded server (Profile.reference_server_args and its expiry)
SERVER_ARGS = ("--max-file-bytes", "65536", "--vector-store-day-seconds", "2", "--index-delay-ms", "300")
FAULTS = ("lock-race", "stream-reorder", "terminal-run-mutates")

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(autouse=True)
def opted_in(request):
    if not request.config.getoption("--proxy-suites"):
        pytest.skip("the whole suite through the proxy runs with --proxy-suites")


def suites_through_proxy(tmp_path, faults: tuple[str, ...]) -> tuple[dict, dict]:
    server = ReferenceServer(api_keys=KEYS, faults=faults, run_expiry_seconds=8, token_delay_ms=2,
                             db_path=str(tmp_path / "reference.sqlite3"), extra_args=SERVER_ARGS)
    with server:
        proxy = start_proxy(server.base_url, tmp_path / "proxy")
        try:
            subprocess.run([sys.executable, "-m", "pytest", "suites", "-q", "-n", "2", "--target-url", proxy.base_url,
                            "--api-key", KEYS[0], "--second-api-key", KEYS[1], "--profile", "reference",
                            "--results-json", str(tmp_path / "suites.json")], capture_output=True, timeout=800)
        finally:
            judged = proxy.stop()
    return json.loads((tmp_path / "suites.json").read_text()), judged


def test_the_suite_through_the_proxy_passes_and_the_proxy_finds_nothing(tmp_path):
    suite, judged = suites_through_proxy(tmp_path, ())
    assert suite["counts"]["fail"] == 0 and suite["counts"]["error"] == 0, suite["counts"]
    assert findings(judged) == {}, json.dumps(findings(judged), indent=1)
    assert judged["proxy"]["exchanges"] > 1000 and judged["proxy"]["dropped_judgements"] == 0


def test_with_faults_the_proxy_finds_the_rules_the_suite_finds_broken(tmp_path):
    suite, judged = suites_through_proxy(tmp_path, FAULTS)
    broken = {c["id"] for c in suite["checks"] if c["status"] == "fail"}
    found = set(findings(judged))
    judged_ids = {c["id"] for c in judged["checks"]}
    assert found, "no finding in front of a server with faults"
    assert broken & judged_ids <= found, f"broken by the suite, judged by the proxy, not found: {broken & judged_ids - found}"
    assert {"LOCK-006", "STREAM-004", "LIFE-012"} <= found
