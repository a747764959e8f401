"""Reference server over raw HTTP: locking, concurrency, validation, errors, auth, pagination, streams."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from reference_server import poll_run as poll
from reference_server import running_server

TIMEOUT = httpx.Timeout(10.0)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # A token delay keeps runs in progress long enough for lock checks to see them.
    with running_server(tmp_path_factory.mktemp("proto"), "--token-delay-ms", "5") as running:
        yield running


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client:
        yield client


@pytest.fixture(scope="module")
def assistant_id(http):
    return http.post("/assistants", json={"model": "reference-1"}).json()["id"]


def error_of(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def long_run(http, assistant_id) -> tuple[str, str]:
    thread = http.post("/threads", json={"messages": [{"role": "user", "content": "Write 300 words."}]}).json()
    run = http.post(f"/threads/{thread['id']}/runs", json={"assistant_id": assistant_id})
    assert run.status_code == 200
    return thread["id"], run.json()["id"]


def test_health_and_listening(server):
    assert httpx.get(server.root_url + "/health", timeout=TIMEOUT).json() == {"status": "ok"}


def test_locked_thread_rejects_messages_and_runs_then_unlocks_after_cancel(http, assistant_id):
    thread_id, run_id = long_run(http, assistant_id)
    err = error_of(http.post(f"/threads/{thread_id}/messages", json={"role": "user", "content": "x"}), 400)
    assert err["type"] == "invalid_request_error" and run_id in err["message"]
    error_of(http.post(f"/threads/{thread_id}/runs", json={"assistant_id": assistant_id}), 400)
    cancelling = http.post(f"/threads/{thread_id}/runs/{run_id}/cancel").json()
    assert cancelling["status"] == "cancelling"
    run = poll(http, thread_id, run_id, ("cancelling",))
    assert run["status"] == "cancelled" and run["cancelled_at"] and run["expires_at"] is None
    message = http.get(f"/threads/{thread_id}/messages", params={"run_id": run_id}).json()["data"][0]
    assert message["status"] == "incomplete" and message["incomplete_details"] == {"reason": "run_cancelled"}
    assert http.post(f"/threads/{thread_id}/messages", json={"role": "user", "content": "x"}).status_code == 200
    error_of(http.post(f"/threads/{thread_id}/runs/{run_id}/cancel"), 400)   # terminal runs never change


def test_cancel_in_requires_action_clears_required_action(http):
    """required_action is null whenever no action is required: from `cancelling` on, not only once terminal."""
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}
    assistant = http.post("/assistants", json={"model": "reference-1", "tools": [tool]}).json()["id"]
    run = http.post("/threads/runs", json={"assistant_id": assistant, "tool_choice": "required",
                                           "thread": {"messages": [{"role": "user", "content": "hi"}]}}).json()
    run = poll(http, run["thread_id"], run["id"], ("queued", "in_progress"))
    assert run["status"] == "requires_action" and run["required_action"] is not None
    cancelling = http.post(f"/threads/{run['thread_id']}/runs/{run['id']}/cancel").json()
    assert cancelling["status"] == "cancelling" and cancelling["required_action"] is None
    assert poll(http, run["thread_id"], run["id"], ("cancelling",))["required_action"] is None


HOLD_TOOL = {"type": "function", "function": {"name": "hold", "parameters": {"type": "object", "properties": {}}}}


def test_simultaneous_create_runs_exactly_one_wins(server, http, assistant_id):
    async def race() -> list[int]:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=TIMEOUT) as client:
            statuses = []
            for _ in range(3):
                thread = (await client.post("/threads", json={})).json()["id"]
                # The winner waits in requires_action (forced function call), so a late request still meets
                # the lock: a run that had already completed would rightly let a second one in.
                body = {"assistant_id": assistant_id, "tools": [HOLD_TOOL],
                        "tool_choice": {"type": "function", "function": {"name": HOLD_TOOL["function"]["name"]}}}
                answers = await asyncio.gather(*[client.post(f"/threads/{thread}/runs", json=body)
                                                 for _ in range(8)])
                statuses.append(sorted(a.status_code for a in answers))
            return statuses
    for statuses in asyncio.run(race()):
        assert statuses == [200] + [400] * 7


@pytest.mark.parametrize("path,body,param", [
    ("/assistants", {"model": "m", "metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
    ("/assistants", {"model": "m", "metadata": {"k" * 65: "v"}}, "metadata"),
    ("/assistants", {"model": "m", "metadata": {"k": "v" * 513}}, "metadata"),
    ("/assistants", {"model": "m", "name": "n" * 257}, "name"),
    ("/assistants", {"model": "m", "description": "d" * 513}, "description"),
    ("/assistants", {"model": "m", "instructions": "i" * 256_001}, "instructions"),
    ("/assistants", {"model": "m", "tools": [{"type": "code_interpreter"}] * 129}, "tools"),
    ("/assistants", {"model": "m", "temperature": 2.5}, "temperature"),
    ("/assistants", {"model": "m", "top_p": -0.1}, "top_p"),
    ("/assistants", {"model": "m", "surprise": 1}, "surprise"),
    ("/assistants", {}, "model"),
    ("/threads", {"metadata": "nope"}, "metadata"),
    ("/threads/runs", {"assistant_id": "asst_x", "max_completion_tokens": 255}, "max_completion_tokens"),
    ("/threads/runs", {"assistant_id": "asst_x", "max_prompt_tokens": 10}, "max_prompt_tokens"),
    ("/threads/runs", {"assistant_id": "asst_x", "tools": [{"type": "code_interpreter"}] * 21}, "tools"),
])
def test_validation_limits_answer_400_naming_the_field(http, path, body, param):
    assert error_of(http.post(path, json=body), 400)["param"] == param


@pytest.mark.parametrize("query,param", [({"limit": 0}, "limit"), ({"limit": 101}, "limit"),
                                         ({"limit": "x"}, "limit"), ({"order": "up"}, "order"),
                                         ({"after": "asst_unknown"}, "after")])
def test_list_parameters_are_checked(http, query, param):
    assert error_of(http.get("/assistants", params=query), 400)["param"] == param


def test_unknown_ids_404_malformed_json_400_never_500(http, assistant_id):
    error_of(http.get("/assistants/asst_nope"), 404)
    error_of(http.get("/threads/thread_nope/runs/run_nope"), 404)
    error_of(http.get("/no/such/route"), 404)
    error_of(http.post("/threads", content=b"{not json", headers={"content-type": "application/json"}), 400)
    error_of(http.post("/threads/runs", json={"assistant_id": "asst_nope"}), 404)
    for junk in (b"[]", b"null", b"\xff\xfe", b'{"messages": 5}', b'{"messages": [{"role": "x"}]}',
                 b'{"messages": [{"role": "user", "content": []}]}'):
        assert http.post("/threads", content=junk).status_code == 400


def test_pagination_cursors_order_and_empty_pages(http):
    thread = http.post("/threads", json={"messages": [{"role": "user", "content": str(i)} for i in range(5)]}).json()
    base = f"/threads/{thread['id']}/messages"
    everything = http.get(base, params={"order": "asc"}).json()
    ids = [m["id"] for m in everything["data"]]
    assert len(ids) == 5 and everything["has_more"] is False
    assert [m["id"] for m in http.get(base).json()["data"]] == ids[::-1]   # default desc
    first = http.get(base, params={"order": "asc", "limit": 2}).json()
    assert [m["id"] for m in first["data"]] == ids[:2] and first["has_more"] is True
    assert (first["first_id"], first["last_id"]) == (ids[0], ids[1])
    after = http.get(base, params={"order": "asc", "limit": 2, "after": ids[1]}).json()
    assert [m["id"] for m in after["data"]] == ids[2:4] and after["has_more"] is True
    before = http.get(base, params={"order": "asc", "limit": 2, "before": ids[4]}).json()
    assert [m["id"] for m in before["data"]] == ids[2:4] and before["has_more"] is True
    empty = http.get(base, params={"after": ids[0]}).json()
    assert empty == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}


def test_stream_wire_format_and_function_call_deltas(server, http):
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}}
    assistant = http.post("/assistants", json={"model": "m", "tools": [tool]}).json()
    body = {"assistant_id": assistant["id"], "stream": True, "tool_choice": "required",
            "thread": {"messages": [{"role": "user", "content": "anything"}]}}
    with http.stream("POST", "/threads/runs", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = response.read().decode()
    frames = [f for f in raw.split("\n\n") if f]
    names = [f.split("\n")[0].removeprefix("event: ") for f in frames]
    assert names[:6] == ["thread.created", "thread.run.created", "thread.run.queued", "thread.run.in_progress",
                         "thread.run.step.created", "thread.run.step.in_progress"]
    assert names[-2:] == ["thread.run.requires_action", "done"] and frames[-1] == "event: done\ndata: [DONE]"
    deltas = [json.loads(f.split("data: ", 1)[1]) for f in frames if f.startswith("event: thread.run.step.delta")]
    first = deltas[0]["delta"]["step_details"]["tool_calls"][0]
    assert first["function"] == {"name": "lookup", "arguments": "", "output": None} and first["index"] == 0
    args = "".join(d["delta"]["step_details"]["tool_calls"][0]["function"]["arguments"] for d in deltas[1:])
    assert json.loads(args) == {"q": "example"}


def test_reference_model_terminal_statuses(http, assistant_id):
    def finish(content: str, **extra) -> dict:
        run = http.post("/threads/runs", json={"assistant_id": assistant_id, **extra,
                                               "thread": {"messages": [{"role": "user", "content": content}]}}).json()
        return poll(http, run["thread_id"], run["id"], ("queued", "in_progress"))
    failed = finish("please REFERENCE-FAIL:rate_limit_exceeded")
    assert failed["status"] == "failed" and failed["last_error"]["code"] == "rate_limit_exceeded" and failed["failed_at"]
    cut = finish("Write an essay of at least 300 words.", max_completion_tokens=256)
    assert cut["status"] == "incomplete" and cut["incomplete_details"] == {"reason": "max_completion_tokens"}
    assert cut["usage"]["completion_tokens"] == 256
    squeezed = finish(" ".join(["word"] * 400), max_prompt_tokens=256)
    assert squeezed["status"] == "incomplete" and squeezed["incomplete_details"] == {"reason": "max_prompt_tokens"}


def test_auth_and_isolation(tmp_path):
    with running_server(tmp_path, "--api-key", "key-a", "--api-key", "key-b") as server:
        url = server.base_url
        error_of(httpx.get(url + "/assistants", timeout=TIMEOUT), 401)
        error_of(httpx.get(url + "/assistants", headers={"Authorization": "Bearer wrong"}, timeout=TIMEOUT), 401)
        a = {"Authorization": "Bearer key-a"}
        b = {"Authorization": "Bearer key-b"}
        made = httpx.post(url + "/assistants", json={"model": "m"}, headers=a, timeout=TIMEOUT).json()
        assert httpx.get(f"{url}/assistants/{made['id']}", headers=a, timeout=TIMEOUT).status_code == 200
        error_of(httpx.get(f"{url}/assistants/{made['id']}", headers=b, timeout=TIMEOUT), 404)
        assert httpx.get(url + "/assistants", headers=b, timeout=TIMEOUT).json()["data"] == []
        assert httpx.get(server.root_url + "/health", timeout=TIMEOUT).status_code == 200
