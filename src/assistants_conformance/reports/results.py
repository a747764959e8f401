"""results.json: one record per check, collected from pytest's reports.

The worker side (`failure_properties`, called from the plugin's makereport hook) turns a failing
test's evidence into redacted plain data in `report.user_properties`; the controller side
(`ResultsWriter`, a plugin registered only where reports arrive) folds test reports into per-check
records and writes the document. That split keeps evidence intact under pytest-xdist.

Document:
    {"format": 1, "harness": {"name", "version"}, "spec_hash", "target": {...}, "profile": {...},
     "started", "finished", "duration", "exit_status", "counts": {status: n},
     "deselected": [check ids the run left out on purpose],
     "checks": [{"id", "area", "level", "capability", "rule", "nodeid", "status", "duration",
                 "message", "reason", "blocked_by", "errors": [{nodeid, message}], "traceback",
                 "evidence": [...], "exchanges": [...],
                 "cases": [{nodeid, status, duration, message, reason, blocked_by}]}]}

Statuses and how cases add up are outcomes.STATUSES and outcomes.RANK; the status of a test phase is the
one the plugin decided (the "outcome" user property), never guessed from a message.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ..outcomes import RANK, STATUSES
from ..wire.redact import redact_text
from ..session_config import resolved_config
from . import evidence as ev
from .rules import rule_view

FORMAT = 1
MAX_RECORDED = 20  # recorded exchanges kept per failing test (the latest)
DESELECTED_KEY = "assistants_conformance_deselected"  # xdist workeroutput key


def status_of(report) -> str | None:
    """The outcome the plugin decided for a check's test phase (outcomes.classify), None for a phase that
    says nothing (a setup or teardown that passed)."""
    return dict(report.user_properties).get("outcome")


def message_of(report) -> str:
    if isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    return str(report.longrepr or "")


# --- worker side -------------------------------------------------------------------------------------


def failure_properties(exc: BaseException | None, recorded: list, message: str) -> list[tuple[str, Any]]:
    """user_properties for a failed phase: its message, the evidence the check chose (else its last
    exchanges) and the exchanges it recorded (for the HAR), all redacted plain data. Redacted here,
    where the keys of the target (an embedded server's, too) are registered."""
    from ..checks import ConformanceFailure

    chosen = exc.evidence if isinstance(exc, ConformanceFailure) and exc.evidence else recorded[-3:]
    return [
        ("message", redact_text(message)),
        ("evidence", ev.serialize_all(chosen)),
        ("exchanges", [ev.exchange_dict(x) for x in recorded[-MAX_RECORDED:]]),
    ]


# --- controller side ---------------------------------------------------------------------------------


class ResultsWriter:
    """Collects one record per check and writes results.json at the end of the session."""

    def __init__(self, path: str | None, config=None):
        self.path = path
        self.config = config
        self.cases: dict[str, dict] = {}  # nodeid -> case record
        self.deselected: set[str] = set()
        self.started = time.time()

    def pytest_runtest_logreport(self, report) -> None:
        props = dict(report.user_properties)
        info = props.get("check")
        status = status_of(report)
        if info is None or status is None:
            return
        case = self.cases.setdefault(report.nodeid, {
            "info": info, "status": "pass", "message": "", "reason": "", "blocked_by": None, "traceback": None,
            "duration": 0.0, "evidence": [], "exchanges": []})
        case["duration"] += report.duration
        # The worst phase wins: a teardown error after a pass is an error, after a fail still a fail.
        if status != "pass" and (case["status"] == "pass" or RANK[status] > RANK[case["status"]]):
            case["status"] = status
            case["message"] = redact_text(props.get("message") or message_of(report))
            case["reason"] = redact_text(str(props.get("reason") or ""))
            case["blocked_by"] = props.get("blocked_by")
            case["traceback"] = props.get("traceback")
            if "evidence" in props:
                case["evidence"] = props["evidence"]
                case["exchanges"] = props.get("exchanges", [])

    def pytest_deselected(self, items) -> None:
        self.deselected.update(_check_ids(items))

    def pytest_testnodedown(self, node, error) -> None:  # xdist: a worker's deselections
        self.deselected.update(getattr(node, "workeroutput", {}).get(DESELECTED_KEY, []))

    def pytest_sessionfinish(self, session, exitstatus) -> None:
        if not self.path:
            return
        document = self.document(int(exitstatus))
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=2, sort_keys=True)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        """The run counted in rules: what is broken and what each broken rule blocked."""
        checks = merge_cases(self.cases.values())
        if not checks:
            return
        view = rule_view(checks)
        write = terminalreporter.write_line
        terminalreporter.section("assistants-conformance", sep="-")
        write(view["headline"])
        for entry in view["broken"]:
            check = entry["check"]
            blocked = entry["blocked"]
            tail = f" — blocked {len(blocked)}: {_ids(blocked)}" if blocked else ""
            write(f"  {check['id']} {check['level']} broken: {check['rule']}{tail}")
        for entry in view["other_blockers"]:
            write(f"  blocked by {entry['id']}, which did not fail in this run: {_ids(entry['blocked'])}")
        for check in view["errors"]:
            write(f"  {check['id']} harness error: {_first_line(check['message'])}")

    def document(self, exit_status: int) -> dict:
        checks = merge_cases(self.cases.values())
        finished = time.time()
        ran = {c["id"] for c in checks}
        return {
            "format": FORMAT,
            **run_metadata(self.config),
            "started": iso_time(self.started),
            "finished": iso_time(finished),
            "duration": round(finished - self.started, 3),
            "exit_status": exit_status,
            "counts": count_statuses(checks),
            "deselected": sorted(self.deselected - ran),
            "checks": checks,
        }


class DeselectionRecorder:
    """xdist worker side: deselected check ids travel to the controller in workeroutput."""

    def __init__(self, config):
        self.config = config

    def pytest_deselected(self, items) -> None:
        out = self.config.workeroutput.setdefault(DESELECTED_KEY, [])
        out.extend(sorted(_check_ids(items)))


def _check_ids(items) -> set[str]:
    from ..checks import CheckDefinitionError, check_info

    ids = set()
    for item in items:
        try:
            info = check_info(item)
        except CheckDefinitionError:
            continue
        if info is not None:
            ids.add(info.id)
    return ids


def merge_cases(cases) -> list[dict]:
    """Per-test cases -> one record per check id, sorted by id. The highest-ranked case gives the check its
    status and message (a fail is never hidden by another case's error: the errors are listed beside it);
    every case keeps its own outcome."""
    by_id: dict[str, dict] = {}
    for case in cases:
        info = case["info"]
        record = by_id.get(info["id"])
        if record is None:
            record = by_id[info["id"]] = {
                "id": info["id"], "area": info["area"], "level": info["level"],
                "capability": info.get("capability"), "rule": info.get("rule", ""), "varies": info.get("varies"),
                "nodeid": info.get("nodeid", "").split("[")[0], "status": case["status"], "duration": 0.0,
                "message": case["message"], "reason": case["reason"], "blocked_by": case["blocked_by"],
                "errors": [], "traceback": None, "evidence": [], "exchanges": [], "cases": [],
            }
        elif RANK[case["status"]] > RANK[record["status"]]:
            record.update(status=case["status"], message=case["message"], reason=case["reason"],
                          blocked_by=case["blocked_by"])
        record["duration"] = round(record["duration"] + case["duration"], 4)
        if case["status"] in ("fail", "error"):
            record["evidence"] += case["evidence"]
            record["exchanges"] += case["exchanges"]
        if case["status"] == "error":
            record["errors"].append({"nodeid": info.get("nodeid", ""), "message": _first_line(case["message"])})
            record["traceback"] = record["traceback"] or case["traceback"]
        record["cases"].append({"nodeid": info.get("nodeid", ""), "status": case["status"],
                                "duration": round(case["duration"], 4), "message": case["message"],
                                "reason": case["reason"], "blocked_by": case["blocked_by"]})
    for record in by_id.values():
        if record["status"] != "fail":
            record["errors"] = []  # an error check's own message says it; the list is for errors beside a fail
    return [by_id[k] for k in sorted(by_id)]


def _ids(checks: list[dict], most: int = 12) -> str:
    names = [c["id"] for c in checks]
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")


def _first_line(message: str) -> str:
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    return lines[0][:300] if lines else ""


def count_statuses(checks: list[dict]) -> dict[str, int]:
    counts = {s: 0 for s in STATUSES}
    for check in checks:
        counts[check["status"]] += 1
    counts["total"] = len(checks)
    return counts


def run_metadata(config) -> dict:
    """Target, profile, harness version and spec hash (no keys: URLs are redacted)."""
    from importlib.metadata import PackageNotFoundError, version

    from ..wire.redact import redact_url

    try:
        harness_version = version("assistants-conformance")
    except PackageNotFoundError:
        harness_version = "unknown"
    meta: dict[str, Any] = {"harness": {"name": "assistants-conformance", "version": harness_version},
                            "spec_hash": None, "target": {}, "profile": {}}
    if config is None:
        return meta
    try:
        resolved = resolved_config(config)
    except Exception as exc:  # a usage error is reported by pytest itself; keep what we know
        meta["target"] = {"error": redact_text(str(exc))}
        return meta
    faults = list(config.getoption("reference_fault") or []) if not resolved.base_url else []
    meta["target"] = {
        "url": redact_url(resolved.base_url) if resolved.base_url else None,
        "embedded_reference": not resolved.base_url,
        "reference_faults": faults,
        "dialect": resolved.dialect,
    }
    profile = resolved.profile
    meta["profile"] = {"name": profile.name, "model": profile.model, "description": profile.description,
                       "capabilities": sorted(profile.capabilities)}
    try:
        from ..spec import load_contract

        meta["spec_hash"] = load_contract(resolved.spec_path).spec_hash
    except Exception as exc:
        meta["spec_hash"] = None
        meta["spec_error"] = redact_text(str(exc))[:300]
    return meta


def iso_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


RECORD_DEFAULTS = (("level", ""), ("capability", None), ("rule", ""), ("varies", None), ("message", ""), ("reason", ""),
                   ("blocked_by", None), ("errors", []), ("traceback", None), ("outcomes", None),
                   ("duration", 0.0), ("evidence", []), ("exchanges", []), ("cases", []))


def with_defaults(record: dict) -> dict:
    """A check record with every field present (documents of older harness versions lack the newer ones)."""
    record.setdefault("area", record["id"].split("-")[0].lower())
    for key, default in RECORD_DEFAULTS:
        record.setdefault(key, list(default) if isinstance(default, list) else default)
    return record


class ResultsError(Exception):
    """A results.json that cannot be read (one line)."""


def load_results(path: str | Path) -> dict:
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: not a readable JSON document ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("checks"), list):
        raise ResultsError(f"{path}: not a results.json (no 'checks' list)")
    for record in document["checks"]:
        if not isinstance(record, dict) or record.get("status") not in STATUSES or "id" not in record:
            raise ResultsError(f"{path}: a check record without an id or a known status: {str(record)[:120]}")
        with_defaults(record)
    counts = document.setdefault("counts", count_statuses(document["checks"]))
    for status in (*STATUSES, "total"):  # a document from an older harness lacks the newer statuses
        counts.setdefault(status, 0)
    document.setdefault("deselected", [])
    return document
