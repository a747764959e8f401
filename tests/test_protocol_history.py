"""Concurrent per-thread history checker: sound (never invalid for a legal history) and useful."""

import random

import pytest

from assistants_conformance.protocol.history import Operation, check_thread_history
from assistants_conformance.protocol.locking import (
    EXPECTED_STATUS_FOR_CREATE_ON_LOCKED_THREAD,
    active_runs,
    thread_locked,
)


def op(op_id, kind, start, end, outcome="ok", run_id=None, status=None, thread="th"):
    return Operation(op_id, thread, kind, start, end, outcome, run_id=run_id, status=status)


def test_locking_rules():
    assert thread_locked(["completed", "requires_action"])
    assert thread_locked(["cancelling"])
    assert not thread_locked(["completed", "failed", "expired", "cancelled", "incomplete"])
    assert not thread_locked([])
    assert active_runs([("r1", "completed"), ("r2", "queued")]) == ["r2"]
    assert EXPECTED_STATUS_FOR_CREATE_ON_LOCKED_THREAD == 400


def test_sequential_runs_are_valid():
    v = check_thread_history([
        op("c1", "create_run", 0, 1, run_id="r1", status="queued"),
        op("g1", "get_run", 1.5, 2, run_id="r1", status="in_progress"),
        op("g2", "get_run", 3, 4, run_id="r1", status="completed"),
        op("m1", "create_message", 4.5, 5),
        op("c2", "create_run", 5, 6, run_id="r2", status="queued"),
        op("g3", "get_run", 7, 8, run_id="r2", status="completed"),
    ])
    assert v.verdict == "valid", v.explanation
    assert v.culprits == []
    assert "run r1 active" in v.explanation and "message m1" in v.explanation


def test_overlapping_windows_with_a_sequential_explanation():
    # Both creates overlap in time and r1 was seen active while r2's create was in flight:
    # r1 may have finished at 2.25 and r2 been born right after.
    v = check_thread_history([
        op("c1", "create_run", 0, 1, run_id="r1"),
        op("g1", "get_run", 2.0, 2.2, run_id="r1", status="in_progress"),
        op("c2", "create_run", 2.1, 3.0, run_id="r2"),
        op("g2", "get_run", 2.5, 3.5, run_id="r1", status="completed"),
        op("g3", "get_run", 3.1, 3.2, run_id="r2", status="in_progress"),
    ])
    assert v.verdict == "valid", v.explanation


def test_concurrent_creates_where_each_run_ends_quickly_are_valid():
    v = check_thread_history([
        op("c1", "create_run", 0, 2, run_id="r1"),
        op("c2", "create_run", 1, 3, run_id="r2"),
        op("g1", "get_run", 4, 5, run_id="r1", status="completed"),
        op("g2", "get_run", 4, 5, run_id="r2", status="failed"),
    ])
    assert v.verdict == "valid", v.explanation


def test_two_runs_certainly_active_together_is_invalid():
    v = check_thread_history([
        op("c1", "create_run", 0, 1, run_id="r1"),
        op("c2", "create_run", 2, 3, run_id="r2"),
        op("g2", "get_run", 4, 4.5, run_id="r2", status="in_progress"),
        op("g1", "get_run", 5, 6, run_id="r1", status="requires_action"),
    ])
    assert v.verdict == "invalid"
    assert set(v.culprits) == {"c1", "c2", "g1", "g2"}
    assert "run r1 and run r2 were both certainly active during [3.000, 4.000]" in v.explanation
    assert "c1" in v.explanation and "g1" in v.explanation


def test_message_added_while_run_certainly_active_is_invalid():
    v = check_thread_history([
        op("c1", "create_run", 0, 1, run_id="r1"),
        op("m1", "create_message", 2, 3),
        op("g1", "get_run", 4, 5, run_id="r1", status="in_progress"),
    ])
    assert v.verdict == "invalid"
    assert set(v.culprits) == {"m1", "c1", "g1"}
    assert "message m1 was added during [2.000, 3.000] while run r1 was certainly active during [1.000, 4.000]" in v.explanation


def test_message_possibly_after_the_run_is_valid():
    v = check_thread_history([
        op("c1", "create_run", 0, 1, run_id="r1"),
        op("g1", "get_run", 2, 3, run_id="r1", status="in_progress"),
        op("m1", "create_message", 2.5, 4),
        op("g2", "get_run", 3.5, 5, run_id="r1", status="completed"),
    ])
    assert v.verdict == "valid", v.explanation


def test_no_order_fits_even_without_a_certain_overlap():
    # r3 is certainly active on [2, 5]. r1 is born by 4 and alive at some instant >= 3, so r1 cannot end
    # before r3 starts (it would have to die by 2) nor start after r3 ends (born by 4 < 5).
    v = check_thread_history([
        op("c1", "create_run", 1, 4, run_id="r1"),
        op("g11", "get_run", 3, 6, run_id="r1", status="in_progress"),
        op("g10", "get_run", 8, 9, run_id="r1", status="completed"),
        op("c3", "create_run", 1, 2, run_id="r3"),
        op("g30", "get_run", 5, 6, run_id="r3", status="in_progress"),
    ])
    assert v.verdict == "invalid"
    assert set(v.culprits) == {"c1", "g11", "g10", "c3", "g30"}
    assert v.explanation.startswith("thread th: no order of these fits the thread lock")


def test_rejected_operations_have_no_effect():
    v = check_thread_history([
        op("c1", "create_run", 0, 1, run_id="r1"),
        op("c2", "create_run", 2, 3, outcome="fail"),  # 400: thread locked
        op("m1", "create_message", 2, 3, outcome="fail"),
        op("g1", "get_run", 4, 5, run_id="r1", status="in_progress"),
    ])
    assert v.verdict == "valid", v.explanation


def test_timeouts_are_never_failures_nor_proof():
    # A timed-out create_message during an active run: the server may apply it later or never.
    v = check_thread_history([
        op("c1", "create_run", 0, 1, run_id="r1"),
        op("m1", "create_message", 2, 3, outcome="unknown"),
        op("c2", "create_run", 2, 3, outcome="unknown"),
        op("g1", "get_run", 4, 5, run_id="r1", status="in_progress"),
        op("g9", "get_run", 4, 5, outcome="unknown", run_id="r1"),
    ])
    assert v.verdict == "valid", v.explanation


def test_timed_out_create_whose_run_was_found_later_counts():
    # c2 timed out, but its run r2 was later seen active while r1 certainly was too.
    v = check_thread_history([
        op("c1", "create_run", 0, 1, run_id="r1"),
        op("c2", "create_run", 1.5, 2, outcome="unknown", run_id="r2"),
        op("g2", "get_run", 2.5, 3, run_id="r2", status="queued"),
        op("g3", "get_run", 3.5, 4, run_id="r2", status="in_progress"),
        op("g1", "get_run", 5, 6, run_id="r1", status="in_progress"),
    ])
    assert v.verdict == "invalid"
    assert {"c1", "g1", "g2", "g3"} <= set(v.culprits)
    # The same timed-out create with the run seen only after r1 ended is fine.
    v = check_thread_history([
        op("c1", "create_run", 0, 1, run_id="r1"),
        op("c2", "create_run", 1.5, 2, outcome="unknown", run_id="r2"),
        op("g1", "get_run", 5, 6, run_id="r1", status="completed"),
        op("g2", "get_run", 7, 8, run_id="r2", status="in_progress"),
    ])
    assert v.verdict == "valid", v.explanation


def test_contradictory_sightings_of_one_run():
    v = check_thread_history([
        op("c1", "create_run", 0, 1, run_id="r1"),
        op("g1", "get_run", 2, 3, run_id="r1", status="completed"),
        op("g2", "get_run", 4, 5, run_id="r1", status="in_progress"),
    ])
    assert v.verdict == "invalid" and set(v.culprits) == {"c1", "g1", "g2"}
    v = check_thread_history([  # seen before it was created
        op("g1", "get_run", 0, 1, run_id="r1", status="queued"),
        op("c1", "create_run", 2, 3, run_id="r1"),
    ])
    assert v.verdict == "invalid"


def test_threads_are_independent():
    v = check_thread_history([
        op("a1", "create_run", 0, 1, run_id="ra", thread="A"),
        op("b1", "create_run", 0, 1, run_id="rb", thread="B"),
        op("a2", "get_run", 5, 6, run_id="ra", status="in_progress", thread="A"),
        op("b2", "get_run", 5, 6, run_id="rb", status="in_progress", thread="B"),
    ])
    assert v.verdict == "valid", v.explanation


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="unknown kind"):
        check_thread_history([op("x", "delete_thread", 0, 1)])
    with pytest.raises(ValueError, match="start 2 is after end 1"):
        check_thread_history([op("x", "get_run", 2, 1)])
    with pytest.raises(ValueError, match="unknown run status"):
        check_thread_history([op("x", "get_run", 0, 1, run_id="r", status="running")])


def test_many_overlapping_operations_are_unknown_not_invalid_when_search_is_too_big():
    # 20 anonymous runs (ids not recorded) created in one window that cannot all fit in it would need
    # more than a point each... but zero-length runs always fit: the quick order finds an explanation.
    ops = [op(f"c{i}", "create_run", 0, 1) for i in range(20)]
    assert check_thread_history(ops).verdict == "valid"


def _simulate(seed: int, legal: bool = True) -> list[Operation]:
    """A true timeline that obeys the lock (runs one after another, messages in between), recorded
    by clients whose request windows straddle the true instants; some requests time out."""
    rnd = random.Random(seed)
    ops: list[Operation] = []
    now = 0.0
    n = 0

    def window(instant: float) -> tuple[float, float]:
        return instant - rnd.uniform(0, 1.5), instant + rnd.uniform(0, 1.5)

    def record(kind, instant, **kw):
        nonlocal n
        n += 1
        s, e = window(instant)
        outcome = "unknown" if rnd.random() < 0.1 else "ok"
        if outcome == "unknown":
            e = s + rnd.uniform(0, 3)
            kw.pop("status", None) if kind != "create_run" else None
        ops.append(Operation(f"o{n}", "th", kind, s, e, outcome, **kw))

    for r in range(rnd.randint(1, 5)):
        born = now + rnd.uniform(0, 1)
        dies = born + rnd.uniform(0, 3)
        rid = f"r{r}"
        record("create_run", born, run_id=rid, status="queued")
        for _ in range(rnd.randint(0, 3)):
            record("get_run", rnd.uniform(born, dies), run_id=rid, status=rnd.choice(["queued", "in_progress"]))
        for _ in range(rnd.randint(0, 2)):
            record("get_run", dies + rnd.uniform(0, 2), run_id=rid, status="completed")
        now = dies
        if rnd.random() < 0.5:
            now += rnd.uniform(0, 0.5)
            record("create_message", now)
    if not legal:  # a second run born and seen active inside run r0's certain life
        ops += [
            Operation("x0", "th", "create_run", -10, -9, "ok", run_id="ra"),
            Operation("x1", "th", "create_run", -8, -7, "ok", run_id="rb"),
            Operation("x2", "th", "get_run", -6, -5.5, "ok", run_id="rb", status="in_progress"),
            Operation("x3", "th", "get_run", -5, -4, "ok", run_id="ra", status="in_progress"),
        ]
    return ops


@pytest.mark.parametrize("seed", range(300))
def test_never_invalid_for_a_legal_execution(seed):
    v = check_thread_history(_simulate(seed))
    assert v.verdict == "valid", v.explanation


@pytest.mark.parametrize("seed", range(20))
def test_injected_overlap_is_found(seed):
    v = check_thread_history(_simulate(seed, legal=False))
    assert v.verdict == "invalid" and {"x0", "x1", "x2", "x3"} <= set(v.culprits)
