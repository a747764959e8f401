"""Unknown ids: every object kind answers 404 in the error envelope for a well-formed id that does not exist.

The ids used carry the right prefix and a random 24-character tail, so a target cannot tell them from
real ids by their shape; the check is about existence, not id syntax.
"""

from __future__ import annotations

import secrets

import pytest

from assistants_conformance.checks import require
from assistants_conformance.flows import expect_error, run_for_ids

PREFIX = {"assistant": "asst_", "thread": "thread_", "message": "msg_", "run": "run_", "step": "step_"}


def unknown_id(kind: str) -> str:
    return PREFIX[kind] + "doesnotexist" + secrets.token_hex(6)


@pytest.fixture
def held(factory, profile):
    """A thread with a run (paused in requires_action when the target has function tools), to hang
    unknown children off."""
    return run_for_ids(factory, profile)


def _read_path(kind: str, request) -> str:
    if kind == "assistant":
        return f"/assistants/{unknown_id('assistant')}"
    if kind == "thread":
        return f"/threads/{unknown_id('thread')}"
    held = request.getfixturevalue("held")  # only children of a thread/run need the (slower) held run
    thread, run = held.thread_id, held.run["id"]
    return {
        "message": f"/threads/{thread}/messages/{unknown_id('message')}",
        "run": f"/threads/{thread}/runs/{unknown_id('run')}",
        "step": f"/threads/{thread}/runs/{run}/steps/{unknown_id('step')}",
    }[kind]


@pytest.mark.check("ERR-001")
@pytest.mark.level("MUST")
@pytest.mark.parametrize("kind", list(PREFIX))
def test_unknown_id_is_not_found(client, request, kind):
    """Retrieving an assistant, thread, message, run or run step by an id that does not exist answers 404 in the error envelope."""
    path = _read_path(kind, request)
    expect_error(client.get(path), 404, sent=f"GET {path}")


def _write_requests(held) -> list[tuple[str, str, dict | None]]:
    """Writes that name an unknown object in the path (or, for runs, an unknown assistant in the body)."""
    thread, assistant = held.thread_id, held.assistant["id"]
    return [
        ("POST", f"/assistants/{unknown_id('assistant')}", {"description": "x"}),
        ("DELETE", f"/assistants/{unknown_id('assistant')}", None),
        ("POST", f"/threads/{unknown_id('thread')}", {"metadata": {"k": "v"}}),
        ("DELETE", f"/threads/{unknown_id('thread')}", None),
        ("POST", f"/threads/{unknown_id('thread')}/messages", {"role": "user", "content": "Hello."}),
        ("POST", f"/threads/{thread}/messages/{unknown_id('message')}", {"metadata": {"k": "v"}}),
        ("POST", f"/threads/{unknown_id('thread')}/runs", {"assistant_id": assistant}),
        ("POST", f"/threads/{thread}/runs/{unknown_id('run')}", {"metadata": {"k": "v"}}),
        ("POST", f"/threads/{thread}/runs/{unknown_id('run')}/cancel", None),
        ("POST", f"/threads/{thread}/runs/{unknown_id('run')}/submit_tool_outputs",
         {"tool_outputs": [{"tool_call_id": "call_x", "output": "x"}]}),
    ]


@pytest.mark.check("ERR-002")
@pytest.mark.level("MUST")
def test_unknown_id_in_writes_is_not_found(client, held):
    """Modifying, deleting or adding to an object that does not exist answers 404 in the error envelope, and changes nothing."""
    for method, path, body in _write_requests(held):
        response = client.request(method, path, json=body)
        expect_error(response, 404, sent=f"{method} {path}")
    # The run the unknown ids were hung off is untouched: still in the status it had (requires_action:
    # waiting for its tool outputs).
    run = client.get(f"/threads/{held.thread_id}/runs/{held.run['id']}")
    status = run.json.get("status") if isinstance(run.json, dict) else None
    require(run.status_code == 200 and status == held.run.get("status"),
            f"the run should still be {held.run.get('status')} after writes to unknown ids, got {run.status_code} "
            f"with status {status!r}", [run.exchange])


@pytest.mark.check("ERR-003")
@pytest.mark.level("MUST")
def test_run_with_unknown_assistant_is_not_found(factory, client):
    """Creating a run whose assistant_id does not exist answers 404 in the error envelope (param may name assistant_id)."""
    thread = factory.thread()
    response = factory.post_run(thread["id"], {"assistant_id": unknown_id("assistant")})
    error = expect_error(response, 404, sent="a run for an assistant_id that does not exist")
    assert error.get("param") in (None, "assistant_id"), (
        f"error.param should be null or name assistant_id, got {error.get('param')!r}")
