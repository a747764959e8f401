"""Runs held in requires_action by a tool_choice naming a function (LIFE-018's rule), and runs made only
for their ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .. import prerequisites
from ..checks import ConformanceFailure, violation
from ..outcomes import unsupported
from ..protocol.transitions import TERMINAL
from .factory import Factory
from .polls import Poll, poll_run, squash_statuses
from .prompts import HOLD_PROMPT, LOOKUP_FUNCTION, named_tool_choice


@dataclass
class HeldRun:
    assistant: dict
    thread_id: str
    run: dict  # the run as last read: status requires_action
    poll: Poll


def hold_run(factory: Factory, *, timeout: float, thread_id: str | None = None,
             assistant: dict | None = None, on_read: Callable[[dict], None] | None = None,
             **run_fields) -> HeldRun:
    """A run paused in requires_action: a function assistant and tool_choice naming its function make
    this deterministic on any server. This is LIFE-018's rule: a run that ends instead (or does not
    ask for the named function) is LIFE-018's failure, and blocks every other check that needed the
    held run (prerequisites). `on_read` sees the created run and every polled read. A target whose
    profile does not declare function tools cannot pause a run so: the check is unsupported there."""
    profile = getattr(getattr(factory.client, "config", None), "profile", None)
    if profile is not None and not profile.has("function_tools"):
        unsupported("the check needs a run held in requires_action by a function tool; the target profile "
                    f"{profile.name!r} does not declare the 'function_tools' capability")
    session = factory.session_id
    prerequisites.remembered(session, prerequisites.NAMED_TOOL_CHOICE)
    assistant = assistant or factory.function_assistant()
    if thread_id is None:
        thread_id = factory.thread(messages=[{"role": "user", "content": HOLD_PROMPT}])["id"]
    else:
        factory.message(thread_id, HOLD_PROMPT)
    name = LOOKUP_FUNCTION["function"]["name"]
    run = factory.run(thread_id, assistant["id"], tool_choice=named_tool_choice(name), **run_fields)
    if on_read is not None:
        on_read(run)
    try:
        poll = poll_run(factory.client, thread_id, run["id"], timeout=timeout, factory=factory, on_read=on_read)
        problem = held_run_problem(poll.final, name)
        if problem:
            violation(f"{problem} (statuses: {squash_statuses([run.get('status'), *poll.statuses])})", [poll.exchange])
    except ConformanceFailure as exc:
        prerequisites.judged(session, prerequisites.NAMED_TOOL_CHOICE, exc)
    return HeldRun(assistant, thread_id, poll.final, poll)


def held_run_problem(run: dict, function_name: str) -> str | None:
    """Why `run` is not paused asking for a call of `function_name` (None: it is)."""
    status = run.get("status")
    if status != "requires_action":
        return (f"a run with tool_choice naming {function_name} should pause in requires_action, "
                f"it reached {status!r}")
    calls = ((run.get("required_action") or {}).get("submit_tool_outputs") or {}).get("tool_calls")
    names = [((c or {}).get("function") or {}).get("name") for c in calls or [] if isinstance(c, dict)]
    if function_name not in names:
        return (f"a run with tool_choice naming {function_name} paused in requires_action asking for "
                f"{names or 'no tool call'}, not for {function_name}")
    return None


def run_for_ids(factory: Factory, profile) -> HeldRun:
    """A run for checks that need its ids (assistant, thread, run, messages, steps), not its pause: held
    in requires_action when the profile declares function tools, else a plain run polled to its end.
    A target without function tools is still judged by those checks (`run.status` says which it is)."""
    if profile.has("function_tools"):
        return hold_run(factory, timeout=profile.run_poll_timeout)
    prerequisites.remembered(factory.session_id, prerequisites.RUN_FOLLOWED)
    assistant = factory.assistant()
    thread_id = factory.thread(messages=[{"role": "user", "content": "Say hello in one short sentence."}])["id"]
    run = factory.run(thread_id, assistant["id"])
    try:  # a run that cannot be read back to its end is LIFE-001's failure, not the failure of its users
        poll = poll_run(factory.client, thread_id, run["id"], until=TERMINAL, timeout=profile.run_poll_timeout,
                        factory=factory)
    except ConformanceFailure as exc:
        prerequisites.judged(factory.session_id, prerequisites.RUN_FOLLOWED, exc)
    return HeldRun(assistant, thread_id, poll.final, poll)
