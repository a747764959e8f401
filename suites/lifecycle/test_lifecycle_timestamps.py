"""Timestamps of runs, run steps and messages: their type, their order and what they say about the run."""

from __future__ import annotations

import pytest

from assistants_conformance.checks import violation
from assistants_conformance.protocol.transitions import TERMINAL

RUN_TIMES = ("created_at", "started_at", "expires_at", "cancelled_at", "failed_at", "completed_at")
STEP_TIMES = ("created_at", "expired_at", "expires_at", "cancelled_at", "failed_at", "completed_at")
MESSAGE_TIMES = ("created_at", "completed_at", "incomplete_at")
ACTIVE = ("queued", "in_progress", "requires_action")  # statuses in which the run can still expire
# Which timestamp records which ending; each is set exactly when the run ended that way.
ENDING_STAMPS = {"completed": "completed_at", "cancelled": "cancelled_at", "failed": "failed_at"}
# A run that ended after doing work; its started_at must be set.
STARTED = ("in_progress", "requires_action", "completed", "incomplete")


def _is_unix_seconds(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@pytest.mark.check("LIFE-002")
@pytest.mark.level("MUST")
def test_timestamps_are_integer_seconds(all_traces):
    """Every timestamp on runs, run steps and messages is an integer number of Unix seconds, or null where it is not set.

    Object reference: created_at, started_at, expires_at, ... are Unix timestamps in seconds (integer).
    """
    for trace in all_traces:
        trace.ok()
        objects = [("run", r.run, r.exchange) for r in trace.reads]
        objects += [("run step", s, trace.notes["steps_exchange"]) for s in trace.notes.get("steps", [])]
        objects += [("message", m.json, m.exchange) for m in trace.notes.get("messages", {}).values()
                    if m.status_code == 200 and isinstance(m.json, dict)]
        for kind, obj, exchange in objects:
            fields = {"run": RUN_TIMES, "run step": STEP_TIMES, "message": MESSAGE_TIMES}[kind]
            for name in fields:
                if name not in obj or (obj[name] is None and name != "created_at"):
                    continue
                if not _is_unix_seconds(obj[name]):
                    violation(f"{trace.label}: {kind} {obj.get('id')} has {name}={obj[name]!r}; "
                              f"expected an integer of Unix seconds", [exchange])


@pytest.mark.check("LIFE-003")
@pytest.mark.level("MUST")
def test_run_timestamps_are_ordered(all_traces):
    """A run starts no earlier than it was created and ends no earlier than it started; created_at never changes.

    Run object: created_at, started_at, completed_at / cancelled_at / failed_at.
    """
    for trace in all_traces:
        trace.ok()
        created = trace.reads[0].run.get("created_at")
        for read in trace.reads:
            run = read.run
            if run.get("created_at") != created:
                violation(f"{trace.label}: created_at changed from {created!r} to {run.get('created_at')!r}",
                          [trace.reads[0].exchange, read.exchange])
            started = run.get("started_at")
            if run.get("status") in STARTED and started is None:
                violation(f"{trace.label}: status {run.get('status')!r} but started_at is null", [read.exchange])
            if _number(started) and _number(created) and started < created:
                violation(f"{trace.label}: started_at {started} is {created - started} s before created_at {created}",
                          [read.exchange])
            for name in ENDING_STAMPS.values():
                ended = run.get(name)
                lower = started if _number(started) else created
                if _number(ended) and _number(lower) and ended < lower:
                    violation(f"{trace.label}: {name} {ended} is before "
                              f"{'started_at' if _number(started) else 'created_at'} {lower}", [read.exchange])


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@pytest.mark.check("LIFE-004")
@pytest.mark.level("MUST")
def test_ending_timestamp_matches_ending(all_traces):
    """completed_at, cancelled_at and failed_at are each set exactly when the run ended that way, and null before.

    Run object: "Unix timestamp for when the run was completed / cancelled / failed". incomplete runs
    may carry completed_at or not (the docs do not say); expired runs carry none of the three.
    """
    for trace in all_traces:
        trace.ok()
        for read in trace.reads:
            status = read.run.get("status")
            for ending, name in ENDING_STAMPS.items():
                value = read.run.get(name)
                if status == ending and value is None:
                    violation(f"{trace.label}: the run is {status} but {name} is null", [read.exchange])
                if status != ending and value is not None and not (status == "incomplete" and name == "completed_at"):
                    violation(f"{trace.label}: the run is {status} but {name} is set ({value!r})", [read.exchange])


@pytest.mark.check("LIFE-005")
@pytest.mark.level("MUST")
@pytest.mark.capability("expiry")
def test_expires_at_set_while_active(all_traces, profile):
    """While a run can still expire, expires_at is set, after created_at, and no later than the target's expiry window allows.

    Run lifecycle guide: a run that does not finish (or get its tool outputs) before expires_at
    expires; expires_at is about ten minutes after creation on OpenAI (the profile's expiry window).
    Tolerance: max(2 s, 10 % of the window).
    """
    window = profile.expiry_window_seconds
    tolerance = max(2.0, 0.1 * window)
    for trace in all_traces:
        trace.ok()
        for read in trace.reads:
            run = read.run
            if run.get("status") not in ACTIVE:
                continue
            expires, created = run.get("expires_at"), run.get("created_at")
            if not _number(expires):
                violation(f"{trace.label}: the run is {run.get('status')} but expires_at is {expires!r}",
                          [read.exchange])
            if _number(created) and not created < expires <= created + window + tolerance:
                violation(f"{trace.label}: expires_at is {expires - created:+g} s from created_at; expected "
                          f"after creation and within the {window:g} s expiry window (+{tolerance:g} s)",
                          [read.exchange])
