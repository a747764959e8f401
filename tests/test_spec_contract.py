"""The project's contract (specs/assistants-v2.openapi.yaml) and its loader (spec/contract.py, spec/normalise.py)."""

from __future__ import annotations

import hashlib
import json
import os
import time

import pytest
import yaml

from assistants_conformance.spec import ContractError, ValidationIssue, default_contract_path, load_contract
from assistants_conformance.spec.normalise import normalise, parse_document

OPERATION_IDS = {
    "listAssistants", "createAssistant", "getAssistant", "modifyAssistant", "deleteAssistant",
    "createThread", "createThreadAndRun", "getThread", "modifyThread", "deleteThread",
    "listMessages", "createMessage", "getMessage", "modifyMessage", "deleteMessage",
    "listRuns", "createRun", "getRun", "modifyRun", "cancelRun", "submitToolOuputsToRun",
    "listRunSteps", "getRunStep",
    "listFiles", "createFile", "retrieveFile", "deleteFile", "downloadFile",
    "listVectorStores", "createVectorStore", "getVectorStore", "modifyVectorStore", "deleteVectorStore",
    "searchVectorStore", "listVectorStoreFiles", "createVectorStoreFile", "getVectorStoreFile",
    "updateVectorStoreFileAttributes", "deleteVectorStoreFile", "retrieveVectorStoreFileContent",
    "createVectorStoreFileBatch", "getVectorStoreFileBatch", "cancelVectorStoreFileBatch",
    "listFilesInVectorStoreBatch",
}
RUN_STATUSES = ["queued", "in_progress", "requires_action", "cancelling", "cancelled", "failed", "completed",
                "incomplete", "expired"]


@pytest.fixture(scope="module")
def contract():
    return load_contract()


def make_run(**overrides) -> dict:
    run = {
        "id": "run_1", "object": "thread.run", "created_at": 1_700_000_000, "thread_id": "thread_1",
        "assistant_id": "asst_1", "status": "queued", "required_action": None, "last_error": None,
        "expires_at": 1_700_000_600, "started_at": None, "cancelled_at": None, "failed_at": None,
        "completed_at": None, "model": "gpt-4o", "instructions": None, "tools": [], "metadata": {},
        "usage": None, "incomplete_details": None, "max_prompt_tokens": None, "max_completion_tokens": None,
        "truncation_strategy": {"type": "auto", "last_messages": None}, "tool_choice": "auto",
        "parallel_tool_calls": True, "response_format": "auto", "temperature": 1.0, "top_p": 1.0,
    }
    run.update(overrides)
    return run


# ------------------------------------------------------------------------------------------------ the document
def test_contract_declares_the_44_operations_with_openai_operation_ids(contract):
    assert len(contract.operations) == 44
    assert {op.operation_id for op in contract.operations} == OPERATION_IDS


def test_streaming_operations_are_exactly_the_three_run_starters(contract):
    streaming = {op.operation_id for op in contract.operations if op.streaming}
    assert streaming == {"createRun", "createThreadAndRun", "submitToolOuputsToRun"}
    for operation_id in streaming:
        schema = contract.request_schema(operation_id)
        assert schema["properties"]["stream"]["x-stream-switch"] is True
        assert "boolean" in schema["properties"]["stream"]["type"]


def test_every_operation_declares_the_error_responses(contract):
    for op in contract.operations:
        for status in (400, 401, 404, 429):
            issues = contract.validate(op.operation_id, status, {"error": {
                "message": "m", "type": "invalid_request_error", "param": None, "code": None}})
            assert issues == [], (op.operation_id, status, issues)


def test_error_envelope_requires_all_four_keys(contract):
    issues = contract.validate("getRun", 404, {"error": {"message": "no such run", "type": "invalid_request_error"}})
    assert {issue.message for issue in issues} == {"'param' is a required property", "'code' is a required property"}


def request_objects(contract, node, pointer, seen=None):
    """(pointer, schema) of every object schema a request body can contain, $refs followed once each."""
    seen = set() if seen is None else seen
    if isinstance(node, dict) and "$ref" in node:
        if node["$ref"] in seen:
            return
        seen.add(node["$ref"])
        pointer = node["$ref"].rsplit("/", 1)[-1]
    node = contract.deref(node)
    if not isinstance(node, dict):
        return
    types = node.get("type")
    types = [types] if isinstance(types, str) else types or []
    if "object" in types or "properties" in node:
        yield pointer, node
    for name, child in (node.get("properties") or {}).items():
        yield from request_objects(contract, child, f"{pointer}.{name}", seen)
    if isinstance(node.get("items"), dict):
        yield from request_objects(contract, node["items"], f"{pointer}[]", seen)
    for keyword in ("oneOf", "anyOf", "allOf"):
        for index, variant in enumerate(node.get(keyword) or []):
            yield from request_objects(contract, variant, f"{pointer}<{index}>", seen)


def test_request_bodies_are_closed_all_the_way_down(contract):
    """Servers reject unknown parameters at any depth, so every request object is closed, except maps
    (metadata, attributes: additionalProperties is a schema) and user-written JSON Schemas (`{type: object}`
    without properties: function parameters, response_format's schema)."""
    open_on_purpose, closed = set(), set()
    for op in contract.operations:
        schema = contract.request_schema(op.operation_id)
        if schema is None:
            continue
        assert schema.get("additionalProperties") is False, op.operation_id
        for pointer, node in request_objects(contract, schema, op.operation_id):
            if isinstance(node.get("additionalProperties"), dict) or set(node) <= {"type", "description"}:
                open_on_purpose.add(pointer)
            else:
                assert node.get("additionalProperties") is False, f"open request object at {pointer}"
                closed.add(pointer)
    assert {p.rsplit(".", 1)[-1] for p in open_on_purpose} == {"parameters", "schema", "Metadata",
                                                                "VectorStoreFileAttributes"}
    assert len(closed) >= 40


def test_response_objects_stay_open_at_every_depth(contract):
    tools = [{"type": "function", "function": {"name": "f", "future": 1}, "future": 2}]
    run = make_run(some_future_field={"x": 1}, tools=tools, truncation_strategy={"type": "auto", "future": 1},
                   tool_choice={"type": "function", "function": {"name": "f", "future": 1}},
                   response_format={"type": "json_schema", "json_schema": {"name": "n", "future": 1}})
    assert contract.validate("getRun", 200, run) == []
    body = {"assistant_id": "a", "tools": tools}
    assert [i.pointer for i in contract.validate_request("createRun", body)] == ["/tools/0/function"]


@pytest.mark.parametrize("operation, body, pointer", [
    ("createAssistant", {"model": "m", "tools": [{"type": "function", "function": {"name": "f", "x": 1}}]},
     "/tools/0"),
    ("createAssistant", {"model": "m", "tools": [{"type": "file_search", "file_search": {"x": 1}}]}, "/tools/0"),
    ("createAssistant", {"model": "m", "response_format": {"type": "json_schema",
                                                           "json_schema": {"name": "n", "x": 1}}}, "/response_format"),
    ("createAssistant", {"model": "m", "tool_resources": {"code_interpreter": {"file_ids": [], "x": 1}}},
     "/tool_resources/code_interpreter"),
    ("createAssistant", {"model": "m", "tool_resources": {"file_search": {"vector_stores": [{"x": 1}]}}},
     "/tool_resources/file_search"),
    ("modifyThread", {"tool_resources": {"file_search": {"vector_store_ids": [], "x": 1}}},
     "/tool_resources/file_search"),
    ("createMessage", {"role": "user", "content": [{"type": "text", "text": "t", "x": 1}]}, "/content"),
    ("createMessage", {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://a.b",
                                                                                        "x": 1}}]}, "/content"),
    ("createMessage", {"role": "user", "content": "t", "attachments": [{"file_id": "f", "tools": [], "x": 1}]},
     "/attachments/0"),
    ("createMessage", {"role": "user", "content": "t",
                       "attachments": [{"file_id": "f", "tools": [{"type": "file_search", "x": 1}]}]},
     "/attachments/0/tools/0"),
    ("createRun", {"assistant_id": "a", "truncation_strategy": {"type": "auto", "x": 1}}, "/truncation_strategy"),
    ("createRun", {"assistant_id": "a", "tool_choice": {"type": "function", "function": {"name": "f", "x": 1}}},
     "/tool_choice"),
    ("createVectorStore", {"expires_after": {"anchor": "last_active_at", "days": 1, "x": 1}}, "/expires_after"),
    ("submitToolOuputsToRun", {"tool_outputs": [{"tool_call_id": "c", "output": "o", "x": 1}]}, "/tool_outputs/0"),
])
def test_unknown_nested_parameters_are_invalid(contract, operation, body, pointer):
    issues = contract.validate_request(operation, body)
    assert issues, body
    assert any(issue.pointer.startswith(pointer) for issue in issues), issues


def test_stream_event_table_has_the_25_event_names(contract):
    assert len(contract.event_names) == 25
    assert {name for name in contract.event_names if name.startswith("thread.run.") and ".step" not in name} == {
        f"thread.run.{status}" for status in RUN_STATUSES if status != "cancelling"} | {
        "thread.run.created", "thread.run.cancelling"} - {"thread.run.in_progress"} | {"thread.run.in_progress"}


def test_links_point_at_real_operations_and_parameters(contract):
    by_id = {op.operation_id: op for op in contract.operations}
    links = 0
    for op in contract.operations:
        for response in contract.document["paths"][op.path][op.method.lower()]["responses"].values():
            for name, link in (response.get("links") or {}).items():
                links += 1
                target = by_id[link["operationId"]]
                target_params = set(target.path.replace("}", "{").split("{")[1::2])
                for parameter in link.get("parameters", {}):
                    assert parameter in target_params, (op.operation_id, name, parameter)
                for field in link.get("requestBody", {}) or {}:
                    assert field in contract.request_schema(target.operation_id)["properties"], (name, field)
    assert links >= 40


# ------------------------------------------------------------------------------------------------ limits
@pytest.mark.parametrize("body, pointer", [
    ({"model": "m", "metadata": {f"k{i}": "v" for i in range(17)}}, "/metadata"),
    ({"model": "m", "metadata": {"k" * 65: "v"}}, "/metadata"),
    ({"model": "m", "metadata": {"k": "v" * 513}}, "/metadata/k"),
    ({"model": "m", "name": "n" * 257}, "/name"),
    ({"model": "m", "description": "d" * 513}, "/description"),
    ({"model": "m", "temperature": 2.5}, "/temperature"),
    ({"model": "m", "top_p": -0.1}, "/top_p"),
    ({"model": "m", "tools": [{"type": "code_interpreter"}] * 129}, "/tools"),
    ({"model": "m", "tool_resources": {"code_interpreter": {"file_ids": ["f"] * 21}}},
     "/tool_resources/code_interpreter/file_ids"),
    ({"model": "m", "tool_resources": {"file_search": {"vector_store_ids": ["a", "b"]}}},
     "/tool_resources/file_search/vector_store_ids"),
    ({"model": "m", "unknown_field": 1}, ""),
    ({}, ""),
])
def test_create_assistant_limits(contract, body, pointer):
    issues = contract.validate_request("createAssistant", body)
    assert issues, body
    assert pointer in {issue.pointer for issue in issues} or any(i.pointer.startswith(pointer) for i in issues)


@pytest.mark.parametrize("body, pointer", [
    ({"assistant_id": "a", "tools": [{"type": "code_interpreter"}] * 21}, "/tools"),
    ({"assistant_id": "a", "max_prompt_tokens": 255}, "/max_prompt_tokens"),
    ({"assistant_id": "a", "max_completion_tokens": 100}, "/max_completion_tokens"),
    ({"assistant_id": "a", "truncation_strategy": {"type": "last_messages", "last_messages": 0}},
     "/truncation_strategy/last_messages"),
])
def test_create_run_limits(contract, body, pointer):
    assert pointer in {issue.pointer for issue in contract.validate_request("createRun", body)}


def test_create_run_accepts_nulls_for_nullable_fields(contract):
    body = {"assistant_id": "a", "model": None, "instructions": None, "tools": None, "metadata": None,
            "temperature": None, "top_p": None, "stream": None, "max_prompt_tokens": None,
            "max_completion_tokens": 256, "truncation_strategy": None, "tool_choice": None,
            "response_format": None, "reasoning_effort": None}
    assert contract.validate_request("createRun", body) == []


@pytest.mark.parametrize("limit, ok", [(0, False), (1, True), (100, True), (101, False)])
def test_list_limit_parameter_is_bounded(contract, limit, ok):
    parameter = contract.document["components"]["parameters"]["Limit"]["schema"]
    assert (parameter["minimum"] <= limit <= parameter["maximum"]) is ok


# ------------------------------------------------------------------------------------------------ validation
@pytest.mark.parametrize("status", RUN_STATUSES)
def test_runs_in_every_status_validate(contract, status):
    assert contract.validate("getRun", 200, make_run(status=status)) == []


def test_validate_by_method_and_path_template(contract):
    assert contract.validate(("GET", "/threads/{thread_id}/runs/{run_id}"), 200, make_run()) == []
    assert contract.operation("get", "/threads/{thread_id}/runs/{run_id}").operation_id == "getRun"


def test_issues_are_precise(contract):
    body = make_run(status="finished", started_at="soon", tools=[{"type": "browser"}])
    del body["model"]
    issues = contract.validate("getRun", 200, body)
    by_pointer = {issue.pointer: issue for issue in issues}
    assert set(by_pointer) == {"", "/status", "/started_at", "/tools/0/type"}
    assert by_pointer[""].expected == "required: ['model']"
    assert by_pointer["/status"].got == '"finished"'
    assert by_pointer["/status"].expected.startswith("enum: ")
    assert by_pointer["/started_at"].expected == 'type: ["integer", "null"]'
    assert all(isinstance(issue, ValidationIssue) and issue.message for issue in issues)


def test_oneof_failures_point_into_the_matching_variant(contract):
    step = {"id": "step_1", "object": "thread.run.step", "created_at": 1, "assistant_id": "a", "thread_id": "t",
            "run_id": "r", "type": "tool_calls", "status": "completed", "last_error": None, "expired_at": None,
            "cancelled_at": None, "failed_at": None, "completed_at": 2, "usage": None,
            "step_details": {"type": "tool_calls", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}}
    issues = contract.validate("getRunStep", 200, step)
    assert [(i.pointer, i.expected) for i in issues] == [
        ("/step_details/tool_calls/0/function", "required: ['output']")]


def test_empty_list_page_has_null_cursors(contract):
    page = {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}
    assert contract.validate("listRuns", 200, page) == []
    issues = contract.validate("listRuns", 200, dict(page, data=[make_run(object="thread.message")]))
    assert [i.pointer for i in issues] == ["/data/0/object"]


def test_undeclared_status_and_unknown_operation_raise(contract):
    with pytest.raises(ContractError, match="status 418"):
        contract.validate("getRun", 418, {})
    with pytest.raises(ContractError, match="getRuns"):
        contract.validate("getRuns", 200, {})
    with pytest.raises(ContractError, match="PUT /threads"):
        contract.operation("PUT", "/threads")


def test_validate_event(contract):
    assert contract.validate_event("thread.run.created", make_run()) == []
    assert contract.validate_event("thread.run.created", json.dumps(make_run())) == []
    assert contract.validate_event("done", "[DONE]") == []
    assert contract.validate_event("done", "DONE")
    delta = {"id": "msg_1", "object": "thread.message.delta",
             "delta": {"content": [{"index": 0, "type": "text", "text": {"value": "Hel", "annotations": []}}]}}
    assert contract.validate_event("thread.message.delta", delta) == []
    assert [i.pointer for i in contract.validate_event("thread.message.delta", {"id": "m", "object": "x"})] == [
        "", "/object"]
    assert contract.validate_event("error", {"message": "boom", "type": "server_error", "param": None,
                                             "code": None}) == []
    [not_json] = contract.validate_event("thread.run.created", "{not json")
    assert "not JSON" in not_json.message


def test_unknown_event_name_is_one_issue(contract):
    [issue] = contract.validate_event("thread.run.paused", {"id": "x"})
    assert "unknown stream event 'thread.run.paused'" in issue.message
    assert issue.got == '"thread.run.paused"'


def test_schema_lookup(contract):
    assert contract.schema("RunStatus")["enum"] == RUN_STATUSES
    with pytest.raises(ContractError):
        contract.schema("NoSuchSchema")


# ------------------------------------------------------------------------------------------------ loading
def test_spec_hash_and_path(contract):
    path = default_contract_path()
    assert contract.path == path.resolve()
    assert contract.spec_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_loading_is_cached_per_path_and_mtime(tmp_path):
    copy = tmp_path / "contract.yaml"
    copy.write_bytes(default_contract_path().read_bytes())
    first = load_contract(copy)
    assert load_contract(str(copy)) is first
    copy.write_bytes(copy.read_bytes() + b"\n# touched\n")
    os.utime(copy, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    second = load_contract(copy)
    assert second is not first and second.spec_hash != first.spec_hash


def test_missing_or_foreign_documents_raise(tmp_path):
    with pytest.raises(ContractError, match="cannot read"):
        load_contract(tmp_path / "absent.yaml")
    swagger = tmp_path / "swagger.json"
    swagger.write_text(json.dumps({"swagger": "2.0", "paths": {}}))
    with pytest.raises(ContractError, match="not an OpenAPI 3"):
        load_contract(swagger)


def test_yaml_dates_are_not_coerced():
    document = parse_document(b"openapi: 3.1.0\nx:\n  enum: [2024-08-21, default_2024_08_21]\n")
    assert document["x"]["enum"] == ["2024-08-21", "default_2024_08_21"]


# ------------------------------------------------------------------------------------------------ normalisation
def test_normalise_nullable_forms():
    document = yaml.safe_load("""
    a: {type: integer, nullable: true}
    b: {type: string, enum: [x, y], nullable: true}
    c: {allOf: [{$ref: '#/X'}, {nullable: true}], description: d}
    d: {$ref: '#/X', nullable: true}
    e: {anyOf: [{type: string}, {type: integer}], nullable: true, description: d}
    f: {type: number, minimum: 0, exclusiveMinimum: true}
    g: {type: number, maximum: 5, exclusiveMaximum: false}
    h: {type: object, properties: {nullable: {type: string}}}
    i: {type: string, nullable: false}
    """)
    out = normalise(document)
    assert out["a"] == {"type": ["integer", "null"]}
    assert out["b"] == {"type": ["string", "null"], "enum": ["x", "y", None]}
    assert out["c"] == {"description": "d", "anyOf": [{"$ref": "#/X"}, {"type": "null"}]}
    assert out["d"] == {"anyOf": [{"$ref": "#/X"}, {"type": "null"}]}
    assert out["e"] == {"description": "d", "anyOf": [{"anyOf": [{"type": "string"}, {"type": "integer"}]},
                                                      {"type": "null"}]}
    assert out["f"] == {"type": "number", "exclusiveMinimum": 0}
    assert out["g"] == {"type": "number", "maximum": 5}
    assert out["h"] == {"type": "object", "properties": {"nullable": {"type": "string"}}}
    assert out["i"] == {"type": "string"}


# ------------------------------------------------------------------------------------------------ tools' opinion
def test_openapi_spec_validator_reports_no_errors():
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename

    document, _ = read_from_filename(str(default_contract_path()))
    validate(document)  # raises on the first error
