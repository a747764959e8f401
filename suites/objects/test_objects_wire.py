"""Wire objects of the core operations: each validates against the contract, carries OpenAI's id prefixes
and `object` values, and stamps times as integer Unix seconds.

One module-scoped tour drives every core operation once (assistant, thread, message, run through
requires_action to its end, run steps, lists, deletes) and keeps each answer; the checks read the tour.
A check's evidence is the exchanges of the answers it objects to. An operation that fails is a gap of the
checks of its kind only: the other checks judge what the tour did see.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest

from assistants_conformance import prerequisites
from assistants_conformance.checks import ConformanceFailure, require, violation
from assistants_conformance.wire.client import error_answer
from assistants_conformance.flows import (HOLD_PROMPT, LOOKUP_FUNCTION, held_run_problem, named_tool_choice, poll_run,
                                          shared_factory)
from assistants_conformance.protocol.transitions import TERMINAL


@dataclass
class Seen:
    """One answer of the tour: which operation, what kind of object it carries, and in what shape."""
    method: str
    template: str  # the contract's path template
    kind: str      # assistant | thread | message | run | step
    shape: str     # object | list | deleted
    response: Any  # client.Response

    @property
    def body(self) -> Any:
        return self.response.json

    def items(self) -> list:
        """The objects of `kind` in this answer (a list's data, or the object itself)."""
        body = self.body
        if self.shape == "list":
            return list(body.get("data", [])) if isinstance(body, dict) else []
        return [body] if self.shape == "object" else []

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


@dataclass
class Gap:
    """A part of the tour that could not be seen: an operation that failed (the check of that kind reports
    it as its own departure), or one not tried because something it needs failed under another check's
    rule (`blocked_by`: the check of that kind is blocked by that check, unless it found problems itself)."""
    kind: str
    what: str
    exchange: Any = None  # the failing answer, when there was one
    blocked_by: str | None = None  # the check owning the prerequisite that failed (prerequisites.py)


@dataclass
class Tour:
    seen: list[Seen]
    started: float
    finished: float
    run_statuses: list[str]
    gaps: list[Gap] = field(default_factory=list)

    def of(self, kind: str) -> list[Seen]:
        return [s for s in self.seen if s.kind == kind]

    def gaps_of(self, kind: str) -> list[Gap]:
        return [g for g in self.gaps if g.kind == kind]


A, AI = "/assistants", "/assistants/{assistant_id}"
T, TI, TR = "/threads", "/threads/{thread_id}", "/threads/runs"
M, MI = "/threads/{thread_id}/messages", "/threads/{thread_id}/messages/{message_id}"
R, RI = "/threads/{thread_id}/runs", "/threads/{thread_id}/runs/{run_id}"
SUBMIT = "/threads/{thread_id}/runs/{run_id}/submit_tool_outputs"
S, SI = "/threads/{thread_id}/runs/{run_id}/steps", "/threads/{thread_id}/runs/{run_id}/steps/{step_id}"


def _take_tour(f, profile) -> Tour:
    """Every core operation once. An operation that fails is a gap of its kind (not an error of every
    check): what does not depend on it is still seen, e.g. runs made by create thread + create run when
    create-thread-and-run is missing."""
    seen: list[Seen] = []
    gaps: list[Gap] = []
    client = f.client

    def see(method, template, kind, shape, response):
        if response.status_code != 200 or not isinstance(response.json, dict):
            said = error_answer(response.status_code, response.json, response.text)
            gaps.append(Gap(kind, f"{method} {template} {said}", response.exchange))
            return None
        seen.append(Seen(method, template, kind, shape, response))
        return response.json

    def skip(kinds: str, what: str, needs: str, owner: str) -> None:
        for kind in kinds.split():
            gaps.append(Gap(kind, f"{what} not tried: it needs {needs}, which failed", blocked_by=owner))

    started = time.time()
    statuses: list[str] = []
    # Assistant: create, retrieve, modify, list.
    assistant = see("POST", A, "assistant", "object", f.post_assistant(
        {"model": f.model, "name": "conformance objects", "instructions": "Use the lookup tool when asked.",
         "tools": [LOOKUP_FUNCTION], "metadata": f.tag()}))
    a_id = assistant["id"] if assistant else None
    if a_id:
        see("GET", AI, "assistant", "object", client.get(f"/assistants/{a_id}"))
        see("POST", AI, "assistant", "object", client.post(f"/assistants/{a_id}", json={"description": "modified"}))
    see("GET", A, "assistant", "list", client.get("/assistants", params={"limit": 5}))
    # Thread and messages.
    thread = see("POST", T, "thread", "object", f.post_thread(
        {"messages": [{"role": "user", "content": HOLD_PROMPT}], "metadata": f.tag()}))
    t_id = thread["id"] if thread else None
    if t_id:
        see("GET", TI, "thread", "object", client.get(f"/threads/{t_id}"))
        see("POST", TI, "thread", "object",
            client.post(f"/threads/{t_id}", json={"metadata": f.tag({"step": "modified"})}))
        message = see("POST", M, "message", "object",
                      client.post(f"/threads/{t_id}/messages", json={"role": "user", "content": "Please look it up."}))
        m_id = message["id"] if message else None
        if m_id:
            see("GET", MI, "message", "object", client.get(f"/threads/{t_id}/messages/{m_id}"))
            see("POST", MI, "message", "object",
                client.post(f"/threads/{t_id}/messages/{m_id}", json={"metadata": {"k": "v"}}))
    else:
        skip("thread message", "reading, modifying and adding messages to a thread", "POST /threads",
             prerequisites.CREATION["thread"])
    if a_id and t_id:
        statuses = _run_tour(f, profile, see, gaps, a_id, t_id)
        see("GET", M, "message", "list", client.get(f"/threads/{t_id}/messages"))
    else:
        skip("run step", "a run through requires_action to its end", "an assistant and a thread",
             prerequisites.CREATION["thread" if a_id else "assistant"])
    # Create thread and run in one call (left in requires_action; the factory cancels it at teardown).
    if a_id:
        name = LOOKUP_FUNCTION["function"]["name"]
        see("POST", TR, "run", "object", f.post_thread_and_run(
            {"assistant_id": a_id, "tool_choice": named_tool_choice(name), "metadata": f.tag(),
             "thread": {"messages": [{"role": "user", "content": HOLD_PROMPT}], "metadata": f.tag()}}))
    # Deletes, on objects made for the purpose.
    if t_id and m_id and client.dialect.unsupported("DELETE", MI) is None:  # Azure has no message delete
        see("DELETE", MI, "message", "deleted", client.delete(f"/threads/{t_id}/messages/{m_id}"))
    spare_thread = see("POST", T, "thread", "object", f.post_thread({"metadata": f.tag()}))
    if spare_thread:
        see("DELETE", TI, "thread", "deleted", client.delete(f"/threads/{spare_thread['id']}"))
    spare_assistant = see("POST", A, "assistant", "object", f.post_assistant({"model": f.model, "metadata": f.tag()}))
    if spare_assistant:
        see("DELETE", AI, "assistant", "deleted", client.delete(f"/assistants/{spare_assistant['id']}"))
    if not seen:
        prerequisites.fail(prerequisites.CREATION["assistant"], "no core operation answered with an object",
                           [g.exchange for g in gaps if g.exchange is not None][:3])
    return Tour(seen, started, time.time(), statuses, gaps)


def _run_tour(f, profile, see, gaps: list[Gap], a_id: str, t_id: str) -> list[str]:
    """A run created on the thread, paused in requires_action, resumed with the tool output, to its end,
    then its steps. Returns the statuses seen; what could not be done is a gap of runs (and steps)."""
    client = f.client
    name = LOOKUP_FUNCTION["function"]["name"]
    run = see("POST", R, "run", "object", f.post_run(
        t_id, {"assistant_id": a_id, "tool_choice": named_tool_choice(name), "metadata": f.tag()}))
    if not run:
        gaps.append(Gap("step", f"run steps not read: {R} failed", blocked_by=prerequisites.CREATION["run"]))
        return []
    run_path = f"/threads/{t_id}/runs/{run['id']}"
    try:
        held = poll_run(client, t_id, run["id"], timeout=profile.run_poll_timeout, factory=f)
        statuses = [run.get("status"), *held.statuses]
        problem = held_run_problem(held.final, name)
        if problem:  # LIFE-018's rule: the checks that need the paused run are blocked by it
            gaps += [Gap(kind, problem, held.exchange, blocked_by=prerequisites.NAMED_TOOL_CHOICE)
                     for kind in ("run", "step")]
            return statuses
        paused = see("GET", RI, "run", "object", client.get(run_path)) or {}
        calls = ((paused.get("required_action") or {}).get("submit_tool_outputs") or {}).get("tool_calls") or []
        outputs = [{"tool_call_id": c.get("id"), "output": "42"} for c in calls if isinstance(c, dict)]
        see("POST", SUBMIT, "run", "object", client.post(f"{run_path}/submit_tool_outputs",
                                                         json={"tool_outputs": outputs}))
        ended = poll_run(client, t_id, run["id"], until=TERMINAL, timeout=profile.run_poll_timeout, factory=f)
        statuses += ended.statuses
    except ConformanceFailure as exc:  # a poll that failed or timed out: the runs' gap, not every check's
        gaps.append(Gap("run", f"polling run {run['id']}: {exc.what}", next(iter(exc.evidence), None)))
        gaps.append(Gap("step", f"run steps not read: polling run {run['id']} failed",
                        blocked_by=prerequisites.CREATION["run"]))
        return [run.get("status")]
    see("GET", RI, "run", "object", client.get(run_path))
    see("GET", R, "run", "list", client.get(f"/threads/{t_id}/runs"))
    steps = see("GET", S, "step", "list", client.get(f"{run_path}/steps"))
    for step in (steps or {}).get("data", []):
        see("GET", SI, "step", "object", client.get(f"{run_path}/steps/{step.get('id')}"))
    return statuses


@pytest.fixture(scope="module")
def tour(target) -> Iterator[Tour]:
    with shared_factory(target) as f:
        yield _take_tour(f, target.profile)


# --- contract -----------------------------------------------------------------------------------------


def _validate(contract, tour: Tour, kind: str) -> None:
    """The answers of `kind` against the contract; an operation of that kind the tour could not see is a
    problem too (named with its own answer), while the other kinds' checks judge what they saw."""
    problems, evidence = [], []
    for answer in tour.of(kind):
        issues = contract.validate((answer.method, answer.template), answer.response.status_code, answer.body)
        for issue in issues[:5]:
            problems.append(f"{answer}: at {issue.pointer or '/'} expected {issue.expected}, got {issue.got}")
        if issues:
            evidence.append(answer.response.exchange)
    gaps = [g for g in tour.gaps_of(kind) if g.blocked_by is None]
    if problems or gaps:
        counted = [f"{len(problems)} contract violation(s): " + "; ".join(problems)] if problems else []
        counted += [f"not checked: {gap.what}" for gap in gaps]
        violation("; ".join(counted), evidence[:3] + [g.exchange for g in gaps if g.exchange is not None][:3])
    for gap in tour.gaps_of(kind):  # nothing wrong in what was seen, but part of it needed another rule
        prerequisites.fail(gap.blocked_by, gap.what, [gap.exchange] if gap.exchange is not None else [])


@pytest.mark.check("OBJ-001")
@pytest.mark.level("MUST")
def test_assistant_objects_match_contract(tour, contract):
    """Assistant objects, assistant lists and assistant delete answers validate against the contract."""
    _validate(contract, tour, "assistant")


@pytest.mark.check("OBJ-002")
@pytest.mark.level("MUST")
def test_thread_objects_match_contract(tour, contract):
    """Thread objects and thread delete answers validate against the contract."""
    _validate(contract, tour, "thread")


@pytest.mark.check("OBJ-003")
@pytest.mark.level("MUST")
def test_message_objects_match_contract(tour, contract):
    """Message objects (user and assistant written), message lists and message delete answers validate against the contract."""
    _validate(contract, tour, "message")


@pytest.mark.check("OBJ-004")
@pytest.mark.level("MUST")
def test_run_objects_match_contract(tour, contract):
    """Run objects in every status the tour sees (queued, requires_action, terminal) and run lists validate against the contract."""
    seen_statuses = {item.get("status") for answer in tour.of("run") for item in answer.items()}
    if not tour.gaps_of("run"):  # (a gap is reported, or blocks, below)
        require("requires_action" in seen_statuses and seen_statuses & TERMINAL,
                f"the tour should have read a run in requires_action and in a terminal status, saw "
                f"{sorted(map(str, seen_statuses))}")
    _validate(contract, tour, "run")


@pytest.mark.check("OBJ-005")
@pytest.mark.level("MUST")
def test_run_step_objects_match_contract(tour, contract):
    """Run step objects (tool_calls and message_creation) and run step lists validate against the contract."""
    _validate(contract, tour, "step")


# --- ids, object values, timestamps -------------------------------------------------------------------

PREFIX = {"assistant": "asst_", "thread": "thread_", "message": "msg_", "run": "run_", "step": "step_"}
# Fields that refer to other objects, per kind: field -> prefix (null allowed where the API allows it).
REFERENCES = {
    "message": {"thread_id": "thread_", "assistant_id": "asst_", "run_id": "run_"},
    "run": {"thread_id": "thread_", "assistant_id": "asst_"},
    "step": {"thread_id": "thread_", "assistant_id": "asst_", "run_id": "run_"},
}


def _ids(kind: str, obj: dict) -> Iterator[tuple[str, Any, str]]:
    """(where, value, expected prefix) for every id an object of `kind` carries."""
    yield "id", obj.get("id"), PREFIX[kind]
    for name, prefix in REFERENCES.get(kind, {}).items():
        if obj.get(name) is not None:
            yield name, obj.get(name), prefix
    if kind == "run":
        calls = ((obj.get("required_action") or {}).get("submit_tool_outputs") or {}).get("tool_calls") or []
        for i, call in enumerate(calls):
            yield f"required_action.submit_tool_outputs.tool_calls[{i}].id", call.get("id"), "call_"
    if kind == "step":
        details = obj.get("step_details") or {}
        if details.get("type") == "message_creation":
            yield "step_details.message_creation.message_id", (details.get("message_creation") or {}).get("message_id"), "msg_"
        for i, call in enumerate(details.get("tool_calls") or []):
            yield f"step_details.tool_calls[{i}].id", call.get("id"), "call_"


@pytest.mark.check("OBJ-010")
@pytest.mark.level("MUST")
def test_ids_carry_prefixes(tour):
    """Ids carry OpenAI's prefixes: asst_, thread_, msg_, run_, step_, and call_ for tool calls."""
    problems, evidence = [], []
    for answer in tour.seen:
        bad = []
        objects = answer.items() if answer.shape != "deleted" else []
        for obj in objects:
            for where, value, prefix in _ids(answer.kind, obj):
                if not (isinstance(value, str) and value.startswith(prefix) and len(value) > len(prefix)):
                    bad.append(f"{where} = {value!r} should start with {prefix!r}")
        if answer.shape == "deleted" and not str(answer.body.get("id")).startswith(PREFIX[answer.kind]):
            bad.append(f"id = {answer.body.get('id')!r} should start with {PREFIX[answer.kind]!r}")
        if answer.shape == "list":
            for name in ("first_id", "last_id"):
                value = answer.body.get(name)
                if value is not None and not str(value).startswith(PREFIX[answer.kind]):
                    bad.append(f"{name} = {value!r} should start with {PREFIX[answer.kind]!r}")
        if bad:
            problems.append(f"{answer}: {bad[0]}" + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""))
            evidence.append(answer.response.exchange)
    require(not problems, "; ".join(problems), evidence[:3])


OBJECT = {"assistant": "assistant", "thread": "thread", "message": "thread.message", "run": "thread.run",
          "step": "thread.run.step"}


def _object_problems(answer: Seen) -> list[str]:
    body = answer.body
    if answer.shape == "deleted":
        wanted = f"{OBJECT[answer.kind]}.deleted"
        problems = [] if body.get("object") == wanted else [f"object = {body.get('object')!r}, expected {wanted!r}"]
        if body.get("deleted") is not True:
            problems.append(f"deleted = {body.get('deleted')!r}, expected true")
        return problems
    problems = []
    if answer.shape == "list" and body.get("object") != "list":
        problems.append(f"object = {body.get('object')!r}, expected 'list'")
    for i, item in enumerate(answer.items()):
        got = item.get("object") if isinstance(item, dict) else None
        if got != OBJECT[answer.kind]:
            where = f"data[{i}].object" if answer.shape == "list" else "object"
            problems.append(f"{where} = {got!r}, expected {OBJECT[answer.kind]!r}")
    return problems


@pytest.mark.check("OBJ-011")
@pytest.mark.level("MUST")
def test_object_values_are_openais(tour):
    """Every object names its type exactly as OpenAI does: assistant, thread, thread.message, thread.run, thread.run.step, list, KIND.deleted."""
    problems, evidence = [], []
    for answer in tour.seen:
        found = _object_problems(answer)
        if found:
            problems.append(f"{answer}: " + ", ".join(found[:3]))
            evidence.append(answer.response.exchange)
    require(not problems, "; ".join(problems), evidence[:3])


CLOCK_SKEW = 300  # seconds of clock difference tolerated between the target and this machine


def _timestamps(obj: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    """Every `*_at` field, at any depth."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            path = f"{where}.{key}" if where else key
            if key.endswith("_at"):
                yield path, value
            yield from _timestamps(value, path)
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _timestamps(value, f"{where}[{i}]")


@pytest.mark.check("OBJ-012")
@pytest.mark.level("MUST")
def test_timestamps_are_integer_unix_seconds(tour, profile):
    """Timestamps (created_at and every other *_at) are integer Unix seconds, near the time of the request, or null where allowed.

    "Near": within 5 minutes of this machine's clock, plus the expiry window for expires_at.
    """
    low = tour.started - CLOCK_SKEW
    high = tour.finished + CLOCK_SKEW + profile.expiry_window_seconds
    problems, evidence = [], []
    for answer in tour.seen:
        bad = []
        for where, value in _timestamps(answer.body):
            if value is None and not where.endswith("created_at"):
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                bad.append(f"{where} = {value!r} is not an integer")
            elif not low <= value <= high:
                bad.append(f"{where} = {value} is not near now ({int(tour.started)}..{int(tour.finished)})")
        if bad:
            problems.append(f"{answer}: {bad[0]}" + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""))
            evidence.append(answer.response.exchange)
    require(not problems, "; ".join(problems), evidence[:3])
