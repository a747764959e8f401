"""Per-thread history checker for concurrent clients: was the thread lock respected?

Rule (thread locks): at most one run on a thread is active (queued, in_progress, requires_action,
cancelling) at any moment, and no message is added while a run is active.

Each recorded operation has a window [start, end] (monotonic seconds) and an outcome. An operation
took effect at one unknown instant inside its window (its linearization point). The checker asks:
is there a choice of instants under which the history obeys the rule?

  * A run created by an ok create_run is born inside [start, end] of that request. It is active from
    birth until it turns terminal (statuses never come back from terminal). An ok observation that saw
    it active (any op with run_id + a locking status) means it was alive at an instant in that
    observation's window; one that saw it terminal means it had died before an instant in that window.
  * An ok create_message took effect at an instant in its window, which must lie outside every run's
    active interval.
  * `fail` operations had no effect. `unknown` operations (timeouts) are neither failures nor
    successes: the server may apply them at any later moment, or never. Such a reading always exists
    that breaks no rule (apply it after everything else, or not at all), so unknown operations never
    make a history invalid. An unknown create_run whose run id is known (found later by listing) is a
    run that exists, born at some instant after the request started.

Verdicts:
  valid    some choice of instants obeys the rule (the explanation shows one: the witness order)
  invalid  no choice does; the explanation names the operations that cannot be reconciled, with times
  unknown  the checker could not decide within its search bound (many mutually overlapping operations)

Sound by construction: "invalid" only when an exact search (or a direct proof: two runs whose
certainly-active intervals overlap) rules out every explanation.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Iterable, Literal

from .transitions import LOCKING, TERMINAL

OBSERVING_KINDS = {"create_run", "get_run", "observation", "cancel_run", "submit_tool_outputs"}
KINDS = OBSERVING_KINDS | {"create_message"}
OUTCOMES = {"ok", "fail", "unknown"}
EXACT_SEARCH_LIMIT = 14  # jobs in one group of mutually overlapping windows (2**n subsets)


@dataclass(frozen=True)
class Operation:
    op_id: str
    thread_id: str
    kind: str  # create_run | create_message | get_run (alias observation) | cancel_run | submit_tool_outputs
    start: float
    end: float
    outcome: Literal["ok", "fail", "unknown"]
    run_id: str | None = None  # run created / read / cancelled / resumed
    status: str | None = None  # run status in the response, for observations


@dataclass(frozen=True)
class HistoryVerdict:
    verdict: Literal["valid", "invalid", "unknown"]
    explanation: str
    culprits: list[str] = field(default_factory=list)


def _t(x: float) -> str:
    if math.isinf(x):
        return "-∞" if x < 0 else "∞"
    return f"{x:.3f}"


@dataclass
class _Job:
    """Something that occupies the thread: a run (an interval) or a message (an instant).

    Placed as the interval [b, max(b, A)] with b in [L, B] and max(b, A) <= T: the shortest interval
    consistent with the observations (a shorter active interval never hurts anyone else)."""

    label: str
    is_message: bool = False
    L: float = -math.inf  # earliest birth (create started)
    B: float = math.inf  # latest birth (create ended, or an active sighting ended)
    A: float = -math.inf  # alive at least until here (latest start of an active sighting)
    T: float = math.inf  # dead by here (earliest end of a terminal sighting)
    ops: dict[str, str] = field(default_factory=dict)  # bound name -> op_id that sets it

    def tighten(self, bound: str, value: float, op_id: str) -> None:
        current = getattr(self, bound)
        better = value < current if bound in ("B", "T") else value > current
        if better:
            setattr(self, bound, value)
            self.ops[bound] = op_id

    def place_after(self, free_from: float) -> float | None:
        """Finish time when placed no earlier than free_from, or None if it cannot fit."""
        b = max(self.L, free_from)
        if b > self.B:
            return None
        d = max(b, self.A)
        return d if d <= self.T else None

    def culprits(self) -> list[str]:
        return list(dict.fromkeys(self.ops.values()))

    def describe(self) -> str:
        parts = []
        if "L" in self.ops or "B" in self.ops:
            parts.append(f"born in [{_t(self.L)}, {_t(self.B)}] ({', '.join(self._ops_for('L', 'B'))})")
        if "A" in self.ops:
            parts.append(f"seen active until at least {_t(self.A)} ({self.ops['A']})")
        if "T" in self.ops:
            parts.append(f"seen terminal by {_t(self.T)} ({self.ops['T']})")
        return f"{self.label} " + ", ".join(parts)

    def _ops_for(self, *bounds: str) -> list[str]:
        return list(dict.fromkeys(self.ops[b] for b in bounds if b in self.ops))


def check_thread_history(ops: Iterable[Operation]) -> HistoryVerdict:
    """Check the lock rule on every thread in `ops` (grouped by thread_id)."""
    by_thread: dict[str, list[Operation]] = defaultdict(list)
    for op in ops:
        _validate(op)
        by_thread[op.thread_id].append(op)
    verdicts = {tid: _check_one_thread(tid, thread_ops) for tid, thread_ops in sorted(by_thread.items())}
    for wanted in ("invalid", "unknown"):
        bad = [v for v in verdicts.values() if v.verdict == wanted]
        if bad:
            return HistoryVerdict(wanted, "\n".join(v.explanation for v in bad), [c for v in bad for c in v.culprits])
    return HistoryVerdict("valid", "\n".join(v.explanation for v in verdicts.values()) or "no operations", [])


def _validate(op: Operation) -> None:
    if op.kind not in KINDS:
        raise ValueError(f"operation {op.op_id}: unknown kind {op.kind!r}; expected one of {sorted(KINDS)}")
    if op.outcome not in OUTCOMES:
        raise ValueError(f"operation {op.op_id}: outcome must be ok, fail or unknown, not {op.outcome!r}")
    if not op.start <= op.end:
        raise ValueError(f"operation {op.op_id}: start {op.start} is after end {op.end}")
    if op.status is not None and op.status not in LOCKING | TERMINAL:
        raise ValueError(f"operation {op.op_id}: unknown run status {op.status!r}")


def _jobs(ops: list[Operation]) -> list[_Job]:
    runs: dict[str, _Job] = {}
    jobs: list[_Job] = []

    def run(run_id: str) -> _Job:
        if run_id not in runs:
            runs[run_id] = _Job(f"run {run_id}")
        return runs[run_id]

    for op in sorted(ops, key=lambda o: (o.start, o.op_id)):
        if op.outcome == "fail":
            continue  # rejected: had no effect
        if op.kind == "create_run":
            if op.run_id is None:
                if op.outcome == "ok":  # a run we cannot observe: born and (at the soonest) dead in the window
                    anon = _Job(f"run created by {op.op_id}")
                    anon.tighten("L", op.start, op.op_id)
                    anon.tighten("B", op.end, op.op_id)
                    jobs.append(anon)
                continue
            job = run(op.run_id)
            job.tighten("L", op.start, op.op_id)
            if op.outcome == "ok":
                job.tighten("B", op.end, op.op_id)
        elif op.kind == "create_message":
            if op.outcome == "ok":
                msg = _Job(f"message {op.op_id}", is_message=True)
                msg.tighten("L", op.start, op.op_id)
                msg.tighten("B", op.end, op.op_id)
                jobs.append(msg)
            continue
        if op.outcome != "ok" or op.run_id is None or op.status is None:
            continue
        job = run(op.run_id)
        if op.status in LOCKING:  # alive at an instant in [start, end]
            job.tighten("B", op.end, op.op_id)
            job.tighten("A", op.start, op.op_id)
        else:  # dead before an instant in [start, end]
            job.tighten("T", op.end, op.op_id)
    return list(runs.values()) + jobs


def _check_one_thread(thread_id: str, ops: list[Operation]) -> HistoryVerdict:
    jobs = _jobs(ops)
    where = f"thread {thread_id}"

    for job in jobs:  # a single run's sightings contradict each other
        if job.place_after(-math.inf) is None:
            return HistoryVerdict("invalid", f"{where}: {job.describe()}: these cannot all be true", job.culprits())

    proof = _certain_overlap(jobs)
    if proof:
        text, culprits = proof
        return HistoryVerdict("invalid", f"{where}: {text}", culprits)

    schedule: list[tuple[_Job, float, float]] = []
    for group in _overlap_groups(jobs):
        if len(group) > EXACT_SEARCH_LIMIT:
            placed = _greedy(group)
            if placed is None:
                return HistoryVerdict(
                    "unknown",
                    f"{where}: {len(group)} operations overlap in time; no quick order fits and an exact "
                    f"search is beyond the limit of {EXACT_SEARCH_LIMIT}",
                    [],
                )
        else:
            placed = _exact(group)
            if placed is None:
                core = _smallest_conflict(group)
                text = "; ".join(j.describe() for j in core)
                culprits = [c for j in core for c in j.culprits()]
                return HistoryVerdict(
                    "invalid",
                    f"{where}: no order of these fits the thread lock (one active run at a time, no message "
                    f"while a run is active): {text}",
                    list(dict.fromkeys(culprits)),
                )
        schedule.extend(placed)
    schedule.sort(key=lambda item: item[1])
    shown = [f"{j.label} at {_t(b)}" if b == d else f"{j.label} active [{_t(b)}, {_t(d)}]" for j, b, d in schedule]
    if len(shown) > 12:
        shown = shown[:12] + [f"… ({len(shown) - 12} more)"]
    witness = ", ".join(shown)
    return HistoryVerdict("valid", f"{where}: legal, e.g. {witness or 'nothing to place'}", [])


def _certain_overlap(jobs: list[_Job]) -> tuple[str, list[str]] | None:
    """Direct proof: run X is active on all of [B, A] whatever the instants; two such intervals that
    overlap, or a message / another run's birth window inside one, break the rule under every reading."""
    runs = [j for j in jobs if j.A > j.B]
    for x, y in combinations(runs, 2):
        lo, hi = max(x.B, y.B), min(x.A, y.A)
        if hi > lo:
            text = (
                f"{x.label} and {y.label} were both certainly active during [{_t(lo)}, {_t(hi)}]: "
                f"{x.describe()}; {y.describe()}"
            )
            return text, list(dict.fromkeys(x.culprits() + y.culprits()))
    for other in jobs:  # a message added, or another run born, inside a certain interval
        for r in runs:
            latest_birth = min(other.B, other.T)  # a run seen dead by T was born by T
            if other is not r and r.B < other.L and latest_birth < r.A:
                what = "was added" if other.is_message else "was born"
                text = (
                    f"{other.label} {what} during [{_t(other.L)}, {_t(latest_birth)}] while {r.label} was "
                    f"certainly active during [{_t(r.B)}, {_t(r.A)}]: {other.describe()}; {r.describe()}"
                )
                return text, list(dict.fromkeys(other.culprits() + r.culprits()))
    return None


def _overlap_groups(jobs: list[_Job]) -> list[list[_Job]]:
    """Jobs whose possible spans [L, max(B, A)] do not overlap never constrain each other."""
    spans = sorted(jobs, key=lambda j: j.L)
    groups: list[list[_Job]] = []
    reach = -math.inf
    for job in spans:
        if groups and job.L < reach:
            groups[-1].append(job)
        else:
            groups.append([job])
            reach = -math.inf
        reach = max(reach, max(job.B, job.A))
    return groups


def _exact(group: list[_Job]) -> list[tuple[_Job, float, float]] | None:
    """Exact: dynamic programming over subsets, keeping the earliest finish per set placed first
    (an earlier finish never hurts later jobs, so it dominates)."""
    n = len(group)
    best: dict[int, tuple[float, int, int]] = {0: (-math.inf, -1, -1)}  # mask -> (finish, last job, previous mask)
    for mask in range(1 << n):  # masks grow, so predecessors are done first
        if mask not in best:
            continue
        free_from = best[mask][0]
        for j in range(n):
            if mask & (1 << j):
                continue
            finish = group[j].place_after(free_from)
            if finish is None:
                continue
            nxt = mask | (1 << j)
            if nxt not in best or finish < best[nxt][0]:
                best[nxt] = (finish, j, mask)
    full = (1 << n) - 1
    if full not in best:
        return None
    order: list[int] = []
    mask = full
    while mask:
        _, j, prev = best[mask]
        order.append(j)
        mask = prev
    return _placements([group[j] for j in reversed(order)])


def _greedy(group: list[_Job]) -> list[tuple[_Job, float, float]] | None:
    return _placements(sorted(group, key=lambda j: (j.B, j.A)))


def _placements(order: list[_Job]) -> list[tuple[_Job, float, float]] | None:
    out = []
    free_from = -math.inf
    for job in order:
        finish = job.place_after(free_from)
        if finish is None:
            return None
        out.append((job, max(job.L, free_from), finish))
        free_from = finish
    return out


def _smallest_conflict(group: list[_Job]) -> list[_Job]:
    """The fewest jobs (2 or 3) that already cannot be ordered, to name in the explanation."""
    for size in (2, 3):
        for subset in combinations(group, size):
            if _exact(list(subset)) is None:
                return list(subset)
    return group
