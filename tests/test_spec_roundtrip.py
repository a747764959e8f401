"""Our response schemas and the official openai SDK's models describe the same wire objects.

* hand-built representative objects (every run status, every step/content/tool variant) validate against our
  contract AND parse strictly with the SDK's models, with no field the SDK does not know;
* SDK model objects dumped to JSON validate against our contract;
* objects generated from our response schemas (schemathesis' generator, via a throwaway document that uses
  each schema as a request body) parse with the SDK's models;
* real responses and stream events of the reference server validate against our contract.
"""

from __future__ import annotations

import copy
import json

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistants_conformance.spec import load_contract

openai_types = pytest.importorskip("openai.types")
from openai.types.beta.assistant import Assistant  # noqa: E402
from openai.types.beta.assistant_deleted import AssistantDeleted  # noqa: E402
from openai.types.beta.thread import Thread  # noqa: E402
from openai.types.beta.thread_deleted import ThreadDeleted  # noqa: E402
from openai.types.beta.threads.message import Message  # noqa: E402
from openai.types.beta.threads.message_deleted import MessageDeleted  # noqa: E402
from openai.types.beta.threads.message_delta_event import MessageDeltaEvent  # noqa: E402
from openai.types.beta.threads.run import Run  # noqa: E402
from openai.types.beta.threads.runs.run_step import RunStep  # noqa: E402
from openai.types.beta.threads.runs.run_step_delta_event import RunStepDeltaEvent  # noqa: E402
from openai.types.file_deleted import FileDeleted  # noqa: E402
from openai.types.file_object import FileObject  # noqa: E402
from openai.types.vector_store import VectorStore  # noqa: E402
from openai.types.vector_store_deleted import VectorStoreDeleted  # noqa: E402
from openai.types.vector_stores.vector_store_file import VectorStoreFile  # noqa: E402
from openai.types.vector_stores.vector_store_file_batch import VectorStoreFileBatch  # noqa: E402
from openai.types.vector_stores.vector_store_file_deleted import VectorStoreFileDeleted  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants deprecated

CONTRACT = load_contract()

# Our schema name -> SDK model.
MODELS = {
    "AssistantObject": Assistant, "ThreadObject": Thread, "MessageObject": Message, "RunObject": Run,
    "RunStepObject": RunStep, "MessageDeltaObject": MessageDeltaEvent, "RunStepDeltaObject": RunStepDeltaEvent,
    "OpenAIFile": FileObject, "VectorStoreObject": VectorStore, "VectorStoreFileObject": VectorStoreFile,
    "VectorStoreFileBatchObject": VectorStoreFileBatch, "DeleteAssistantResponse": AssistantDeleted,
    "DeleteThreadResponse": ThreadDeleted, "DeleteMessageResponse": MessageDeleted,
    "DeleteFileResponse": FileDeleted, "DeleteVectorStoreResponse": VectorStoreDeleted,
    "DeleteVectorStoreFileResponse": VectorStoreFileDeleted,
}

# Where our contract is deliberately more lenient than the SDK's types (each is on specs/drift-allowlist.yaml
# or an SDK-only restriction). Generated objects get an SDK-acceptable value there before parsing.
SDK_STRICTER = {
    ("RunObject", "instructions"): "",          # SDK: str; we allow null (runs without instructions report null)
    ("VectorStoreObject", "name"): "store",     # SDK: str; we allow null (unnamed stores)
    ("OpenAIFile", "purpose"): "assistants",    # SDK's Literal lacks "evals", which createFile accepts
}

T = 1_716_000_000


# ------------------------------------------------------------------------------------------------ hand-built objects
def run(status: str, **fields) -> dict:
    base = {
        "id": "run_1", "object": "thread.run", "created_at": T, "thread_id": "thread_1", "assistant_id": "asst_1",
        "status": status, "required_action": None, "last_error": None, "expires_at": T + 600, "started_at": None,
        "cancelled_at": None, "failed_at": None, "completed_at": None, "model": "gpt-4o",
        "instructions": "Be brief.", "tools": [{"type": "code_interpreter"}], "metadata": {"k": "v"},
        "usage": None, "temperature": 1.0, "top_p": 1.0, "incomplete_details": None,
        "max_prompt_tokens": None, "max_completion_tokens": None,
        "truncation_strategy": {"type": "auto", "last_messages": None}, "tool_choice": "auto",
        "parallel_tool_calls": True, "response_format": "auto",
    }
    base.update(fields)
    return base


USAGE = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
FUNCTION_TOOL = {"type": "function", "function": {"name": "get_weather", "description": "Weather",
                                                  "parameters": {"type": "object", "properties": {}}, "strict": False}}
RUNS = [
    run("queued"),
    run("in_progress", started_at=T + 1),
    run("requires_action", started_at=T + 1, tools=[FUNCTION_TOOL], tool_choice="required",
        required_action={"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]}}),
    run("cancelling", started_at=T + 1),
    run("cancelled", started_at=T + 1, cancelled_at=T + 2, expires_at=None, usage=USAGE),
    run("failed", started_at=T + 1, failed_at=T + 2, expires_at=None, usage=USAGE,
        last_error={"code": "server_error", "message": "boom"}),
    run("completed", started_at=T + 1, completed_at=T + 3, expires_at=None, usage=USAGE,
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        response_format={"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"},
                                                                "strict": True}}),
    run("incomplete", started_at=T + 1, expires_at=None, usage=USAGE, max_completion_tokens=256,
        incomplete_details={"reason": "max_completion_tokens"},
        truncation_strategy={"type": "last_messages", "last_messages": 3}, response_format={"type": "text"}),
    run("expired", started_at=T + 1, expires_at=T + 600, tool_choice="none", response_format={"type": "json_object"}),
]


def step(step_type: str, status: str, details: dict, **fields) -> dict:
    base = {"id": "step_1", "object": "thread.run.step", "created_at": T, "assistant_id": "asst_1",
            "thread_id": "thread_1", "run_id": "run_1", "type": step_type, "status": status,
            "step_details": details, "last_error": None, "expired_at": None, "cancelled_at": None,
            "failed_at": None, "completed_at": None, "metadata": None, "usage": None}
    base.update(fields)
    return base


TOOL_CALLS = {"type": "tool_calls", "tool_calls": [
    {"id": "call_1", "type": "code_interpreter", "code_interpreter": {"input": "print(1)", "outputs": [
        {"type": "logs", "logs": "1\n"}, {"type": "image", "image": {"file_id": "file_img"}}]}},
    {"id": "call_2", "type": "file_search", "file_search": {
        "ranking_options": {"ranker": "default_2024_08_21", "score_threshold": 0.5},
        "results": [{"file_id": "file_1", "file_name": "a.txt", "score": 0.9,
                     "content": [{"type": "text", "text": "chunk"}]}]}},
    {"id": "call_3", "type": "function", "function": {"name": "f", "arguments": "{}", "output": None}},
]}
STEPS = [
    step("message_creation", "in_progress", {"type": "message_creation", "message_creation": {"message_id": "msg_1"}}),
    step("message_creation", "completed", {"type": "message_creation", "message_creation": {"message_id": "msg_1"}},
         completed_at=T + 2, usage=USAGE),
    step("tool_calls", "completed", TOOL_CALLS, completed_at=T + 2, usage=USAGE, metadata={}),
    step("tool_calls", "failed", {"type": "tool_calls", "tool_calls": []}, failed_at=T + 2,
         last_error={"code": "rate_limit_exceeded", "message": "slow down"}),
    step("tool_calls", "cancelled", {"type": "tool_calls", "tool_calls": []}, cancelled_at=T + 2),
    step("message_creation", "expired", {"type": "message_creation", "message_creation": {"message_id": "m"}},
         expired_at=T + 600),
]


def message(status: str, content: list, **fields) -> dict:
    base = {"id": "msg_1", "object": "thread.message", "created_at": T, "thread_id": "thread_1", "status": status,
            "incomplete_details": None, "completed_at": None, "incomplete_at": None, "role": "assistant",
            "content": content, "assistant_id": "asst_1", "run_id": "run_1", "attachments": [], "metadata": {}}
    base.update(fields)
    return base


TEXT = {"type": "text", "text": {"value": "See 【0†a.txt】", "annotations": [
    {"type": "file_citation", "text": "【0†a.txt】", "file_citation": {"file_id": "file_1"}, "start_index": 4,
     "end_index": 13},
    {"type": "file_path", "text": "sandbox:/out.csv", "file_path": {"file_id": "file_2"}, "start_index": 0,
     "end_index": 3}]}}
MESSAGES = [
    message("completed", [TEXT], completed_at=T + 1),
    message("in_progress", [{"type": "text", "text": {"value": "", "annotations": []}}]),
    message("incomplete", [{"type": "refusal", "refusal": "I can't."}], incomplete_at=T + 1,
            incomplete_details={"reason": "run_cancelled"}),
    message("completed", [{"type": "image_file", "image_file": {"file_id": "file_1", "detail": "low"}},
                          {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "auto"}}],
            role="user", assistant_id=None, run_id=None, completed_at=T,
            attachments=[{"file_id": "file_1", "tools": [{"type": "code_interpreter"}, {"type": "file_search"}]}]),
]

OTHERS = [
    ("AssistantObject", {"id": "asst_1", "object": "assistant", "created_at": T, "name": "a", "description": None,
                         "model": "gpt-4o", "instructions": None, "metadata": {},
                         "tools": [{"type": "code_interpreter"}, FUNCTION_TOOL,
                                   {"type": "file_search", "file_search": {"max_num_results": 5, "ranking_options": {
                                       "ranker": "auto", "score_threshold": 0.0}}}],
                         "tool_resources": {"code_interpreter": {"file_ids": ["file_1"]},
                                            "file_search": {"vector_store_ids": ["vs_1"]}},
                         "temperature": 0.5, "top_p": 1.0, "response_format": "auto"}),
    ("ThreadObject", {"id": "thread_1", "object": "thread", "created_at": T, "tool_resources": None,
                      "metadata": {"user": "u1"}}),
    ("MessageDeltaObject", {"id": "msg_1", "object": "thread.message.delta", "delta": {"role": "assistant", "content": [
        {"index": 0, "type": "text", "text": {"value": "Hel", "annotations": [
            {"index": 0, "type": "file_citation", "text": "x", "file_citation": {"file_id": "f"},
             "start_index": 0, "end_index": 1}]}},
        {"index": 1, "type": "image_file", "image_file": {"file_id": "f"}},
        {"index": 2, "type": "refusal", "refusal": "no"}]}}),
    ("RunStepDeltaObject", {"id": "step_1", "object": "thread.run.step.delta", "delta": {"step_details": {
        "type": "tool_calls", "tool_calls": [
            {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": "", "output": None}},
            {"index": 1, "type": "code_interpreter", "code_interpreter": {"input": "pr", "outputs": [
                {"index": 0, "type": "logs", "logs": "x"}]}},
            {"index": 2, "id": "call_3", "type": "file_search", "file_search": {}}]}}}),
    ("RunStepDeltaObject", {"id": "step_1", "object": "thread.run.step.delta", "delta": {"step_details": {
        "type": "message_creation", "message_creation": {"message_id": "msg_1"}}}}),
    ("OpenAIFile", {"id": "file_1", "object": "file", "bytes": 12, "created_at": T, "filename": "a.txt",
                    "purpose": "assistants", "status": "processed", "expires_at": None, "status_details": None}),
    ("VectorStoreObject", {"id": "vs_1", "object": "vector_store", "created_at": T, "name": "docs", "usage_bytes": 0,
                           "file_counts": {"in_progress": 0, "completed": 1, "failed": 0, "cancelled": 0, "total": 1},
                           "status": "completed", "expires_after": {"anchor": "last_active_at", "days": 7},
                           "expires_at": T + 7 * 86400, "last_active_at": T, "metadata": {}}),
    ("VectorStoreFileObject", {"id": "file_1", "object": "vector_store.file", "usage_bytes": 10, "created_at": T,
                               "vector_store_id": "vs_1", "status": "failed",
                               "last_error": {"code": "unsupported_file", "message": "bad"},
                               "chunking_strategy": {"type": "static", "static": {
                                   "max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}},
                               "attributes": {"lang": "en", "year": 2024, "draft": False}}),
    ("VectorStoreFileBatchObject", {"id": "vsfb_1", "object": "vector_store.files_batch", "created_at": T,
                                    "vector_store_id": "vs_1", "status": "in_progress",
                                    "file_counts": {"in_progress": 2, "completed": 0, "failed": 0, "cancelled": 0,
                                                    "total": 2}}),
    ("DeleteAssistantResponse", {"id": "asst_1", "object": "assistant.deleted", "deleted": True}),
    ("DeleteThreadResponse", {"id": "thread_1", "object": "thread.deleted", "deleted": True}),
    ("DeleteMessageResponse", {"id": "msg_1", "object": "thread.message.deleted", "deleted": True}),
    ("DeleteFileResponse", {"id": "file_1", "object": "file", "deleted": True}),
    ("DeleteVectorStoreResponse", {"id": "vs_1", "object": "vector_store.deleted", "deleted": True}),
    ("DeleteVectorStoreFileResponse", {"id": "file_1", "object": "vector_store.file.deleted", "deleted": True}),
]

REPRESENTATIVE = ([("RunObject", r) for r in RUNS] + [("RunStepObject", s) for s in STEPS]
                  + [("MessageObject", m) for m in MESSAGES] + OTHERS)


def schema_issues(name: str, instance) -> list:
    return CONTRACT._validator(f"/components/schemas/{name}").issues(instance)


def unknown_fields(model, where: str = "") -> list[str]:
    """Fields the SDK model kept as 'extra' (i.e. names it does not know), recursively."""
    found = [f"{where}.{key}" for key in (model.model_extra or {})] if hasattr(model, "model_extra") else []
    for name in type(model).model_fields:
        value = getattr(model, name, None)
        for item in value if isinstance(value, list) else [value]:
            if hasattr(item, "model_fields"):
                found += unknown_fields(item, f"{where}.{name}")
    return found


def _ids(cases):
    return [f"{name}-{instance.get('status') or instance.get('object')}-{i}" for i, (name, instance) in enumerate(cases)]


@pytest.mark.parametrize("name, instance", REPRESENTATIVE, ids=_ids(REPRESENTATIVE))
def test_representative_objects_agree_with_the_sdk(name, instance):
    assert schema_issues(name, instance) == []
    model = MODELS[name].model_validate(instance, strict=True)
    assert unknown_fields(model) == [], "our contract names fields the SDK does not know"
    # ... and the SDK's own serialisation of it is valid for our contract (exclude_unset: the SDK would
    # otherwise write None for optional fields the wire never carried, e.g. json_schema.description).
    assert schema_issues(name, model.model_dump(mode="json", exclude_unset=True)) == []


def test_all_run_statuses_and_variants_are_covered():
    assert {r["status"] for r in RUNS} == set(CONTRACT.schema("RunStatus")["enum"])
    assert {s["status"] for s in STEPS} == set(CONTRACT.schema("RunStepObject")["properties"]["status"]["enum"])
    assert {c["type"] for m in MESSAGES for c in m["content"]} == {"text", "image_file", "image_url", "refusal"}
    assert {c["type"] for c in TOOL_CALLS["tool_calls"]} == {"code_interpreter", "file_search", "function"}


def test_sdk_built_objects_validate():
    """Objects built through the SDK's models (typical values, defaults for the rest) validate against ours."""
    built = [
        ("RunObject", Run(id="run_9", object="thread.run", created_at=T, thread_id="t", assistant_id="a",
                          status="queued", model="m", instructions="", tools=[], parallel_tool_calls=True)),
        ("AssistantObject", Assistant(id="asst_9", object="assistant", created_at=T, model="m", tools=[])),
        ("ThreadObject", Thread(id="thread_9", object="thread", created_at=T)),
        ("VectorStoreFileBatchObject", VectorStoreFileBatch.model_validate(OTHERS[8][1])),
    ]
    for name, model in built:
        assert schema_issues(name, model.model_dump(mode="json")) == [], name


# ------------------------------------------------------------------------------------------------ generated objects
@pytest.fixture(scope="module")
def generator_schema():
    """A throwaway OpenAPI document with one operation per response schema, so schemathesis generates them."""
    document = copy.deepcopy(CONTRACT.document)
    document["paths"] = {
        f"/gen/{name}": {"post": {"operationId": f"gen{name}", "responses": {"200": {"description": "ok"}},
                                  "requestBody": {"required": True, "content": {"application/json": {
                                      "schema": {"$ref": f"#/components/schemas/{name}"}}}}}}
        for name in MODELS
    }
    document.pop("x-stream-events", None)
    return schemathesis.openapi.from_dict(document)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_generated_objects_parse_with_the_sdk(generator_schema, name):
    operation = generator_schema.find_operation_by_id(f"gen{name}")

    @settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def check(data):
        instance = data.draw(operation.as_strategy()).body
        assert schema_issues(name, instance) == []
        for (schema_name, field_name), accepted in SDK_STRICTER.items():
            if schema_name == name and field_name in instance:
                instance[field_name] = accepted
        MODELS[name].model_validate(instance)

    check()


# ------------------------------------------------------------------------------------------------ the live server
def test_reference_server_responses_and_events_validate(tmp_path):
    reference_server = pytest.importorskip("reference_server")
    with reference_server.running_server(tmp_path, "--token-delay-ms", "1") as server:
        headers = {"Authorization": "Bearer test-key", "OpenAI-Beta": "assistants=v2"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=10) as http:
            checked: list[str] = []

            def call(method: str, template: str, status: int = 200, **kw) -> dict:
                response = http.request(method, template.format(**kw.pop("ids", {})), **kw)
                body = response.json()
                issues = CONTRACT.validate((method, template), response.status_code, body)
                assert response.status_code == status, body
                assert issues == [], (method, template, body, issues)
                checked.append(template)
                return body

            assistant = call("POST", "/assistants", json={"model": "reference-1", "name": "rt", "tools": [
                {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}]})
            thread = call("POST", "/threads", json={"messages": [{"role": "user", "content": "hi"}]})
            ids = {"thread_id": thread["id"], "assistant_id": assistant["id"]}
            call("GET", "/assistants/{assistant_id}", ids=ids)
            call("GET", "/assistants", params={"limit": 1})
            message = call("POST", "/threads/{thread_id}/messages", ids=ids, json={"role": "user", "content": "ok"})
            call("GET", "/threads/{thread_id}/messages/{message_id}", ids={**ids, "message_id": message["id"]})
            run_obj = call("POST", "/threads/{thread_id}/runs", ids=ids, json={"assistant_id": assistant["id"]})
            ids["run_id"] = run_obj["id"]
            reference_server.poll_run(http, thread["id"], run_obj["id"], ("queued", "in_progress"))
            call("GET", "/threads/{thread_id}/runs/{run_id}", ids=ids)
            call("GET", "/threads/{thread_id}/runs/{run_id}/steps", ids=ids)
            call("GET", "/threads/{thread_id}/runs", ids=ids)
            call("GET", "/threads/{thread_id}/messages", ids=ids)
            call("GET", "/threads/{thread_id}/runs/{run_id}", 404, ids={**ids, "run_id": "run_missing"})
            empty = call("POST", "/threads", json={})
            call("GET", "/threads/{thread_id}/runs", ids={"thread_id": empty["id"]})
            call("DELETE", "/threads/{thread_id}", ids={"thread_id": empty["id"]})

            # A streamed run: every event name is known and every event's data validates.
            names = []
            with http.stream("POST", f"/threads/{thread['id']}/runs", timeout=10,
                             json={"assistant_id": assistant["id"], "stream": True,
                                   "additional_messages": [{"role": "user", "content": "Reply with 'pong'"}]}) as sse:
                assert sse.status_code == 200 and sse.headers["content-type"].startswith("text/event-stream")
                event = None
                for line in sse.iter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:") and event:
                        names.append(event)
                        issues = CONTRACT.validate_event(event, line[5:].strip())
                        assert issues == [], (event, line, issues)
            assert names[-1] == "done" and "thread.run.created" in names
            assert len(checked) >= 15
