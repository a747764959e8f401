"""Shared run scenarios for the lifecycle checks.

Each scenario drives one run through the protocol once per session (per xdist worker) and keeps
everything seen of it: every read of the run object with the exchange that carried it, the steps and
messages it made. Several checks judge the same scenario. A scenario never fails on its own: a
problem is stored and re-raised by every check that uses it (`trace.ok()`), so it shows as that
check's failure with evidence, not as a fixture error.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from assistants_conformance.checks import ConformanceFailure, violation
from assistants_conformance.wire.client import TargetError
from assistants_conformance.flows import hold_run, poll_run, shared_factory
from assistants_conformance.protocol.transitions import TERMINAL

# Prompts a real model would honour; none relies on the reference model's private rules.
SHORT_PROMPT = "Say hello in one short sentence."
LONG_PROMPT = "Reply with at least 600 words about the history of bridges."
VERY_LONG_PROMPT = "Write at least 3000 words about the history of bridges, in plain prose."
COMPLETION_BUDGET = 256  # the smallest max_completion_tokens the API accepts
TOOL_OUTPUT = json.dumps({"key": "alpha", "value": "42"})
MAX_TOOL_ROUNDS = 3  # a model may call the named function again after seeing its output


@dataclass
class Read:
    """One sighting of the run object: a GET, or the answer to create / submit / cancel."""

    run: dict
    exchange: Any
    at: float  # local wall clock when the answer arrived

    @property
    def status(self) -> str | None:
        return self.run.get("status")


@dataclass
class RunTrace:
    label: str  # what the scenario did, for messages: "completed run", "run cancelled in requires_action"
    exchanges: list = field(default_factory=list)  # everything the scenario sent and received
    reads: list[Read] = field(default_factory=list)
    failure: BaseException | None = None
    notes: dict = field(default_factory=dict)  # scenario-specific findings (steps, required actions...)

    # --- building ---------------------------------------------------------------------------------------
    def saw(self, run: Any) -> None:
        """Record a run object just received (the last recorded exchange carried it)."""
        if isinstance(run, dict) and run.get("id"):
            self.reads.append(Read(run, self.exchanges[-1] if self.exchanges else None, time.time()))

    def poll(self, factory, *, until=TERMINAL, timeout: float) -> dict:
        final = self.final
        poll = poll_run(factory.client, final["thread_id"], final["id"], until=until, timeout=timeout,
                        factory=factory, on_read=self.saw)
        return poll.final

    # --- reading ----------------------------------------------------------------------------------------
    def ok(self) -> "RunTrace":
        """Re-raise what went wrong while the scenario ran (in the check that needs it)."""
        if self.failure is not None:
            raise self.failure
        return self

    @property
    def final(self) -> dict:
        return self.reads[-1].run

    @property
    def statuses(self) -> list[str]:
        return [r.status for r in self.reads]

    def run_path(self) -> str:
        return f"/threads/{self.final['thread_id']}/runs/{self.final['id']}"


def run_scenario(target, label: str, script: Callable[[Any, RunTrace], None]):
    """Generator for a session fixture: run `script(factory, trace)`, keep its failure, clean up at the end."""
    trace = RunTrace(label)
    with shared_factory(target, recorder=trace.exchanges) as factory:
        try:
            script(factory, trace)
        except (ConformanceFailure, TargetError) as exc:
            trace.failure = exc
        yield trace


def fetch_steps(factory, trace: RunTrace) -> None:
    """List the run's steps (oldest first) into trace.notes["steps"]."""
    response = factory.client.get(f"{trace.run_path()}/steps", params={"order": "asc", "limit": 100})
    if response.status_code != 200 or not isinstance(response.json, dict):
        violation(f"listing the steps of the {trace.label} answered {response.status_code}", [response.exchange])
    trace.notes["steps"] = response.json.get("data") or []
    trace.notes["steps_exchange"] = response.exchange
    # The messages the steps say they created (judged by the step checks, not here).
    trace.notes["messages"] = {}
    for step in trace.notes["steps"]:
        details = step.get("step_details") if isinstance(step, dict) else None
        message_id = ((details or {}).get("message_creation") or {}).get("message_id")
        if isinstance(message_id, str) and message_id:
            trace.notes["messages"][message_id] = factory.client.get(
                f"/threads/{trace.final['thread_id']}/messages/{message_id}")


def submit_outputs(factory, trace: RunTrace, run: dict):
    """Answer every tool call of a run in requires_action; returns the response."""
    calls = ((run.get("required_action") or {}).get("submit_tool_outputs") or {}).get("tool_calls") or []
    outputs = [{"tool_call_id": call.get("id"), "output": TOOL_OUTPUT} for call in calls]
    response = factory.client.post(f"/threads/{run['thread_id']}/runs/{run['id']}/submit_tool_outputs",
                                   json={"tool_outputs": outputs})
    return response


def cancel(factory, trace: RunTrace):
    response = factory.client.post(f"{trace.run_path()}/cancel", json=None)
    trace.notes["cancel_response"] = response
    trace.notes["status_before_cancel"] = trace.final.get("status")
    trace.notes["cancel_index"] = len(trace.reads)  # reads from here on came after the cancel
    if response.status_code == 200:
        trace.saw(response.json)
    return response


# --- scenarios ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def completed_trace(target):
    """A plain assistant asked for a short answer; the run polled to its end, with steps."""
    timeout = target.profile.run_poll_timeout

    def script(factory, trace):
        assistant = factory.assistant(instructions="Answer briefly.")
        thread = factory.thread(messages=[{"role": "user", "content": SHORT_PROMPT}])
        trace.saw(factory.run(thread["id"], assistant["id"]))
        trace.poll(factory, timeout=timeout)
        fetch_steps(factory, trace)

    yield from run_scenario(target, "run asked for a short answer", script)


@pytest.fixture(scope="session")
def tool_trace(target):
    """A run held in requires_action by a named tool_choice, answered with tool outputs, polled to its end."""
    timeout = target.profile.run_poll_timeout

    def script(factory, trace):
        held = hold_run(factory, timeout=timeout, on_read=trace.saw)
        trace.notes["assistant"] = held.assistant
        trace.notes["required_actions"] = []
        run = held.run
        for _ in range(MAX_TOOL_ROUNDS):
            trace.notes["required_actions"].append(run.get("required_action"))
            response = submit_outputs(factory, trace, run)
            trace.notes.setdefault("submit_responses", []).append(response)
            if response.status_code != 200 or not isinstance(response.json, dict):
                violation(f"submitting tool outputs to a run in requires_action answered {response.status_code}",
                          [response.exchange])
            trace.saw(response.json)
            run = trace.poll(factory, until=TERMINAL | {"requires_action"}, timeout=timeout)
            if run.get("status") != "requires_action":
                break
        else:  # still asking after MAX_TOOL_ROUNDS: keep the unanswered round for the step checks
            trace.notes["required_actions"].append(run.get("required_action"))
        fetch_steps(factory, trace)

    yield from run_scenario(target, "run answered with tool outputs", script)


@pytest.fixture(scope="session")
def incomplete_trace(target):
    """A run asked for a long answer under max_completion_tokens, polled to its end."""
    timeout = target.profile.run_poll_timeout

    def script(factory, trace):
        trace.notes["budget"] = COMPLETION_BUDGET
        assistant = factory.assistant()
        thread = factory.thread(messages=[{"role": "user", "content": LONG_PROMPT}])
        trace.saw(factory.run(thread["id"], assistant["id"], max_completion_tokens=COMPLETION_BUDGET))
        trace.poll(factory, timeout=timeout)

    yield from run_scenario(target, f"run asked for 600 words with max_completion_tokens={COMPLETION_BUDGET}",
                            script)


@pytest.fixture(scope="session")
def cancelled_in_progress_trace(target):
    """A run writing a long answer, cancelled as soon as it is seen in_progress, polled to its end."""
    timeout = target.profile.run_poll_timeout

    def script(factory, trace):
        assistant = factory.assistant()
        thread = factory.thread(messages=[{"role": "user", "content": VERY_LONG_PROMPT}])
        trace.saw(factory.run(thread["id"], assistant["id"]))
        run = trace.final
        if run.get("status") != "in_progress":
            run = trace.poll(factory, until=TERMINAL | {"in_progress", "requires_action"}, timeout=timeout)
        if run.get("status") != "in_progress":
            trace.notes["not_cancellable"] = f"the run reached {run.get('status')!r} before it was seen in_progress"
            return
        cancel(factory, trace)
        trace.poll(factory, timeout=timeout)

    yield from run_scenario(target, "run cancelled while in_progress", script)


@pytest.fixture(scope="session")
def cancelled_held_trace(target):
    """A run held in requires_action, cancelled, polled to its end."""
    timeout = target.profile.run_poll_timeout

    def script(factory, trace):
        held = hold_run(factory, timeout=timeout, on_read=trace.saw)
        trace.notes["required_actions"] = [held.run.get("required_action")]
        cancel(factory, trace)
        trace.poll(factory, timeout=timeout)

    yield from run_scenario(target, "run cancelled in requires_action", script)


# The capabilities each scenario needs. A target whose profile lacks one never runs that scenario, and a
# check judging several scenarios judges those the target can run: a core check must not fail because a
# run needed a function tool or a cancel the target does not declare.
SCENARIO_NEEDS = {
    "completed_trace": (),
    "tool_trace": ("function_tools",),
    "incomplete_trace": (),
    "cancelled_in_progress_trace": ("cancel",),
    "cancelled_held_trace": ("function_tools", "cancel"),
}


def declared_traces(request, *names: str) -> list:
    """The scenarios named (all of them by default) that the target's profile has the capabilities for."""
    profile = request.getfixturevalue("target").profile
    return [request.getfixturevalue(name) for name in names or SCENARIO_NEEDS
            if all(profile.has(capability) for capability in SCENARIO_NEEDS[name])]


@pytest.fixture(scope="session")
def all_traces(request):
    return declared_traces(request)


@pytest.fixture
def declared(request):
    """declared("completed_trace", "tool_trace"): those of the named scenarios the target can run."""
    return lambda *names: declared_traces(request, *names)


@pytest.fixture(scope="session")
def settled_trace(target, completed_trace):
    """The completed run read again once the expiry time it had while active has passed (a finished
    run must not expire later). The pause is skipped beyond 60 s of waiting (hosted APIs: 10 minutes);
    then the run is read again after 2 s only, and notes["pause"] says so."""
    trace = completed_trace
    if trace.failure is not None or not trace.reads:
        return trace
    first = trace.reads[0]
    expires_at = first.run.get("expires_at")
    created_at = first.run.get("created_at")
    pause = 2.0
    if isinstance(expires_at, (int, float)) and isinstance(created_at, (int, float)):
        # Server clock ~ local clock + offset, estimated from the creation answer (±1 s of rounding).
        offset = created_at - first.at
        pause = max(pause, expires_at - offset - time.time() + 2.0)
    trace.notes["pause"] = pause if pause <= 60 else 2.0
    trace.notes["pause_shortened"] = pause > 60
    time.sleep(trace.notes["pause"])
    with shared_factory(target, recorder=trace.exchanges) as factory:
        try:
            response = factory.client.get(trace.run_path())
            if response.status_code != 200:
                violation(f"reading the finished run again answered {response.status_code}", [response.exchange])
            trace.notes["settled_read"] = Read(response.json, response.exchange, time.time())
        except (ConformanceFailure, TargetError) as exc:
            trace.failure = exc
    return trace
