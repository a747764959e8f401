"""Thread locks: while a run on a thread is active, the thread takes no new messages and no new runs.

Every check holds a run in requires_action with a tool_choice naming a function (deterministic on any
server), then probes the thread through the protocol.
"""

from __future__ import annotations

import pytest

from assistants_conformance.checks import violation
from assistants_conformance.flows import HOLD_PROMPT, expect_error, hold_run, poll_run
from assistants_conformance.protocol.transitions import TERMINAL

PROBE_TEXT = "One more question: are you still there?"


def post_message(factory, thread_id: str):
    return factory.client.post(f"/threads/{thread_id}/messages", json={"role": "user", "content": PROBE_TEXT})


def post_run(factory, thread_id: str, assistant_id: str):
    # tool_choice none: if the run is accepted it does not pause, so it cannot hold the thread for long.
    return factory.post_run(thread_id, {"assistant_id": assistant_id, "tool_choice": "none",
                                        "metadata": factory.tag()})


def expect_unlocked(factory, thread_id: str, assistant_id: str, after: str) -> None:
    """Both a message and a run are accepted on the thread (the message first: a run would lock it)."""
    for what, response in (("a message", post_message(factory, thread_id)),
                           ("a run", post_run(factory, thread_id, assistant_id))):
        if response.status_code != 200:
            violation(f"{after}, creating {what} on the thread answered {response.status_code}; "
                      f"the thread should be unlocked", [response.exchange])


def finish(factory, held, timeout: float) -> dict:
    return poll_run(factory.client, held.thread_id, held.run["id"], until=TERMINAL, timeout=timeout,
                    factory=factory).final


@pytest.mark.check("LOCK-001")
@pytest.mark.level("MUST")
@pytest.mark.capability("function_tools")
def test_locked_thread_refuses_messages(factory, profile):
    """While a run on a thread is active, adding a message to the thread is refused with 400 in the error envelope.

    Run lifecycle guide, thread locks: no new messages can be added while a run is not terminal.
    """
    held = hold_run(factory, timeout=profile.run_poll_timeout)
    expect_error(post_message(factory, held.thread_id), 400,
                 sent=f"a message while run {held.run['id']} is requires_action")


@pytest.mark.check("LOCK-002")
@pytest.mark.level("MUST")
@pytest.mark.capability("function_tools")
def test_locked_thread_refuses_runs(factory, profile):
    """While a run on a thread is active, creating another run on the thread is refused with 400 in the error envelope.

    Run lifecycle guide, thread locks: no new runs can be created while a run is not terminal.
    """
    held = hold_run(factory, timeout=profile.run_poll_timeout)
    expect_error(post_run(factory, held.thread_id, held.assistant["id"]), 400,
                 sent=f"a second run while run {held.run['id']} is requires_action")


@pytest.mark.check("LOCK-003")
@pytest.mark.level("MUST")
@pytest.mark.capability("function_tools")
def test_lock_is_per_thread(factory, profile):
    """A run that locks one thread does not lock any other thread.

    Thread locks are per thread: the guide speaks of "the thread" of the active run.
    """
    held = hold_run(factory, timeout=profile.run_poll_timeout)
    other = factory.thread(messages=[{"role": "user", "content": HOLD_PROMPT}])
    expect_unlocked(factory, other["id"], held.assistant["id"], after=f"while run {held.run['id']} holds another thread")


@pytest.mark.check("LOCK-004")
@pytest.mark.level("MUST")
@pytest.mark.capability("function_tools")
def test_unlocked_after_completion(factory, profile):
    """Once a run has ended, its thread takes new messages and runs again.

    The run is held in requires_action, answered with tool outputs and followed to its end.
    """
    held = hold_run(factory, timeout=profile.run_poll_timeout)
    calls = held.run["required_action"]["submit_tool_outputs"]["tool_calls"]
    response = factory.client.post(f"/threads/{held.thread_id}/runs/{held.run['id']}/submit_tool_outputs",
                                   json={"tool_outputs": [{"tool_call_id": c["id"], "output": "42"} for c in calls]})
    if response.status_code != 200:
        violation(f"submitting tool outputs to the held run answered {response.status_code}", [response.exchange])
    final = finish(factory, held, profile.run_poll_timeout)
    expect_unlocked(factory, held.thread_id, held.assistant["id"], after=f"after the run ended {final.get('status')}")


@pytest.mark.check("LOCK-005")
@pytest.mark.level("MUST")
@pytest.mark.capability("cancel")
def test_unlocked_after_cancel(factory, profile):
    """Once a cancelled run has reached a terminal status, its thread takes new messages and runs again.

    The run is held in requires_action, cancelled and followed to its end.
    """
    held = hold_run(factory, timeout=profile.run_poll_timeout)
    response = factory.client.post(f"/threads/{held.thread_id}/runs/{held.run['id']}/cancel", json=None)
    if response.status_code != 200:
        violation(f"cancelling the held run answered {response.status_code}", [response.exchange])
    final = finish(factory, held, profile.run_poll_timeout)
    expect_unlocked(factory, held.thread_id, held.assistant["id"], after=f"after the run ended {final.get('status')}")
