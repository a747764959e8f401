"""The reference server's Azure routes (/openai/...?api-version=V, api-key) and its Assistants v1 dialect
(OpenAI-Beta: assistants=v1), over real HTTP. v2-shaped answers are checked against our contract."""

from __future__ import annotations

import json

import httpx
import pytest

from assistants_conformance.spec import load_contract
from reference_server import poll_run, running_server

KEY = "dialect-key"
OTHER = "other-key"
AZURE = "2024-08-01-preview"
AZURE_V1 = "2024-04-01-preview"
V1 = {"Authorization": f"Bearer {KEY}", "OpenAI-Beta": "assistants=v1"}
V2 = {"Authorization": f"Bearer {KEY}", "OpenAI-Beta": "assistants=v2"}
TIMEOUT = httpx.Timeout(10.0)
LIVE = ("queued", "in_progress")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("dialects"), "--api-key", KEY, "--api-key", OTHER,
                        "--token-delay-ms", "1") as running:
        yield running


@pytest.fixture(scope="module")
def root(server):
    with httpx.Client(base_url=server.root_url, timeout=TIMEOUT) as http:
        yield http


@pytest.fixture(scope="module")
def v1(server):
    with httpx.Client(base_url=server.base_url, timeout=TIMEOUT, headers=V1) as http:
        yield http


@pytest.fixture(scope="module")
def v2(server):
    with httpx.Client(base_url=server.base_url, timeout=TIMEOUT, headers=V2) as http:
        yield http


@pytest.fixture(scope="module")
def azure(server):
    """An Azure-style client: {root}/openai, api-version on every request, api-key header, no OpenAI-Beta."""
    with httpx.Client(base_url=server.root_url + "/openai", timeout=TIMEOUT, params={"api-version": AZURE},
                      headers={"api-key": KEY}) as http:
        yield http


def upload(http: httpx.Client, purpose: str = "assistants") -> str:
    answer = http.post("/files", files={"file": ("notes.txt", b"The device turns off with the red switch.")},
                       data={"purpose": purpose}, headers={"OpenAI-Beta": ""})
    assert answer.status_code == 200, answer.text
    return answer.json()["id"]


def ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def error_of(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    return error


def conforms(method: str, path: str, body: dict) -> None:
    issues = load_contract().validate((method, path), 200, body)
    assert not issues, [i.message for i in issues]


# ---- Azure routes ---------------------------------------------------------------------------------------------

def test_azure_requires_a_known_api_version(root):
    headers = {"api-key": KEY}
    missing = error_of(root.post("/openai/threads", json={}, headers=headers), 400)
    assert missing["code"] == "MissingApiVersionParameter" and missing["param"] == "api-version"
    unknown = error_of(root.post("/openai/threads", params={"api-version": "2023-05-15"}, json={}, headers=headers), 404)
    assert unknown["param"] == "api-version"
    error_of(root.get("/openai/threads/thread_x", params={"api-version": ""}, headers=headers), 400)


@pytest.mark.parametrize("version", ["2024-02-15-preview", "2024-03-01-preview", "2024-04-01-preview",
                                     "2024-05-01-preview", "2024-07-01-preview", "2024-08-01-preview",
                                     "2024-09-01-preview", "2024-10-01-preview", "2024-12-01-preview",
                                     "2025-01-01-preview", "2025-02-01-preview", "2025-03-01-preview",
                                     "2025-04-01-preview"])
def test_azure_serves_every_assistants_version(root, version):
    thread = ok(root.post("/openai/threads", params={"api-version": version}, json={}, headers={"api-key": KEY}))
    v1_shaped = version in ("2024-02-15-preview", "2024-03-01-preview", "2024-04-01-preview")
    assert ("tool_resources" in thread) is not v1_shaped


def test_azure_authenticates_with_api_key_or_bearer(root):
    url, params = "/openai/threads", {"api-version": AZURE}
    ok(root.post(url, params=params, json={}, headers={"api-key": KEY}))
    ok(root.post(url, params=params, json={}, headers={"Authorization": f"Bearer {KEY}"}))
    for headers in ({}, {"api-key": "wrong"}, {"Authorization": "Bearer wrong"}, {"api-key": "wrong",
                                                                                  "Authorization": f"Bearer {KEY}"}):
        assert error_of(root.post(url, params=params, json={}, headers=headers), 401)["code"] == "401"


def test_azure_ignores_openai_beta(azure):
    for beta in (None, "assistants=v2", "assistants=v1"):
        thread = ok(azure.post("/threads", json={}, headers={"OpenAI-Beta": beta} if beta else {}))
        assert "tool_resources" in thread   # the api-version decides the shape, not the header
        conforms("POST", "/threads", thread)


def test_azure_lacks_message_delete_and_files(azure, v2):
    thread = ok(azure.post("/threads", json={"messages": [{"role": "user", "content": "hi"}]}))
    message = ok(azure.get(f"/threads/{thread['id']}/messages"))["data"][0]
    error_of(azure.delete(f"/threads/{thread['id']}/messages/{message['id']}"), 404)
    ok(v2.get(f"/threads/{thread['id']}/messages/{message['id']}"))   # still there
    for method, path in (("GET", "/files"), ("POST", "/files"), ("GET", "/files/file-abc"),
                         ("GET", "/files/file-abc/content"), ("DELETE", "/files/file-abc")):
        error_of(azure.request(method, path), 404)
    error_of(azure.get("/v1/threads"), 404)


def test_azure_and_v1_routes_share_one_store(azure, v2):
    made = ok(azure.post("/assistants", json={"model": "gpt-4o-deployment", "name": "shared"}))
    conforms("POST", "/assistants", made)
    assert ok(v2.get(f"/assistants/{made['id']}")) == made
    thread = ok(v2.post("/threads", json={"metadata": {"from": "v1"}}))
    assert ok(azure.get(f"/threads/{thread['id']}")) == thread
    ok(azure.delete(f"/assistants/{made['id']}"))
    error_of(v2.get(f"/assistants/{made['id']}"), 404)


def test_azure_run_with_tool_outputs_and_stream(azure):
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}
    asst = ok(azure.post("/assistants", json={"model": "m", "tools": [tool]}))
    run = ok(azure.post("/threads/runs", json={"assistant_id": asst["id"], "tool_choice": "required",
                                              "thread": {"messages": [{"role": "user", "content": "go"}]}}))
    run = poll_run(azure, run["thread_id"], run["id"], LIVE)
    assert run["status"] == "requires_action"
    calls = run["required_action"]["submit_tool_outputs"]["tool_calls"]
    body = {"tool_outputs": [{"tool_call_id": c["id"], "output": "42"} for c in calls], "stream": True}
    with azure.stream("POST", f"/threads/{run['thread_id']}/runs/{run['id']}/submit_tool_outputs", json=body) as s:
        assert s.status_code == 200 and s.headers["content-type"].startswith("text/event-stream")
        raw = s.read().decode()
    assert "event: thread.run.completed" in raw and raw.endswith("event: done\ndata: [DONE]\n\n")
    conforms("GET", "/threads/{thread_id}/runs/{run_id}",
             ok(azure.get(f"/threads/{run['thread_id']}/runs/{run['id']}")))


def test_azure_v1_versions_answer_v1_shapes(root, v2):
    file_id = upload(v2)
    params, headers = {"api-version": AZURE_V1}, {"api-key": KEY}
    asst = ok(root.post("/openai/assistants", params=params, headers=headers,
                        json={"model": "m", "tools": [{"type": "retrieval"}], "file_ids": [file_id]}))
    assert asst["file_ids"] == [file_id] and "tool_resources" not in asst
    files = ok(root.get(f"/openai/assistants/{asst['id']}/files", params=params, headers=headers))
    assert [f["id"] for f in files["data"]] == [file_id]
    # The same paths under a v2 api-version do not exist.
    error_of(root.get(f"/openai/assistants/{asst['id']}/files", params={"api-version": AZURE}, headers=headers), 404)


# ---- v1 shapes ------------------------------------------------------------------------------------------------

def test_v1_assistant_with_file_ids_and_retrieval(v1, v2):
    file_id = upload(v2)
    asst = ok(v1.post("/assistants", json={"model": "m", "tools": [{"type": "retrieval"}, {"type": "code_interpreter"}],
                                           "file_ids": [file_id]}))
    assert asst["object"] == "assistant" and asst["file_ids"] == [file_id] and "tool_resources" not in asst
    assert asst["tools"] == [{"type": "retrieval"}, {"type": "code_interpreter"}]
    assert ok(v1.get(f"/assistants/{asst['id']}")) == asst
    assert ok(v1.get("/assistants", params={"limit": 1}))["data"][0] == asst
    # The v2 rendering of the same object: files as code_interpreter files, retrieval as file_search.
    seen = ok(v2.get(f"/assistants/{asst['id']}"))
    assert seen["tool_resources"] == {"code_interpreter": {"file_ids": [file_id]}} and "file_ids" not in seen
    assert seen["tools"] == [{"type": "file_search"}, {"type": "code_interpreter"}]
    conforms("GET", "/assistants/{assistant_id}", seen)
    # Modify under v1 replaces the files; a v2 vector store on the assistant would stay.
    second = upload(v2)
    changed = ok(v1.post(f"/assistants/{asst['id']}", json={"file_ids": [second], "name": "renamed"}))
    assert changed["file_ids"] == [second] and changed["name"] == "renamed"


def test_v2_assistant_read_under_v1(v1, v2):
    file_id = upload(v2)
    made = ok(v2.post("/assistants", json={"model": "m", "tools": [{"type": "file_search",
                                                                       "file_search": {"max_num_results": 5}}],
                                           "tool_resources": {"code_interpreter": {"file_ids": [file_id]}}}))
    seen = ok(v1.get(f"/assistants/{made['id']}"))
    assert seen["tools"] == [{"type": "retrieval"}] and seen["file_ids"] == [file_id]
    assert "tool_resources" not in seen


def test_v1_limits_and_v2_only_fields(v1, v2):
    file_id = upload(v2)
    assert error_of(v1.post("/assistants", json={"model": "m", "file_ids": [file_id] * 21}), 400)["param"] == "file_ids"
    assert error_of(v1.post("/assistants", json={"model": "m", "file_ids": ["file-nope"]}), 400)["param"] == "file_ids[0]"
    assert error_of(v1.post("/assistants", json={"model": "m", "file_ids": [upload(v2, "batch")]}),
                    400)["param"] == "file_ids[0]"
    assert error_of(v1.post("/assistants", json={"model": "m", "file_ids": "file-x"}), 400)["param"] == "file_ids"
    assert error_of(v1.post("/assistants", json={"model": "m", "tools": [{"type": "file_search"}]}),
                    400)["param"] == "tools[0].type"
    assert error_of(v1.post("/assistants", json={"model": "m", "tools": [{"type": "retrieval", "x": 1}]}),
                    400)["code"] == "unknown_parameter"
    for body in ({"model": "m", "tool_resources": {}},):
        assert error_of(v1.post("/assistants", json=body), 400)["code"] == "unknown_parameter"
    assert error_of(v1.post("/threads", json={"tool_resources": {}}), 400)["param"] == "tool_resources"
    thread = ok(v1.post("/threads"))
    assert "tool_resources" not in thread
    message = {"role": "user", "content": "x", "file_ids": [file_id] * 11}
    assert error_of(v1.post(f"/threads/{thread['id']}/messages", json=message), 400)["param"] == "file_ids"
    attachments = {"role": "user", "content": "x", "attachments": [{"file_id": file_id, "tools": []}]}
    assert error_of(v1.post(f"/threads/{thread['id']}/messages", json=attachments), 400)["param"] == "attachments"
    nested = {"messages": [{"role": "user", "content": "x", "file_ids": ["file-nope"]}]}
    assert error_of(v1.post("/threads", json=nested), 400)["param"] == "messages[0].file_ids[0]"
    # v1 fields under v2, v2 tools under v1 and vice versa.
    assert error_of(v2.post("/assistants", json={"model": "m", "file_ids": [file_id]}), 400)["param"] == "file_ids"
    assert error_of(v2.post("/assistants", json={"model": "m", "tools": [{"type": "retrieval"}]}),
                    400)["param"] == "tools[0].type"
    # Authentication comes before the v1 checks.
    assert v1.post("/assistants", json={"model": "m", "file_ids": ["bad"]},
                   headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_v1_files_of_another_key_are_refused(server, v1):
    with httpx.Client(base_url=server.base_url, timeout=TIMEOUT, headers={"Authorization": f"Bearer {OTHER}"}) as other:
        foreign = upload(other)
    assert error_of(v1.post("/assistants", json={"model": "m", "file_ids": [foreign]}), 400)["param"] == "file_ids[0]"


def test_v1_assistant_file_endpoints(v1, v2):
    asst = ok(v1.post("/assistants", json={"model": "m"}))
    base = f"/assistants/{asst['id']}/files"
    assert ok(v1.get(base)) == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}
    ids = [upload(v2) for _ in range(3)]
    made = [ok(v1.post(base, json={"file_id": f})) for f in ids]
    assert made[0] == {"id": ids[0], "object": "assistant.file", "created_at": made[0]["created_at"],
                       "assistant_id": asst["id"]}
    assert ok(v1.post(base, json={"file_id": ids[0]})) == made[0]   # attaching again: the same attachment
    listed = ok(v1.get(base, params={"order": "asc", "limit": 2}))
    assert [f["id"] for f in listed["data"]] == ids[:2] and listed["has_more"] is True
    assert [f["id"] for f in ok(v1.get(base, params={"order": "asc", "after": ids[1]}))["data"]] == ids[2:]
    assert ok(v1.get(f"{base}/{ids[1]}")) == made[1]
    assert ok(v1.get(f"/assistants/{asst['id']}"))["file_ids"] == ids
    gone = ok(v1.delete(f"{base}/{ids[1]}"))
    assert gone == {"id": ids[1], "object": "assistant.file.deleted", "deleted": True}
    error_of(v1.get(f"{base}/{ids[1]}"), 404)
    error_of(v1.delete(f"{base}/{ids[1]}"), 404)
    assert ok(v2.get(f"/assistants/{asst['id']}"))["tool_resources"]["code_interpreter"]["file_ids"] == [ids[0], ids[2]]
    assert error_of(v1.post(base, json={"file_id": "file-nope"}), 400)["param"] == "file_id"
    assert error_of(v1.post(base, json={}), 400)["param"] == "file_id"
    error_of(v1.post("/assistants/asst_nope/files", json={"file_id": ids[0]}), 404)
    # At most 20 files per assistant.
    full = ok(v1.post("/assistants", json={"model": "m", "file_ids": [upload(v2) for _ in range(20)]}))
    error_of(v1.post(f"/assistants/{full['id']}/files", json={"file_id": ids[0]}), 400)
    # v2 has no such sub-resource.
    error_of(v2.get(base), 404)


def test_v1_messages_runs_and_steps(v1, v2):
    file_id = upload(v2)
    asst = ok(v1.post("/assistants", json={"model": "m", "tools": [{"type": "retrieval"}], "file_ids": [file_id]}))
    thread = ok(v1.post("/threads", json={"messages": [{"role": "user", "content": "manual?", "file_ids": [file_id]}]}))
    message = ok(v1.get(f"/threads/{thread['id']}/messages"))["data"][0]
    assert message["file_ids"] == [file_id] and "attachments" not in message
    files = ok(v1.get(f"/threads/{thread['id']}/messages/{message['id']}/files"))
    assert files["data"] == [{"id": file_id, "object": "thread.message.file", "created_at": message["created_at"],
                              "message_id": message["id"]}]
    assert ok(v1.get(f"/threads/{thread['id']}/messages/{message['id']}/files/{file_id}")) == files["data"][0]
    error_of(v1.get(f"/threads/{thread['id']}/messages/{message['id']}/files/file-nope"), 404)
    # The v2 rendering of the message: an attachment for every tool.
    seen = ok(v2.get(f"/threads/{thread['id']}/messages/{message['id']}"))
    assert seen["attachments"] == [{"file_id": file_id, "tools": [{"type": "code_interpreter"}, {"type": "file_search"}]}]
    conforms("GET", "/threads/{thread_id}/messages/{message_id}", seen)

    run = ok(v1.post(f"/threads/{thread['id']}/runs", json={"assistant_id": asst["id"]}))
    assert run["file_ids"] == [file_id] and run["tools"] == [{"type": "retrieval"}]
    run = poll_run(v1, thread["id"], run["id"], LIVE)
    assert run["status"] == "completed" and run["file_ids"] == [file_id]
    ok(v1.delete(f"/assistants/{asst['id']}/files/{file_id}"))
    assert ok(v1.get(f"/threads/{thread['id']}/runs/{run['id']}"))["file_ids"] == [file_id]   # kept with the run
    steps = ok(v1.get(f"/threads/{thread['id']}/runs/{run['id']}/steps"))["data"]
    assert steps and all(s["object"] == "thread.run.step" for s in steps)
    second = ok(v1.post(f"/threads/{thread['id']}/messages", json={"role": "user", "content": "more",
                                                                    "file_ids": [file_id]}))
    assert second["file_ids"] == [file_id]
    conforms("GET", "/threads/{thread_id}/runs/{run_id}", ok(v2.get(f"/threads/{thread['id']}/runs/{run['id']}")))


def test_v1_stream_is_rendered_as_v1(v1, v2):
    file_id = upload(v2)
    asst = ok(v1.post("/assistants", json={"model": "m", "file_ids": [file_id], "tools": [{"type": "retrieval"}]}))
    body = {"assistant_id": asst["id"], "stream": True,
            "thread": {"messages": [{"role": "user", "content": "Write 40 words.", "file_ids": [file_id]}]}}
    with v1.stream("POST", "/threads/runs", json=body) as answer:
        assert answer.status_code == 200
        raw = answer.read().decode()
    assert raw.endswith("event: done\ndata: [DONE]\n\n")
    frames = [f.split("\n", 1) for f in raw.split("\n\n") if f and not f.startswith(":")]
    events = [(head.removeprefix("event: "), data.removeprefix("data: ")) for head, data in frames]
    payloads = {name: json.loads(data) for name, data in events if data != "[DONE]"}
    assert "tool_resources" not in payloads["thread.created"]
    assert payloads["thread.run.created"]["file_ids"] == [file_id]
    assert payloads["thread.run.created"]["tools"] == [{"type": "retrieval"}]
    assert "attachments" not in payloads["thread.message.completed"]
    streamed = "".join(json.loads(d)["delta"]["content"][0]["text"]["value"] for n, d in events
                       if n == "thread.message.delta")
    assert streamed and streamed == payloads["thread.message.completed"]["content"][0]["text"]["value"]
    # With search in the reference, retrieval runs as file_search does; under v1 its calls are retrieval calls.
    assert "file_search" not in raw
    for name, data in events:
        if name.startswith("thread.run.step") and data != "[DONE]":
            step = json.loads(data)
            details = step["delta"]["step_details"] if "delta" in step else step["step_details"]
            assert all(c["type"] == "retrieval" for c in details.get("tool_calls") or ())


def test_v1_refuses_vector_stores(v1, v2):
    refused = error_of(v1.get("/vector_stores"), 400)
    assert refused["type"] == "invalid_request_error"
    error_of(v1.post("/vector_stores", json={}), 400)
    assert v2.get("/vector_stores").status_code != 400


def test_v1_tool_choice_and_run_tools(v1, v2):
    asst = ok(v1.post("/assistants", json={"model": "m"}))
    thread = ok(v1.post("/threads"))
    run = ok(v1.post(f"/threads/{thread['id']}/runs", json={
        "assistant_id": asst["id"], "tools": [{"type": "retrieval"}], "tool_choice": {"type": "retrieval"}}))
    assert run["tools"] == [{"type": "retrieval"}] and run["tool_choice"] == {"type": "retrieval"}
    assert ok(v2.get(f"/threads/{thread['id']}/runs/{run['id']}"))["tool_choice"] == {"type": "file_search"}
    poll_run(v1, thread["id"], run["id"], LIVE)
    error_of(v1.post(f"/threads/{thread['id']}/runs", json={"assistant_id": asst["id"],
                                                            "tool_choice": {"type": "file_search"}}), 400)


def test_v1_files_api_is_passed_through(v1):
    raw = b'{"object": "assistant",   "tool_resources": {}}'
    made = v1.post("/files", files={"file": ("a.json", raw, "application/json")}, data={"purpose": "assistants"})
    assert made.status_code == 200, made.text
    assert v1.get(f"/files/{made.json()['id']}/content").content == raw
