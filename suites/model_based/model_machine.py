"""A hypothesis state machine that drives random sequences of thread/message/run operations against the
target and checks every answer against the oracle's model of the state (protocol.transitions, locking).

What the model knows is what it has *observed*: a run's last read status. A run the model last saw in a
non-terminal status may have moved on since (polling can miss states), so where the model is unsure
it re-reads the run and judges the answer against what is possible (`reachable`), never against a guess.

A violation raises ModelViolation with its category (the check it belongs to) and the step log.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule

import pytest

from assistants_conformance.checks import ConformanceFailure, violation
from assistants_conformance.flows import LOOKUP_FUNCTION, Factory, named_tool_choice, poll_run
from assistants_conformance.protocol import transitions
from assistants_conformance.protocol.locking import thread_locked
from assistants_conformance.protocol.transitions import LOCKING, TERMINAL

LOCK = "lock"  # MODEL-001: locked threads refuse messages and runs, unlocked ones accept them
STATUS = "status"  # MODEL-002: observed statuses follow `reachable`, terminal runs never change
TERMINAL_OPS = "terminal-ops"  # MODEL-003: cancel and submit on terminal runs are refused; cancel takes effect
LISTS = "lists"  # MODEL-004: list answers hold exactly what was created on the thread, in order


class ModelViolation(ConformanceFailure):
    def __init__(self, category: str, what: str, evidence):
        super().__init__(what, evidence)
        self.category = category


@dataclass
class RunModel:
    id: str
    thread_id: str
    function: bool  # created with the function assistant and a named tool_choice
    statuses: list[str] = field(default_factory=list)  # every status read, in order
    tool_call_ids: list[str] = field(default_factory=list)  # from the last requires_action read
    created_at: float = field(default_factory=time.monotonic)

    @property
    def status(self) -> str:
        return self.statuses[-1]


@dataclass
class ThreadModel:
    id: str
    user_messages: list[str] = field(default_factory=list)  # ids, in creation order
    runs: list[str] = field(default_factory=list)  # ids, in creation order


@dataclass
class Shared:
    """What every sequence of one test uses: the factory, two assistants, bounds, and what was seen."""

    factory: Factory
    plain_assistant: str
    function_assistant: str
    poll_timeout: float
    terminal_runs: dict[str, RunModel] = field(default_factory=dict)  # across sequences, for the final re-read
    sequences: int = 0
    steps: int = 0


def build_machine(shared: Shared) -> type[RuleBasedStateMachine]:
    """A machine class bound to `shared` (hypothesis instantiates it without arguments)."""

    class AssistantsMachine(RuleBasedStateMachine):
        threads = Bundle("threads")

        def __init__(self):
            super().__init__()
            self.shared = shared
            self.client = shared.factory.client
            self.log: list[str] = []
            self.thread_models: dict[str, ThreadModel] = {}
            self.run_models: dict[str, RunModel] = {}
            shared.sequences += 1

        # --- helpers -------------------------------------------------------------------------------
        def fail(self, category: str, what: str, response=None):
            evidence = ["steps:\n  " + "\n  ".join(self.log)]
            if response is not None:
                evidence.append(response.exchange)
            raise ModelViolation(category, what, evidence)

        def note(self, text: str) -> None:
            self.log.append(text)
            self.shared.steps += 1

        def observe(self, run: RunModel, body: dict, where: str, response) -> None:
            """Record a status read of `run` and check it against everything read before."""
            status = body.get("status")
            if status not in transitions.RUN_STATUSES:
                self.fail(STATUS, f"{where}: run {run.id} has unknown status {status!r}", response)
            if run.statuses and run.status in TERMINAL and status != run.status:
                self.fail(STATUS, f"{where}: run {run.id} was {run.status} (terminal) and is now {status}; "
                          "a terminal run never changes", response)
            if run.statuses and not transitions.reachable(run.status, status):
                self.fail(STATUS, f"{where}: run {run.id} went {run.status} -> {status}, which the run "
                          f"lifecycle does not allow (statuses so far: {' -> '.join(run.statuses)})", response)
            run.statuses.append(status)
            if status == "requires_action":
                calls = ((body.get("required_action") or {}).get("submit_tool_outputs") or {}).get("tool_calls") or []
                run.tool_call_ids = [c.get("id") for c in calls if isinstance(c, dict)]
            if status in TERMINAL:
                self.shared.terminal_runs[run.id] = run
            self.shared.factory.note_run({**body, "thread_id": run.thread_id})

        def read_run(self, run: RunModel, where: str):
            response = self.client.get(f"/threads/{run.thread_id}/runs/{run.id}")
            if response.status_code != 200 or not isinstance(response.json, dict):
                self.fail(STATUS, f"{where}: reading run {run.id} answered {response.status_code}", response)
            self.observe(run, response.json, where, response)
            return response.json

        def active_run(self, thread: ThreadModel) -> RunModel | None:
            for run_id in reversed(thread.runs):
                run = self.run_models[run_id]
                if run.status in LOCKING:
                    return run
            return None

        def judge_lock(self, thread: ThreadModel, what: str, response) -> bool:
            """Whether `response` to creating `what` on `thread` is right; True when it was accepted."""
            active = self.active_run(thread)
            statuses = [self.run_models[r].status for r in thread.runs]
            if response.status_code == 200:
                if active is not None:
                    # Accepted: right only if the run has ended since the model last saw it.
                    now = self.read_run(active, f"after {what} was accepted")
                    if thread_locked([now.get("status")]):
                        self.fail(LOCK, f"{what} on thread {thread.id} was accepted (200) while its run "
                                  f"{active.id} is {now.get('status')}: a thread with a run in "
                                  f"{sorted(LOCKING)} must refuse it with 400", response)
                return True
            if response.status_code == 400:
                if active is None:
                    self.fail(LOCK, f"{what} on thread {thread.id} was refused (400) although no run of "
                              f"the thread is active (run statuses: {statuses or 'no runs'})", response)
                return False
            self.fail(LOCK, f"{what} on thread {thread.id} answered {response.status_code}; expected 200, "
                      "or 400 while a run is active", response)

        # --- rules ---------------------------------------------------------------------------------
        @initialize(target=threads)
        def first_thread(self):
            # every sequence starts with a thread held by a function run: locks, cancels and submits then
            # meet live runs from the first step on
            thread_id = self.create_thread()
            self.create_run(thread_id, True)
            return thread_id

        def pick_run(self, data) -> RunModel:
            return self.run_models[data.draw(st.sampled_from(sorted(self.run_models)), label="run")]

        @rule(target=threads)
        def create_thread(self):
            thread = self.shared.factory.thread()
            self.thread_models[thread["id"]] = ThreadModel(thread["id"])
            self.note(f"create thread -> {thread['id']}")
            return thread["id"]

        @rule(thread_id=threads, text=st.sampled_from(["Hello.", "Tell me a short fact.", "Thanks!"]))
        def create_message(self, thread_id, text):
            thread = self.thread_models[thread_id]
            response = self.client.post(f"/threads/{thread_id}/messages", json={"role": "user", "content": text})
            self.note(f"create message on {thread_id} -> {response.status_code}")
            if self.judge_lock(thread, "a new message", response):
                thread.user_messages.append(response.json["id"])

        @rule(thread_id=threads, function=st.booleans())
        def create_run(self, thread_id, function):
            thread = self.thread_models[thread_id]
            body = {"assistant_id": self.shared.function_assistant if function else self.shared.plain_assistant,
                    "metadata": self.shared.factory.tag()}
            if function:
                body["tool_choice"] = named_tool_choice(LOOKUP_FUNCTION["function"]["name"])
            if not thread.user_messages:
                body["additional_messages"] = [{"role": "user", "content": "Look up the conformance value 'beta'."}]
            response = self.client.post(f"/threads/{thread_id}/runs", json=body)
            kind = "function run" if function else "plain run"
            self.note(f"create {kind} on {thread_id} -> {response.status_code}"
                      + (f" {response.json.get('id')} {response.json.get('status')}" if response.status_code == 200 else ""))
            if not self.judge_lock(thread, f"a new {kind}", response):
                return
            run = RunModel(response.json["id"], thread_id, function)
            self.run_models[run.id] = run
            thread.runs.append(run.id)
            if body.get("additional_messages"):
                thread.user_messages.append(None)  # created by the run; its id is learnt from the list
            self.observe(run, response.json, "create run answer", response)


        @precondition(lambda self: self.run_models)
        @rule(data=st.data())
        def poll_once(self, data):
            run = self.pick_run(data)
            run_id = run.id
            body = self.read_run(run, "poll")
            self.note(f"poll {run_id} -> {body.get('status')}")

        @precondition(lambda self: self.run_models)
        @rule(data=st.data())
        def wait(self, data):
            run = self.pick_run(data)
            run_id = run.id
            if run.status in TERMINAL:
                return
            poll = poll_run(self.client, run.thread_id, run.id, timeout=self.shared.poll_timeout)
            for status in poll.statuses[:-1]:
                self.observe(run, {"status": status}, "polling", None)
            self.observe(run, poll.final, "polling", None)
            self.note(f"wait {run_id} -> {' -> '.join(poll.statuses)}")

        @precondition(lambda self: self.run_models)
        @rule(data=st.data())
        def submit_outputs(self, data):
            run = self.pick_run(data)
            run_id = run.id
            if run.status == "requires_action":
                ids = run.tool_call_ids
            elif run.status in TERMINAL:
                ids = run.tool_call_ids or ["call_conformance_unknown"]
            else:
                return  # in flight: the tool call ids are not known yet
            was = run.status
            outputs = [{"tool_call_id": i, "output": "42"} for i in ids]
            response = self.client.post(f"/threads/{run.thread_id}/runs/{run.id}/submit_tool_outputs",
                                        json={"tool_outputs": outputs, "stream": False})
            self.note(f"submit tool outputs to {run_id} (was {was}) -> {response.status_code}")
            if was in TERMINAL:
                if response.status_code != 400:
                    self.fail(TERMINAL_OPS, f"submit_tool_outputs on run {run.id}, which is {was} (terminal), "
                              f"answered {response.status_code}; expected 400", response)
                self.read_run(run, "after refused submit")
                return
            if response.status_code == 200:
                self.observe(run, response.json, "submit answer", response)
            elif response.status_code == 400:
                # Right only if the run left requires_action meanwhile (expiry).
                now = self.read_run(run, "after refused submit")
                if now.get("status") == "requires_action":
                    self.fail(TERMINAL_OPS, f"submit_tool_outputs with the required call ids on run {run.id} "
                              "in requires_action was refused (400)", response)
            else:
                self.fail(TERMINAL_OPS, f"submit_tool_outputs answered {response.status_code}", response)

        @precondition(lambda self: self.run_models)
        @rule(data=st.data())
        def cancel(self, data):
            run = self.pick_run(data)
            run_id = run.id
            was = run.status
            response = self.client.post(f"/threads/{run.thread_id}/runs/{run.id}/cancel", json=None)
            self.note(f"cancel {run_id} (was {was}) -> {response.status_code}"
                      + (f" {response.json.get('status')}" if response.status_code == 200 else ""))
            if was in TERMINAL:
                if response.status_code != 400:
                    self.fail(TERMINAL_OPS, f"cancel on run {run.id}, which is {was} (terminal), answered "
                              f"{response.status_code}; expected 400", response)
                return
            if response.status_code == 200:
                status = response.json.get("status")
                if status not in ("cancelling", "cancelled"):
                    self.fail(TERMINAL_OPS, f"cancel on run {run.id} ({was}) answered 200 with status {status}; "
                              "an accepted cancel shows cancelling or cancelled", response)
                self.observe(run, response.json, "cancel answer", response)
            elif response.status_code == 400:
                now = self.read_run(run, "after refused cancel")
                if now.get("status") not in TERMINAL:
                    self.fail(TERMINAL_OPS, f"cancel on run {run.id}, which is {now.get('status')}, was refused "
                              "(400); only terminal runs refuse a cancel", response)
            else:
                self.fail(TERMINAL_OPS, f"cancel answered {response.status_code}", response)

        @rule(thread_id=threads)
        def list_thread(self, thread_id):
            # one rule for both lists: keeps the random walk busy with runs rather than with reads
            self.list_messages(thread_id)
            self.list_runs(thread_id)

        def list_messages(self, thread_id):
            thread = self.thread_models[thread_id]
            # order=desc (the default made explicit), read back to front: catches a server ignoring `order`
            response = self.client.get(f"/threads/{thread_id}/messages", params={"order": "desc", "limit": 100})
            self.note(f"list messages of {thread_id} -> {response.status_code}")
            data = self._page(response, "messages")[::-1]
            user_ids = [m.get("id") for m in data if m.get("role") == "user"]
            expected = thread.user_messages
            same = len(user_ids) == len(expected) and all(e is None or e == u for e, u in zip(expected, user_ids))
            if not same:
                self.fail(LISTS, f"user messages listed on thread {thread_id} (order=desc, shown oldest first) are {user_ids}; "
                          f"created were {expected} (None: added by a run's additional_messages)", response)
            thread.user_messages = user_ids
            strangers = [m.get("id") for m in data if m.get("role") != "user" and m.get("run_id") not in thread.runs]
            if strangers:
                self.fail(LISTS, f"assistant messages {strangers} on thread {thread_id} name no run of the thread "
                          f"(runs: {thread.runs})", response)

        def list_runs(self, thread_id):
            thread = self.thread_models[thread_id]
            response = self.client.get(f"/threads/{thread_id}/runs", params={"order": "desc", "limit": 100})
            self.note(f"list runs of {thread_id} -> {response.status_code}")
            data = self._page(response, "runs")[::-1]
            listed = [r.get("id") for r in data]
            if listed != thread.runs:
                self.fail(LISTS, f"runs listed on thread {thread_id} (order=desc, shown oldest first) are {listed}; created were "
                          f"{thread.runs}", response)
            for item in data:
                self.observe(self.run_models[item["id"]], item, "list runs", response)

        def _page(self, response, what: str) -> list[dict]:
            if response.status_code != 200 or not isinstance(response.json, dict) \
                    or not isinstance(response.json.get("data"), list):
                self.fail(LISTS, f"listing {what} answered {response.status_code} without a data list", response)
            return [d for d in response.json["data"] if isinstance(d, dict)]

        @invariant()
        def bounded_log(self):
            # keeps evidence short: the last 40 steps are enough to replay a sequence by hand
            del self.log[:-40]

        def teardown(self):
            if os.environ.get("MODEL_DEBUG"):
                print("\n".join(self.log), "\n---")

    return AssistantsMachine


def judge(model_run: ModelRun, category: str) -> None:
    """Fail with the violation of this category; skip (not pass) when the run stopped at another one,
    since the sequences after it were never explored."""
    found = model_run.violation
    if found is None:
        return
    if found.category == category:
        violation(found.what, found.evidence)
    pytest.skip(f"not judged: the model-based run stopped at a violation of another rule ({found.category}): "
                f"{found.what}")
