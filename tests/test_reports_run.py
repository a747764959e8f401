"""`assistants-conformance run` for real: suites against reference servers, the report folder, exit
codes, no secret in any file, and report.html rendered by headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reference_server import running_server

ROOT = Path(__file__).resolve().parent.parent
RUN_TIMEOUT = 240  # seconds for one `run` over a few checks (normally ~10 s)
SCREENSHOT_DIR = ROOT / "reports" / "test-screenshots"  # reports/ is git-ignored; kept for a human to look at
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def run_cli(*args: str, timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "assistants_conformance.cli", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory):
    """The embedded reference server with a stream fault, two xdist workers: one failing stream check."""
    folder = tmp_path_factory.mktemp("fault-run") / "report"
    proc = run_cli("run", "--report-dir", str(folder), "--",
                   "-n", "2", "-p", "no:randomly", "--reference-fault", "stream-no-done",
                   "--check", "STREAM-003", "--check", "STREAM-001", "--check", "ERR-001",
                   "--check", "AZURE-001")  # a check of another dialect: unsupported, with its reason
    return folder, proc


def test_run_writes_every_report_file_and_exit_1_on_a_new_failure(fault_run):
    folder, proc = fault_run
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    # No baseline: a failing check is called failing, never a regression.
    assert "FAILED: 1 failing check;" in proc.stdout and "failing check STREAM-003: fail\n" in proc.stdout
    assert "regression" not in proc.stdout
    names = {p.name for p in folder.iterdir()}
    assert {"results.json", "report.html", "summary.md", "junit.xml", "exchanges.har", "badge.svg"} <= names
    document = json.loads((folder / "results.json").read_text())
    assert document["target"]["embedded_reference"] and document["target"]["reference_faults"] == ["stream-no-done"]
    assert document["profile"]["name"] == "reference" and len(document["spec_hash"]) == 64
    assert document["harness"]["version"]
    status = {c["id"]: c["status"] for c in document["checks"]}
    assert status == {"STREAM-003": "fail", "STREAM-001": "pass", "ERR-001": "pass", "AZURE-001": "unsupported"}
    assert "STREAM-004" in document["deselected"]  # left out on purpose, reported by the xdist workers
    [failing] = [c for c in document["checks"] if c["status"] == "fail"]
    # Evidence crossed from an xdist worker: the stream exchanges the check chose.
    assert failing["evidence"] and failing["evidence"][0]["kind"] == "exchange"
    assert "event: thread.run.created" in failing["evidence"][0]["response_body"]
    har = json.loads((folder / "exchanges.har").read_text())["log"]
    assert har["entries"] and all(e["pageref"] == "STREAM-003" for e in har["entries"])
    junit = ET.fromstring((folder / "junit.xml").read_bytes())
    assert len(list(junit.iter("failure"))) == 1
    assert "STREAM-003" in (folder / "summary.md").read_text()


def _chromium() -> str | None:
    return os.environ.get("CHROMIUM") or next(
        (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


def test_report_html_renders_in_headless_chromium(fault_run, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("headless Chromium not found: install it with `apt-get update && apt-get install -y chromium` "
                    "(Debian/Ubuntu) or set CHROMIUM=/path/to/chrome")
    folder, _ = fault_run
    url = (folder / "report.html").as_uri()
    flags = CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([browser, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=60)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert 'id="matrix"' in html and ">streaming</a>" in html
    assert 'id="detail-STREAM-003"' in html and "without a done event" in html
    assert "Event timeline:" in html and "thread.run.completed" in html
    assert "4 checks shown" in html  # the inline script ran (filters applied)
    # The person who opens it sees the failing check first, and why a check was not judged.
    assert html.index('id="detail-STREAM-003"') < html.index('id="matrix"')
    assert "a check of the azure dialect; the target speaks openai" in html
    assert 'class="curl"' in html and "curl -sS -X POST" in html
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOT_DIR / "report-html.png"
    flags = CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path / 'profile2'}", "--window-size=1300,2400",
                              "--hide-scrollbars", f"--screenshot={shot}"]
    taken = subprocess.run([browser, *flags, url], capture_output=True, text=True, timeout=60)
    assert taken.returncode == 0 and shot.stat().st_size > 10_000, taken.stderr[-2000:]
    print(f"screenshot of report.html: {shot}")


def test_no_secret_reaches_any_report_file(tmp_path):
    key, second = "sk-known-secret-7f3a9c1e5b2d", "sk-known-second-4e8b2a6c0d1f"
    with running_server(tmp_path, "--api-key", key, "--api-key", second, "--fault", "cross-key-visible") as server:
        folder = tmp_path / "report"
        proc = run_cli("run", "--target-url", server.base_url, "--api-key", key, "--second-api-key", second,
                       "--profile", "reference", "--report-dir", str(folder), "--",
                       "-p", "no:randomly", "--check", "AUTH-010", "--check", "AUTH-002")
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    document = json.loads((folder / "results.json").read_text())
    assert {c["id"]: c["status"] for c in document["checks"]}["AUTH-010"] == "fail"
    assert document["target"]["url"] == server.base_url
    files = list(folder.iterdir())
    assert len(files) >= 6
    for path in files:
        text = path.read_text(encoding="utf-8")
        for secret in (key, second, key[3:], second[3:]):
            assert secret not in text, f"{path.name} contains a key"
    # The evidence still shows that a key was sent, hidden.
    assert "Bearer [REDACTED]" in (folder / "exchanges.har").read_text()
    assert "Bearer [REDACTED]" in (folder / "report.html").read_text()
    assert key not in proc.stdout + proc.stderr


def test_bad_baseline_and_unreachable_target_exit_2(tmp_path):
    bad = tmp_path / "baseline.yaml"
    bad.write_text("LIFE-001: {status: fail}\n")
    proc = run_cli("run", "--baseline", str(bad), "--report-dir", str(tmp_path / "r1"), timeout=60)
    assert proc.returncode == 2 and "LIFE-001: expected status fail needs a reason or link" in proc.stderr
    assert not (tmp_path / "r1").exists()  # refused before any suite ran
    proc = run_cli("run", "--target-url", "http://127.0.0.1:9/v1", "--api-key", "sk-unused-key-000",
                   "--report-dir", str(tmp_path / "r2"), "--", "-n", "2", timeout=120)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    # The plugin's preflight line, unwrapped, and nothing else.
    assert proc.stdout == ""
    unreachable = ("assistants-conformance: target unreachable: GET http://127.0.0.1:9/v1/assistants?limit=1: "
                   "connection refused (is the target running?)\n")
    assert proc.stderr == unreachable
    # With --repeat every repetition is a process of its own: run looks at the target once, first.
    proc = run_cli("run", "--target-url", "http://127.0.0.1:9/v1", "--repeat", "2",
                   "--report-dir", str(tmp_path / "r3"), timeout=120)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", unreachable)


def test_run_takes_check_and_k_itself_and_preflights_a_keyed_target(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with running_server(tmp_path, "--api-key", "sk-run-one", "--api-key", "sk-run-two") as server:
        proc = run_cli("run", "--target-url", server.base_url, "--report-dir", str(tmp_path / "r0"))
        assert proc.returncode == 2 and proc.stdout == ""
        assert proc.stderr.startswith("assistants-conformance: target wants an API key: pass --api-key or set "
                                      "OPENAI_API_KEY") and proc.stderr.count("\n") == 1
        proc = run_cli("run", "--target-url", server.base_url, "--api-key", "sk-run-one", "--second-api-key",
                       "sk-run-two", "--check", "AUTH-001", "--check", "ERR-001", "-k", "not test_unknown_id_is_not_found",
                       "--report-dir", str(tmp_path / "r1"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "PASSED: no check failed" in proc.stdout
    document = json.loads((tmp_path / "r1" / "results.json").read_text())
    assert [c["id"] for c in document["checks"]] == ["AUTH-001"]  # ERR-001 left out by -k
    assert "ERR-001" in document["deselected"]
