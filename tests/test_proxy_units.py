"""The proxy's parts without HTTP: rule table vs the catalog, routing, bounded state and evidence."""

from __future__ import annotations

import gzip
import json

import pytest

from assistants_conformance.catalog import collect_checks
from assistants_conformance.protocol.grammar import load_grammar
from assistants_conformance.proxy.app import JudgeFeed
from assistants_conformance.proxy.exchange import Observed
from assistants_conformance.proxy.findings import Findings
from assistants_conformance.proxy.har import HarRecorder, judge_entries, read_har
from assistants_conformance.proxy.judge import Judge
from assistants_conformance.proxy.routes import Router
from assistants_conformance.proxy.rules import RULES
from assistants_conformance.proxy.state import State
from assistants_conformance.spec import load_contract


@pytest.fixture(scope="module")
def contract():
    return load_contract()


def test_every_proxy_rule_is_a_catalogued_check_with_the_same_level():
    catalog = {c.id: c for c in collect_checks()}
    for rule in RULES:
        assert rule.check_id in catalog, rule.check_id
        assert catalog[rule.check_id].level == rule.level, rule.check_id


def test_routes_prefer_literal_segments_and_strip_the_api_base(contract):
    router = Router(contract, "/v1")
    assert router.match("POST", "/v1/threads/runs").template == "/threads/runs"
    route = router.match("GET", "/v1/threads/thread_1/runs/run_2")
    assert route.template == "/threads/{thread_id}/runs/{run_id}" and route.params == {"thread_id": "thread_1",
                                                                                      "run_id": "run_2"}
    assert router.match("GET", "/other/threads") is None and router.match("PATCH", "/v1/threads") is None
    assert Router(contract, "/openai").match("GET", "/openai/assistants").template == "/assistants"


def test_state_tables_are_bounded_and_count_what_they_forget():
    reported = []
    state = State(lambda check_id: None, lambda *a: reported.append(a), max_runs=10, max_threads=5)
    for i in range(100):
        state.run_seen({"id": f"run_{i}", "status": "queued"}, i, i + 0.5, None, "GET")
        state.lock_op(f"thread_{i}", "create_message", i, i + 0.5, "ok", None)
    assert len(state.runs) == 10 and state.runs.evicted == 90
    assert len(state.threads) == 5 and state.threads.evicted == 95
    assert reported == []


def test_a_terminal_run_that_changes_and_an_impossible_step_are_reported_once():
    reported = []
    state = State(lambda check_id: None, lambda check_id, message, sources: reported.append(check_id))
    state.run_seen({"id": "run_1", "status": "cancelling"}, 0, 1, None, "GET")
    state.run_seen({"id": "run_1", "status": "in_progress"}, 2, 3, None, "GET")  # cancelling -> in_progress: never
    state.run_seen({"id": "run_1", "status": "queued"}, 4, 5, None, "GET")
    state.run_seen({"id": "run_2", "status": "completed"}, 0, 1, None, "GET")
    state.run_seen({"id": "run_2", "status": "expired"}, 2, 3, None, "GET")
    state.run_seen({"id": "run_2", "status": "failed"}, 4, 5, None, "GET")
    assert reported == ["LIFE-001", "LIFE-001", "LIFE-012"]  # run_2 changing status is off the lifecycle too


def test_overlapping_reads_are_not_ordered():
    reported = []
    state = State(lambda check_id: None, lambda *a: reported.append(a))
    state.run_seen({"id": "run_1", "status": "completed"}, 0, 2, None, "GET")
    state.run_seen({"id": "run_1", "status": "in_progress"}, 1, 3, None, "GET")  # began before the first ended
    assert reported == []


def test_findings_keep_capped_evidence_and_count_the_rest():
    findings = Findings(max_kept=3)
    for i in range(20):
        findings.add("FUZZ-001", f"answered 500 ({i})", [{"kind": "text", "text": "x"}], seq=i)
    [record] = findings.records({})
    assert record["status"] == "fail" and len(record["cases"]) == 3 and record["findings"] == 20
    assert findings.dropped_evidence == 17 and "(and 19 more findings of this rule)" in record["message"]


def test_a_stream_judged_chunk_by_chunk_in_any_split(contract):
    judge = Judge(contract, load_grammar())
    body = (b"event: thread.run.created\ndata: {\"id\": \"run_1\", \"object\": \"thread.run\", \"status\": \"queued\"}\n\n"
            b"event: done\ndata: [DONE]\n\n")
    ex = Observed(1, "POST", "http://t/v1/threads/thread_1/runs", "/v1/threads/thread_1/runs", {},
                  b'{"assistant_id": "asst_1", "stream": true}', 0.0, status=200,
                  response_headers={"content-type": "text/event-stream"}, ended=1.0)
    judge.begin(ex)
    for i in range(0, len(body), 7):
        judge.chunk(ex, body[i:i + 7], 0.5)
    judge.end(ex)
    assert judge.stats["events"] == 2
    found = set(judge.findings.found)
    assert "STREAM-004" in found  # created, then done: the grammar wants queued, in_progress, ...
    assert "FUZZ-001" not in found


def test_a_gzip_answer_is_judged_decoded_and_an_unknown_encoding_is_counted(contract):
    judge = Judge(contract, load_grammar())
    body = {"id": "asst_1", "object": "assistant", "created_at": 1.5, "name": None, "description": None,
            "model": "m", "instructions": None, "tools": [], "metadata": {}}
    for i, (encoding, data) in enumerate([("gzip", gzip.compress(json.dumps(body).encode())), ("br", b"\x00")]):
        ex = Observed(i, "GET", "http://t/v1/assistants/asst_1", "/v1/assistants/asst_1", {}, b"", 0.0, status=200,
                      response_headers={"content-type": "application/json", "content-encoding": encoding}, ended=0.1)
        ex.keep(data)
        judge.begin(ex)
        judge.end(ex)
    assert judge.findings.found["OBJ-001"] == 1  # created_at 1.5, seen through the gzip
    assert judge.stats["undecodable"] == 1


def test_overlapping_requests_that_could_have_taken_turns_and_unknown_outcomes_are_not_findings():
    reported = []
    state = State(lambda check_id: None, lambda *a: reported.append(a))
    for i in range(20):  # twenty overlapping create-run requests, each run seen queued: they may have taken turns
        state.lock_op("thread_1", "create_run", 0.0, 10.0 + i, "ok", None, f"run_{i}", "queued")
    for i in range(20):  # runs whose creation got no answer may never have existed: never a violation
        state.lock_op("thread_2", "create_run", 0.0, 1.0, "unknown", None, f"run_x{i}", None)
        state.lock_op("thread_2", "create_message", 0.5, 0.6, "ok", None)
    assert reported == []
    state.lock_op("thread_1", "get_run", 30.0, 31.0, "ok", None, "run_0", "requires_action")
    state.lock_op("thread_1", "get_run", 30.0, 31.0, "ok", None, "run_1", "requires_action")
    assert [r[0] for r in reported] == ["LOCK-006"]  # now two were certainly active at once


def test_a_har_from_elsewhere_and_one_a_crash_cut_short_are_judged(contract, tmp_path):
    recorder = HarRecorder(tmp_path / "live.har")
    for seq, (status, body) in enumerate([(500, b'{"error": {"message": "boom", "type": "server_error", '
                                                  b'"param": null, "code": null}}'),
                                          (404, b'{"detail": "Not Found"}')], start=1):
        ex = Observed(seq, "GET", f"http://t/v1/assistants/asst_{seq}", f"/v1/assistants/asst_{seq}",
                      {"authorization": "Bearer sk-secret-value"}, b"", 100.0 + seq, status=status,
                      response_headers={"content-type": "application/json"}, ended=100.5 + seq)
        ex.keep(body)
        recorder.add(ex)
    recorder.flush()
    cut_short = read_har(tmp_path / "live.har")  # not closed yet: as a crash would leave it
    recorder.close()
    entries = read_har(tmp_path / "live.har")
    assert len(cut_short) == len(entries) == 2 and "sk-secret-value" not in (tmp_path / "live.har").read_text()
    for entry in entries:
        del entry["_conformance"]  # a browser's HAR has only startedDateTime and time
    judge = Judge(contract, load_grammar())
    assert len(list(judge_entries(judge, entries))) == 2
    assert set(judge.findings.found) == {"FUZZ-001", "ERR-014"}


def test_a_full_judging_queue_drops_judgements_and_never_waits(contract):
    recorded = []

    class Recorder:
        def add(self, ex):
            recorded.append(ex.seq)

    feed = JudgeFeed(Judge(contract, load_grammar()), Recorder(), maxsize=2)
    exchanges = [Observed(i, "GET", "http://t/v1/assistants", "/v1/assistants", {}, b"", 0.0, status=500,
                          response_headers={"content-type": "application/json"}, ended=0.1) for i in range(4)]
    for ex in exchanges:
        feed.put(ex, ("end", ex))  # returns at once, full or not
    assert feed.dropped == 2 and [ex.lost for ex in exchanges] == [False, False, True, True]
    feed.drain()
    assert feed.judge.findings.found["FUZZ-001"] == 2 and recorded == [0, 1]


@pytest.mark.parametrize("extra, check_id", [
    ("event: thread.run.requires_action\ndata: {\"id\": \"run_1\", \"status\": \"requires_action\"}\n\n", "STREAM-008"),
    ("event: thread.run.step.created\ndata: {\"id\": \"step_1\", \"status\": \"in_progress\", "
     "\"step_details\": {\"type\": \"tool_calls\", \"tool_calls\": [{\"type\": \"file_search\"}]}}\n\n", "TOOL-013"),
])
def test_a_stream_out_of_order_is_judged_under_the_check_of_its_kind(contract, extra, check_id):
    judge = Judge(contract, load_grammar())
    body = ("event: thread.run.created\ndata: {\"id\": \"run_1\", \"status\": \"queued\"}\n\n" + extra +
            "event: done\ndata: [DONE]\n\n").encode()
    ex = Observed(1, "POST", "http://t/v1/threads/thread_1/runs", "/v1/threads/thread_1/runs", {},
                  b'{"assistant_id": "asst_1", "stream": true}', 0.0, status=200,
                  response_headers={"content-type": "text/event-stream"}, ended=1.0)
    judge.begin(ex)
    judge.chunk(ex, body, 0.5)
    judge.end(ex)
    assert check_id in judge.findings.found and "STREAM-004" not in judge.findings.found


def test_a_key_the_client_sent_is_redacted_where_the_server_echoes_it(contract):
    judge = Judge(contract, load_grammar())
    ex = Observed(1, "GET", "http://t/v1/assistants/asst_1", "/v1/assistants/asst_1",
                  {"authorization": "Bearer sk-echoed-secret-42"}, b"", 0.0, status=401,
                  response_headers={"content-type": "application/json"}, ended=0.1)
    ex.keep(b'{"detail": "bad key sk-echoed-secret-42"}')
    judge.begin(ex)
    judge.end(ex)
    [record] = [r for r in judge.findings.records({}) if r["id"] == "ERR-014"]
    assert "sk-echoed-secret-42" not in json.dumps(record) and "[REDACTED]" in json.dumps(record)
