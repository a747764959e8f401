"""Repeated identical runs (`run --repeat N`): a check whose outcome differs between them is *unstable*.

A server that behaves at random (a race, a cache, a model's whim) gives verdicts that change from run to
run; one run cannot tell. N runs of the same suites with the same settings can: each check gets the list
of its outcomes, and a check with more than one distinct outcome is reported `unstable` (its own state,
never pass or fail) with the message and evidence of a run where it did not pass.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from ..outcomes import RANK
from .results import ResultsError, count_statuses, load_results

ABSENT = "absent"  # the check did not run in that repetition


def run_repeated(pytest_args: list[str], results_path: Path, times: int) -> int:
    """Run pytest `times` times (each in a fresh process, so no state of one run leaks into the next),
    each writing results-K.json beside results_path, then write the merged document to results_path.
    Returns the worst pytest exit code."""
    codes, documents = [], []
    for index in range(1, times + 1):
        path = results_path.with_name(f"results-{index}.json")
        if path.exists():
            path.unlink()
        print(f"assistants-conformance run: repetition {index} of {times}", flush=True)
        args = [arg if arg != str(results_path) else str(path) for arg in pytest_args]
        code = subprocess.call([sys.executable, "-m", "pytest", *args])
        codes.append(code)
        try:
            documents.append(load_results(path))
        except ResultsError:
            return code  # this repetition went wrong: the caller says why (pytest's own exit code)
    merged = merge_runs(documents)
    results_path.write_text(json.dumps(merged, indent=2, sort_keys=True), encoding="utf-8")
    return max(codes, key=lambda c: (c not in (0, 1), c))


def merge_runs(documents: list[dict]) -> dict:
    """N results documents of identical runs -> one. Every check record gains "outcomes" (its status in
    each run, "absent" where it did not run); one with more than one distinct outcome becomes
    "unstable", keeping the message and evidence of its worst run."""
    if not documents:
        raise ValueError("no runs to merge")
    by_run = [{c["id"]: c for c in d["checks"]} for d in documents]
    ids = sorted({check_id for run in by_run for check_id in run})
    checks = []
    for check_id in ids:
        records = [run.get(check_id) for run in by_run]
        outcomes = [r["status"] if r else ABSENT for r in records]
        present = [r for r in records if r]
        worst = max(present, key=lambda r: RANK[r["status"]])
        merged = dict(worst)
        merged["outcomes"] = outcomes
        merged["duration"] = round(sum(r["duration"] for r in present), 4)
        if len(set(outcomes)) > 1:
            merged["status"] = "unstable"
            seen = ", ".join(f"run {i + 1}: {o}" for i, o in enumerate(outcomes))
            merged["message"] = (f"unstable: the outcome changed between {len(documents)} identical runs ({seen})"
                                 + (f"\n\n{worst['message']}" if worst.get("message") else ""))
        checks.append(merged)
    first, last = documents[0], documents[-1]
    merged_document = dict(first)
    merged_document.update(
        finished=last.get("finished"), duration=round(sum(d.get("duration") or 0 for d in documents), 3),
        exit_status=max(int(d.get("exit_status") or 0) for d in documents), checks=checks,
        counts=count_statuses(checks), repeat=len(documents),
        deselected=sorted(set.intersection(*(set(d.get("deselected", [])) for d in documents)) - set(ids)),
        merged_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    return merged_document
