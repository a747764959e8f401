"""Verdicts and evidence against a server that departs from the protocol the way third-party servers do
(tests/departing_server.py in front of a clean reference server): the message says what arrived, the
evidence is the exchange the verdict is about, and a missing operation fails only the checks that need it.
"""

from __future__ import annotations

import pytest

from assistants_conformance.wire.config import load_profile
from assistants_conformance.launcher import ReferenceServer

from departing_server import DepartingServer
from fault_matrix import run_suites_document

KEYS = ("sk-departures-first-0123456789", "sk-departures-second-0123456789")


@pytest.fixture(scope="module")
def upstream():
    profile = load_profile("reference")
    with ReferenceServer(api_keys=KEYS, run_expiry_seconds=profile.expiry_window_seconds, token_delay_ms=0,
                         extra_args=profile.reference_server_args()) as server:
        yield server


def run_checks(upstream, departures: set[str], *check_ids: str) -> dict[str, dict]:
    """check id -> its results.json record, from a suite run against the departing server."""
    args = []
    for check_id in check_ids:
        args += ["--check", check_id]
    with DepartingServer(upstream.root_url, departures) as server:
        document, output = run_suites_document("--target-url", server.base_url, "--api-key", KEYS[0],
                                             "--second-api-key", KEYS[1], "--profile", "reference", *args)
    by_id = {r["id"]: r for r in document["checks"]}
    assert set(check_ids) <= set(by_id), output
    return by_id


def what_happened(record: dict) -> str:
    """The "what happened:" line of a check's message (the rule and the evidence are around it)."""
    return next((line for line in record["message"].splitlines() if line.startswith("what happened:")), "")


def exchanges(record: dict) -> list[dict]:
    return [e if e["kind"] == "exchange" else e["exchange"] for e in record["evidence"]
            if e["kind"] == "exchange" or (e["kind"] == "stream" and e.get("exchange"))]


def test_stream_messages_say_what_arrived_and_show_that_exchange(upstream):
    got = run_checks(upstream, {"no-create-thread-and-run", "bare-done"},
                     "STREAM-001", "STREAM-002", "STREAM-003", "STREAM-008")
    content_type = got["STREAM-001"]
    assert content_type["status"] == "fail"
    # Before: "create thread and run: Content-Type 'application/json', expected text/event-stream", shown
    # with the exchange of the healthy create-run stream.
    assert ("create thread and run: answered 404 with an error, not a stream: Unknown route: "
            "POST /v1/threads/runs") in what_happened(content_type)
    assert "Content-Type" not in what_happened(content_type)
    shown = exchanges(content_type)
    assert shown and all(e["url"].endswith("/threads/runs") and e["status"] == 404 for e in shown), shown
    # Before: "closed after 6 events without a done event", although a bare `data: [DONE]` had arrived.
    for check_id in ("STREAM-003", "STREAM-008"):
        record = got[check_id]
        assert record["status"] == "fail", record
        assert "bare `data: [DONE]` without `event: done`" in what_happened(record), record["message"]
        assert "the body closed after" not in what_happened(record)
    # The streams that could be read are judged: their events match the contract, whatever the 404 elsewhere.
    assert got["STREAM-002"]["status"] == "pass", got["STREAM-002"]["message"]


def test_a_missing_operation_fails_only_the_checks_that_need_it(upstream):
    # Before: a 404 on POST /threads/runs made every OBJ-* check an error in the tour's setup, so text
    # content without `annotations` was never reported.
    got = run_checks(upstream, {"no-create-thread-and-run", "no-annotations"},
                     "OBJ-001", "OBJ-002", "OBJ-003", "OBJ-004", "OBJ-005", "OBJ-010", "OBJ-011", "OBJ-012")
    assert {c: r["status"] for c, r in got.items()} == {
        "OBJ-001": "pass", "OBJ-002": "pass", "OBJ-003": "fail", "OBJ-004": "fail", "OBJ-005": "pass",
        "OBJ-010": "pass", "OBJ-011": "pass", "OBJ-012": "pass"}, {c: what_happened(r) for c, r in got.items()}
    assert "annotations" in what_happened(got["OBJ-003"])
    runs = what_happened(got["OBJ-004"])
    assert ("not checked: POST /threads/runs answered 404 with an error: Unknown route: POST /v1/threads/runs"
            in runs), runs
    assert "contract violation" not in runs  # the runs made by create thread + create run are fine
    assert any(e["url"].endswith("/threads/runs") and e["status"] == 404 for e in exchanges(got["OBJ-004"]))


def test_a_failed_tool_stream_setup_leaves_the_other_streams_judged(upstream):
    # Before: the requires_action streams' setup failing (no function tools) made every check that reads
    # all streams an error too. Now only the checks about those streams report it.
    got = run_checks(upstream, {"no-function-tools"}, "STREAM-001", "STREAM-002", "STREAM-003", "STREAM-006",
                     "STREAM-008")
    assert {c: got[c]["status"] for c in ("STREAM-001", "STREAM-002", "STREAM-003", "STREAM-006")} == dict.fromkeys(
        ("STREAM-001", "STREAM-002", "STREAM-003", "STREAM-006"), "pass"), {c: r["message"][:300] for c, r in got.items()}
    # Blocked by OBJ-001, the check whose rule the refused creation is (prerequisites.CREATION).
    paused = got["STREAM-008"]
    assert paused["status"] == "blocked" and paused["blocked_by"] == "OBJ-001", paused
    assert "could not create an assistant" in paused["reason"]
