"""Runs the model-based state machine once per module; each MODEL check reads the outcome of its rule."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test
from model_machine import STATUS, ModelViolation, RunModel, Shared, build_machine

from assistants_conformance.checks import ConformanceFailure
from assistants_conformance.flows import poll_run, shared_factory
from assistants_conformance.protocol.transitions import TERMINAL

EXAMPLES_ENV = "ASSISTANTS_CONFORMANCE_MODEL_EXAMPLES"
DEFAULT_EXAMPLES = 6  # random sequences per test session; each up to STEPS steps
STEPS = 15
# Re-read terminal runs after their expiry window only when that costs at most this long.
MAX_EXPIRY_WAIT = 10.0


@dataclass
class ModelRun:
    violation: ModelViolation | None
    sequences: int
    steps: int
    reread: int  # terminal runs re-read at the end
    notes: list[str] = field(default_factory=list)


def _examples() -> int:
    raw = os.environ.get(EXAMPLES_ENV, "")
    if raw and (not raw.isdigit() or int(raw) < 1):
        raise pytest.UsageError(f"{EXAMPLES_ENV} must be a positive integer, got {raw!r}")
    return int(raw) if raw else DEFAULT_EXAMPLES


def _reread_terminal_runs(shared: Shared, window: float) -> tuple[int, list[str]]:
    """Terminal runs never change, not even once their expiry time has passed: re-read each run the
    machine saw terminal, after waiting out the expiry window when that is short."""
    runs = list(shared.terminal_runs.values())
    notes = []
    if runs and window <= MAX_EXPIRY_WAIT:
        wait = min(runs, key=lambda r: r.created_at).created_at + window + 0.5 - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        notes.append(f"waited out the {window:g} s expiry window of the oldest terminal run")
    client = shared.factory.client
    for run in runs:
        response = client.get(f"/threads/{run.thread_id}/runs/{run.id}")
        status = response.json.get("status") if isinstance(response.json, dict) else None
        if response.status_code != 200 or status != run.status:
            raise ModelViolation(
                STATUS, f"run {run.id} was read as {run.status} (terminal) and later as {status!r} "
                f"(answer {response.status_code}); a terminal run never changes",
                [f"statuses read: {' -> '.join(run.statuses)}", response.exchange])
    return len(runs), notes


def _seed_terminal_run(shared: Shared) -> None:
    """One run driven to its end before the random sequences, so that the final re-read always has a
    terminal run older than the expiry window (the random walk may end none)."""
    factory = shared.factory
    thread = factory.thread(messages=[{"role": "user", "content": "Say hello."}])
    run = factory.run(thread["id"], shared.plain_assistant)
    poll = poll_run(factory.client, thread["id"], run["id"], until=TERMINAL, timeout=shared.poll_timeout,
                    factory=factory)
    model = RunModel(run["id"], thread["id"], function=False, statuses=[run["status"], *poll.statuses])
    shared.terminal_runs[model.id] = model


@pytest.fixture(scope="module")
def model_run(target) -> ModelRun:
    profile = target.profile
    with shared_factory(target) as factory:
        shared = Shared(
            factory=factory,
            plain_assistant=factory.assistant()["id"],
            function_assistant=factory.function_assistant()["id"],
            poll_timeout=profile.run_poll_timeout,
        )
        _seed_terminal_run(shared)
        machine = build_machine(shared)
        violation = None
        reread, notes = 0, []
        try:
            # No shrinking: against a live server a shrink replays many sequences and timing differs.
            # Fixed sequences by default (fault proofs must be repeatable); a budget set through the
            # environment explores new random ones on every run.
            run_state_machine_as_test(machine, settings=settings(
                max_examples=_examples(), stateful_step_count=STEPS, deadline=None, database=None,
                derandomize=EXAMPLES_ENV not in os.environ,
                phases=[Phase.generate], suppress_health_check=list(HealthCheck), print_blob=False))
            reread, notes = _reread_terminal_runs(shared, profile.expiry_window_seconds)
        except ModelViolation as exc:
            violation = exc
        except ConformanceFailure as exc:  # a bounded poll ran out: the run never settled
            violation = ModelViolation(STATUS, exc.what, exc.evidence)
        return ModelRun(violation, shared.sequences, shared.steps, reread, notes)
