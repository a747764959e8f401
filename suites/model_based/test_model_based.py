"""Model-based checks: random sequences of thread, message and run operations (create, poll, wait,
submit tool outputs, cancel, list) judged step by step against the protocol model (see model_machine.py).

Runs use either a plain assistant or one with a function named in tool_choice (which pauses the run in
requires_action on any server). Budget: ASSISTANTS_CONFORMANCE_MODEL_EXAMPLES sequences.
"""

from __future__ import annotations

import pytest
from model_machine import LISTS, LOCK, STATUS, TERMINAL_OPS, judge


@pytest.mark.check("MODEL-001")
@pytest.mark.varies("its operation sequences are drawn at random (hypothesis): a different sample each run")
@pytest.mark.level("MUST")
@pytest.mark.capability("function_tools")
def test_thread_lock_in_random_sequences(model_run):
    """While a run of a thread is queued, in progress, requires action or cancelling, new messages and runs on that thread are refused with 400; otherwise they are accepted.

    Run lifecycle guide: a thread with an active run is locked.
    """
    judge(model_run, LOCK)


@pytest.mark.check("MODEL-002")
@pytest.mark.varies("its operation sequences are drawn at random (hypothesis): a different sample each run")
@pytest.mark.level("MUST")
@pytest.mark.capability("function_tools")
def test_run_statuses_in_random_sequences(model_run):
    """Every status read of a run follows the run lifecycle from the previous read, and a terminal run never changes, not even after its expiry time.

    Run lifecycle guide: statuses and their transitions; terminal statuses are final.
    """
    judge(model_run, STATUS)


@pytest.mark.check("MODEL-003")
@pytest.mark.varies("its operation sequences are drawn at random (hypothesis): a different sample each run")
@pytest.mark.level("MUST")
@pytest.mark.capability("function_tools")
def test_cancel_and_submit_in_random_sequences(model_run):
    """Cancel and submit_tool_outputs on a terminal run are refused with 400, and an accepted cancel leaves the run cancelling or cancelled.

    API reference: cancel a run; submit tool outputs (only runs in requires_action take outputs).
    """
    judge(model_run, TERMINAL_OPS)


@pytest.mark.check("MODEL-004")
@pytest.mark.varies("its operation sequences are drawn at random (hypothesis): a different sample each run")
@pytest.mark.level("MUST")
@pytest.mark.capability("function_tools")
def test_lists_in_random_sequences(model_run):
    """Listing a thread's messages and runs returns exactly those created on it, newest first with order=desc.

    API reference: list messages, list runs (order by created_at).
    """
    judge(model_run, LISTS)
