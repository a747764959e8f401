"""Conformance under load: the check ids a load run can fail with, and the per-thread histories of the
contention profile (checked by the oracle's lock checker when the run stops)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..protocol.history import Operation, check_thread_history
from .metrics import Recorder, fire_violation


@dataclass(frozen=True)
class LoadCheck:
    check_id: str
    title: str
    rule: str


STREAM_GRAMMAR = LoadCheck("LOAD-001", "stream grammar",
                           "every stream's events follow the stream grammar (specs/stream-grammar.yaml)")
THREAD_LOCK = LoadCheck("LOAD-002", "thread lock",
                        "at most one active run per thread, and no message added while a run is active")
RUN_STATUS_SEQUENCE = LoadCheck("LOAD-003", "run status sequence",
                                "the statuses a poller observes follow the run status relation")
STREAM_CONSISTENCY = LoadCheck("LOAD-004", "stream consistency",
                               "a stream's payloads agree with each other (ids, statuses, deltas add up)")
ALL = (STREAM_GRAMMAR, THREAD_LOCK, RUN_STATUS_SEQUENCE, STREAM_CONSISTENCY)


def report(environment, recorder: Recorder, check: LoadCheck, message: str) -> None:
    fire_violation(environment, recorder, check.check_id, check.title, message)


def judge(environment, recorder: Recorder, check: LoadCheck, problems) -> None:
    """One application of `check` (counted, so the summary can say what was checked), reporting the first
    of its `problems` (messages; none: it held)."""
    recorder.add_checked(check.check_id)
    for message in list(problems)[:1]:
        report(environment, recorder, check, message)


class ThreadHistories:
    """Operations on shared threads, recorded by every user of this process (greenlets share it)."""

    def __init__(self) -> None:
        self.ops: dict[str, list[Operation]] = {}
        self._n = 0

    def record(self, thread_id: str, kind: str, start: float, outcome: str, *, run_id: str | None = None,
               status: str | None = None, end: float | None = None) -> None:
        self._n += 1
        end = time.monotonic() if end is None else end
        self.ops.setdefault(thread_id, []).append(
            Operation(f"op{self._n}", thread_id, kind, start, end, outcome, run_id=run_id, status=status))

    def check(self, environment, recorder: Recorder) -> dict[str, str]:
        """Check every thread's history once; report LOAD-002 for each invalid one. Returns verdicts."""
        verdicts = {}
        for thread_id, ops in self.ops.items():
            verdict = check_thread_history(ops)
            verdicts[thread_id] = verdict.verdict
            if verdict.verdict != "unknown":  # undecided (too many overlapping operations): not checked
                judge(environment, recorder, THREAD_LOCK, [verdict.explanation] if verdict.verdict == "invalid" else [])
        self.ops.clear()
        return verdicts
