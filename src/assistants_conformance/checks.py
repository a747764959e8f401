"""Conformance checks: their identity (id, level, capability, rule) and how they fail.

A check is a test in suites/ marked with `check("AREA-NNN")`, `level(...)` and optionally what it needs:
`capability(NAME, ...)` (capabilities the target's profile must declare) and `profile_field(NAME, ...)`
(profile fields that must be set, e.g. max_file_bytes); the first line of its docstring is the rule it checks. A check fails through
`violation()` (or a plain assert): the plugin renders the failure with the check id, the rule and the
evidence (the recorded, redacted exchanges).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, NoReturn

LEVELS = ("MUST", "SHOULD", "MAY")
CHECK_ID = re.compile(r"^[A-Z][A-Z0-9]*-\d{3}$")  # AREA-NNN; digits after the first letter (V1-001)


@dataclass(frozen=True)
class CheckInfo:
    id: str
    area: str
    level: str
    capability: str | None  # the capabilities it needs, joined with ", " (None: none): for reports
    rule: str
    nodeid: str
    capabilities: tuple[str, ...] = ()   # every capability the check needs (all must be declared)
    profile_fields: tuple[str, ...] = ()  # profile fields that must be set (not None)
    varies: str | None = None  # why its outcome may differ between identical runs (random inputs, a
                               # target's or model's choice); None: it judges the same requests every time

    @property
    def core(self) -> bool:
        """Core checks (MUST, nothing needed) apply to every target and cannot be exempted."""
        return self.level == "MUST" and not self.capabilities and not self.profile_fields

    def needs(self) -> str:
        """What the check needs, for docs: 'files, vector_stores; profile: max_file_bytes' ('' for nothing)."""
        parts = [", ".join(self.capabilities)] if self.capabilities else []
        if self.profile_fields:
            parts.append("profile: " + ", ".join(self.profile_fields))
        return "; ".join(parts)


class CheckDefinitionError(Exception):
    """A suite test is marked inconsistently (bad id, level or missing rule)."""


def check_info(item) -> CheckInfo | None:
    """The check a pytest item implements, or None if it is not a conformance check."""
    marker = item.get_closest_marker("check")
    if marker is None:
        return None
    check_id = marker.args[0] if marker.args else ""
    if not CHECK_ID.match(check_id):
        raise CheckDefinitionError(f"{item.nodeid}: check id {check_id!r} is not of the form AREA-NNN")
    level_marker = item.get_closest_marker("level")
    level = level_marker.args[0] if level_marker and level_marker.args else ""
    if level not in LEVELS:
        raise CheckDefinitionError(f"{item.nodeid}: level {level!r} is not one of {', '.join(LEVELS)}")
    capabilities = tuple(arg for marker in item.iter_markers("capability") for arg in marker.args)
    fields = tuple(arg for marker in item.iter_markers("profile_field") for arg in marker.args)
    varies_marker = item.get_closest_marker("varies")
    varies = varies_marker.args[0] if varies_marker and varies_marker.args else None
    doc = (getattr(item, "function", None) and item.function.__doc__) or ""
    rule = doc.strip().splitlines()[0].strip() if doc.strip() else ""
    if not rule:
        raise CheckDefinitionError(f"{item.nodeid}: check {check_id} has no rule (first docstring line)")
    return CheckInfo(check_id, _area(item, check_id), level, ", ".join(capabilities) or None, rule, item.nodeid,
                     capabilities, fields, varies)


def _area(item, check_id: str) -> str:
    """The suite folder a check lives in (suites/<area>/...), else its id's prefix."""
    parts = Path(str(getattr(item, "path", ""))).parts
    if "suites" in parts[:-1]:
        below = parts[parts.index("suites") + 1:]
        if len(below) > 1:
            return below[0]
    return check_id.split("-")[0].lower()


class ConformanceFailure(AssertionError):
    """The target broke a rule. `evidence` is what shows it (exchanges, events, histories)."""

    def __init__(self, what: str, evidence: Iterable[Any] = ()):
        super().__init__(what)
        self.what = what
        self.evidence = list(evidence)


class PrerequisiteFailed(ConformanceFailure):
    """Something checks need as their starting point failed, and the rule it broke is `check_id`'s (e.g. a
    run with a named tool_choice that did not pause: LIFE-018). Under that check it is a failure; under
    any other check it makes that check *blocked* by it (outcomes.classify), never failed."""

    def __init__(self, check_id: str, what: str, evidence: Iterable[Any] = ()):
        super().__init__(what, evidence)
        self.check_id = check_id


def violation(what: str, evidence: Iterable[Any] = ()) -> NoReturn:
    raise ConformanceFailure(what, evidence)


def require(condition: Any, what: str, evidence: Iterable[Any] = ()) -> None:
    """`violation(what)` unless condition holds."""
    if not condition:
        violation(what, evidence)


# Rendering evidence -------------------------------------------------------------------------------

BODY_LIMIT = 2000
FINDINGS_SHOWN = 40  # groups of a Findings shown in the failure text


def render_body(body: Any, limit: int = BODY_LIMIT) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not isinstance(body, str):
        body = json.dumps(body, ensure_ascii=False, sort_keys=True)
    return body if len(body) <= limit else body[:limit] + f"... [{len(body) - limit} more characters]"


@dataclass
class Findings:
    """Evidence of many generated requests, grouped: one group per (operation, problem), each
    {"operation", "problem", "count", "example": {"curl", "status", "response", "reason"}} with the
    smallest request of the group as its example (reports/evidence.py: the "findings" kind)."""

    groups: list[dict]

    def render(self, limit: int = FINDINGS_SHOWN) -> str:
        lines = []
        for group in self.groups[:limit]:
            example = group.get("example") or {}
            lines.append(f"[{group.get('count')} x] {group.get('operation')}: {group.get('problem')}")
            lines.append(f"  smallest: {render_body(example.get('curl'), 600)}")
            lines.append(f"  -> {example.get('status')} {render_body(example.get('response'), 300)}")
        if len(self.groups) > limit:
            lines.append(f"... and {len(self.groups) - limit} more group(s) (all of them in results.json)")
        return "\n".join(lines)


def render_exchange(exchange: Any) -> str:
    """One recorded exchange as a short transcript (already redacted by the client)."""
    status = getattr(exchange, "status", None)
    error = getattr(exchange, "error", None)
    elapsed = getattr(exchange, "elapsed", None)
    timing = f" ({elapsed * 1000:.0f} ms)" if isinstance(elapsed, (int, float)) else ""
    outcome = f"-> {status}" if status is not None else f"-> no response: {error}"
    lines = [f"{exchange.method} {exchange.url} {outcome}{timing}"]
    request_body = render_body(getattr(exchange, "request_body", None))
    if request_body:
        lines.append(f"  request:  {request_body}")
    response_body = render_body(getattr(exchange, "response_body", None))
    if response_body:
        lines.append(f"  response: {response_body}")
    return "\n".join(lines)


def render_evidence(item: Any) -> str:
    if hasattr(item, "method") and hasattr(item, "url"):
        return render_exchange(item)
    if isinstance(item, str):
        return item
    if isinstance(item, Findings):
        return item.render()
    return render_body(item)


def render_failure(info: CheckInfo | None, what: str, evidence: Iterable[Any]) -> str:
    head = f"[{info.id} {info.level}] {info.rule}" if info else "conformance failure"
    parts = [head, f"what happened: {what}"]
    rendered = [render_evidence(e) for e in evidence]
    if rendered:
        parts.append("evidence:")
        parts.extend("  " + r.replace("\n", "\n  ") for r in rendered)
    return "\n".join(parts)
