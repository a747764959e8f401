"""The run counted in rules: which rules the target broke, and which checks each of them blocked.

A check that fails is one broken rule. A check that could not be judged because another check's
prerequisite failed is *blocked* and names that check (`blocked_by`): it is listed under the rule that
blocked it, not counted as a second broken rule. Every report leads with this view.
"""

from __future__ import annotations

from collections import defaultdict

LEVEL_ORDER = {"MUST": 0, "SHOULD": 1, "MAY": 2}


def rule_view(checks: list[dict]) -> dict:
    """{"broken": [{"check", "blocked": [checks]}], "other_blockers": [{"id", "check" | None, "blocked"}],
    "errors": [checks], "unstable": [checks], "headline": str}.

    Broken rules come MUST first, then those that block the most. `other_blockers` are prerequisite
    checks named by blocked checks that did not fail in this run (left out with --check, or a
    prerequisite that failed only some of the time)."""
    by_id = {c["id"]: c for c in checks}
    blocked: dict[str, list[dict]] = defaultdict(list)
    for check in checks:
        if check["status"] == "blocked":
            blocked[check.get("blocked_by") or "unknown"].append(check)
    failing = [c for c in checks if c["status"] == "fail"]
    failing.sort(key=lambda c: (LEVEL_ORDER.get(c.get("level"), 3), -len(blocked.get(c["id"], [])), c["id"]))
    broken = [{"check": c, "blocked": blocked.pop(c["id"], [])} for c in failing]
    others = [{"id": owner, "check": by_id.get(owner), "blocked": cs} for owner, cs in sorted(blocked.items())]
    return {
        "broken": broken,
        "other_blockers": others,
        "errors": [c for c in checks if c["status"] == "error"],
        "unstable": [c for c in checks if c["status"] == "unstable"],
        "headline": headline(checks),
    }


def headline(checks: list[dict]) -> str:
    """'2 rules broken, 45 checks blocked by them, 9 unsupported' (+ unstable checks, harness errors)."""
    count = defaultdict(int)
    for check in checks:
        count[check["status"]] += 1
    parts = [_plural(count["fail"], "rule") + " broken",
             _plural(count["blocked"], "check") + " blocked" + (" by " + ("it" if count["fail"] == 1 else "them")
                                                                if count["fail"] and count["blocked"] else ""),
             f"{count['unsupported']} unsupported"]
    if count["unstable"]:
        parts.append(_plural(count["unstable"], "check") + " unstable between runs")
    if count["error"]:
        parts.append(_plural(count["error"], "harness error"))
    return ", ".join(parts) + f" ({count['pass']} of {len(checks)} checks passed)"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")
