"""Thread-lock rules.

Guide (run lifecycle, "thread locks"): while a run is not in a terminal state the thread is locked:
no new messages can be added and no new runs can be created on it. The API answers such requests
with a 400 invalid_request_error ("thread ... already has an active run ...").
"""

from __future__ import annotations

from typing import Iterable

from .transitions import LOCKING

# Operations a locked thread refuses.
LOCKED_OPERATIONS: frozenset[str] = frozenset({"create_message", "create_run"})

expected_status_for_create_on_locked_thread = 400
EXPECTED_STATUS_FOR_CREATE_ON_LOCKED_THREAD = expected_status_for_create_on_locked_thread


def thread_locked(run_statuses_on_thread: Iterable[str]) -> bool:
    """Is the thread locked, given the current statuses of all runs on it?"""
    return any(status in LOCKING for status in run_statuses_on_thread)


def active_runs(runs: Iterable[tuple[str, str]]) -> list[str]:
    """Ids of the runs (id, status) that hold the thread's lock; a legal thread has at most one."""
    return [run_id for run_id, status in runs if status in LOCKING]
