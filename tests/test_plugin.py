"""The pytest plugin, run as a user would: inner pytest sessions against a real reference server."""

from __future__ import annotations

import json
import textwrap
import time

import httpx
import pytest

from assistants_conformance.launcher import ReferenceServer

from departing_server import DepartingServer

pytest_plugins = ["pytester"]

KEY = "sk-plugin-test-0123456789abcdef"


@pytest.fixture(scope="module")
def server():
    with ReferenceServer(api_keys=(KEY,), run_expiry_seconds=30, token_delay_ms=0) as running:
        yield running


def run_inner(pytester, server, source: str, *args: str, profile: str | None = None):
    pytester.makepyfile(test_inner=textwrap.dedent(source))
    options = ["--target-url", server.base_url, "--api-key", KEY, "-p", "no:cacheprovider", *args]
    if profile is not None:
        (pytester.path / "profile.yaml").write_text(textwrap.dedent(profile))
        options += ["--profile", str(pytester.path / "profile.yaml")]
    return pytester.runpytest_subprocess(*options, timeout=120)


def api(server) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=10)


def test_factory_deletes_exactly_what_the_test_created(pytester, server):
    with api(server) as http:
        bystander = http.post("/assistants", json={"model": "m", "name": "not ours"}).json()["id"]
    result = run_inner(pytester, server, """
        import json, pathlib
        def test_make(factory):
            a = factory.assistant()
            t = factory.thread()
            assert a["metadata"]["conformance_run"] == t["metadata"]["conformance_run"]
            pathlib.Path("made.json").write_text(json.dumps([a["id"], t["id"]]))
    """)
    result.assert_outcomes(passed=1)
    assistant_id, thread_id = json.loads((pytester.path / "made.json").read_text())
    with api(server) as http:
        assert http.get(f"/assistants/{assistant_id}").status_code == 404
        assert http.get(f"/threads/{thread_id}").status_code == 404
        assert http.get(f"/assistants/{bystander}").status_code == 200


def test_cleanup_failure_is_a_warning_at_the_end_not_a_test_error(pytester, server):
    # Before: an extra ERROR at teardown of the test ("cleanup failed: ..."). Now: one warning, in the summary.
    result = run_inner(pytester, server, """
        def test_makes_and_breaks_cleanup(factory):
            factory.assistant()
            factory.client.delete = lambda path: type("R", (), {"status_code": 500})()
        def test_next_one_is_clean():
            pass
    """)
    result.assert_outcomes(passed=2, errors=0, warnings=1)
    assert "ERROR at teardown" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*warnings summary*", "*CleanupWarning: cleanup of test_inner.py::"
                                 "test_makes_and_breaks_cleanup failed: delete assistant asst_*answered 500*"])


def test_cleanup_does_not_delete_again_what_the_test_deleted(pytester, server):
    # A server that answers 500 to deleting what is already gone (as one third-party server did): before,
    # cleanup deleted the test's own deletions again and added an ERROR; now it knows they are gone.
    with DepartingServer(server.root_url, {"delete-again-500"}) as departing:
        pytester.makepyfile(test_inner=textwrap.dedent("""
            def test_deletes_its_own(factory, client):
                assistant = factory.assistant()
                thread = factory.thread()
                assert client.delete(f"/assistants/{assistant['id']}").status_code == 200
                assert client.delete(f"/threads/{thread['id']}").status_code == 200
                factory.assistant(name="left for cleanup")
        """))
        result = pytester.runpytest_subprocess("--target-url", departing.base_url, "--api-key", KEY,
                                               "-p", "no:cacheprovider", "-W", "error::UserWarning", timeout=120)
    result.assert_outcomes(passed=1, errors=0)
    assert "CleanupWarning" not in result.stdout.str()


def test_failure_names_the_rule_shows_evidence_and_hides_the_key(pytester, server):
    result = run_inner(pytester, server, """
        import pytest
        from assistants_conformance.checks import violation
        @pytest.mark.check("DEMO-001")
        @pytest.mark.level("MUST")
        def test_demo(client):
            '''A demo rule that the target always breaks.'''
            response = client.get("/assistants", params={"limit": 1})
            violation("the demo rule broke", [response.exchange])
    """)
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "[DEMO-001 MUST] A demo rule that the target always breaks." in out
    assert "what happened: the demo rule broke" in out
    assert "GET " + server.base_url + "/assistants?limit=1 -> 200" in out
    assert KEY not in out


def test_unsupported_capability_is_reported_not_failed(pytester, server):
    results = pytester.path / "results.json"
    result = run_inner(pytester, server, """
        import pytest
        @pytest.mark.check("DEMO-002")
        @pytest.mark.level("SHOULD")
        @pytest.mark.capability("streaming")
        def test_needs_streaming(client):
            '''Streams work.'''
            raise AssertionError("must not run")
    """, "--results-json", str(results), profile="""
        name: no-streams
        model: m
        capabilities: [function_tools]
    """)
    result.assert_outcomes(skipped=1)
    [record] = json.loads(results.read_text())["checks"]
    assert record["id"] == "DEMO-002" and record["status"] == "unsupported"


def test_check_option_selects_checks_and_rejects_unknown_ids(pytester, server):
    source = """
        import pytest
        @pytest.mark.check("DEMO-003")
        @pytest.mark.level("MAY")
        def test_a():
            '''Rule a.'''
        @pytest.mark.check("DEMO-004")
        @pytest.mark.level("MAY")
        def test_b():
            '''Rule b.'''
    """
    run_inner(pytester, server, source, "--check", "DEMO-004").assert_outcomes(passed=1, deselected=1)
    result = run_inner(pytester, server, source, "--check", "NOPE-999")
    result.stderr.fnmatch_lines(["*--check: no such check: NOPE-999*"])


def test_badly_marked_check_is_a_usage_error(pytester, server):
    result = run_inner(pytester, server, """
        import pytest
        @pytest.mark.check("lowercase-1")
        @pytest.mark.level("MUST")
        def test_x():
            '''Rule.'''
    """)
    result.stderr.fnmatch_lines(["*check id 'lowercase-1' is not of the form AREA-NNN*"])


def test_bad_profile_gets_a_one_line_error_naming_the_field(pytester, server):
    result = run_inner(pytester, server, "def test_x(): pass\n", profile="""
        name: broken
        model: m
        capabilities: [streaming]
        request_timeout: -3
    """)
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*assistants-conformance:*request_timeout*"])


def _preflight_stop(pytester, *args: str) -> str:
    """An inner session that preflight stops: exit 2, nothing on stdout, exactly one line on stderr."""
    pytester.makepyfile(test_inner="def test_x(client):\n    client.get('/assistants')\n")
    result = pytester.runpytest_subprocess(*args, "-p", "no:cacheprovider", timeout=60)
    assert result.ret == 2, result.outlines + result.errlines
    assert result.outlines == [] and len(result.errlines) == 1, result.outlines + result.errlines
    line = result.errlines[0]
    for internal in ("_pytest", "xdist", "Exit:", "Traceback", "node down", "INTERNALERROR"):
        assert internal not in line
    return line


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["no-xdist", "xdist-2"])
def test_unreachable_target_is_one_line_and_exit_2_with_or_without_xdist(pytester, workers):
    started = time.monotonic()
    line = _preflight_stop(pytester, "--target-url", "http://127.0.0.1:9/v1", *workers)
    assert time.monotonic() - started < 15  # ~3 s on an idle machine: no worker is started
    assert line == ("assistants-conformance: target unreachable: GET http://127.0.0.1:9/v1/assistants?limit=1: "
                    "connection refused (is the target running?)")


def test_keyed_target_without_key_wrong_key_or_wrong_base_is_one_line(pytester, server, monkeypatch):
    for name in ("OPENAI_API_KEY", "ASSISTANTS_CONFORMANCE_SECOND_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    line = _preflight_stop(pytester, "--target-url", server.base_url, "-n", "2")
    assert line.startswith("assistants-conformance: target wants an API key: pass --api-key or set OPENAI_API_KEY")
    line = _preflight_stop(pytester, "--target-url", server.base_url, "--api-key", "sk-not-a-key-of-it")
    assert line.startswith("assistants-conformance: target refused the API key: check --api-key or set OPENAI_API_KEY")
    assert "sk-not-a-key-of-it" not in line
    line = _preflight_stop(pytester, "--target-url", server.base_url, "--api-key", KEY,
                           "--second-api-key", "sk-not-a-key-of-it")
    assert "target refused the second API key: check --second-api-key" in line
    line = _preflight_stop(pytester, "--target-url", server.root_url + "/v2", "--api-key", KEY)
    assert line.startswith(f"assistants-conformance: nothing answers at {server.root_url}/v2: is the base URL")
    assert "answered 404" in line


def test_preflight_passes_a_good_target_and_skips_when_only_inspecting(pytester, server):
    result = run_inner(pytester, server, "def test_x(client):\n    assert client.get('/assistants').status_code == 200\n")
    assert result.ret == 0
    # Listing tests needs no target: an unreachable one is not probed.
    pytester.makepyfile(test_inner="def test_x(client): pass\n")
    result = pytester.runpytest_subprocess("--target-url", "http://127.0.0.1:9/v1", "--collect-only", "-q")
    assert result.ret == 0 and "unreachable" not in result.stderr.str()
