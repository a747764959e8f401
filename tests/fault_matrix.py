"""Proof that every check can fail: the fault catalog and a runner that runs suites against the
reference server with faults switched on.

The catalog is tests/faults/<area>.yaml: `CHECK-ID: [fault, ...]`, the faults meant to make that check fail.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SUITES = ROOT / "suites"
CATALOG_DIR = Path(__file__).resolve().parent / "faults"
CHECK_MARK = re.compile(r"""mark\.check\(\s*["']([A-Z][A-Z0-9]*-\d{3})["']""")
# Areas whose checks are about one dialect's own rules: their proofs run under that dialect.
AREA_DIALECTS = {"AZURE": "azure", "V1": "v1"}
RUN_TIMEOUT = 600  # seconds: a whole suite run against the reference server, with room to spare


def catalog() -> dict[str, list[str]]:
    """check id -> faults meant to make it fail."""
    merged: dict[str, list[str]] = {}
    for path in sorted(CATALOG_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for check_id, faults in data.items():
            if check_id in merged:
                raise ValueError(f"{path.name}: {check_id} is also listed in another catalog file")
            merged[check_id] = list(faults or [])
    return merged


def dialect_of(check_id: str) -> str:
    """The dialect a check's proof runs under (openai unless its area belongs to another dialect)."""
    return AREA_DIALECTS.get(check_id.rsplit("-", 1)[0], "openai")


def by_dialect(check_ids) -> dict[str, list[str]]:
    """Check ids grouped by the dialect their proofs run under."""
    groups: dict[str, list[str]] = defaultdict(list)
    for check_id in check_ids:
        groups[dialect_of(check_id)].append(check_id)
    return dict(sorted(groups.items()))


def checks_by_fault() -> dict[str, list[str]]:
    by_fault: dict[str, list[str]] = defaultdict(list)
    for check_id, faults in catalog().items():
        for fault in faults:
            by_fault[fault].append(check_id)
    return {fault: sorted(ids) for fault, ids in sorted(by_fault.items())}


def declared_check_ids() -> set[str]:
    """Every check id marked in suites/ (read from the source, so nothing needs to run)."""
    ids: set[str] = set()
    for path in SUITES.rglob("test_*.py"):
        ids.update(CHECK_MARK.findall(path.read_text(encoding="utf-8")))
    return ids


def run_suites_document(*args: str, timeout: float = RUN_TIMEOUT) -> tuple[dict, str]:
    """Run the suites in a subprocess against the embedded reference server: (results.json, output tail)."""
    with tempfile.TemporaryDirectory(prefix="conformance-proof-") as tmp:
        results = Path(tmp) / "results.json"
        cmd = [sys.executable, "-m", "pytest", str(SUITES), "-q", "-p", "no:cacheprovider",
               "-p", "no:randomly", "--results-json", str(results), *args]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        output = (proc.stdout + proc.stderr)[-4000:]
        if not results.exists():
            raise AssertionError(f"suite run wrote no results (exit {proc.returncode}):\n{output}")
        return json.loads(results.read_text(encoding="utf-8")), output


def run_suites(*args: str, timeout: float = RUN_TIMEOUT) -> tuple[dict[str, str], dict[str, str], str]:
    """Run the suites in a subprocess against the embedded reference server.

    Returns (status per check id, first failure message per check id, pytest's output tail).
    A check with several test cases has the status of its highest-ranked case (outcomes.RANK).
    """
    document, output = run_suites_document(*args, timeout=timeout)
    records = document["checks"]
    status: dict[str, str] = {}
    messages: dict[str, str] = {}
    for record in records:  # one record per check id (reports/results.py merges its cases)
        check_id = record["id"]
        status[check_id] = record["status"]
        if record["status"] in ("fail", "error"):
            messages[check_id] = record["message"]
        elif record["status"] in ("unsupported", "blocked", "skip"):  # the reason
            messages[check_id] = record.get("reason") or record["message"]
    return status, messages, output
