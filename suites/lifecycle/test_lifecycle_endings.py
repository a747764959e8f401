"""How runs end: incomplete through token limits, the error of a failed run, usage, and the steps they leave."""

from __future__ import annotations

import pytest

from assistants_conformance.checks import violation
from assistants_conformance.protocol.transitions import TERMINAL

RUN_ERROR_CODES = ("server_error", "rate_limit_exceeded", "invalid_prompt")
INCOMPLETE_REASONS = ("max_completion_tokens", "max_prompt_tokens")


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@pytest.mark.check("LIFE-010")
@pytest.mark.level("MUST")
def test_completion_budget_ends_incomplete(incomplete_trace):
    """A run that reaches max_completion_tokens ends incomplete with incomplete_details.reason max_completion_tokens.

    Token limits guide: when a completion hits max_completion_tokens the run ends incomplete and
    incomplete_details says why. The run is asked for 600 words with max_completion_tokens=256; a model
    may choose to answer more briefly, so a completed run is accepted when its usage shows it stayed
    within the budget (completion_tokens <= 256) and incomplete_details is null.
    """
    trace = incomplete_trace.ok()
    budget = trace.notes["budget"]
    final, exchange = trace.final, trace.reads[-1].exchange
    details = final.get("incomplete_details")
    if final.get("status") == "incomplete":
        if not isinstance(details, dict) or details.get("reason") != "max_completion_tokens":
            violation(f"the run ended incomplete with incomplete_details {details!r}; expected reason "
                      f"'max_completion_tokens'", [exchange])
        return
    if final.get("status") != "completed":
        violation(f"the run ended {final.get('status')!r}; expected incomplete (or completed within the budget)",
                  [exchange])
    usage = final.get("usage") or {}
    spent = usage.get("completion_tokens")
    if not _count(spent) or spent > budget:
        violation(f"the run completed with usage.completion_tokens={spent!r} although max_completion_tokens was "
                  f"{budget}; it should have ended incomplete (reason max_completion_tokens)", [exchange])
    if details is not None:
        violation(f"the run completed but incomplete_details is {details!r}; expected null", [exchange])


@pytest.mark.check("LIFE-011")
@pytest.mark.level("MUST")
def test_last_error_only_on_failed_runs(all_traces):
    """last_error is null unless the run failed, and a failed run carries last_error with a documented code and a message.

    Run object: last_error {code: server_error | rate_limit_exceeded | invalid_prompt, message}, null
    if there is no error; run lifecycle guide: look at last_error to see why a run failed. Runs cannot
    be made to fail through the protocol, so this is checked on every run the lifecycle checks see.
    """
    for trace in all_traces:
        trace.ok()
        for read in trace.reads:
            error = read.run.get("last_error")
            if read.status != "failed":
                if error is not None:
                    violation(f"{trace.label}: the run is {read.status} but last_error is {error!r}", [read.exchange])
                continue
            if not isinstance(error, dict) or error.get("code") not in RUN_ERROR_CODES \
                    or not isinstance(error.get("message"), str):
                violation(f"{trace.label}: the run failed with last_error {error!r}; expected "
                          f"{{code: one of {', '.join(RUN_ERROR_CODES)}, message: string}}", [read.exchange])


@pytest.mark.check("LIFE-017")
@pytest.mark.level("MUST")
def test_usage_on_terminal_runs(all_traces):
    """A terminal run reports usage with integer prompt, completion and total token counts, total being their sum.

    Run object: usage is null until the run is terminal, then {prompt_tokens, completion_tokens, total_tokens}.
    """
    for trace in all_traces:
        trace.ok()
        for read in trace.reads:
            usage = read.run.get("usage")
            if read.status not in TERMINAL:
                continue
            if not isinstance(usage, dict):
                violation(f"{trace.label}: the run is {read.status} but usage is {usage!r}", [read.exchange])
            counts = {k: usage.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens")}
            bad = {k: v for k, v in counts.items() if not _count(v)}
            if bad:
                violation(f"{trace.label}: usage has {bad}; expected integers >= 0", [read.exchange])
            if counts["prompt_tokens"] + counts["completion_tokens"] != counts["total_tokens"]:
                violation(f"{trace.label}: usage total_tokens {counts['total_tokens']} is not prompt_tokens "
                          f"{counts['prompt_tokens']} + completion_tokens {counts['completion_tokens']}", [read.exchange])


@pytest.mark.check("LIFE-015")
@pytest.mark.level("MUST")
def test_message_creation_step_points_at_the_message(declared):
    """A completed run's message_creation step names the assistant message the run wrote, which carries the run's id and assistant id.

    Run steps guide: a message_creation step is created when the assistant writes a message;
    step_details.message_creation.message_id is that message; message object: run_id and
    assistant_id say which run and assistant wrote it.
    """
    for trace in declared("completed_trace", "tool_trace"):
        trace.ok()
        run = trace.final
        if run.get("status") != "completed":
            continue  # how it ended is judged elsewhere; a run that wrote nothing has no such step
        steps = [s for s in trace.notes["steps"] if isinstance(s, dict) and s.get("type") == "message_creation"]
        if not steps:
            violation(f"{trace.label}: the completed run lists no message_creation step", [trace.notes["steps_exchange"]])
        for step in steps:
            message_id = ((step.get("step_details") or {}).get("message_creation") or {}).get("message_id")
            response = trace.notes["messages"].get(message_id)
            if response is None or response.status_code != 200 or not isinstance(response.json, dict):
                violation(f"{trace.label}: step {step.get('id')} names message {message_id!r}, which cannot be read"
                          + (f" ({response.status_code})" if response is not None else ""),
                          [trace.notes["steps_exchange"]] + ([response.exchange] if response is not None else []))
            message = response.json
            wrong = [f"{name} is {message.get(name)!r}, expected {want!r}" for name, want in
                     (("role", "assistant"), ("run_id", run.get("id")), ("assistant_id", run.get("assistant_id")),
                      ("thread_id", run.get("thread_id")))
                     if message.get(name) != want]
            if wrong:
                violation(f"{trace.label}: message {message_id} named by step {step.get('id')}: " + "; ".join(wrong),
                          [trace.notes["steps_exchange"], response.exchange])
