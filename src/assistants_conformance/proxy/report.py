"""The proxy's results document (the results.json of `run`, with a `proxy` section) and its report
folder, rendered by reports.artifacts.write_report; and the live one-line summary."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ..checks import CheckInfo
from ..outcomes import STATUSES
from ..wire.redact import redact_url
from ..reports.artifacts import write_report
from ..reports.results import FORMAT, iso_time, count_statuses, run_metadata
from .judge import Judge


CATALOG_TIMEOUT = 120.0
_CATALOG_JSON = ("import dataclasses, json; from assistants_conformance.catalog import collect_checks; "
                 "print(json.dumps([dataclasses.asdict(c) for c in collect_checks()]))")


class Catalog:
    """The check catalog (rule texts, areas), collected once by a child process (a collection of the
    suites holds the GIL for seconds: in a thread it would stall forwarding); the proxy listens at once,
    and a report written before the catalog is ready uses the proxy's own rule texts."""

    def __init__(self, load: bool = True):
        self.checks: dict[str, CheckInfo] = {}
        self._thread = threading.Thread(target=self._load, daemon=True) if load else None
        if self._thread is not None:
            self._thread.start()

    def _load(self) -> None:
        try:
            done = subprocess.run([sys.executable, "-c", _CATALOG_JSON], capture_output=True, text=True,
                                  timeout=CATALOG_TIMEOUT)
            self.checks = {c["id"]: CheckInfo(**c) for c in json.loads(done.stdout)}
        except (OSError, ValueError, TypeError, subprocess.SubprocessError):
            self.checks = {}  # an installed harness without suites/: own rule texts

    @property
    def ready(self) -> bool:
        return self._thread is None or not self._thread.is_alive()

    def wait(self, timeout: float = CATALOG_TIMEOUT) -> dict[str, CheckInfo]:
        if self._thread is not None:
            self._thread.join(timeout)
        return self.checks


def document(judge: Judge, *, target_url: str, dialect: str, started: float, catalog: dict[str, Any],
             extra: dict | None = None) -> dict:
    checks = judge.findings.records(catalog)
    finished = time.time()
    meta = run_metadata(None)
    meta["spec_hash"] = judge.contract.spec_hash
    meta["target"] = {"url": redact_url(target_url), "embedded_reference": False, "reference_faults": [],
                      "dialect": dialect}
    meta["profile"] = {"name": "proxy", "model": None, "capabilities": [],
                       "description": "observed traffic judged by the assistants-conformance proxy"}
    stats = dict(judge.stats)
    return {
        "format": FORMAT, **meta,
        "started": iso_time(started), "finished": iso_time(finished), "duration": round(finished - started, 3),
        "exit_status": 1 if judge.findings.total() else 0,
        "counts": count_statuses(checks), "deselected": [], "checks": checks,
        "proxy": {"exchanges": stats.get("exchanges", 0), "streams": stats.get("streams", 0),
                  "events": stats.get("events", 0), "unrouted": stats.get("unrouted", 0),
                  "undecodable": stats.get("undecodable", 0), "streams_too_long": stats.get("streams_too_long", 0),
                  "findings": judge.findings.total(), "findings_by_level": judge.findings.by_level(),
                  "findings_without_evidence": judge.findings.dropped_evidence,
                  "lock_histories_undecided": judge.state.undecided,
                  "evicted": {"runs": judge.state.runs.evicted, "threads": judge.state.threads.evicted,
                              "streamed_objects": judge.state.streamed.evicted},
                  **(extra or {})},
    }


def write(folder: str | Path, doc: dict) -> Path:
    """results.json and the files rendered from it; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(doc, indent=2, sort_keys=True), encoding="utf-8")
    write_report(folder, doc)
    return folder


def summary_line(judge: Judge, dropped: int = 0, errors: int = 0) -> str:
    levels = judge.findings.by_level()
    counts = " ".join(f"{level} {n}" for level, n in levels.items())
    stats = judge.stats
    tail = (f", {dropped} judgements dropped" if dropped else "") + (f", {errors} judging errors (ours)" if errors else "")
    return (f"proxy: {stats.get('exchanges', 0)} exchanges, {stats.get('streams', 0)} streams, "
            f"{stats.get('events', 0)} events; findings: {counts}{tail}")


def counts_line(doc: dict) -> str:
    counts = doc["counts"]
    return ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts.get(s))
