"""Status relations of runs, run steps and messages, and checks of statuses observed by polling.

`allowed(a, b)` is one documented step; `reachable(a, b)` is what two successive reads may show
(polling can miss intermediate states, and re-reading a run may show the same status again).
Sources: the v2 "run lifecycle" guide (status list with prose), the API reference (cancel: "cancels a
run that is in_progress"; submit_tool_outputs only in requires_action), the run-step guide ("run step
statuses have the same meaning as run statuses"; "a step is expired if the parent run is expired").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class StatusRelation:
    """A set of statuses with a one-step transition relation; terminal statuses have no successors."""

    noun: str  # "run", "run step", "message": used in violation texts
    statuses: tuple[str, ...]
    edges: dict[str, frozenset[str]]

    @cached_property
    def terminal(self) -> frozenset[str]:
        return frozenset(s for s in self.statuses if not self.edges.get(s))

    @cached_property
    def closure(self) -> dict[str, frozenset[str]]:
        """Statuses reachable in one or more steps from each status."""
        out: dict[str, frozenset[str]] = {}
        for start in self.statuses:
            seen: set[str] = set()
            todo = list(self.edges.get(start, ()))
            while todo:
                s = todo.pop()
                if s not in seen:
                    seen.add(s)
                    todo.extend(self.edges.get(s, ()))
            out[start] = frozenset(seen)
        return out

    def allowed(self, a: str, b: str) -> bool:
        return b in self.edges.get(a, frozenset())

    def reachable(self, a: str, b: str) -> bool:
        """Could a read showing `a` be followed by a read showing `b`?

        True for a == b (nothing happened between the reads, also for terminal statuses, which
        never change) and for any status reachable through documented steps.
        """
        if a not in self.closure or b not in self.closure:
            return False
        return a == b or b in self.closure[a]

    def check_observed(self, statuses: list[str]) -> list[str]:
        """Violations in a sequence of statuses read one after another (index = read number, 0-based)."""
        problems: list[str] = []
        for i, status in enumerate(statuses):
            if status not in self.closure:
                problems.append(
                    f"unknown {self.noun} status {status!r} at read {i}: "
                    f"expected one of {', '.join(self.statuses)}"
                )
        for i in range(1, len(statuses)):
            a, b = statuses[i - 1], statuses[i]
            if a in self.closure and b in self.closure and not self.reachable(a, b):
                problems.append(f"{self.noun} status went {a} → {b} at read {i}: {self._why_not(a, b)}")
        return problems

    def _why_not(self, a: str, b: str) -> str:
        if a in self.terminal:
            return f"a terminal {self.noun} never changes"
        successors = ", ".join(sorted(self.closure[a]))
        return f"from {a} a {self.noun} can only reach {successors}"


# One line per edge: why the documents allow it. Edges not listed are not allowed.
_RUN_EDGES: dict[str, set[str]] = {
    "queued": {
        "in_progress",  # guide: a queued run "should almost immediately move to in_progress"
        "cancelling",  # cancel endpoint on a not-yet-started run: cancel first moves a run to cancelling
        "failed",  # e.g. invalid_prompt / rate_limit_exceeded are known before any work starts
        "expired",  # guide: expired when the run took too long to reach expires_at, queued included
    },
    "in_progress": {
        "requires_action",  # guide: the model chose function calls; the run pauses for outputs
        "cancelling",  # guide: cancel an in_progress run -> cancelling
        "completed",  # guide: the run finished successfully
        "incomplete",  # guide: max_prompt_tokens or max_completion_tokens reached
        "failed",  # guide: see last_error / failed_at
        "expired",  # guide: "execution took too long" past expires_at
    },
    "requires_action": {
        "queued",  # guide: after the required_action is completed the run moves to queued
        "cancelling",  # the cancel endpoint names no exception for paused runs; a client may give up on one
        "expired",  # guide: outputs not submitted before expires_at -> expired
        # not "failed": a paused run does no work, the docs name only submit, cancel and expiry as exits
    },
    "cancelling": {
        "cancelled",  # guide: a successful cancellation ends in cancelled
        "completed",  # guide: cancellation "is attempted but not guaranteed": the run may finish anyway
        "incomplete",  # same: the run may still end by hitting its token limits
        "failed",  # same: the run may still fail
        "expired",  # same: the run may still pass expires_at before the cancel lands
        # not "requires_action"/"in_progress": a cancelling run only moves towards an ending
    },
}

_STEP_EDGES: dict[str, set[str]] = {
    "in_progress": {
        "completed",  # the step's message or tool calls finished
        "failed",  # step last_error (server_error | rate_limit_exceeded)
        "cancelled",  # the parent run was cancelled
        "expired",  # guide: "a step is considered expired if the parent run is expired"
    },
}

_MESSAGE_EDGES: dict[str, set[str]] = {
    "in_progress": {
        "completed",  # the assistant finished writing the message
        "incomplete",  # incomplete_details.reason: content_filter, max_tokens, run_cancelled/expired/failed
    },
}

RUN = StatusRelation(
    "run",
    ("queued", "in_progress", "requires_action", "cancelling", "cancelled", "failed", "completed", "incomplete", "expired"),
    {k: frozenset(v) for k, v in _RUN_EDGES.items()},
)
RUN_STEP = StatusRelation(
    "run step",
    ("in_progress", "cancelled", "failed", "completed", "expired"),
    {k: frozenset(v) for k, v in _STEP_EDGES.items()},
)
MESSAGE = StatusRelation(
    "message",
    ("in_progress", "incomplete", "completed"),
    {k: frozenset(v) for k, v in _MESSAGE_EDGES.items()},
)

RUN_STATUSES: tuple[str, ...] = RUN.statuses
TERMINAL: frozenset[str] = RUN.terminal  # cancelled, failed, completed, incomplete, expired
# guide: while a run is not terminal the thread is locked (no new messages, no new runs)
LOCKING: frozenset[str] = frozenset(RUN.statuses) - TERMINAL  # queued, in_progress, requires_action, cancelling
STEP_STATUSES: tuple[str, ...] = RUN_STEP.statuses
STEP_TERMINAL: frozenset[str] = RUN_STEP.terminal
MESSAGE_STATUSES: tuple[str, ...] = MESSAGE.statuses
MESSAGE_TERMINAL: frozenset[str] = MESSAGE.terminal


# Module-level API for runs (the common case); use RUN_STEP / MESSAGE for the others.
def allowed(a: str, b: str) -> bool:
    return RUN.allowed(a, b)


def reachable(a: str, b: str) -> bool:
    return RUN.reachable(a, b)


def check_observed(statuses: list[str]) -> list[str]:
    return RUN.check_observed(statuses)
