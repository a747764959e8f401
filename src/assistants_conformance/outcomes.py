"""What a check's run can come to, and how an exception raised in a check (or its setup) is classified.

    pass         the target kept the rule
    fail         the target broke the rule (a ConformanceFailure, a plain assert in a check, a TargetError)
    blocked      something the check needs failed under ANOTHER check's rule (PrerequisiteFailed naming it):
                 this check was not judged; the report names the prerequisite check and its reason
    error        the harness itself raised (a defect of ours, not of the target): the traceback is kept
    unsupported  the target does not declare what the check needs (capability, dialect, profile field)
    skip         left out for another reason (slow checks, an inconclusive model choice)
    unstable     (repeated runs only, reports/repeat.py) the outcome differed between identical runs

This is the one place that decides an outcome: the plugin records the decision in the test report, and
every report file reads it from results.json, never from a message's wording.
"""

from __future__ import annotations

import traceback as _traceback
from dataclasses import dataclass

import pytest

from .checks import PrerequisiteFailed
from .wire.client import TargetError
from .wire.dialects import UnsupportedOperation

STATUSES = ("pass", "fail", "blocked", "error", "unstable", "unsupported", "skip")
# How one check's several cases (parametrized tests, phases) add up: the highest wins. A fail is never
# hidden by an error or a block of another case (the errors are listed beside it).
RANK = {"skip": 0, "unsupported": 1, "pass": 2, "blocked": 3, "error": 4, "unstable": 5, "fail": 6}
NOT_JUDGED = ("blocked", "unsupported", "skip")  # the rule was not judged in these outcomes

_SKIPPED = pytest.skip.Exception
# Exceptions that mean the target broke the check's rule (ConformanceFailure is an AssertionError; pytest.fail
# in a check says the same), as opposed to a harness error.
TARGET_FAILURES = (AssertionError, TargetError, pytest.fail.Exception)


class Unsupported(_SKIPPED):
    """The target does not have what a check needs; raised through `unsupported(reason)`."""

    def __init__(self, reason: str):
        super().__init__(f"unsupported: {reason}")
        self.reason = reason


def unsupported(reason: str):
    """End the check (or the fixture it needs) as unsupported: `reason` says what the target lacks."""
    raise Unsupported(reason)


@dataclass(frozen=True)
class Outcome:
    status: str
    reason: str = ""            # one line: why unsupported / skipped / blocked
    blocked_by: str | None = None
    traceback: str | None = None  # harness errors only

    def properties(self) -> list[tuple[str, object]]:
        """What the plugin puts into report.user_properties (plain data: it travels from xdist workers)."""
        props: list[tuple[str, object]] = [("outcome", self.status)]
        if self.reason:
            props.append(("reason", self.reason))
        if self.blocked_by:
            props.append(("blocked_by", self.blocked_by))
        if self.traceback:
            props.append(("traceback", self.traceback))
        return props


def classify(exc: BaseException | None, check_id: str | None, *, passed: bool = True) -> Outcome:
    """The outcome of one test phase that raised `exc` (None: it raised nothing) in check `check_id`."""
    if exc is None:
        return Outcome("pass" if passed else "fail")
    if isinstance(exc, Unsupported):
        return Outcome("unsupported", exc.reason)
    if isinstance(exc, UnsupportedOperation):
        return Outcome("unsupported", str(exc))
    if isinstance(exc, PrerequisiteFailed) and exc.check_id != check_id:
        return Outcome("blocked", f"blocked by {exc.check_id}: {exc.what}", blocked_by=exc.check_id)
    if isinstance(exc, _SKIPPED):
        return Outcome("skip", str(getattr(exc, "msg", exc)))
    if isinstance(exc, TARGET_FAILURES):
        return Outcome("fail")
    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
        raise exc
    return Outcome("error", f"harness error: {type(exc).__name__}: {exc}", traceback=harness_traceback(exc))


def harness_traceback(exc: BaseException, limit: int = 20000) -> str:
    """The traceback of a harness error without pytest's and pluggy's own frames (bounded)."""
    frames = [f for f in _traceback.extract_tb(exc.__traceback__)
              if not any(part in f.filename for part in ("/_pytest/", "/pluggy/"))]
    text = "".join(_traceback.format_list(frames)) + "".join(_traceback.format_exception_only(type(exc), exc))
    return text[-limit:]


def is_target_failure(exc: BaseException) -> bool:
    """A departure of the target (rendered with the check's rule), as opposed to a harness error."""
    return isinstance(exc, TARGET_FAILURES)
