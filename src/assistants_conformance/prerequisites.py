"""Starting points that many checks share, each owned by the one check whose rule it is.

When a shared starting point cannot be had (the run with a named tool_choice completes instead of
pausing, the vector store never finishes indexing, the target refuses to create a thread), the failure
is raised as `PrerequisiteFailed(owner, ...)`: the owner check reports it as its own failure, and every
other check that needed it is *blocked* by the owner (outcomes.classify), so one departure is reported
once, under the rule it breaks.

A scenario prerequisite that failed is remembered for the rest of the session (in this process), so the
checks after it are blocked at once instead of each waiting for the same departure again.
"""

from __future__ import annotations

from typing import Any, Iterable, NoReturn

from .checks import ConformanceFailure, PrerequisiteFailed

# The owner check of each shared starting point.
NAMED_TOOL_CHOICE = "LIFE-018"   # a run whose tool_choice names a function pauses in requires_action
STORE_INDEXED = "VSTORE-001"     # a vector store moves to completed once its files are indexed
RUN_FOLLOWED = "LIFE-001"        # a run can be followed (read back) along its lifecycle to its end
# Creating an object of a kind (the factory's creations): the object check of that kind owns it.
CREATION = {
    "assistant": "OBJ-001",
    "thread": "OBJ-002",
    "message": "OBJ-003",
    "run": "OBJ-004",
    "file": "FILE-001",
    "vector_store": "VSTORE-001",
}

_failed: dict[tuple[str, str], PrerequisiteFailed] = {}  # (session id, owner) -> the first failure


def fail(owner: str, what: str, evidence: Iterable[Any] = ()) -> NoReturn:
    raise PrerequisiteFailed(owner, what, evidence)


def remembered(session_id: str, owner: str) -> None:
    """Raise the failure of `owner`'s prerequisite again if it already failed in this session."""
    earlier = _failed.get((session_id, owner))
    if earlier is not None:
        raise PrerequisiteFailed(owner, earlier.what, earlier.evidence)


def judged(session_id: str, owner: str, exc: ConformanceFailure) -> NoReturn:
    """Raise `exc` (a departure met while setting up `owner`'s starting point) as owner's prerequisite
    failure, and remember it for the session. A prerequisite of another owner met on the way (the
    assistant could not be created) keeps its own owner."""
    if isinstance(exc, PrerequisiteFailed) and exc.check_id != owner:
        raise exc
    failure = PrerequisiteFailed(owner, exc.what, exc.evidence)
    _failed[(session_id, owner)] = failure
    raise failure from None
