"""Request validation of the reference server: what the fuzz suite found, pinned down (real HTTP)."""

from __future__ import annotations

import httpx
import pytest

from reference_server import poll_run, running_server

TIMEOUT = httpx.Timeout(10.0)
TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def http(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("validation")) as server, \
            httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client:
        yield client


@pytest.fixture(scope="module")
def assistant_id(http) -> str:
    return http.post("/assistants", json={"model": "m", "tools": [TOOL]}).json()["id"]


def rejected(response: httpx.Response, param: str | None) -> bool:
    error = response.json().get("error") or {}
    return response.status_code == 400 and error.get("type") == "invalid_request_error" and error.get("param") == param


def test_lone_surrogates_are_refused_naming_the_field(http, assistant_id):
    run = http.post("/threads/runs", json={"assistant_id": assistant_id, "tool_choice": "required"}).json()
    run = poll_run(http, run["thread_id"], run["id"], ("queued", "in_progress"))
    call = run["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]
    url = f"/threads/{run['thread_id']}/runs/{run['id']}/submit_tool_outputs"
    body = '{"tool_outputs": [{"tool_call_id": "%s", "output": "a\\udcfc"}]}' % call
    assert rejected(http.post(url, content=body, headers=JSON), "tool_outputs[0].output")
    # An output without its tool_call_id is named (it once reached the engine and caused a 500).
    missing = http.post(url, json={"tool_outputs": [{"tool_call_id": call, "output": "a"}, {"output": "b"}]})
    assert rejected(missing, "tool_outputs[1].tool_call_id")
    # The run still waits for a proper answer, which works.
    assert http.post(url, json={"tool_outputs": [{"tool_call_id": call, "output": "ok"}]}).status_code == 200
    key = http.post("/threads", content='{"metadata": {"\\ud800": "x"}}', headers=JSON)
    assert rejected(key, "metadata")
    # A proper pair is one character and is fine.
    pair = http.post("/threads", content='{"metadata": {"k": "\\ud83d\\ude00"}}', headers=JSON)
    assert pair.status_code == 200 and pair.json()["metadata"] == {"k": "\U0001F600"}


@pytest.mark.parametrize("raw", [b'{"model": NaN}', b'{"model": "m", "temperature": Infinity}',
                                 '{"model": "m"}'.encode("utf-16"), b'{"model": "m\xff"}', b" "])
def test_non_json_bodies_are_malformed(http, raw):
    response = http.post("/assistants", content=raw, headers=JSON)
    assert response.status_code == 400 and "parse the JSON body" in response.json()["error"]["message"]


def test_empty_body_only_where_the_body_is_optional(http, assistant_id):
    assert http.post("/threads", content=b"").status_code == 200
    assert http.post(f"/assistants/{assistant_id}", content=b"").status_code == 400


@pytest.mark.parametrize("body, param", [
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "n", "description": 5}}},
     "response_format.json_schema.description"),
    ({"response_format": {"type": "json_schema", "json_schema": {}}}, "response_format.json_schema.name"),
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "bad name"}}},
     "response_format.json_schema.name"),
    ({"tools": None}, "tools"),
    ({"tools": [{"type": "function", "function": {"name": "ok\n"}}]}, "tools[0].function.name"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": None}}]}, "tools[0].function.parameters"),
    ({"tool_resources": {"file_search": {}}}, "tool_resources.file_search"),
    ({"tool_resources": {"file_search": {"vector_stores": [{"chunking_strategy": None}]}}},
     "tool_resources.file_search.vector_stores[0].chunking_strategy"),
    ({"tool_resources": {"file_search": {"vector_stores": [
        {"chunking_strategy": {"type": "static", "static": {"max_chunk_size_tokens": 50, "chunk_overlap_tokens": 0}}}]}}},
     "tool_resources.file_search.vector_stores[0].chunking_strategy.static.max_chunk_size_tokens"),
])
def test_nested_assistant_fields(http, body, param):
    assert rejected(http.post("/assistants", json={"model": "m", **body}), param)


@pytest.mark.parametrize("message, param", [
    ({"content": "x" * 256_001}, "content"),
    ({"content": [{"type": "text", "text": "a", "extra": 1}]}, "content[0].extra"),
    ({"content": [{"type": "image_url", "image_url": {"url": "not a url"}}]}, "content[0].image_url.url"),
    ({"content": "x", "attachments": [{"file_id": "f", "tools": [None]}]}, "attachments[0].tools[0]"),
    ({"content": "x", "attachments": [{"file_id": "f", "tools": [{"type": "function"}]}]},
     "attachments[0].tools[0].type"),
])
def test_nested_message_fields(http, message, param):
    thread = http.post("/threads", json={}).json()["id"]
    assert rejected(http.post(f"/threads/{thread}/messages", json={"role": "user", **message}), param)


def test_query_parameters(http, assistant_id):
    for raw in ("1_0", " 5", "\u0665"):
        assert rejected(http.get("/assistants", params={"limit": raw}), "limit")
    run = http.post("/threads/runs", json={"assistant_id": assistant_id}).json()
    steps = f"/threads/{run['thread_id']}/runs/{run['id']}/steps"
    assert rejected(http.get(steps, params={"include[]": "nope"}), "include[]")
    good = "step_details.tool_calls[*].file_search.results[*].content"
    assert http.get(steps, params={"include[]": good}).status_code == 200
