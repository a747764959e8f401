"""schemathesis 4 loads our contract without errors and generates valid request bodies for every operation."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core import NOT_SET
from schemathesis.core.result import Err

from assistants_conformance.spec import default_contract_path, load_contract

CONTRACT = load_contract()


@pytest.fixture(scope="module")
def schema():
    return schemathesis.openapi.from_path(default_contract_path())


def test_schemathesis_loads_every_operation_without_errors(schema):
    results = list(schema.get_all_operations())
    errors = [str(result.err()) for result in results if isinstance(result, Err)]
    assert errors == []
    assert len(results) == len(CONTRACT.operations) == 44


def _as_json(value):
    """multipart bodies carry bytes for `format: binary` fields; the JSON-Schema view of those is a string."""
    if isinstance(value, (bytes, bytearray)) or isinstance(getattr(value, "data", None), bytes):
        return "<binary>"
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    return value


@pytest.mark.parametrize("operation_id", sorted(op.operation_id for op in CONTRACT.operations))
def test_generated_bodies_are_valid(schema, operation_id):
    operation = schema.find_operation_by_id(operation_id)
    request_schema = CONTRACT.request_schema(operation_id)

    @settings(max_examples=4, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def check(data):
        case = data.draw(operation.as_strategy())
        assert case.operation.label == operation.label
        if request_schema is None or case.body is NOT_SET:
            return
        issues = CONTRACT.validate_request(operation_id, _as_json(case.body))
        assert issues == [], (case.body, issues)

    check()


def test_streaming_switch_can_be_pinned_false(schema):
    """The fuzzing harness pins fields marked x-stream-switch to false; a pinned body is still valid."""
    operation = schema.find_operation_by_id("createRun")

    @settings(max_examples=4, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def check(data):
        case = data.draw(operation.as_strategy())
        body = dict(case.body, stream=False)
        assert CONTRACT.validate_request("createRun", body) == []

    check()


def test_links_become_stateful_transitions(schema):
    """Our explicit links load as schemathesis transitions (a broken link raises while building the machine)."""
    transitions = " ".join(dir(schema.as_state_machine()))
    for link in ("CreateRunWithAssistant", "CreateMessage", "SubmitToolOutputs", "CreateRunOnThread",
                 "CreateMessageOnThread", "ListFilesInVectorStoreBatch"):
        assert link in transitions, link
    assert "GetFirstRunStep" not in transitions  # first_id is null on an empty page: no step id to link
