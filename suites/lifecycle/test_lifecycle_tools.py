"""Function calling: the required_action a paused run carries, and how the run resumes after tool outputs."""

from __future__ import annotations

import json

import jsonschema
import pytest

from assistants_conformance.checks import violation
from assistants_conformance.flows import LOOKUP_FUNCTION, hold_run

FUNCTION = LOOKUP_FUNCTION["function"]
# After the outputs are in, the run is queued again; a poll may already see it further on.
RESUMED = ("queued", "in_progress", "completed", "incomplete", "failed", "cancelling", "cancelled", "expired")


def required_action_problems(action) -> list[str]:
    """What is wrong with a requires_action run's required_action for the named lookup function."""
    if not isinstance(action, dict):
        return [f"required_action is {action!r}, expected an object"]
    problems = []
    if action.get("type") != "submit_tool_outputs":
        problems.append(f"required_action.type is {action.get('type')!r}, expected 'submit_tool_outputs'")
    calls = (action.get("submit_tool_outputs") or {}).get("tool_calls")
    if not isinstance(calls, list) or not calls:
        return problems + [f"required_action.submit_tool_outputs.tool_calls is {calls!r}, expected a non-empty list"]
    for i, call in enumerate(calls):
        where = f"tool_calls[{i}]"
        if not isinstance(call, dict):
            problems.append(f"{where} is {call!r}, expected an object")
            continue
        if not (isinstance(call.get("id"), str) and call["id"]):
            problems.append(f"{where}.id is {call.get('id')!r}, expected a non-empty string")
        if call.get("type") != "function":
            problems.append(f"{where}.type is {call.get('type')!r}, expected 'function'")
        function = call.get("function") if isinstance(call.get("function"), dict) else {}
        if function.get("name") != FUNCTION["name"]:
            problems.append(f"{where}.function.name is {function.get('name')!r}; tool_choice named {FUNCTION['name']!r}")
        arguments = function.get("arguments")
        if not isinstance(arguments, str):
            problems.append(f"{where}.function.arguments is {arguments!r}, expected a JSON string")
            continue
        try:
            parsed = json.loads(arguments)
        except ValueError as exc:
            problems.append(f"{where}.function.arguments {arguments!r} is not JSON: {exc}")
            continue
        try:
            jsonschema.validate(parsed, FUNCTION["parameters"])
        except jsonschema.ValidationError as exc:
            problems.append(f"{where}.function.arguments {arguments!r} do not satisfy the function's "
                            f"parameters schema: {exc.message}")
    return problems


@pytest.mark.check("LIFE-006")
@pytest.mark.level("MUST")
@pytest.mark.capability("function_tools")
def test_required_action_names_the_function(tool_trace, cancelled_held_trace):
    """A run paused in requires_action asks for submit_tool_outputs with function calls whose arguments are a JSON string satisfying the function's parameters.

    Function calling guide and run object: required_action {type: submit_tool_outputs,
    submit_tool_outputs: {tool_calls: [{id, type: function, function: {name, arguments}}]}};
    required_action is null when no action is required: in every other status except cancelling,
    which is tolerated as a moment of transition (the docs do not say when it is cleared).
    """
    for trace in (tool_trace, cancelled_held_trace):
        trace.ok()
        for read in trace.reads:
            action = read.run.get("required_action")
            if read.status == "requires_action":
                problems = required_action_problems(action)
                if problems:
                    violation(f"{trace.label}: " + "; ".join(problems), [read.exchange])
            elif action is not None and read.status != "cancelling":
                violation(f"{trace.label}: the run is {read.status} but required_action is set", [read.exchange])


@pytest.mark.check("LIFE-007")
@pytest.mark.level("MUST")
@pytest.mark.capability("function_tools")
def test_tool_outputs_resume_the_run_to_completion(tool_trace):
    """After its tool outputs are submitted a run leaves requires_action, is queued again, and goes on to complete.

    Run lifecycle guide: once the required_action is done the run moves to queued, then on as any run.
    A model may call the named function again after reading its output (tool_choice still names it);
    each new round is answered too, up to 3. The run must end completed, or, after 3 rounds, be
    paused again on new tool calls (a model's choice, not a protocol fault).
    """
    trace = tool_trace.ok()
    for action, response in zip(trace.notes["required_actions"], trace.notes["submit_responses"]):
        answered = {c.get("id") for c in (action or {}).get("submit_tool_outputs", {}).get("tool_calls", [])}
        run = response.json
        if run.get("status") not in RESUMED:
            pending = (run.get("required_action") or {}).get("submit_tool_outputs", {}).get("tool_calls", [])
            if run.get("status") != "requires_action" or answered & {c.get("id") for c in pending}:
                violation(f"the submit answer shows status {run.get('status')!r}; expected the run queued "
                          f"again (or further on), not waiting for the calls just answered", [response.exchange])
    final = trace.final
    if final.get("status") == "requires_action" and len(trace.notes["required_actions"]) > len(
            trace.notes["submit_responses"]):
        return  # answered MAX_TOOL_ROUNDS rounds; each resumed the run, the model keeps calling
    if final.get("status") != "completed":
        violation(f"after its tool outputs the run ended {final.get('status')!r}, expected completed "
                  f"(statuses seen: {' -> '.join(map(str, trace.statuses))})", [trace.reads[-1].exchange])


@pytest.mark.check("LIFE-016")
@pytest.mark.level("MUST")
@pytest.mark.capability("function_tools")
def test_tool_calls_step_matches_required_action(tool_trace):
    """The run's tool_calls step lists the same tool call ids as the required_action the run asked for.

    Run steps guide: a tool_calls step is created when the assistant calls tools; its step_details
    are the calls (with their outputs once submitted).
    """
    trace = tool_trace.ok()
    steps = trace.notes["steps"]
    stepped = [c.get("id") for s in steps if isinstance(s, dict) and s.get("type") == "tool_calls"
               for c in ((s.get("step_details") or {}).get("tool_calls") or [])]
    asked = [c.get("id") for a in trace.notes["required_actions"]
             for c in ((a or {}).get("submit_tool_outputs") or {}).get("tool_calls", [])]
    if sorted(map(str, stepped)) != sorted(map(str, asked)):
        violation(f"tool_calls steps list call ids {stepped}, required_action asked for {asked}",
                  [trace.notes["steps_exchange"], trace.reads[0].exchange])
    for step in steps:
        if isinstance(step, dict) and step.get("run_id") != trace.final.get("id"):
            violation(f"step {step.get('id')} has run_id {step.get('run_id')!r}, listed under run {trace.final.get('id')}",
                      [trace.notes["steps_exchange"]])


@pytest.mark.check("LIFE-018")
@pytest.mark.level("MUST")
@pytest.mark.capability("function_tools")
def test_named_tool_choice_pauses_the_run(factory, profile):
    """A run whose tool_choice names a function pauses in requires_action, asking for a call of that function.

    Runs API, tool_choice: naming a tool, {"type": "function", "function": {"name": "my_function"}},
    forces the model to call that tool. Many checks start from such a paused run: when it cannot be
    had, this check fails and they are reported blocked by it.
    """
    # hold_run judges exactly this rule (flows.held_run_problem) and raises it as LIFE-018's failure;
    # the shape of the call's arguments is LIFE-006's rule, not this one's.
    hold_run(factory, timeout=profile.run_poll_timeout)
