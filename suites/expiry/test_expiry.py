"""Runs left waiting for tool outputs expire at expires_at; an expired run is over and frees its thread."""

from __future__ import annotations

import pytest

from assistants_conformance.checks import violation
from assistants_conformance.flows import expect_error


@pytest.mark.check("EXP-001")
@pytest.mark.level("MUST")
@pytest.mark.capability("expiry")
def test_unanswered_run_expires_at_expires_at(expired_trace):
    """A run left in requires_action without tool outputs turns expired once its expires_at has passed, not before.

    Run lifecycle guide: if the outputs are not submitted before expires_at, the run moves to expired.
    Observed with the local clock corrected by the server's created_at; tolerance max(2 s, 10 % of the
    profile's expiry window) either side for clock rounding and polling.
    """
    trace = expired_trace.ok()
    waiting = [s for s in trace.sightings if s.status == "requires_action"]
    ended = [s for s in trace.sightings if s.status != "requires_action"]
    if ended and ended[0].received < trace.expires_local - trace.tolerance:
        violation(f"the run was {ended[0].status} {trace.expires_local - ended[0].received:.1f} s before its "
                  f"expires_at", [ended[0].exchange])
    if not ended:
        last = waiting[-1]
        violation(f"the run was still requires_action {last.sent - trace.expires_local:.1f} s after its "
                  f"expires_at (tolerance {trace.tolerance:g} s)", [last.exchange])
    if ended[0].status != "expired":
        violation(f"the unanswered run left requires_action for {ended[0].status!r}, expected expired",
                  [ended[0].exchange])
    if waiting and waiting[-1].sent > trace.expires_local + trace.tolerance:
        violation(f"the run was still requires_action {waiting[-1].sent - trace.expires_local:.1f} s after its "
                  f"expires_at (tolerance {trace.tolerance:g} s)", [waiting[-1].exchange, ended[0].exchange])


@pytest.mark.check("EXP-002")
@pytest.mark.level("MUST")
@pytest.mark.capability("expiry")
def test_expired_run_refuses_tool_outputs(client, expired_trace):
    """Tool outputs submitted after the run expired are refused with 400 in the error envelope.

    API reference: tool outputs are accepted only while the run is in requires_action. The outputs
    answer the run's own tool calls, so only the expiry can be the reason for refusal.
    """
    trace = expired_trace.require_expired()
    calls = trace.held.run["required_action"]["submit_tool_outputs"]["tool_calls"]
    response = client.post(f"{trace.run_path()}/submit_tool_outputs",
                           json={"tool_outputs": [{"tool_call_id": c["id"], "output": "too late"} for c in calls]})
    expect_error(response, 400, sent="tool outputs for the expired run's own tool calls")
    again = client.get(trace.run_path())
    if again.status_code == 200 and isinstance(again.json, dict) and again.json.get("status") != "expired":
        violation(f"after late tool outputs the expired run shows {again.json.get('status')!r}",
                  [response.exchange, again.exchange])


@pytest.mark.check("EXP-003")
@pytest.mark.level("MUST")
@pytest.mark.capability("expiry")
def test_expired_run_unlocks_thread(client, factory, expired_trace):
    """Once its run has expired, a thread takes new messages and runs again.

    Thread locks last only while a run is not terminal; expired is terminal.
    """
    trace = expired_trace.require_expired()
    thread_id = trace.held.thread_id
    message = client.post(f"/threads/{thread_id}/messages", json={"role": "user", "content": "Still there?"})
    if message.status_code != 200:
        violation(f"after the run expired, adding a message to its thread answered {message.status_code}",
                  [message.exchange])
    run = factory.post_run(thread_id, {"assistant_id": trace.held.assistant["id"], "tool_choice": "none",
                                       "metadata": factory.tag()})
    if run.status_code != 200:
        violation(f"after the run expired, creating a run on its thread answered {run.status_code}", [run.exchange])
