"""The oracle's status relations: documented edges, polling reachability, observed sequences."""

import pytest

from assistants_conformance.protocol import transitions as t
from assistants_conformance.protocol.transitions import MESSAGE, RUN_STEP


def test_status_sets():
    assert set(t.RUN_STATUSES) == {
        "queued", "in_progress", "requires_action", "cancelling",
        "cancelled", "failed", "completed", "incomplete", "expired",
    }
    assert t.TERMINAL == {"cancelled", "failed", "completed", "incomplete", "expired"}
    assert t.LOCKING == {"queued", "in_progress", "requires_action", "cancelling"}
    assert RUN_STEP.terminal == {"cancelled", "failed", "completed", "expired"}
    assert MESSAGE.terminal == {"completed", "incomplete"}


@pytest.mark.parametrize("a,b", [
    ("queued", "in_progress"), ("queued", "cancelling"), ("queued", "expired"), ("queued", "failed"),
    ("in_progress", "requires_action"), ("in_progress", "completed"), ("in_progress", "incomplete"),
    ("requires_action", "queued"), ("requires_action", "expired"), ("requires_action", "cancelling"),
    ("cancelling", "cancelled"), ("cancelling", "completed"), ("cancelling", "failed"),
])
def test_documented_edges(a, b):
    assert t.allowed(a, b)


@pytest.mark.parametrize("a,b", [
    ("queued", "completed"),  # must pass through in_progress
    ("queued", "cancelled"),  # cancel goes through cancelling
    ("requires_action", "in_progress"),  # submit re-queues the run
    ("requires_action", "completed"),
    ("cancelling", "requires_action"), ("cancelling", "in_progress"),
    ("completed", "in_progress"), ("cancelled", "cancelling"), ("expired", "queued"),
    ("queued", "queued"),  # no self-loops in the one-step relation
])
def test_undocumented_edges(a, b):
    assert not t.allowed(a, b)


def test_reachable_is_what_polling_may_see():
    assert t.reachable("queued", "completed")  # missed in_progress
    assert t.reachable("requires_action", "in_progress")  # missed queued after submit
    assert t.reachable("in_progress", "queued")  # via requires_action + submit
    assert t.reachable("in_progress", "in_progress")
    assert t.reachable("completed", "completed")  # re-reading a terminal run
    assert not t.reachable("completed", "in_progress")
    assert not t.reachable("cancelling", "requires_action")
    assert not t.reachable("failed", "completed")
    assert not t.reachable("queued", "bogus")


def test_check_observed_accepts_plausible_polls():
    assert t.check_observed(["queued", "queued", "in_progress", "requires_action", "queued", "completed", "completed"]) == []
    assert t.check_observed(["queued", "completed"]) == []
    assert t.check_observed(["in_progress", "cancelling", "completed"]) == []  # cancel is best effort
    assert t.check_observed([]) == []


def test_check_observed_names_read_and_pair():
    problems = t.check_observed(["queued", "in_progress", "in_progress", "completed", "in_progress"])
    assert problems == ["run status went completed → in_progress at read 4: a terminal run never changes"]
    problems = t.check_observed(["cancelling", "requires_action"])
    assert len(problems) == 1 and "at read 1" in problems[0] and "cancelling → requires_action" in problems[0]
    assert "cancelled" in problems[0]  # names what was reachable instead


def test_check_observed_unknown_status():
    problems = t.check_observed(["queued", "running"])
    assert problems == [
        "unknown run status 'running' at read 1: expected one of queued, in_progress, requires_action, "
        "cancelling, cancelled, failed, completed, incomplete, expired"
    ]


def test_step_and_message_relations():
    assert RUN_STEP.allowed("in_progress", "expired")
    assert not RUN_STEP.allowed("completed", "in_progress")
    assert RUN_STEP.check_observed(["in_progress", "completed", "failed"]) == [
        "run step status went completed → failed at read 2: a terminal run step never changes"
    ]
    assert MESSAGE.reachable("in_progress", "incomplete")
    assert MESSAGE.check_observed(["completed"]) == []  # user messages are born completed
    assert MESSAGE.check_observed(["incomplete", "completed"]) != []
