"""Short headless load runs (2-4 s each) against the embedded reference server on 127.0.0.1:
every profile records its metrics, faulty servers fail the run by check id, a master with two workers
merges raw timings, and a down / garbage / stalling target ends on time with clear reasons."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from assistants_conformance.wire.client import ConformanceClient
from assistants_conformance.wire.config import resolve_config
from assistants_conformance.launcher import ReferenceServer

from load_helpers import figures, free_port, raw_server, run_load

pytestmark = pytest.mark.timeout(90) if hasattr(pytest.mark, "timeout") else []
COMMON = ("--users", "4", "--spawn-rate", "20", "--run-time", "2s", "--target-profile", "reference")


@pytest.fixture(scope="module")
def server():
    with ReferenceServer(token_delay_ms=5) as srv:
        yield srv


def _args(target: str, *extra: str) -> list[str]:
    return [*COMMON, "--target-url", target, *extra]


EXPECTED = {
    "polling": ["run_end_to_end", "polls_per_run", "usage_completion_tokens", "/threads/runs"],
    "streaming": ["time_to_first_event", "time_to_first_text_delta", "event_gap", "time_to_done",
                  "run_end_to_end", "usage_prompt_tokens"],
    "tools": ["requires_action_round_trip", "/threads/{id}/runs/{id}/submit_tool_outputs (stream)",
              "/threads/{id}/runs/{id}/submit_tool_outputs"],
    "contention": ["/threads/{shared}/runs", "/threads/{shared}/runs/{id}"],
    "crud": ["/assistants/{id} (update)", "/threads/{id}/messages/{id} (delete)", "/assistants/{id} (delete)"],
    "files": ["/files (upload)", "time_to_indexed", "file_search_run_end_to_end", "/vector_stores/{id} (poll)",
              "/files/{id} (delete)", "/vector_stores/{id} (delete)"],
}


@pytest.mark.parametrize("profile", sorted(EXPECTED))
def test_each_profile_runs_and_records_metrics(server, tmp_path, profile):
    code, summary, elapsed, folder = run_load(tmp_path, "--profile", profile, *_args(server.base_url))
    assert code == 0, summary and summary["failures"]
    names = figures(summary)
    for name in EXPECTED[profile]:
        assert name in names and names[name]["count"] > 0, f"{name} missing from {sorted(names)}"
    for file in ("locust.html", "locust_stats.csv", "load-percentiles.csv", "load-latency.svg", "load-raw-timings.csv"):
        assert (Path(folder) / file).stat().st_size > 0, file
    assert summary["violations"]["counts"] == {}
    assert elapsed < 20


def test_tokens_come_from_usage(server, tmp_path):
    """'count to 12' is 12 completion tokens by the reference model's usage, whatever the chunking."""
    code, summary, *_ = run_load(tmp_path, "--profile", "streaming", *_args(server.base_url))
    row = figures(summary)["usage_completion_tokens"]
    assert code == 0 and row["p50"] == row["max"] == 12


@pytest.mark.parametrize("fault,profile,check_id", [("lock-race", "contention", "LOAD-002"),
                                                    ("stream-reorder", "streaming", "LOAD-001")])
def test_faulty_server_fails_the_run_by_check_id(tmp_path, capsys, fault, profile, check_id):
    with ReferenceServer(faults=(fault,), token_delay_ms=5) as srv:
        code, summary, *_ = run_load(tmp_path, "--profile", profile, *_args(srv.base_url, "--users", "8",
                                                                            "--run-time", "3s"))
    assert code == 1
    assert check_id in summary["violations"]["counts"]
    out = capsys.readouterr().out
    assert re.search(rf"^{check_id} [a-z ]+: VIOLATED x\d+ \(of \d+ checked\): \S", out, re.M), out[-3000:]


def test_master_and_two_workers_merge_raw_timings(server, tmp_path):
    code, summary, elapsed, folder = run_load(tmp_path, "--profile", "mixed", "--workers", "2",
                                              *_args(server.base_url, "--users", "4", "--run-time", "3s"))
    assert code == 0, summary and summary["failures"]
    assert summary["sources"] == ["worker-0", "worker-1"]
    with open(Path(folder) / "locust_stats.csv") as fh:
        aggregated = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
    with open(Path(folder) / "load-raw-timings.csv") as fh:
        raw = list(csv.DictReader(fh))
    # Every event Locust counted on the workers is in the merged raw timings, no more, no less.
    assert len(raw) == int(aggregated["Request Count"]) > 0


def test_open_loop_poisson_and_spike_shape(server, tmp_path):
    code, summary, *_ = run_load(tmp_path, "--profile", "streaming", "--arrival-rate", "20", "--arrival",
                                 "poisson", *_args(server.base_url, "--users", "1"), name="open")
    assert code == 0, summary and summary["failures"]
    assert 15 <= figures(summary)["time_to_first_event"]["count"] <= 70   # ~40 arrivals in 2 s
    code, summary, *_ = run_load(tmp_path, "--profile", "crud", "--shape", "spike",
                                 *_args(server.base_url, "--users", "5"), name="spike")
    assert code == 0 and figures(summary)["/assistants"]["count"] > 0


def test_target_down_ends_on_time_with_a_clear_reason(tmp_path):
    code, summary, elapsed, _ = run_load(tmp_path, "--profile", "polling", *_args(f"http://127.0.0.1:{free_port()}/v1"))
    assert code == 3
    assert elapsed < 15
    assert all("connection refused" in f["error"] for f in summary["failures"]), summary["failures"]


def test_garbage_answers_are_failures_with_a_reason(tmp_path):
    with raw_server("garbage") as url:
        code, summary, elapsed, folder = run_load(tmp_path, "--profile", "crud", *_args(url))
    assert code == 3 and elapsed < 15
    assert any("not JSON" in f["error"] for f in summary["failures"]), summary["failures"]
    assert "Traceback" not in (Path(folder) / "locust.log").read_text()


def test_stalling_target_ends_on_time(tmp_path):
    with raw_server("stall") as url:
        code, summary, elapsed, folder = run_load(tmp_path, "--profile", "streaming", *_args(url))
    assert code == 3, summary
    assert elapsed < 15  # the run time is 2 s; the stalled requests do not hold it open
    assert {f["error"] for f in summary["failures"]} == {"RequestFailure('no complete answer when the run ended (stalled?))"} \
        or all("stalled" in f["error"] for f in summary["failures"])
    assert "Traceback" not in (Path(folder) / "locust.log").read_text()


def test_files_profile_deletes_what_it_made(tmp_path):
    """Every finished iteration deletes its file, vector store, assistant and thread; only the ones cut
    off when the run stopped (at most one per user) may remain."""
    with ReferenceServer(token_delay_ms=5) as srv:
        code, summary, *_ = run_load(tmp_path, "--profile", "files", *_args(srv.base_url, "--users", "2"))
        config = resolve_config({"target_url": srv.base_url, "profile": "reference"}, {"OPENAI_API_KEY": "k"})
        with ConformanceClient(config) as client:
            left = {kind: len(client.get(f"/{kind}", params={"limit": 100}).json["data"])
                    for kind in ("files", "vector_stores", "assistants")}
    assert code == 0, summary and summary["failures"]
    uploads = figures(summary)["/files (upload)"]["count"]
    assert uploads > 2 and all(n <= 2 for n in left.values()), (uploads, left)


def test_load_shows_progress_and_a_summary_with_rate_failures_verdicts_and_units(server, tmp_path, capsys):
    code, summary, *_ = run_load(tmp_path, "--profile", "tools", *_args(server.base_url, "--run-time", "3s",
                                                                        "--progress-seconds", "1"))
    out = capsys.readouterr().out
    assert code == 0, out[-3000:]
    progress = [line for line in out.splitlines() if " req/s, " in line and " users, " in line]
    assert progress, out[-3000:]
    assert re.search(r"\d+ s  \d+ users, [\d.]+ req/s, \d+ requests, \d+ failed, \d+ violations, "
                     r"time to first event (p50 \d+ ms, p99 \d+ ms|- \(no stream yet\))", progress[-1]), progress
    requests = summary["requests"]
    assert requests["count"] > 0 and requests["failures"] == 0 and requests["per_second"] > 0
    assert f"  {requests['count']} requests in " in out and " req/s, 0 failed (0.0 %)" in out
    # Full names, and the unit of each figure.
    assert any(line.strip().startswith("POST /threads/{id}/runs/{id}/submit_tool_outputs (stream)  ") for line in out.splitlines())
    units = {line.split()[0]: line.split()[1] for line in out.splitlines()
             if line.startswith("  ") and line.split()[0] in ("usage_completion_tokens", "time_to_first_event",
                                                               "requires_action_round_trip")}
    assert units == {"usage_completion_tokens": "tokens", "time_to_first_event": "ms", "requires_action_round_trip": "ms"}
    verdicts = re.findall(r"^(LOAD-00\d) [a-z ]+: (\w+)", out, re.M)
    assert [v[0] for v in verdicts] == ["LOAD-001", "LOAD-002", "LOAD-003", "LOAD-004"]
    assert dict(verdicts)["LOAD-001"] == "pass" and dict(verdicts)["LOAD-002"] == "not"  # no contention user
    assert summary["checks"]["LOAD-001"]["checked"] > 0 and summary["checks"]["LOAD-002"]["checked"] == 0


@pytest.mark.parametrize("option,value", [("--users", "-5"), ("--users", "0"), ("--spawn-rate", "0"),
                                          ("--run-time", "0s"), ("--arrival-rate", "-1"), ("--workers", "-1"),
                                          ("--warmup", "-2"), ("--token-delay-ms", "x"), ("--progress-seconds", "0")])
def test_every_numeric_option_is_checked_before_anything_starts(tmp_path, capsys, option, value):
    code, summary, elapsed, _ = run_load(tmp_path, option, value)
    assert code == 2 and summary is None and elapsed < 2
    err = capsys.readouterr().err
    assert f"argument {option}: " in err and ("must be" in err or "is not" in err), err


def test_a_warmup_as_long_as_the_run_is_a_usage_error(tmp_path, capsys):
    code, summary, *_ = run_load(tmp_path, "--warmup", "5", "--run-time", "5s")
    assert code == 2 and summary is None
    assert "leaves nothing of --run-time" in capsys.readouterr().err
