"""Thread locks under concurrency: simultaneous create-run requests on one idle thread.

The requests are recorded as a history (monotonic start/end and outcome of each), followed by
observations (list the thread's runs, read each), and judged by the oracle's history checker:
is there an order of events in which the thread never had two active runs?
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from assistants_conformance.checks import violation
from assistants_conformance.wire.client import TargetError
from assistants_conformance.flows import HOLD_PROMPT, LOOKUP_FUNCTION, named_tool_choice
from assistants_conformance.protocol.history import Operation, check_thread_history

MAX_PARALLEL = 8  # enough to expose a check-then-insert race; more only loads the target
BARRIER_TIMEOUT = 10.0  # seconds for all workers to be ready
OP_KEY = "conformance_op"  # metadata naming the request that created a run, to attribute listed runs


def outcome_of(status_code: int) -> str:
    """ok: the run exists; fail: refused, no effect (4xx); unknown: a 5xx may or may not have created it."""
    if status_code == 200:
        return "ok"
    return "fail" if 400 <= status_code < 500 else "unknown"


def race(factory, client, thread_id: str, assistant_id: str, n: int):
    """n create-run requests released together by a barrier. Returns (operations, exchanges)."""
    barrier = threading.Barrier(n, timeout=BARRIER_TIMEOUT)
    tool_choice = named_tool_choice(LOOKUP_FUNCTION["function"]["name"])  # runs pause, so they stay active

    def create(i: int):
        op_id = f"create_run#{i}"
        body = {"assistant_id": assistant_id, "tool_choice": tool_choice, "metadata": factory.tag({OP_KEY: op_id})}
        barrier.wait()
        start = time.monotonic()
        try:
            response = factory.post_run(thread_id, body)
        except TargetError as exc:  # timeout / reset: the server may still apply it
            return Operation(op_id, thread_id, "create_run", start, time.monotonic(), "unknown"), exc.exchange
        end = time.monotonic()
        run = response.json if isinstance(response.json, dict) else {}
        outcome = outcome_of(response.status_code)
        return Operation(op_id, thread_id, "create_run", start, end, outcome,
                         run_id=run.get("id") if outcome == "ok" else None,
                         status=run.get("status") if outcome == "ok" else None), response.exchange

    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(create, range(n)))
    ops = [op for op, _ in results]
    exchanges = {op.op_id: exchange for op, exchange in results}
    ops, exchanges = observe(client, factory, thread_id, ops, exchanges)
    return ops, exchanges


def observe(client, factory, thread_id: str, ops: list[Operation], exchanges: dict):
    """List the thread's runs, then read each: observations the checker uses to place the runs in time.
    A run listed with our op tag whose create timed out becomes that (unknown) create's run."""
    start = time.monotonic()
    listing = client.get(f"/threads/{thread_id}/runs", params={"limit": 100, "order": "asc"})
    end = time.monotonic()
    exchanges["list_runs"] = listing.exchange
    listed = listing.json.get("data", []) if listing.status_code == 200 and isinstance(listing.json, dict) else []
    known = {op.run_id for op in ops if op.run_id}
    by_op = {op.op_id: op for op in ops}
    out = list(ops)
    for run in listed:
        factory.note_run(run)
        op_id = (run.get("metadata") or {}).get(OP_KEY)
        creator = by_op.get(op_id)
        if run.get("id") not in known and creator is not None and creator.outcome == "unknown":
            out[out.index(creator)] = Operation(creator.op_id, thread_id, "create_run", creator.start, creator.end,
                                                "unknown", run_id=run["id"])
            known.add(run["id"])
        if run.get("id") in known or creator is not None:
            out.append(Operation(f"list_runs:{run['id']}", thread_id, "observation", start, end, "ok",
                                 run_id=run["id"], status=run.get("status")))
    for run_id in sorted(known):
        start = time.monotonic()
        read = client.get(f"/threads/{thread_id}/runs/{run_id}")
        end = time.monotonic()
        exchanges[f"get_run:{run_id}"] = read.exchange
        if read.status_code == 200 and isinstance(read.json, dict):
            factory.note_run(read.json)
            out.append(Operation(f"get_run:{run_id}", thread_id, "get_run", start, end, "ok",
                                 run_id=run_id, status=read.json.get("status")))
    return out, exchanges


@pytest.mark.check("LOCK-006")
@pytest.mark.varies("which of the simultaneous requests wins, and when each lands, is the target's choice")
@pytest.mark.level("MUST")
@pytest.mark.capability("function_tools")
def test_simultaneous_runs_respect_the_lock(factory, client, profile):
    """Of simultaneous create-run requests on one idle thread, at most one run is active on the thread at any moment.

    Run lifecycle guide, thread locks: a thread with an active run takes no new run. N requests
    (the profile's max_concurrency, at most 8) start together; the runs they create pause in
    requires_action (named tool_choice), so any second accepted run overlaps the first. Requests
    that time out or get a 5xx count as unknown (they may or may not have taken effect), not as
    failures. If the checker cannot decide, the experiment is repeated once on a fresh thread; if it
    still cannot, the check is reported as skipped ("inconclusive"), never as passed.
    """
    n = max(2, min(profile.max_concurrency, MAX_PARALLEL))
    assistant = factory.function_assistant()
    verdicts = []
    for _attempt in range(2):
        thread = factory.thread(messages=[{"role": "user", "content": HOLD_PROMPT}])
        ops, exchanges = race(factory, client, thread["id"], assistant["id"], n)
        verdict = check_thread_history(ops)
        if verdict.verdict == "invalid":
            evidence = [exchanges[c] for c in verdict.culprits if exchanges.get(c) is not None]
            if "list_runs" in exchanges and any(c.startswith("list_runs:") for c in verdict.culprits):
                evidence.append(exchanges["list_runs"])
            violation(f"{n} simultaneous create-run requests on one thread: {verdict.explanation}",
                      evidence + [summary(ops)])
        if not any(op.kind == "create_run" and op.run_id for op in ops):
            verdicts.append(f"no run was created by any of the {n} requests ({summary(ops)})")
            continue
        if verdict.verdict == "valid":
            return
        verdicts.append(verdict.explanation)
    pytest.skip("inconclusive: the history could not be judged: " + " | ".join(verdicts))


def summary(ops: list[Operation]) -> str:
    """One line per create request: outcome, timing and the run it made."""
    t0 = min(op.start for op in ops)
    lines = [f"{op.op_id}: {op.outcome} [{op.start - t0:.3f}, {op.end - t0:.3f}] s"
             + (f" run {op.run_id} ({op.status})" if op.run_id else "")
             for op in ops if op.kind == "create_run"]
    return "history (seconds from the first request):\n" + "\n".join(lines)
