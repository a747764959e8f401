"""Metrics: fired as Locust request events (so Locust aggregates them across workers) and kept raw
(so the report can give exact percentiles, which Locust's bucketed stats cannot).

Request events carry a request_type saying what the number is:
  METRIC  a duration in ms (time to first event, gaps, time to done, run end to end, ...)
  COUNT   a count carried in response_time (polls per run, tokens from `usage`, lock rejections)
  CHECK   a conformance violation (always a failure, named by its check id)
Real HTTP requests use their method (GET, POST, DELETE) and a templated path as name.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

# Metric names (request name in Locust's tables).
TIME_TO_FIRST_EVENT = "time_to_first_event"
TIME_TO_FIRST_TEXT_DELTA = "time_to_first_text_delta"
EVENT_GAP = "event_gap"
TIME_TO_DONE = "time_to_done"
RUN_END_TO_END = "run_end_to_end"
REQUIRES_ACTION_ROUND_TRIP = "requires_action_round_trip"
POLLS_PER_RUN = "polls_per_run"
PROMPT_TOKENS = "usage_prompt_tokens"
COMPLETION_TOKENS = "usage_completion_tokens"
LOCK_REJECTIONS = "lock_rejections"
TIME_TO_INDEXED = "time_to_indexed"                       # vector store created -> its file indexed
FILE_SEARCH_RUN_END_TO_END = "file_search_run_end_to_end"  # thread created -> file_search run streamed to done

METRIC, COUNT, CHECK = "METRIC", "COUNT", "CHECK"


@dataclass
class Sample:
    kind: str       # request_type: METRIC, COUNT, GET, POST, ...
    name: str
    at: float       # wall clock (epoch s) when the measured thing started (the intended start in open loop)
    value: float    # ms, or a count
    ok: bool = True
    source: str = "local"

    def row(self) -> list:
        return [self.kind, self.name, round(self.at, 6), round(self.value, 3), int(self.ok), self.source]

    @classmethod
    def from_row(cls, row: list, source: str | None = None) -> "Sample":
        kind, name, at, value, ok, src = row
        return cls(kind, name, float(at), float(value), bool(ok), source or src)


@dataclass
class Violation:
    check_id: str
    title: str
    message: str
    at: float = field(default_factory=time.time)
    source: str = "local"

    def to_dict(self) -> dict:
        return {"check_id": self.check_id, "title": self.title, "message": self.message, "at": self.at,
                "source": self.source}


class Recorder:
    """Raw samples and violations of this process; a worker drains them into each report to the master."""

    MAX_VIOLATIONS_KEPT = 200  # every violation is counted by Locust; the report keeps the first ones

    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self.violations: list[Violation] = []
        self.violation_counts: dict[str, int] = {}
        self.checked_counts: dict[str, int] = {}  # check id -> times it was applied (a stream, a run, a thread)
        self._lock = threading.Lock()

    def add(self, sample: Sample) -> None:
        self.samples.append(sample)  # list.append is atomic; greenlets never interleave inside it

    def add_violation(self, violation: Violation) -> None:
        with self._lock:
            self.violation_counts[violation.check_id] = self.violation_counts.get(violation.check_id, 0) + 1
            if len(self.violations) < self.MAX_VIOLATIONS_KEPT:
                self.violations.append(violation)

    def add_checked(self, check_id: str) -> None:
        with self._lock:
            self.checked_counts[check_id] = self.checked_counts.get(check_id, 0) + 1

    def drain(self) -> dict:
        """Everything recorded since the last drain, in a msgpack-friendly form."""
        with self._lock:
            samples, self.samples = self.samples, []
            violations, self.violations = self.violations, []
            counts, self.violation_counts = self.violation_counts, {}
            checked, self.checked_counts = self.checked_counts, {}
        return {"samples": [s.row() for s in samples], "violations": [v.to_dict() for v in violations],
                "violation_counts": counts, "checked_counts": checked}

    def merge(self, data: dict, source: str) -> None:
        """Add what a worker drained (its raw timings, not only Locust's aggregated stats)."""
        self.samples.extend(Sample.from_row(row, source) for row in data.get("samples", ()))
        with self._lock:
            for v in data.get("violations", ()):
                if len(self.violations) < self.MAX_VIOLATIONS_KEPT:
                    self.violations.append(Violation(v["check_id"], v["title"], v["message"], v["at"], source))
            for mine, theirs in ((self.violation_counts, "violation_counts"), (self.checked_counts, "checked_counts")):
                for check_id, n in data.get(theirs, {}).items():
                    mine[check_id] = mine.get(check_id, 0) + int(n)


class LoadCheckFailure(Exception):
    """The exception carried by a CHECK failure event: the check id and what was seen."""


class RequestFailure(Exception):
    """The exception carried by a failed request event: one line saying why."""


def fire(environment, recorder: Recorder, kind: str, name: str, value: float, *, at: float | None = None,
         exception: Exception | None = None, length: int = 0) -> None:
    """One Locust request event plus its raw sample."""
    environment.events.request.fire(request_type=kind, name=name, response_time=value, response_length=length,
                                    exception=exception, context={})
    recorder.add(Sample(kind, name, time.time() - value / 1000 if at is None else at, value, exception is None))


def fire_violation(environment, recorder: Recorder, check_id: str, title: str, message: str) -> None:
    environment.events.request.fire(request_type=CHECK, name=f"{check_id} {title}", response_time=0,
                                    response_length=0, exception=LoadCheckFailure(f"{check_id}: {message}"),
                                    context={})
    recorder.add_violation(Violation(check_id, title, message))


# --- exact percentiles ---------------------------------------------------------------------------------

PERCENTILES = (0.5, 0.9, 0.99, 0.999)


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values (exact: a value that was measured)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-int(round(p * 1_000_000)) * len(sorted_values) // 1_000_000))  # ceil(p * n), no float drift
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarize(samples: list[Sample], *, since: float | None = None) -> list[dict]:
    """Exact figures per (kind, name), failures excluded from the timing figures but counted."""
    groups: dict[tuple[str, str], list[Sample]] = {}
    for s in samples:
        if since is not None and s.at < since:
            continue
        groups.setdefault((s.kind, s.name), []).append(s)
    rows = []
    for (kind, name), group in sorted(groups.items()):
        values = sorted(s.value for s in group if s.ok)
        row = {"kind": kind, "name": name, "count": len(group), "failures": sum(not s.ok for s in group)}
        for p in PERCENTILES:
            row[f"p{p * 100:g}"] = percentile(values, p) if values else None
        row["max"] = values[-1] if values else None
        row["mean"] = sum(values) / len(values) if values else None
        rows.append(row)
    return rows
