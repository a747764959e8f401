"""docs/implementations.md stays what the generator makes of docs/implementations.json and the triage
(the run against real implementations is on request: pytest tests/implementations --implementations)."""

from __future__ import annotations

from assistants_conformance.paths import PROJECT_DIR

from implementations.matrix import FORMAT, load_triage, read_records, render, summarize, untriaged

DOC = PROJECT_DIR / "docs" / "implementations.md"
RECORDS = PROJECT_DIR / "docs" / "implementations.json"

FIXTURE = {  # a small results.json: every status the generator must show, one it has never heard of
    "format": 1, "harness": {"version": "0.1.0"}, "started": "2026-01-01T00:00:00Z", "deselected": ["DESEL-001"],
    "profile": {"name": "demo", "capabilities": ["streaming"]},
    "checks": [
        {"id": "LIFE-001", "area": "lifecycle", "level": "MUST", "status": "pass", "message": ""},
        {"id": "LIFE-002", "area": "lifecycle", "level": "MUST", "status": "fail",
         "message": "[LIFE-002 MUST] rule\nwhat happened: created_at is 1.5\nevidence:\n"
                    "  GET http://127.0.0.1:40000/v1/threads/t/runs/r -> 200 (3 ms)\n    response: {}"},
        {"id": "LIFE-003", "area": "lifecycle", "level": "MUST", "status": "blocked", "blocked_by": ["LIFE-002"],
         "message": "blocked by LIFE-002"},
        {"id": "STREAM-001", "area": "streaming", "level": "MUST", "status": "unstable", "message": "flaky"},
        {"id": "FILE-001", "area": "files", "level": "MUST", "status": "unsupported", "message": "unsupported: x"},
        {"id": "ERR-001", "area": "errors", "level": "MUST", "status": "error", "message": "cleanup failed: x"},
    ],
}
TRIAGE = {"implementations": {"demo": {"checks": {"LIFE-002": {"verdict": "departure", "why": "float timestamps"},
                                                  "ERR-001": {"when": "other case", "verdict": "departure",
                                                              "why": "stale case"}},
                                       "rules": [{"when": ["cleanup", "failed"], "verdict": "departure",
                                                  "why": "no delete"}]}},
          "harness_fixes": [{"implementation": "demo", "checks": "X-1", "found": "too strict.", "fix": "fixed."}]}


def test_generator_shows_every_status_and_triage():
    record = summarize(FIXTURE, name="demo", version="1.0", how="by hand", wall_seconds=12.3,
                       expected_ids={"LIFE-001", "LIFE-002", "LIFE-003", "STREAM-001", "FILE-001", "ERR-001",
                                     "DESEL-001", "NEVER-001"}, notes=["stream at http://127.0.0.1:1234/x"])
    assert record["counts"] == {"blocked": 1, "error": 1, "fail": 1, "pass": 1, "unstable": 1, "unsupported": 1}
    assert record["no_verdict"] == ["NEVER-001"]   # deselected checks are not missing
    assert [e["id"] for e in record["listed"]] == ["ERR-001", "LIFE-002", "LIFE-003", "STREAM-001"]
    assert record["listed"][1]["evidence"] == "created_at is 1.5 [GET /v1/threads/t/runs/r -> 200 (3 ms)]"
    page = render([record], TRIAGE)
    header = next(line for line in page.splitlines() if line.startswith("| implementation | version"))
    for status in ("pass", "fail", "blocked", "unsupported", "skip", "error", "unstable"):
        assert f" {status} |" in header
    assert "| demo | 1.0 | 6 | 1 | 1 | 1 | 1 | 0 | 1 | 1 | 1 | 0 | 12 s |" in page
    assert "**departure of the server**: float timestamps" in page
    assert "**departure of the server**: no delete" in page        # by a rule of two texts
    assert "stale case" not in page                                 # an entry whose `when` no longer holds
    assert "follows from LIFE-002" in page
    assert "| STREAM-001 (MUST) | unstable | flaky |  |" in page   # listed; only fail and error need a triage
    assert "* stream at /x" in page and "127.0.0.1" not in page
    assert "* **X-1** on demo: too strict. Fix: fixed." in page
    assert untriaged([record], TRIAGE) == []
    assert untriaged([record], {}) == ["demo ERR-001: cleanup failed: x", "demo LIFE-002: created_at is 1.5 "
                                       "[GET /v1/threads/t/runs/r -> 200 (3 ms)]"]


def test_committed_page_is_generated_from_the_committed_records():
    records = read_records(RECORDS)   # raises on a format the generator does not write
    assert f"(format {FORMAT})" in DOC.read_text(encoding="utf-8")
    assert DOC.read_text(encoding="utf-8") == render(records, load_triage()), (
        "docs/implementations.md is not what tests/implementations/matrix.py renders from "
        "docs/implementations.json and triage.yaml: run `pytest tests/implementations --implementations`")


def test_every_committed_failure_is_triaged_and_none_is_a_harness_crash():
    records = read_records(RECORDS)
    assert {r["name"] for r in records} >= {"litellm", "myla"}
    assert untriaged(records, load_triage()) == []
    for record in records:
        assert record["crashes"] == 0 and record["no_verdict"] == [], record["name"]
