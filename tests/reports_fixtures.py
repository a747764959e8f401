"""Small fake results documents for the report tests (rendering needs no suite run)."""

from __future__ import annotations

import copy

from assistants_conformance.reports.results import count_statuses

_EXCHANGE = {
    "kind": "exchange", "method": "POST", "url": "http://127.0.0.1:9/v1/threads/thread_1/runs",
    "request_headers": {"Authorization": "Bearer [REDACTED]", "Content-Type": "application/json"},
    "request_body": '{"assistant_id": "asst_1", "instructions": "<script>alert(1)</script>"}',
    "status": 400, "response_headers": {"content-type": "application/json"},
    "response_body": '{"error": {"message": "bad", "type": "invalid_request_error"}}',
    "started": 1_700_000_000.25, "elapsed": 0.042, "error": None,
}
_STREAM = {
    "kind": "stream", "verdict": "incomplete", "message": "the body closed after 3 events without a done event",
    "exchange": {**_EXCHANGE, "status": 200, "response_headers": {"content-type": "text/event-stream"},
                 "response_body": "event: thread.run.created\ndata: {}\n\n"},
    "events": [{"event": "thread.run.created", "data": '{"id": "run_1"}', "id": None, "at": 0.01},
               {"event": "thread.run.queued", "data": '{"id": "run_1"}', "id": None, "at": 0.02},
               {"event": "thread.run.completed", "data": '{"id": "run_1"}', "id": None, "at": 0.30}],
}


def _check(check_id, status, level="MUST", capability=None, message="", evidence=()):
    return {"id": check_id, "area": check_id.split("-")[0].lower(), "level": level, "capability": capability,
            "rule": f"Rule of {check_id}.", "nodeid": f"suites/x/test_x.py::test_{check_id.lower()}",
            "status": status, "duration": 0.1, "message": message, "evidence": list(evidence),
            "exchanges": [], "cases": [{"nodeid": "n", "status": status, "duration": 0.1, "message": message}]}


def fake_results() -> dict:
    checks = [
        _check("LIFE-001", "pass"),
        _check("LIFE-002", "fail", message="[LIFE-002 MUST] Rule.\nwhat happened: created_at is 1.5\nevidence:\n  GET x",
               evidence=[_EXCHANGE, {"kind": "text", "text": "statuses seen: queued, completed"}]),
        _check("STREAM-003", "fail", capability="streaming",
               message="[STREAM-003 MUST] Rule.\nwhat happened: no done event", evidence=[_STREAM]),
        _check("STREAM-009", "unsupported", level="SHOULD", capability="streaming",
               message="unsupported: the profile does not declare streaming"),
        _check("ERR-001", "error", level="SHOULD", message="fixture exploded"),
        _check("PAGE-001", "skip", level="MAY", message="slow check: run with --run-slow"),
    ]
    return copy.deepcopy({
        "format": 1, "harness": {"name": "assistants-conformance", "version": "0.1.0"},
        "spec_hash": "ab" * 32, "target": {"url": "http://127.0.0.1:9/v1", "embedded_reference": False},
        "profile": {"name": "reference", "model": "m", "capabilities": ["streaming"]},
        "started": "2025-01-01T00:00:00Z", "finished": "2025-01-01T00:00:05Z", "duration": 5.0,
        "exit_status": 1, "counts": count_statuses(checks), "deselected": ["OBJ-001"], "checks": checks,
    })
