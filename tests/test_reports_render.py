"""Report files rendered from small fake results: HTML, Markdown, JUnit, HAR, badge, baselines, compare."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET

import pytest

from assistants_conformance.reports import cli as report_cli
from assistants_conformance.reports.artifacts import write_report
from assistants_conformance.reports.baseline import BaselineError, gate, load_baseline, write_baseline
from assistants_conformance.reports.evidence import serialize
from assistants_conformance.reports.formats import badge_svg, har, junit_xml, summary_markdown
from assistants_conformance.reports.html import report_html
from assistants_conformance.reports.results import count_statuses


# --- small fake results ------------------------------------------------------------------------------

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


def test_html_has_matrix_filters_and_failing_evidence_escaped():
    page = report_html(fake_results())
    assert 'id="matrix"' in page and 'data-filter="status"' in page and 'data-filter="level"' in page
    assert 'id="detail-LIFE-002"' in page and 'id="detail-STREAM-003"' in page and 'id="detail-ERR-001"' in page
    assert 'id="detail-LIFE-001"' not in page  # passing checks have no failure section
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "Event timeline: 3 events over 300 ms" in page
    assert "statuses seen: queued, completed" in page
    # Self-contained: no stylesheet, script, image or font is fetched from anywhere.
    assert "<link" not in page and "src=" not in page and "url(" not in page and "@import" not in page


def test_summary_junit_badge():
    document = fake_results()
    summary = summary_markdown(document, gate(document, None))
    assert "**Gate: FAILED**" in summary and "`LIFE-002`" in summary and "created_at is 1.5" in summary
    root = ET.fromstring(junit_xml(document).encode())
    cases = {c.get("name").split()[0]: c for c in root.iter("testcase")}
    assert cases["LIFE-002"].find("failure") is not None and cases["ERR-001"].find("error") is not None
    assert cases["STREAM-009"].find("skipped") is not None and len(list(cases["LIFE-001"])) == 0
    badge = badge_svg(document)
    assert "1/4 pass" in badge and badge.startswith("<svg")


def test_har_is_1_2_with_name_value_headers_and_bodies():
    log = json.loads(har(fake_results()))["log"]
    assert log["version"] == "1.2" and {p["id"] for p in log["pages"]} == {"LIFE-002", "STREAM-003"}
    entry = log["entries"][0]
    assert entry["request"]["headers"][0] == {"name": "Authorization", "value": "Bearer [REDACTED]"}
    assert entry["request"]["postData"]["mimeType"] == "application/json"
    assert "assistant_id" in entry["request"]["postData"]["text"]
    assert entry["response"]["content"]["text"].startswith('{"error"')
    assert entry["time"] == 42.0 and entry["timings"]["wait"] == 42.0
    assert entry["startedDateTime"] == "2023-11-14T22:13:20.250Z"


def test_serialize_redacts_registered_secrets_in_text_evidence():
    from assistants_conformance.wire.redact import register_secret

    register_secret("sk-test-serialize-secret-42")
    item = serialize("the key sk-test-serialize-secret-42 leaked")
    assert "sk-test-serialize-secret-42" not in item["text"]


def test_write_report_writes_every_file(tmp_path):
    written = {p.name for p in write_report(tmp_path, fake_results())}
    assert written == {"report.html", "summary.md", "junit.xml", "exchanges.har", "badge.svg"}


# --- baselines -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("LIFE-001: [pass\n", "not valid YAML at line"),
    ("- LIFE-001\n", "expected a mapping"),
    ("life-1: pass\n", "is not a check id"),
    ("LIFE-001: passed\n", "status 'passed' is not one of"),
    ("LIFE-001: fail\n", "needs a reason or link"),
    ("LIFE-001: {status: fail, why: x}\n", "unknown field(s) why"),
])
def test_bad_baseline_is_one_line_error(tmp_path, text, expected):
    path = tmp_path / "baseline.yaml"
    path.write_text(text)
    with pytest.raises(BaselineError) as caught:
        load_baseline(path)
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def _baseline(tmp_path, text):
    path = tmp_path / "baseline.yaml"
    path.write_text(text)
    return load_baseline(path)


def test_gate_known_failures_pass_new_failures_and_disappearances_fail(tmp_path):
    document = fake_results()
    known = _baseline(tmp_path, """
LIFE-001: pass
LIFE-002: {status: fail, reason: "https://example.invalid/issues/1"}
STREAM-003: {status: fail, reason: known}
ERR-001: {status: error, reason: known}
OBJ-001: pass        # deselected in this run: not a disappearance
""")
    assert gate(document, known)["exit_code"] == 0
    assert gate(document, known, "core")["exit_code"] == 1  # MUST failures cannot be exempted
    assert {r["id"] for r in gate(document, known, "core")["regressions"]} == {"LIFE-002", "STREAM-003"}

    partial = _baseline(tmp_path, "LIFE-001: pass\nLIFE-002: pass\nGONE-001: pass\n"
                                  "STREAM-003: {status: fail, reason: x}\nERR-001: {status: error, reason: x}\n")
    verdict = gate(document, partial)
    assert verdict["exit_code"] == 1
    assert [(r["id"], r["why"].split()[0]) for r in verdict["regressions"]] == [("GONE-001", "disappeared:"),
                                                                               ("LIFE-002", "fail")]
    document["checks"][1]["status"] = "pass"
    assert [f["id"] for f in gate(document, known)["fixed"]] == ["LIFE-002"]


def test_update_baseline_round_trips_and_keeps_reasons(tmp_path):
    document = fake_results()
    path = tmp_path / "b.yaml"
    previous = {"LIFE-002": load_baseline_entry("fail", "https://x.invalid/1"),
                "OBJ-001": load_baseline_entry("fail", "left out of this run"),
                "GONE-001": load_baseline_entry("pass", "")}
    write_baseline(path, document, previous)
    baseline = load_baseline(path)
    assert baseline["OBJ-001"] == previous["OBJ-001"]  # deselected in the run: kept
    assert "GONE-001" not in baseline  # neither run nor deselected: dropped
    assert baseline["LIFE-002"].reason == "https://x.invalid/1"
    assert baseline["STREAM-003"].reason.startswith("recorded by --update-baseline")
    assert gate(document, baseline)["exit_code"] == 0


def load_baseline_entry(status, reason):
    from assistants_conformance.reports.baseline import Expected

    return Expected(status, reason)


# --- the `report` command ---------------------------------------------------------------------------------


def test_report_cli_render_gate_compare(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, status in ((a, "fail"), (b, "pass")):
        folder.mkdir()
        document = fake_results()
        document["checks"][1]["status"] = status
        (folder / "results.json").write_text(json.dumps(document))
    assert report_cli.main(["render", str(a / "results.json")]) == 0
    assert (a / "report.html").exists() and (a / "exchanges.har").exists()
    assert report_cli.main(["gate", str(a / "results.json")]) == 1
    (tmp_path / "bad.yaml").write_text("LIFE-001: [\n")
    assert report_cli.main(["gate", str(a / "results.json"), "--baseline", str(tmp_path / "bad.yaml")]) == 2
    assert report_cli.main(["gate", str(tmp_path / "missing.json")]) == 2
    capsys.readouterr()
    out = tmp_path / "cmp"
    assert report_cli.main(["compare", str(a / "results.json"), str(b / "results.json"),
                            "--label", "impl-a", "--label", "impl-b", "--out", str(out)]) == 0
    markdown = capsys.readouterr().out
    assert "| **LIFE-002** | MUST | ❌ fail | ✅ pass |" in markdown
    assert "| LIFE-001 | MUST | ✅ pass | ✅ pass |" in markdown
    page = (out / "compare.html").read_text()
    assert "impl-a" in page and "impl-b" in page and 'class="differs"' in page


def test_github_actions_workflow_runs_suites_uploads_report_and_writes_step_summary():
    import yaml

    from assistants_conformance.paths import PROJECT_DIR

    workflow = yaml.safe_load((PROJECT_DIR / "docs" / "ci-github-actions.yml").read_text())
    steps = workflow["jobs"]["conformance"]["steps"]
    scripts = "\n".join(step.get("run", "") for step in steps)
    assert "assistants-conformance serve" in scripts and "/health" in scripts
    assert "assistants-conformance run" in scripts and '--report-dir "$REPORT_DIR"' in scripts
    assert 'summary.md" >> "$GITHUB_STEP_SUMMARY"' in scripts
    upload = next(step for step in steps if step.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and "REPORT_DIR" in upload["with"]["path"]


def test_html_leads_with_broken_rules_shows_why_and_a_curl_reproduction():
    document = fake_results()
    blocked = _check("AUTH-010", "blocked", message="Skipped: blocked by LIFE-002: created_at is 1.5")
    blocked.update(blocked_by="LIFE-002", reason="blocked by LIFE-002: created_at is 1.5")
    document["checks"].append(blocked)
    document["checks"][3]["reason"] = "the profile does not declare streaming"
    document["counts"] = count_statuses(document["checks"])
    page = report_html(document)
    # What is wrong comes before the matrix and the full list.
    assert page.index('id="detail-LIFE-002"') < page.index('id="matrix"') < page.index('id="check-LIFE-001"')
    assert 'id="blocked-by-LIFE-002"' in page and 'href="#check-AUTH-010"' in page
    assert "2 rules broken, 1 check blocked by them, 1 unsupported" in page
    # The reason of every check that was not judged is on the page, beside the check.
    assert "the profile does not declare streaming" in page and "slow check: run with --run-slow" in page
    # Areas with nothing wrong are folded; areas with a failure are open.
    assert '<details class="area" id="area-page">' in page and '<details class="area" id="area-life" open>' in page
    # A copyable reproduction of each failing exchange, with the key left to the shell.
    assert "curl -sS -X POST" in page and "&#34;$OPENAI_API_KEY&#34;" in page and "[REDACTED]" not in page.split(
        'class="curl"')[1].split("</pre>")[0]
    # The harness error is shown as ours, apart from the rules.
    assert page.index('id="harness-errors"') < page.index('id="matrix"')


# --- grouped findings (fuzz) ----------------------------------------------------------------------------


def test_findings_evidence_is_one_group_per_operation_and_problem_in_json_and_html():
    from assistants_conformance.checks import Findings, render_evidence

    groups = [{"operation": f"POST /op{i}", "problem": f"answered 200: problem {i}", "count": 10 - i,
               "example": {"curl": f"curl -X POST http://127.0.0.1:9/v1/op{i} --data-raw '<b>{i}</b>'",
                           "status": 200, "response": '{"created_at": 1.5}', "reason": "[positive] why"}}
              for i in range(3)]
    item = serialize(Findings(groups))
    assert item["kind"] == "findings" and [g["operation"] for g in item["groups"]] == ["POST /op0", "POST /op1",
                                                                                      "POST /op2"]
    assert item["groups"][1] == {**groups[1], "count": 9}
    text = render_evidence(Findings(groups))
    assert all(f"[{10 - i} x] POST /op{i}: answered 200: problem {i}" in text for i in range(3))
    document = fake_results()
    document["checks"].append(_check("FUZZ-002", "fail", message="[FUZZ-002 MUST] Rule.\nwhat happened: 27 ...",
                                     evidence=[item]))
    page = report_html(document)
    assert 'class="findings"' in page
    assert all(f"curl -X POST http://127.0.0.1:9/v1/op{i} --data-raw &#39;&lt;b&gt;{i}&lt;/b&gt;&#39;" in page
               for i in range(3))
