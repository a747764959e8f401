"""Drift check: our contract against OpenAI's published OpenAPI document, every difference allow-listed.

OpenAI's document is read from <project>/../shared/specs/openai-openapi.json when present (it may not be
copied into the project); without it the comparison tests are skipped. The comparator itself is tested on
small synthetic documents, which always runs.
"""

from __future__ import annotations

import json
import time

import pytest

from assistants_conformance import paths
from assistants_conformance.spec import load_contract
from assistants_conformance.spec.drift import apply_allowlist, compare_contracts, load_allowlist

OPENAI_DOCUMENT = paths.PROJECT_DIR.parent / "shared" / "specs" / "openai-openapi.json"
ALLOWLIST = paths.specs_dir() / "drift-allowlist.yaml"

needs_openai = pytest.mark.skipif(
    not OPENAI_DOCUMENT.exists(),
    reason=f"OpenAI's published OpenAPI document is not available at {OPENAI_DOCUMENT}; drift check skipped",
)


@pytest.fixture(scope="module")
def openai_contract():
    return load_contract(OPENAI_DOCUMENT)


@needs_openai
def test_openai_document_loads_normalised_and_cached(openai_contract):
    started = time.perf_counter()
    assert load_contract(OPENAI_DOCUMENT) is openai_contract  # cached per path + mtime
    assert time.perf_counter() - started < 0.05
    family = [op for op in openai_contract.operations
              if op.path.startswith(("/assistants", "/threads", "/vector_stores", "/files"))]
    assert len(family) == 44
    # A normal queued run: nullable fields null. OpenAI's document writes them with 3.0 `nullable` and
    # `allOf: [$ref, {nullable: true}]`, which only validate after normalisation.
    run = {"id": "run_1", "object": "thread.run", "created_at": 1, "thread_id": "t", "assistant_id": "a",
           "status": "queued", "required_action": None, "last_error": None, "expires_at": None, "started_at": None,
           "cancelled_at": None, "failed_at": None, "completed_at": None, "model": "gpt-4o", "instructions": "",
           "tools": [], "metadata": None, "usage": None, "incomplete_details": None, "max_prompt_tokens": None,
           "max_completion_tokens": None, "truncation_strategy": None, "tool_choice": None,
           "parallel_tool_calls": True, "response_format": None}
    assert openai_contract.validate("getRun", 200, run) == []
    assert openai_contract.validate(("GET", "/threads/{thread_id}/runs/{run_id}"), 200, run) == []
    # ... and their own quirk is visible through our loader: instructions is not nullable there.
    assert [i.pointer for i in openai_contract.validate("getRun", 200, dict(run, instructions=None))] == [
        "/instructions"]


@needs_openai
def test_every_difference_from_openai_is_allow_listed(openai_contract):
    differences = compare_contracts(load_contract(), openai_contract)
    unlisted, stale = apply_allowlist(differences, load_allowlist(ALLOWLIST))
    report = []
    if unlisted:
        report.append(f"{len(unlisted)} difference(s) from OpenAI's document not in {ALLOWLIST.name}:")
        report += [f"  - {difference}" for difference in unlisted]
    if stale:
        report.append(f"{len(stale)} stale allow-list entr(y/ies) that match no difference any more:")
        report += [f"  - {entry.where}  ({entry.reason})" for entry in stale]
    assert not report, "\n".join(report)


def test_allowlist_entries_are_well_formed():
    entries = load_allowlist(ALLOWLIST)
    assert entries
    assert len({entry.where for entry in entries}) == len(entries), "duplicate `where` patterns"


# ------------------------------------------------------------------------------------------------ the comparator
def _document(schema: dict, *, extra_status: bool = False, limit_max: int | None = None) -> dict:
    limit = {"type": "integer", **({"maximum": limit_max} if limit_max else {})}
    responses = {"200": {"description": "ok", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Thing"}}}}}
    if extra_status:
        responses["404"] = {"description": "missing"}
    return {
        "openapi": "3.1.0", "info": {"title": "t", "version": "1"},
        "paths": {"/threads/{thread_id}": {"get": {
            "operationId": "getThing",
            "parameters": [{"name": "thread_id", "in": "path", "required": True, "schema": {"type": "string"}},
                           {"name": "limit", "in": "query", "schema": limit}],
            "responses": responses}}},
        "components": {"schemas": {"Thing": schema}},
    }


BASE = {"type": "object", "required": ["id", "kind"], "properties": {
    "id": {"type": "string"}, "kind": {"type": "string", "enum": ["a", "b"]},
    "when": {"type": "integer", "nullable": True},
    "tags": {"type": "array", "maxItems": 3, "items": {"type": "string"}},
    "part": {"oneOf": [{"type": "object", "properties": {"type": {"const": "x"}}},
                       {"type": "object", "properties": {"type": {"const": "y"}, "v": {"type": "integer"}}}]}}}


def _compare(tmp_path, ours: dict, theirs: dict) -> set[str]:
    (tmp_path / "ours.json").write_text(json.dumps(ours))
    (tmp_path / "theirs.json").write_text(json.dumps(theirs))
    return {d.key for d in compare_contracts(load_contract(tmp_path / "ours.json"),
                                             load_contract(tmp_path / "theirs.json"))}


def test_identical_documents_have_no_differences(tmp_path):
    assert _compare(tmp_path, _document(BASE), _document(json.loads(json.dumps(BASE)))) == set()


def test_nullable_spellings_are_equivalent(tmp_path):
    ours = json.loads(json.dumps(BASE))
    ours["properties"]["when"] = {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert _compare(tmp_path, _document(ours), _document(BASE)) == set()


def test_comparator_finds_each_kind_of_difference(tmp_path):
    ours = json.loads(json.dumps(BASE))
    ours["required"] = ["id"]
    ours["properties"]["kind"]["enum"] = ["a", "b", "c"]
    ours["properties"]["when"] = {"type": "integer"}
    ours["properties"]["tags"]["maxItems"] = 5
    ours["properties"]["extra"] = {"type": "string"}
    ours["properties"]["part"]["oneOf"][1]["properties"]["v"] = {"type": "string"}
    ours["properties"]["part"]["oneOf"].append({"type": "object", "properties": {"type": {"const": "z"}}})
    found = _compare(tmp_path, _document(ours, extra_status=True, limit_max=100), _document(BASE))
    assert found == {
        "Thing: required", "Thing.kind: enum", "Thing.when: type", "Thing.tags: maxItems",
        "Thing.extra: property", "Thing.part<type=y>.v: type", "Thing.part<type=z>: variant",
        "op:getThing.response.404: status", "op:getThing.param.query.limit: maximum",
    }


def test_allowlist_reports_unlisted_and_stale(tmp_path):
    ours = json.loads(json.dumps(BASE))
    ours["properties"]["tags"]["maxItems"] = 5
    differences = compare_contracts(
        load_contract(_write(tmp_path / "a.json", _document(ours))),
        load_contract(_write(tmp_path / "b.json", _document(BASE))))
    allow_file = tmp_path / "allow.yaml"
    allow_file.write_text("differences:\n"
                          "  - {where: 'Thing.tags: max*', reason: tags are capped at 5}\n"
                          "  - {where: 'Thing[]: minItems', reason: no longer differs}\n")
    unlisted, stale = apply_allowlist(differences, load_allowlist(allow_file))
    assert unlisted == []
    assert [entry.where for entry in stale] == ["Thing[]: minItems"]
    allow_file.write_text("differences:\n  - {where: 'Thing.tags: maxItems'}\n")
    with pytest.raises(ValueError, match="reason"):
        load_allowlist(allow_file)


def _write(path, document):
    path.write_text(json.dumps(document))
    return path
