"""Bad client input: malformed JSON, wrong types, unknown fields, missing required fields. Each is a 400
in the error envelope, never a 5xx. Hypothesis chooses the bodies; examples are few and not shrunk
(each is a real request), and anything a target accepts by mistake is still cleaned up.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from assistants_conformance.checks import require, violation
from assistants_conformance.flows import expect_error, http_examples
from assistants_conformance.protocol.errors import error_envelope_problems


# Create operations and the smallest valid body of each (so one changed field is the only problem).
CREATES = ["assistant", "thread", "message", "run"]


class Targets:
    """Paths and minimal valid bodies of the create operations, on one thread and assistant per check."""

    def __init__(self, factory):
        self.factory = factory
        self._thread_id: str | None = None
        self._assistant_id: str | None = None

    @property
    def thread_id(self) -> str:
        if self._thread_id is None:
            self._thread_id = self.factory.thread()["id"]
        return self._thread_id

    @property
    def assistant_id(self) -> str:
        if self._assistant_id is None:
            self._assistant_id = self.factory.assistant()["id"]
        return self._assistant_id

    def valid_body(self, kind: str) -> dict:
        tag = self.factory.tag()
        return {
            "assistant": {"model": self.factory.model, "metadata": tag},
            "thread": {"metadata": tag},
            "message": {"role": "user", "content": "Hello."},
            "run": {"assistant_id": self.assistant_id, "metadata": tag},
        }[kind]

    def path(self, kind: str) -> str:
        return {"assistant": "/assistants", "thread": "/threads",
                "message": f"/threads/{self.thread_id}/messages", "run": f"/threads/{self.thread_id}/runs"}[kind]

    def post(self, kind: str, *, json_body=None, content: bytes | None = None):
        """POST to the create operation; a 200 is tracked for cleanup (messages go with their thread)."""
        f = self.factory
        if content is not None:
            return f.post_bytes(self.path(kind), content)
        if kind == "assistant":
            return f.post_assistant(json_body)
        if kind == "thread":
            return f.post_thread(json_body)
        if kind == "message":
            return f.client.post(self.path(kind), json=json_body)
        return f.post_run(self.thread_id, json_body)


@pytest.fixture
def creates(factory) -> Targets:
    return Targets(factory)


# --- malformed JSON ---------------------------------------------------------------------------------


def _not_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return True
    return False


MALFORMED = st.one_of(
    st.binary(min_size=1, max_size=64),
    # Valid bodies cut short: the most common client bug.
    st.builds(lambda cut: b'{"metadata": {"k": "v"}, "name": "x"}'[:cut], st.integers(1, 36)),
).filter(lambda raw: raw.strip() != b"" and _not_json(raw))


@pytest.mark.check("ERR-010")
@pytest.mark.level("MUST")
@pytest.mark.parametrize("kind", CREATES)
@http_examples(4)
@given(raw=MALFORMED)
@example(raw=b'{"model": ')
def test_malformed_json_is_bad_request(creates, kind, raw):
    """A request body that is not valid JSON is answered 400 in the error envelope, not 5xx."""
    expect_error(creates.post(kind, content=raw), 400, sent=f"a {kind} body of malformed JSON {raw[:40]!r}")


# --- wrong types ------------------------------------------------------------------------------------

# Field -> (kinds it belongs to, a strategy of values of the wrong JSON type).
JSON_SCALARS = {
    "string": st.text(max_size=10),
    "number": st.floats(-1e6, 1e6, allow_nan=False) | st.integers(-10**6, 10**6),
    "boolean": st.booleans(),
    "array": st.lists(st.integers(0, 9), max_size=3),
    "object": st.dictionaries(st.text("abc", min_size=1, max_size=3), st.integers(0, 9), max_size=2),
}


def wrong(*allowed: str):
    """Values of any JSON type except `allowed` (and not null, which many fields accept)."""
    return st.one_of(*(strategy for name, strategy in JSON_SCALARS.items() if name not in allowed))


WRONG_TYPES = {
    "assistant": {"model": wrong("string"), "name": wrong("string"), "temperature": wrong("number"),
                  "tools": wrong("array"), "metadata": wrong("object")},
    "thread": {"messages": wrong("array"), "metadata": wrong("object")},
    "message": {"role": wrong("string"), "content": wrong("string", "array"), "metadata": wrong("object")},
    "run": {"assistant_id": wrong("string"), "max_completion_tokens": wrong("number"),
            "parallel_tool_calls": wrong("boolean"), "metadata": wrong("object")},
}


@st.composite
def wrong_type_case(draw, kind: str):
    field = draw(st.sampled_from(sorted(WRONG_TYPES[kind])))
    return field, draw(WRONG_TYPES[kind][field])


@pytest.mark.check("ERR-011")
@pytest.mark.level("MUST")
@pytest.mark.parametrize("kind", CREATES)
@http_examples(5)
@given(data=st.data())
def test_wrong_type_is_bad_request(creates, kind, data):
    """A body field of the wrong JSON type is answered 400 in the error envelope with error.param naming the field."""
    field, value = data.draw(wrong_type_case(kind))
    body = {**creates.valid_body(kind), field: value}
    expect_error(creates.post(kind, json_body=body), 400, param=field, sent=f"{kind} {field} = {value!r}")


# --- unknown fields ---------------------------------------------------------------------------------

KNOWN = {
    "assistant": {"model", "name", "description", "instructions", "reasoning_effort", "tools", "tool_resources",
                  "metadata", "temperature", "top_p", "response_format"},
    "thread": {"messages", "tool_resources", "metadata"},
    "message": {"role", "content", "attachments", "metadata"},
    "run": {"assistant_id", "model", "reasoning_effort", "instructions", "additional_instructions",
            "additional_messages", "tools", "metadata", "temperature", "top_p", "stream", "max_prompt_tokens",
            "max_completion_tokens", "truncation_strategy", "tool_choice", "parallel_tool_calls",
            "response_format", "include"},
}
FIELD_NAME = st.from_regex(r"\A[a-z][a-z_]{2,20}\Z")


@pytest.mark.check("ERR-012")
@pytest.mark.level("MUST")
@pytest.mark.parametrize("kind", CREATES)
@http_examples(3)
@given(name=FIELD_NAME, value=st.one_of(st.text(max_size=8), st.integers(), st.booleans()))
@example(name="unknown_conformance_field", value="x")
def test_unknown_field_is_bad_request(creates, kind, name, value):
    """A create body with a field the API does not define is rejected with 400 in the error envelope.

    Every request body schema of the API is closed (no additional properties). error.param is not
    required to name the field: OpenAI answers "Unrecognized request argument supplied: NAME" with param null.
    """
    if name in KNOWN[kind]:
        name = f"{name}_unknown"
    body = {**creates.valid_body(kind), name: value}
    expect_error(creates.post(kind, json_body=body), 400, sent=f"a {kind} body with the unknown field {name!r}")


# --- missing required fields ------------------------------------------------------------------------

REQUIRED = [("assistant", "model"), ("message", "role"), ("message", "content"), ("run", "assistant_id")]


@pytest.mark.check("ERR-013")
@pytest.mark.level("MUST")
@pytest.mark.parametrize("kind,field", REQUIRED)
def test_missing_required_field_is_bad_request(creates, kind, field):
    """A create body without a required field is answered 400 in the error envelope with error.param naming the field."""
    body = {name: value for name, value in creates.valid_body(kind).items() if name != field}
    expect_error(creates.post(kind, json_body=body), 400, param=field, sent=f"a {kind} body without {field!r}")


# --- no 5xx for anything a client sends ---------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**9, 10**9) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


# Fields of any create body (a field foreign to the kind is simply an unknown field there). Not `stream`
# (a 200 would be an SSE stream) nor `include` (a query parameter).
ANY_FIELD = sorted(set().union(*KNOWN.values()) - {"stream", "include"})

CLIENT_INPUT = st.one_of(
    st.fixed_dictionaries({"content": st.binary(min_size=1, max_size=64)}),
    st.fixed_dictionaries({"json_body": JSON_VALUES}),
    st.fixed_dictionaries({"field": st.sampled_from(ANY_FIELD), "value": JSON_VALUES}),
)


@pytest.mark.check("ERR-014")
@pytest.mark.level("MUST")
@pytest.mark.parametrize("kind", CREATES)
@http_examples(8)
@given(case=CLIENT_INPUT)
@example(case={"content": b"{"})
@example(case={"json_body": [{"model": None}]})
def test_client_input_never_causes_server_error(creates, kind, case):
    """No request body a client sends, however wrong, is answered 5xx; every error answer is in the error envelope.

    Bodies are raw bytes, any JSON document, or a minimal valid body with one field set to any JSON value.
    """
    if "field" in case:
        response = creates.post(kind, json_body={**creates.valid_body(kind), case["field"]: case["value"]})
        sent = f"a {kind} body with {case['field']} = {case['value']!r}"
    elif "content" in case:
        response = creates.post(kind, content=case["content"])
        sent = f"the raw {kind} body {case['content']!r}"
    elif case["json_body"] is None:  # the JSON document `null` (json=None would send no body at all)
        response = creates.post(kind, content=b"null")
        sent = f"the {kind} body null"
    else:
        response = creates.post(kind, json_body=case["json_body"])
        sent = f"the {kind} body {case['json_body']!r}"
    if response.status_code >= 500:
        violation(f"for {sent[:300]}: the target answered {response.status_code}; client input must be a 4xx",
                  [response.exchange])
    if response.status_code >= 400:
        problems = error_envelope_problems(response.json)
        require(not problems, f"for {sent[:300]}: the {response.status_code} answer is not in the error "
                f"envelope: {'; '.join(problems)}", [response.exchange])
