"""Every reference-server fault switch really changes behaviour (one cheap probe per fault)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time

import httpx
import pytest

from assistants_conformance.reference.faults import FAULTS
from reference_server import poll_run, running_server

TIMEOUT = httpx.Timeout(10.0)
TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}
LIVE = ("queued", "in_progress")


def assistant(http, **extra) -> str:
    return http.post("/assistants", json={"model": "m", "tools": [TOOL], **extra}).json()["id"]


def start(http, content: str = "hello there", **extra) -> dict:
    response = http.post("/threads/runs", json={"assistant_id": assistant(http), **extra,
                                                "thread": {"messages": [{"role": "user", "content": content}]}})
    assert response.status_code == 200, response.text
    return response.json()


def finished(http, content: str = "hello there", **extra) -> dict:
    run = start(http, content, **extra)
    return poll_run(http, run["thread_id"], run["id"], LIVE)


def long_run(http) -> dict:
    return start(http, "Write 2000 words.")


def stream(http, content: str = "Write 30 words.") -> tuple[httpx.Headers, list[tuple[str, str]]]:
    body = {"assistant_id": assistant(http), "stream": True, "thread": {"messages": [{"role": "user", "content": content}]}}
    with http.stream("POST", "/threads/runs", json=body) as response:
        raw = response.read().decode()
    frames = [f.split("\n", 1) for f in raw.split("\n\n") if f]
    return response.headers, [(head.removeprefix("event: "), data.removeprefix("data: ")) for head, data in frames]


def requires_action(http) -> dict:
    run = start(http, tool_choice="required")
    return poll_run(http, run["thread_id"], run["id"], LIVE)


def submit(http, run: dict) -> httpx.Response:
    calls = run["required_action"]["submit_tool_outputs"]["tool_calls"]
    return http.post(f"/threads/{run['thread_id']}/runs/{run['id']}/submit_tool_outputs",
                     json={"tool_outputs": [{"tool_call_id": c["id"], "output": "x"} for c in calls]})


def probe_no_thread_lock(http, server):
    run = long_run(http)
    assert http.post(f"/threads/{run['thread_id']}/messages", json={"role": "user", "content": "x"}).status_code == 200


def probe_lock_race(http, server):
    asst = assistant(http)

    async def race() -> list[int]:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=TIMEOUT, headers=http.headers) as client:
            thread = (await client.post("/threads", json={})).json()["id"]
            answers = await asyncio.gather(*[client.post(f"/threads/{thread}/runs", json={"assistant_id": asst})
                                             for _ in range(4)])
            later = await client.post(f"/threads/{thread}/runs", json={"assistant_id": asst})
            return [a.status_code for a in answers] + [later.status_code]
    statuses = asyncio.run(race())
    assert statuses[:4].count(200) > 1 and statuses[4] == 400   # simultaneous pass, sequential rejected


def probe_lock_kept_after_cancel(http, server):
    run = long_run(http)
    http.post(f"/threads/{run['thread_id']}/runs/{run['id']}/cancel")
    assert poll_run(http, run["thread_id"], run["id"], ("cancelling",) + LIVE)["status"] == "cancelled"
    assert http.post(f"/threads/{run['thread_id']}/messages", json={"role": "user", "content": "x"}).status_code == 400


def probe_stream_reorder(http, server):
    names = [n for n, _ in stream(http)[1]]
    assert names.index("thread.run.in_progress") < names.index("thread.run.queued")


def probe_stream_no_done(http, server):
    assert stream(http)[1][-1][0] == "thread.run.completed"


def probe_stream_drop_delta(http, server):
    events = stream(http)[1]
    streamed = "".join(json.loads(d)["delta"]["content"][0]["text"]["value"] for n, d in events if n == "thread.message.delta")
    final = next(json.loads(d) for n, d in events if n == "thread.message.completed")["content"][0]["text"]["value"]
    assert streamed != final and len(final.split()) == 30


def probe_stream_json_content_type(http, server):
    assert stream(http)[0]["content-type"].startswith("application/json")


def probe_stream_no_thread_created(http, server):
    assert stream(http)[1][0][0] == "thread.run.created"


def probe_ignore_expiry(http, server):
    run = requires_action(http)
    time.sleep(1.3)
    assert http.get(f"/threads/{run['thread_id']}/runs/{run['id']}").json()["status"] == "requires_action"


def probe_expired_accepts_submit(http, server):
    run = requires_action(http)
    run = poll_run(http, run["thread_id"], run["id"], ("requires_action",), bound=5)
    assert run["status"] == "expired" and submit(http, {**run, "required_action": requires_action_of(run)}).status_code == 200


def requires_action_of(run: dict) -> dict:
    return {"submit_tool_outputs": {"tool_calls": [{"id": "call_whatever"}]}}


def probe_no_metadata_limits(http, server):
    assert http.post("/assistants", json={"model": "m", "metadata": {str(i): "v" for i in range(20)}}).status_code == 200


def probe_unknown_fields_accepted(http, server):
    assert http.post("/assistants", json={"model": "m", "surprise": True}).status_code == 200


def probe_detail_errors(http, server):
    assert "detail" in http.get("/assistants/asst_missing").json()


def probe_bad_json_500(http, server):
    assert http.post("/threads", content=b"{oops").status_code == 500


def probe_unprefixed_ids(http, server):
    assert not assistant(http).startswith("asst_")


def probe_float_timestamps(http, server):
    assert isinstance(http.post("/threads", json={}).json()["created_at"], float)


def probe_has_more_wrong(http, server):
    for _ in range(3):
        assistant(http)
    assert http.get("/assistants", params={"limit": 1}).json()["has_more"] is False


def probe_ignore_order(http, server):
    thread = http.post("/threads", json={"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}).json()
    data = http.get(f"/threads/{thread['id']}/messages", params={"order": "desc"}).json()["data"]
    assert [m["content"][0]["text"]["value"] for m in data] == ["a", "b"]


def probe_ignore_before(http, server):
    thread = http.post("/threads", json={"messages": [{"role": "user", "content": c} for c in "abc"]}).json()
    url = f"/threads/{thread['id']}/messages"
    ids = [m["id"] for m in http.get(url, params={"order": "asc"}).json()["data"]]
    assert len(http.get(url, params={"order": "asc", "before": ids[0]}).json()["data"]) == 3


def probe_ignore_cancel(http, server):
    run = start(http, "Write 100 words.")
    assert http.post(f"/threads/{run['thread_id']}/runs/{run['id']}/cancel").json()["status"] in LIVE
    assert poll_run(http, run["thread_id"], run["id"], LIVE)["status"] == "completed"


def probe_no_auth(http, server):
    assert httpx.get(server.base_url + "/assistants", timeout=TIMEOUT).status_code == 200


def probe_cross_key_visible(http, server):
    made = assistant(http)
    other = httpx.get(f"{server.base_url}/assistants/{made}", headers={"Authorization": "Bearer key-b"}, timeout=TIMEOUT)
    assert other.status_code == 200


def probe_wrong_object(http, server):
    assert start(http)["object"] == "run"


def probe_terminal_run_mutates(http, server):
    run = finished(http)
    assert run["status"] == "completed"
    time.sleep(1.2)
    assert http.get(f"/threads/{run['thread_id']}/runs/{run['id']}").json()["status"] == "expired"


def probe_no_incomplete(http, server):
    assert finished(http, "Write 300 words.", max_completion_tokens=256)["status"] == "completed"


def probe_step_wrong_message(http, server):
    run = finished(http)
    step = http.get(f"/threads/{run['thread_id']}/runs/{run['id']}/steps").json()["data"][0]
    message = http.get(f"/threads/{run['thread_id']}/messages", params={"run_id": run["id"]}).json()["data"][0]
    assert step["step_details"]["message_creation"]["message_id"] != message["id"]


def probe_tool_call_id_mismatch(http, server):
    run = requires_action(http)
    step = http.get(f"/threads/{run['thread_id']}/runs/{run['id']}/steps").json()["data"][0]
    assert step["step_details"]["tool_calls"][0]["id"] != run["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]


def probe_no_usage(http, server):
    assert finished(http)["usage"] is None


def probe_limit_unbounded(http, server):
    assert http.get("/assistants", params={"limit": 500}).status_code == 200
    assert http.get("/assistants", params={"limit": 0}).status_code == 200


def probe_order_unchecked(http, server):
    assert http.get("/assistants", params={"order": "sideways"}).status_code == 200


def probe_no_length_limits(http, server):
    for field, bound in (("name", 256), ("description", 512), ("instructions", 256_000)):
        assert http.post("/assistants", json={"model": "m", field: "x" * (bound + 1)}).status_code == 200


def probe_no_tool_count_limits(http, server):
    tools = [{"type": "function", "function": {"name": f"f{i}"}} for i in range(129)]
    assert http.post("/assistants", json={"model": "m", "tools": tools}).status_code == 200
    thread = http.post("/threads", json={}).json()["id"]
    run = http.post(f"/threads/{thread}/runs", json={"assistant_id": assistant(http), "tools": tools[:21]})
    assert run.status_code == 200


def probe_no_range_limits(http, server):
    assert http.post("/assistants", json={"model": "m", "temperature": 2.5, "top_p": -1}).status_code == 200
    run = start(http, temperature=7, max_prompt_tokens=1, max_completion_tokens=0)
    assert poll_run(http, run["thread_id"], run["id"], LIVE)["status"] in ("completed", "incomplete")


def probe_lock_kept_after_expiry(http, server):
    run = requires_action(http)
    run = poll_run(http, run["thread_id"], run["id"], ("requires_action",), bound=5)
    assert run["status"] == "expired"
    assert http.post(f"/threads/{run['thread_id']}/messages", json={"role": "user", "content": "x"}).status_code == 400


def probe_started_before_created(http, server):
    run = finished(http)
    assert run["started_at"] < run["created_at"]


def probe_completed_at_missing(http, server):
    run = finished(http)
    assert run["status"] == "completed" and run["completed_at"] is None


def probe_named_tool_choice_ignored(http, server):
    run = finished(http, tool_choice={"type": "function", "function": {"name": "lookup"}})
    assert run["status"] == "completed" and run["required_action"] is None


def probe_flaky_delete_not_deleted(http, server):
    answers = [http.delete(f"/assistants/{assistant(http)}").json()["deleted"] for _ in range(20)]
    assert False in answers  # half the time: all 20 true has a chance of one in a million


def probe_expires_at_missing(http, server):
    assert start(http)["expires_at"] is None and requires_action(http)["expires_at"] is None


def probe_tool_arguments_object(http, server):
    call = requires_action(http)["required_action"]["submit_tool_outputs"]["tool_calls"][0]
    assert isinstance(call["function"]["arguments"], dict)


def probe_submit_keeps_waiting(http, server):
    run = requires_action(http)
    answer = submit(http, run)
    assert answer.status_code == 200 and answer.json()["status"] == "requires_action"
    again = http.get(f"/threads/{run['thread_id']}/runs/{run['id']}").json()
    assert again["status"] == "requires_action" and again["required_action"] == run["required_action"]


def probe_error_on_success(http, server):
    run = finished(http)
    assert run["status"] == "completed" and run["last_error"] is not None


def probe_global_lock(http, server):
    long_run(http)
    other = http.post("/threads", json={}).json()["id"]
    assert http.post(f"/threads/{other}/messages", json={"role": "user", "content": "x"}).status_code == 400


def probe_lock_kept_after_completion(http, server):
    run = finished(http)
    assert run["status"] == "completed"
    assert http.post(f"/threads/{run['thread_id']}/messages", json={"role": "user", "content": "x"}).status_code == 400


def probe_not_found_as_400(http, server):
    answer = http.get("/assistants/asst_missing")
    assert answer.status_code == 400 and "error" in answer.json()


def probe_delete_not_deleted(http, server):
    made = assistant(http)
    assert http.delete(f"/assistants/{made}").json()["deleted"] is False
    assert http.get(f"/assistants/{made}").status_code == 404


AZURE_VERSION = {"api-version": "2024-08-01-preview"}
V1_BETA = {"OpenAI-Beta": "assistants=v1"}


def probe_azure_api_version_ignored(http, server):
    assert http.post(server.root_url + "/openai/threads", json={}).status_code == 200


def probe_azure_api_key_ignored(http, server):
    answer = http.post(server.root_url + "/openai/threads", params=AZURE_VERSION, json={},
                       headers={"Authorization": "", "api-key": "key-a"})
    assert answer.status_code == 401


def probe_azure_requires_beta_header(http, server):
    assert http.post(server.root_url + "/openai/threads", params=AZURE_VERSION, json={}).status_code == 400


def probe_v1_header_ignored(http, server):
    made = http.post("/assistants", json={"model": "m"}, headers=V1_BETA).json()
    assert "file_ids" not in made and "tool_resources" in made


def probe_v1_no_assistant_files(http, server):
    made = http.post("/assistants", json={"model": "m"}, headers=V1_BETA).json()
    assert http.get(f"/assistants/{made['id']}/files", headers=V1_BETA).status_code == 404


def probe_v1_retrieval_rejected(http, server):
    answer = http.post("/assistants", json={"model": "m", "tools": [{"type": "retrieval"}]}, headers=V1_BETA)
    assert answer.status_code == 400


def upload(http, data: bytes = b"Llamas hum when they are content.", purpose: str = "assistants") -> str:
    answer = http.post("/files", files={"file": ("f.txt", data)}, data={"purpose": purpose})
    assert answer.status_code == 200, answer.text
    return answer.json()["id"]


def settled(http, path: str, bound: float = 5.0) -> dict:
    """GET path until its status leaves in_progress (or the bound passes)."""
    deadline = time.monotonic() + bound
    while True:
        body = http.get(path).json()
        if body["status"] != "in_progress" or time.monotonic() > deadline:
            return body
        time.sleep(0.02)


def probe_files_content_mismatch(http, server):
    assert http.get(f"/files/{upload(http, b'abc')}/content").content != b"abc"


def probe_files_list_ignores_purpose(http, server):
    made = upload(http, purpose="user_data")
    assert made in [f["id"] for f in http.get("/files", params={"purpose": "assistants"}).json()["data"]]


def probe_vector_store_counts_stale(http, server):
    vs = settled(http, f"/vector_stores/{http.post('/vector_stores', json={'file_ids': [upload(http)]}).json()['id']}")
    assert vs["status"] == "completed" and vs["file_counts"]["in_progress"] == 1


def probe_vector_store_never_completes(http, server):
    vs_id = http.post("/vector_stores", json={"file_ids": [upload(http)]}).json()["id"]
    time.sleep(1.0)
    files = http.get(f"/vector_stores/{vs_id}/files").json()["data"]
    assert http.get(f"/vector_stores/{vs_id}").json()["status"] == "in_progress" and files[0]["status"] == "completed"


def probe_batch_cancel_ignored(http, server):
    vs_id = http.post("/vector_stores", json={}).json()["id"]
    batch = http.post(f"/vector_stores/{vs_id}/file_batches", json={"file_ids": [upload(http), upload(http)]}).json()
    assert http.post(f"/vector_stores/{vs_id}/file_batches/{batch['id']}/cancel").status_code == 200
    assert settled(http, f"/vector_stores/{vs_id}/file_batches/{batch['id']}")["status"] == "completed"


def probe_unreadable_file_completes(http, server):
    not_text = upload(http, b"\x89PNG\r\n\x1a\n\x00\x80\x81")
    vs_id = http.post("/vector_stores", json={"file_ids": [not_text]}).json()["id"]
    settled(http, f"/vector_stores/{vs_id}")
    assert [f["status"] for f in http.get(f"/vector_stores/{vs_id}/files").json()["data"]] == ["completed"]


def probe_vector_store_files_filter_ignored(http, server):
    vs_id = http.post("/vector_stores", json={"file_ids": [upload(http)]}).json()["id"]
    settled(http, f"/vector_stores/{vs_id}")
    assert http.get(f"/vector_stores/{vs_id}/files", params={"filter": "failed"}).json()["data"]


def probe_vector_store_modify_ignored(http, server):
    vs_id = http.post("/vector_stores", json={"name": "before"}).json()["id"]
    answer = http.post(f"/vector_stores/{vs_id}", json={"name": "after", "metadata": {"k": "v"}})
    assert answer.status_code == 200 and answer.json()["name"] == "before" and answer.json()["metadata"] == {}


def probe_vector_store_expires_at_wrong(http, server):
    vs = http.post("/vector_stores", json={"expires_after": {"anchor": "last_active_at", "days": 1}}).json()
    assert vs["expires_at"] - vs["last_active_at"] >= 3600   # the group's day is 1 s


def probe_batch_counts_stale(http, server):
    vs_id = http.post("/vector_stores", json={}).json()["id"]
    batch = http.post(f"/vector_stores/{vs_id}/file_batches", json={"file_ids": [upload(http), upload(http)]}).json()
    batch = settled(http, f"/vector_stores/{vs_id}/file_batches/{batch['id']}")
    assert batch["status"] == "completed" and batch["file_counts"]["in_progress"] == 2


def probe_deleted_file_stays_in_store(http, server):
    made = upload(http)
    vs_id = http.post("/vector_stores", json={"file_ids": [made]}).json()["id"]
    assert http.delete(f"/files/{made}").status_code == 200
    assert made in [f["id"] for f in http.get(f"/vector_stores/{vs_id}/files").json()["data"]]


def probe_attachments_no_thread_store(http, server):
    thread = http.post("/threads", json={"messages": [{"role": "user", "content": "x", "attachments": [
        {"file_id": upload(http), "tools": [{"type": "file_search"}]}]}]}).json()
    assert not (thread["tool_resources"].get("file_search") or {}).get("vector_store_ids")


def probe_no_tool_resources_limits(http, server):
    files = [upload(http, b"x") for _ in range(21)]
    stores = [http.post("/vector_stores", json={}).json()["id"] for _ in range(2)]
    assert http.post("/assistants", json={"model": "m", "tool_resources": {
        "code_interpreter": {"file_ids": files}}}).status_code == 200
    assert http.post("/threads", json={"tool_resources": {"file_search": {"vector_store_ids": stores}}}).status_code == 200


def probe_file_size_unlimited(http, server):
    upload(http, b"x" * 5000)   # past --max-file-bytes 4096


def probe_expired_store_runs(http, server):
    vs_id = http.post("/vector_stores", json={"expires_after": {"anchor": "last_active_at", "days": 1}}).json()["id"]
    deadline = time.monotonic() + 4
    while http.get(f"/vector_stores/{vs_id}").json()["status"] != "expired" and time.monotonic() < deadline:
        time.sleep(0.1)
    asst = http.post("/assistants", json={"model": "m", "tools": [{"type": "file_search"}],
                                          "tool_resources": {"file_search": {"vector_store_ids": [vs_id]}}}).json()["id"]
    run = http.post("/threads/runs", json={"assistant_id": asst, "thread": {"messages": [{"role": "user", "content": "hi"}]}})
    run = poll_run(http, run.json()["thread_id"], run.json()["id"], LIVE)
    assert http.get(f"/vector_stores/{vs_id}").json()["status"] == "expired" and run["status"] == "completed"


def tool_run(http, content: str, tools: list, tool_resources: dict | None = None, params: dict | None = None) -> dict:
    asst = http.post("/assistants", json={"model": "m", "tools": tools, "tool_resources": tool_resources or {}}).json()
    run = http.post("/threads/runs", params=params, json={"assistant_id": asst["id"], "thread": {
        "messages": [{"role": "user", "content": content}]}}).json()
    return poll_run(http, run["thread_id"], run["id"], LIVE)


def searched(http, params: dict | None = None) -> dict:
    """A completed file_search run over a store holding one indexed file."""
    vs_id = http.post("/vector_stores", json={"file_ids": [upload(http, b"Refunds are paid within 14 days.")]}).json()["id"]
    settled(http, f"/vector_stores/{vs_id}")
    return tool_run(http, "When are refunds paid?", [{"type": "file_search"}],
                    {"file_search": {"vector_store_ids": [vs_id]}}, params)


def answer_text(http, run: dict) -> dict:
    return http.get(f"/threads/{run['thread_id']}/messages", params={"run_id": run["id"]}).json()["data"][0]["content"][0]["text"]


def tool_calls(http, run: dict, params: dict | None = None) -> list:
    steps = http.get(f"/threads/{run['thread_id']}/runs/{run['id']}/steps", params=params).json()["data"]
    return [call for s in steps if s["type"] == "tool_calls" for call in s["step_details"]["tool_calls"]]


def probe_citation_range_off(http, server):
    text = answer_text(http, searched(http))
    note = text["annotations"][0]
    assert note["end_index"] - note["start_index"] != len(note["text"])   # slicing past the end would hide it


def probe_file_search_no_results_content(http, server):
    include = {"include[]": "step_details.tool_calls[*].file_search.results[*].content"}
    run = searched(http, include)
    [call] = tool_calls(http, run, include)
    assert run["status"] == "completed" and call["file_search"]["results"]
    assert all("content" not in r for r in call["file_search"]["results"])


def probe_code_step_no_logs(http, server):
    run = tool_run(http, "What is 6 * 7?", [{"type": "code_interpreter"}])
    [call] = tool_calls(http, run)
    assert run["status"] == "completed" and call["code_interpreter"]["outputs"] == []


def probe_code_call_no_input(http, server):
    run = tool_run(http, "What is 6 * 7?", [{"type": "code_interpreter"}])
    [call] = tool_calls(http, run)
    assert run["status"] == "completed" and call["code_interpreter"]["input"] == ""


def probe_file_search_step_missing(http, server):
    run = searched(http)
    assert run["status"] == "completed" and answer_text(http, run)["annotations"] and tool_calls(http, run) == []


def probe_generated_file_missing(http, server):
    run = tool_run(http, "What is 6 * 7? Write the result to a CSV file.", [{"type": "code_interpreter"}])
    note = answer_text(http, run)["annotations"][0]
    assert http.get(f"/files/{note['file_path']['file_id']}").status_code == 404


# Faults whose probes do not disturb one another share a server, so the file stays fast.
GROUPS: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("unprefixed-ids", "float-timestamps", "wrong-object", "started-before-created", "completed-at-missing",
      "no-usage", "step-wrong-message", "tool-call-id-mismatch", "has-more-wrong", "limit-unbounded",
      "no-metadata-limits", "unknown-fields-accepted", "detail-errors", "bad-json-500", "no-incomplete",
      "order-unchecked", "no-length-limits", "no-tool-count-limits", "no-range-limits", "expires-at-missing",
      "tool-arguments-object", "submit-keeps-waiting", "error-on-success"), ()),
    (("stream-reorder", "stream-no-done", "stream-drop-delta", "stream-json-content-type",
      "stream-no-thread-created", "delete-not-deleted"), ()),
    (("ignore-order", "ignore-before", "not-found-as-400"), ()),
    (("lock-race", "lock-kept-after-cancel", "lock-kept-after-completion"), ()),
    (("global-lock",), ()),   # its active runs would lock the other probes out
    (("no-thread-lock", "ignore-cancel"), ()),
    (("terminal-run-mutates", "expired-accepts-submit", "lock-kept-after-expiry"), ("--run-expiry-seconds", "1")),
    (("ignore-expiry",), ("--run-expiry-seconds", "1")),
    (("no-auth", "cross-key-visible"), ("--api-key", "key-a", "--api-key", "key-b")),
    (("v1-header-ignored", "azure-requires-beta-header"), ()),   # each would hide the others' dialect probes
    (("v1-no-assistant-files", "v1-retrieval-rejected", "azure-api-version-ignored", "azure-api-key-ignored"),
     ("--api-key", "key-a")),
    (("files-content-mismatch", "files-list-ignores-purpose", "deleted-file-stays-in-store",
      "attachments-no-thread-store", "no-tool-resources-limits", "file-size-unlimited", "vector-store-counts-stale",
      "unreadable-file-completes", "vector-store-files-filter-ignored", "vector-store-modify-ignored",
      "batch-counts-stale"),
     ("--max-file-bytes", "4096")),
    (("vector-store-never-completes", "batch-cancel-ignored"), ("--index-delay-ms", "300")),
    (("expired-store-runs", "vector-store-expires-at-wrong"), ("--vector-store-day-seconds", "1")),
    (("citation-range-off", "file-search-no-results-content", "code-step-no-logs", "generated-file-missing",
      "code-call-no-input"), ()),
    (("file-search-step-missing",), ()),   # its runs have no tool step, which the others' probes read
    (("named-tool-choice-ignored",), ()),   # a named function call dropped: would hide others' requires_action
    (("flaky-delete-not-deleted",), ()),   # random delete answers would break the delete probes
]
AUTH_HEADERS = {"Authorization": "Bearer key-a"}   # ignored by servers without keys


def test_every_fault_has_a_probe_and_a_group():
    probes = {n.removeprefix("probe_").replace("_", "-") for n in globals() if n.startswith("probe_")}
    grouped = [fault for faults, _ in GROUPS for fault in faults]
    assert set(FAULTS) == probes == set(grouped) and len(grouped) == len(set(grouped))


@pytest.fixture(scope="module")
def fault_servers(tmp_path_factory):
    """Servers started on first use, one per group, stopped at the end of the module."""
    started: dict[int, tuple] = {}
    with contextlib.ExitStack() as stack:
        def server_for(fault: str):
            index = next(i for i, (faults, _) in enumerate(GROUPS) if fault in faults)
            if index not in started:
                faults, extra = GROUPS[index]
                args = [arg for name in faults for arg in ("--fault", name)] + ["--token-delay-ms", "1", *extra]
                server = stack.enter_context(running_server(tmp_path_factory.mktemp(f"group{index}"), *args))
                http = stack.enter_context(httpx.Client(base_url=server.base_url, timeout=TIMEOUT,
                                                        headers=AUTH_HEADERS))
                started[index] = (http, server)
            return started[index]
        yield server_for


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_changes_behaviour(fault_servers, fault):
    http, server = fault_servers(fault)
    globals()["probe_" + fault.replace("-", "_")](http, server)


def test_unknown_fault_exits_2_with_the_list():
    done = subprocess.run([sys.executable, "-m", "assistants_conformance.reference", "--fault", "nope"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "nope" in done.stderr and "no-thread-lock" in done.stderr


def test_every_probe_fails_on_a_clean_server(tmp_path):
    """Guards the probes themselves: without its fault, each probe's assertion must not hold."""
    args = ["--token-delay-ms", "1", "--run-expiry-seconds", "1", "--api-key", "key-a", "--api-key", "key-b",
            "--max-file-bytes", "4096", "--vector-store-day-seconds", "1"]
    passed = []
    with running_server(tmp_path, *args) as server, \
            httpx.Client(base_url=server.base_url, timeout=TIMEOUT, headers={"Authorization": "Bearer key-a"}) as http:
        for fault in sorted(FAULTS):
            try:
                globals()["probe_" + fault.replace("-", "_")](http, server)
            except AssertionError:
                continue
            passed.append(fault)
    assert passed == []
