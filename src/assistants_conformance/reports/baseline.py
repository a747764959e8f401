"""Baselines: the status each check is expected to have on a target, with a reason or link for every
one that does not pass; and the gate that compares a run with it.

    # baseline.yaml
    LIFE-001: pass
    STREAM-004:
      status: fail
      reason: https://github.com/example/server/issues/12 (events reordered under load)

Exit codes of the gate: 0 nothing regressed, 1 a check newly fails (without a baseline: any check fails) (fail/error where the baseline
expects anything else, or a check not in the baseline fails) or disappears (in the baseline, not in the
run and not left out on purpose), 2 harness or configuration error. With level "core" every failing
MUST check fails the gate whatever the baseline says.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..checks import CHECK_ID
from ..outcomes import STATUSES

# Statuses that fail the gate where the baseline expects better: a blocked check is a regression of its
# prerequisite (named in the reason), an unstable one is its own state (a baseline may expect it).
BROKEN = ("fail", "error", "blocked", "unstable")


class BaselineError(Exception):
    """A baseline file that cannot be used (one line, naming the file and the entry)."""


@dataclass(frozen=True)
class Expected:
    status: str
    reason: str = ""


def load_baseline(path: str | Path) -> dict[str, Expected]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(f"baseline {path}: no such file (create one with --update-baseline)") from None
    except OSError as exc:
        raise BaselineError(f"baseline {path}: cannot read it ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BaselineError(f"baseline {path}: not valid YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BaselineError(f"baseline {path}: expected a mapping of check id to status, got {type(data).__name__}")
    baseline = {}
    for check_id, entry in data.items():
        baseline[str(check_id)] = _entry(path, check_id, entry)
    return baseline


def _entry(path: Path, check_id, entry) -> Expected:
    where = f"baseline {path}: {check_id}"
    if not isinstance(check_id, str) or not CHECK_ID.match(check_id):
        raise BaselineError(f"baseline {path}: {check_id!r} is not a check id (AREA-NNN)")
    if isinstance(entry, str):
        status, reason = entry, ""
    elif isinstance(entry, dict):
        unknown = set(entry) - {"status", "reason"}
        if unknown:
            raise BaselineError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))} (status, reason)")
        status, reason = entry.get("status"), entry.get("reason") or ""
    else:
        raise BaselineError(f"{where}: expected a status or {{status, reason}}, got {entry!r}")
    if status not in STATUSES:
        raise BaselineError(f"{where}: status {status!r} is not one of {', '.join(STATUSES)}")
    if status != "pass" and not str(reason).strip():
        raise BaselineError(f"{where}: expected status {status} needs a reason or link")
    return Expected(status, str(reason).strip())


def write_baseline(path: str | Path, document: dict, previous: dict[str, Expected] | None = None) -> None:
    """The run's statuses as a baseline. Reasons of unchanged entries are kept; new non-pass entries
    get a placeholder naming the run, to be replaced by a real reason or link."""
    previous = previous or {}
    stamp = time.strftime("%Y-%m-%d", time.gmtime())
    lines = ["# assistants-conformance baseline: expected status per check (" + " | ".join(STATUSES) + ").",
             "# Every status other than pass needs a reason or a link. Rewrite with `run --update-baseline`.",
             f"# Target: {(document.get('target') or {}).get('url') or 'embedded reference server'}; "
             f"profile: {(document.get('profile') or {}).get('name', '?')}"]
    entries: dict[str, Expected] = {}
    for check in document["checks"]:
        status, old = check["status"], previous.get(check["id"])
        reason = old.reason if old is not None and old.status == status and old.reason else \
            f"recorded by --update-baseline on {stamp}: {_one_line(check.get('message', ''))}"
        entries[check["id"]] = Expected(status, "" if status == "pass" else reason)
    # Checks this run left out on purpose (--check, -k, --level core) keep their previous entries.
    for check_id in set(document.get("deselected", [])) & set(previous) - set(entries):
        entries[check_id] = previous[check_id]
    for check_id, entry in sorted(entries.items()):
        if entry.status == "pass":
            lines.append(f"{check_id}: pass")
        else:
            reason = yaml.safe_dump(entry.reason, width=10**6).strip().removesuffix("\n...")
            lines.append(f"{check_id}:\n  status: {entry.status}\n  reason: {reason}")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _one_line(message: str) -> str:
    for line in str(message).splitlines():
        if line.strip().startswith("what happened:"):
            return line.strip().removeprefix("what happened:").strip()[:200]
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    return (lines[-1] if lines else "")[:200]


def _status_text(check: dict, against_baseline: bool) -> str:
    if check["status"] == "blocked":
        why = "a regression of that prerequisite" if against_baseline else "that prerequisite failed"
        return f"blocked by {check.get('blocked_by') or 'a prerequisite'} ({why})"
    if check["status"] == "unstable":
        return f"unstable: {', '.join(check.get('outcomes') or [])}"
    return check["status"]


def gate(document: dict, baseline: dict[str, Expected] | None, level: str = "full") -> dict:
    """What the run means for CI: {exit_code, verdict, reason, regressions, fixed, must_failures}."""
    checks = {c["id"]: c for c in document["checks"]}
    regressions, fixed = [], []
    for check_id, check in checks.items():
        expected = baseline.get(check_id) if baseline is not None else None
        status = check["status"]
        if status in BROKEN and (expected is None or expected.status not in BROKEN):
            # Without a baseline nothing was expected: a failing check is just that, not a regression.
            was = f" (expected {expected.status})" if expected else " (not in the baseline)" if baseline is not None else ""
            regressions.append({"id": check_id, "why": f"{_status_text(check, baseline is not None)}{was}",
                                "blocked_by": check.get("blocked_by")})
        elif expected is not None and expected.status in BROKEN and status == "pass":
            fixed.append({"id": check_id, "why": f"passes (baseline: {expected.status}: {expected.reason})"})
    if baseline is not None:
        left_out = set(document.get("deselected", []))
        for check_id in sorted(set(baseline) - set(checks) - left_out):
            regressions.append({"id": check_id, "why": "disappeared: in the baseline but not in this run"})
    must_failures = []
    if level == "core":
        must_failures = [{"id": c["id"], "why": f"MUST check {c['status']} (core level: no baseline exemption)"}
                         for c in checks.values() if c["level"] == "MUST" and c["status"] in BROKEN]
        known = {r["id"] for r in regressions}
        regressions += [m for m in must_failures if m["id"] not in known]
    regressions.sort(key=lambda r: r["id"])
    # The words follow the facts: "regression" only against a baseline.
    noun = "regression" if baseline is not None else "failing check"
    if regressions:
        verdict, reason = "FAILED", f"{len(regressions)} {noun}{'s' if len(regressions) != 1 else ''}"
    else:
        verdict, reason = "PASSED", "nothing regressed against the baseline" if baseline is not None else "no check failed"
    return {"exit_code": 1 if regressions else 0, "verdict": verdict, "reason": reason, "noun": noun,
            "regressions": regressions, "fixed": fixed, "must_failures": must_failures, "level": level}
