"""Run statuses: what polling may observe, and what a finished run does when read again or poked."""

from __future__ import annotations

import pytest

from assistants_conformance.checks import violation
from assistants_conformance.flows import expect_error
from assistants_conformance.protocol.transitions import TERMINAL, check_observed

# Fields of a finished run that say how it ended; none may change once the run is terminal.
ENDING_FIELDS = ("status", "started_at", "completed_at", "cancelled_at", "failed_at", "expires_at",
                 "last_error", "incomplete_details", "usage", "required_action")


@pytest.mark.check("LIFE-001")
@pytest.mark.level("MUST")
def test_polled_statuses_follow_documented_transitions(all_traces, settled_trace):
    """The statuses a client sees while following a run only move along the documented run lifecycle.

    Run lifecycle guide: queued -> in_progress -> requires_action / completed / incomplete / failed /
    cancelling -> cancelled / expired; terminal statuses never change. Every run of the lifecycle
    scenarios is followed from its creation answer through polls (and a read after its expiry time).
    """
    for trace in all_traces:
        trace.ok()
        reads = list(trace.reads)
        if trace is settled_trace and "settled_read" in trace.notes:
            reads.append(trace.notes["settled_read"])
        problems = check_observed([r.status for r in reads])
        if problems:
            violation(f"{trace.label}: {problems[0]} (statuses seen: {' -> '.join(map(str, [r.status for r in reads]))})",
                      [r.exchange for r in reads[-3:]])


@pytest.mark.check("LIFE-012")
@pytest.mark.level("MUST")
def test_terminal_run_never_changes(settled_trace):
    """A run in a terminal status never changes again, even after the time it would have expired.

    Read again once the expires_at it showed while active has passed (when that is within 60 s).
    """
    trace = settled_trace.ok()
    before = trace.final
    if before.get("status") not in TERMINAL:
        violation(f"{trace.label}: polling ended in non-terminal {before.get('status')!r}", [trace.reads[-1].exchange])
    after_read = trace.notes["settled_read"]
    after = after_read.run
    changed = [f"{name}: {before.get(name)!r} -> {after.get(name)!r}"
               for name in ENDING_FIELDS if before.get(name) != after.get(name)]
    if changed:
        violation(f"{trace.label}: read again {trace.notes['pause']:.1f} s after polling saw it "
                  f"{before.get('status')} (past its original expires_at), it had changed: {'; '.join(changed)}",
                  [trace.reads[-1].exchange, after_read.exchange])


def _terminal_runs(traces):
    for trace in traces:
        trace.ok()
        if trace.final.get("status") in TERMINAL:
            yield trace


@pytest.mark.check("LIFE-013")
@pytest.mark.level("MUST")
def test_terminal_run_refuses_cancel(client, declared):
    """Cancelling a run that is already terminal is refused with 400 in the error envelope, and the run stays as it was.

    API reference: cancel applies to runs that are in progress.
    """
    for trace in _terminal_runs(declared("completed_trace", "cancelled_held_trace")):
        response = client.post(f"{trace.run_path()}/cancel", json=None)
        expect_error(response, 400, sent=f"cancel of the {trace.label} ({trace.final.get('status')})")
        again = client.get(trace.run_path())
        if again.status_code == 200 and again.json.get("status") != trace.final.get("status"):
            violation(f"after a refused cancel the {trace.label} went from {trace.final.get('status')!r} "
                      f"to {again.json.get('status')!r}", [response.exchange, again.exchange])


@pytest.mark.check("LIFE-014")
@pytest.mark.level("MUST")
@pytest.mark.capability("function_tools")
def test_terminal_run_refuses_tool_outputs(client, tool_trace, cancelled_held_trace):
    """Submitting tool outputs to a run that is not in requires_action is refused with 400 in the error envelope.

    API reference, submit_tool_outputs: only for runs with status requires_action. The outputs sent
    answer the run's own (earlier) tool calls, so only the status can be the reason for refusal.
    """
    for trace in _terminal_runs([tool_trace, cancelled_held_trace]):
        action = trace.notes["required_actions"][-1] or {}
        calls = (action.get("submit_tool_outputs") or {}).get("tool_calls") or []
        outputs = [{"tool_call_id": call.get("id"), "output": "late"} for call in calls]
        response = client.post(f"{trace.run_path()}/submit_tool_outputs", json={"tool_outputs": outputs})
        expect_error(response, 400, sent=f"tool outputs for the {trace.label} ({trace.final.get('status')})")
