"""What the proxy remembers between exchanges, bounded: runs (their observed statuses), threads (their
lock history for protocol.history) and what streams finished with (for later reads of the same ids).

Every table is an LRU with a cap: the least recently touched run, thread or object is forgotten first.
Forgetting only removes facts, so it can turn a finding into no finding, never the reverse (the history
checker with fewer operations has fewer constraints; a run with no earlier observation is not compared).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

from ..protocol import history, transitions

# The fields a terminal run must keep (as the suites' LIFE-012 compares them).
ENDING_FIELDS = ("status", "started_at", "completed_at", "cancelled_at", "failed_at", "expires_at",
                 "last_error", "incomplete_details", "usage", "required_action")
MAX_RUNS = 20_000
MAX_THREADS = 5_000
MAX_OBJECTS = 20_000
MAX_OPS_PER_THREAD = 48  # the oldest operations of a busy thread are dropped first
OBSERVATIONS_PER_RUN = 4

Report = Callable[[str, str, list], None]  # (check id, message, [Observed]) -> None


class LRU(OrderedDict):
    def __init__(self, cap: int):
        super().__init__()
        self.cap = cap
        self.evicted = 0

    def touch(self, key: Any, make: Callable[[], Any]) -> Any:
        value = self.get(key)
        if value is None:
            value = self[key] = make()
            if len(self) > self.cap:
                self.popitem(last=False)
                self.evicted += 1
        else:
            self.move_to_end(key)
        return value


@dataclass(slots=True)
class Sighting:
    status: str
    start: float
    end: float
    fields: tuple
    source: Any  # Observed
    how: str  # "GET /threads/{thread_id}/runs/{run_id}", "stream event thread.run.completed", ...


@dataclass
class RunState:
    seen: list[Sighting] = field(default_factory=list)
    reported: set[str] = field(default_factory=set)


@dataclass
class ThreadState:
    ops: list[history.Operation] = field(default_factory=list)
    sources: dict[str, Any] = field(default_factory=dict)  # op id -> Observed
    messages: int = 0  # accepted create_message operations in ops
    runs: set = field(default_factory=set)  # run ids (or create op ids) the ops name
    reported: bool = False  # a lock finding was made on this thread


class State:
    def __init__(self, judge: Callable[[str], None], report: Report, *, max_runs: int = MAX_RUNS,
                 max_threads: int = MAX_THREADS, max_objects: int = MAX_OBJECTS):
        self.judge, self.report = judge, report
        self.runs: LRU = LRU(max_runs)
        self.threads: LRU = LRU(max_threads)
        self.streamed: LRU = LRU(max_objects)  # message/step id -> (kind, status, texts, Observed)
        self.undecided = 0  # lock histories the checker could not decide (never findings)
        self._op = 0

    # --- runs ----------------------------------------------------------------------------------------
    def run_seen(self, run: dict, start: float, end: float, source: Any, how: str) -> None:
        run_id, status = run.get("id"), run.get("status")
        if not isinstance(run_id, str) or not isinstance(status, str):
            return
        state = self.runs.touch(run_id, RunState)
        terminal = status in transitions.TERMINAL
        fields = tuple(run.get(name) for name in ENDING_FIELDS) if terminal else ()  # compared with ==
        before = [s for s in state.seen if s.end <= start]
        if before:
            prior = max(before, key=lambda s: s.end)
            if prior.status in transitions.TERMINAL:
                self.judge("LIFE-012")
                self.judge("LIFE-001")
                if status != prior.status and "LIFE-001" not in state.reported:  # also off the lifecycle
                    state.reported.add("LIFE-001")
                    self.report("LIFE-001", f"run {run_id}: {prior.how} showed {prior.status}, then {how} showed "
                                f"{status}: a terminal run never changes", [prior.source, source])
                changed = [f"{name}: {_short(a)} -> {_short(b)}" for name, a, b in
                           zip(ENDING_FIELDS, prior.fields, fields) if a != b]
                if changed and "LIFE-012" not in state.reported:
                    state.reported.add("LIFE-012")
                    self.report("LIFE-012", f"run {run_id} was {prior.status} ({prior.how}), then {how} showed it "
                                f"changed: {'; '.join(changed)}", [prior.source, source])
            else:
                self.judge("LIFE-001")
                if not transitions.RUN.reachable(prior.status, status) and "LIFE-001" not in state.reported:
                    state.reported.add("LIFE-001")
                    problem = transitions.RUN.check_observed([prior.status, status])
                    self.report("LIFE-001", f"run {run_id}: {prior.how} showed {prior.status}, then {how} showed "
                                f"{status}: {problem[-1] if problem else 'not a documented transition'}",
                                [prior.source, source])
        state.seen.append(Sighting(status, start, end, fields, source, how))
        if len(state.seen) > OBSERVATIONS_PER_RUN:
            del state.seen[0]

    # --- thread locks --------------------------------------------------------------------------------
    def lock_op(self, thread_id: str, kind: str, start: float, end: float, outcome: str, source: Any,
                run_id: str | None = None, status: str | None = None) -> None:
        if not isinstance(thread_id, str):
            return
        if status is not None and status not in transitions.RUN_STATUSES:
            status = None  # an unknown status is the contract's finding, not the history's
        thread = self.threads.touch(thread_id, ThreadState)
        if thread.reported:
            return  # its lock finding is made; its later history is not held
        self._op += 1
        seq = getattr(source, "seq", None)  # ops are named by their exchange: #N, the Nth through the proxy
        op_id = f"#{seq}" if seq is not None else f"op{self._op}"
        if op_id in thread.sources:
            op_id = f"{op_id}.{self._op}"
        op = history.Operation(op_id, thread_id, kind, start, end, outcome, run_id, status)
        ops = thread.ops
        if (kind in _READS and len(ops) >= 2 and _same_read(ops[-1], op) and _same_read(ops[-2], op)
                and ops[-1].start <= start):
            # a poll like the two before it: the middle one constrains nothing the first and the last do not
            thread.sources.pop(ops.pop().op_id, None)
        ops.append(op)
        thread.sources[op.op_id] = source
        if kind == "create_message" and outcome == "ok":
            thread.messages += 1
        if len(ops) > MAX_OPS_PER_THREAD:
            gone = ops.pop(0)
            thread.sources.pop(gone.op_id, None)
            thread.messages -= gone.kind == "create_message" and gone.outcome == "ok"
        if run_id is not None and run_id not in thread.runs:
            thread.runs.add(run_id)
        elif kind == "create_run" and run_id is None:
            thread.runs.add(op.op_id)
        if (thread.messages and thread.runs) or len(thread.runs) >= 2:
            self._check_thread(thread_id, thread)

    def _check_thread(self, thread_id: str, thread: ThreadState) -> None:
        """Only called when something could contend for the lock (a message beside a run, or two runs)."""
        verdict = history.check_thread_history(thread.ops)
        if thread.messages:
            self.judge("LOCK-001")
        creates = [o for o in thread.ops if o.kind == "create_run" and o.outcome != "fail"]
        if len(creates) >= 2:
            self.judge("LOCK-006" if _overlapping(creates) else "LOCK-002")
        if verdict.verdict == "unknown":
            self.undecided += 1
            return
        if verdict.verdict != "invalid":
            return
        culprits = [o for o in thread.ops if o.op_id in set(verdict.culprits)]
        kinds = {o.kind for o in culprits}
        culprit_creates = [o for o in culprits if o.kind == "create_run"]
        if "create_message" in kinds:
            check_id = "LOCK-001"
        elif len(culprit_creates) >= 2 and not _overlapping(culprit_creates):
            check_id = "LOCK-002"  # a run accepted after another's creation had been answered
        else:
            check_id = "LOCK-006"  # two runs active at once, created concurrently (or before we saw them)
        self.judge(check_id)
        if thread.reported:
            return  # this thread broke the lock already: one finding per thread
        thread.reported = True
        sources = []
        for op in sorted(culprits, key=lambda o: o.start):
            source = thread.sources.get(op.op_id)
            if source is not None and source not in sources:
                sources.append(source)
        self.report(check_id, f"the thread lock was not kept (history checker; #N is the Nth exchange through "
                    f"the proxy): {verdict.explanation}", sources)
        thread.ops.clear()  # judged: the rest of its history is not held any more
        thread.sources.clear()
        thread.messages, thread.runs = 0, set()

    # --- what streams ended with ---------------------------------------------------------------------
    def streamed_object(self, object_id: str, kind: str, status: Any, texts: dict | None, source: Any) -> None:
        self.streamed.touch(object_id, dict).update(kind=kind, status=status, texts=texts, source=source)

    def read_back(self, obj: dict, kind: str, source: Any, texts: dict | None) -> None:
        """A later read of a message or step a stream ended: status (STREAM-007) and text (STREAM-006)."""
        seen = self.streamed.get(obj.get("id"))
        if not seen or seen["kind"] != kind or seen["source"] is source:
            return
        self.judge("STREAM-007")
        if obj.get("status") != seen["status"] and seen["status"] in _FINAL[kind]:
            self.report("STREAM-007", f"{kind} {obj.get('id')} ended its stream {seen['status']}, but a later "
                        f"read shows {obj.get('status')!r}", [seen["source"], source])
            self.streamed.pop(obj.get("id"), None)
            return
        if kind == "message" and seen["texts"] is not None and texts is not None:
            self.judge("STREAM-006")
            if texts != seen["texts"]:
                self.report("STREAM-006", f"message {obj.get('id')}: streamed text {_short(seen['texts'])} but "
                            f"read back {_short(texts)}", [seen["source"], source])
                self.streamed.pop(obj.get("id"), None)


_READS = frozenset({"get_run", "observation"})


def _same_read(a: history.Operation, b: history.Operation) -> bool:
    return a.kind in _READS and a.run_id == b.run_id and a.status == b.status and a.outcome == b.outcome == "ok"


_FINAL = {"message": transitions.MESSAGE_TERMINAL, "step": transitions.STEP_TERMINAL}


def _overlapping(ops: list[history.Operation]) -> bool:
    ops = sorted(ops, key=lambda o: o.start)
    return any(b.start < a.end for a, b in zip(ops, ops[1:]))


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
