"""The report folder: exact percentiles (CSV + JSON), raw timings, violations, and the latency plot,
written next to Locust's own HTML and CSV."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

from .metrics import METRIC, PERCENTILES, Recorder, summarize
from .plot import latency_svg

SUMMARY = "load-summary.json"
PERCENTILES_CSV = "load-percentiles.csv"
RAW_CSV = "load-raw-timings.csv"
PLOT = "load-latency.svg"
PLOTTED = ("time_to_first_event", "time_to_first_text_delta", "time_to_done", "run_end_to_end")


def write_report(folder: str | Path, recorder: Recorder, *, started: float, warmup: float,
                 settings: dict, failures: list[dict]) -> dict:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    since = started + warmup if warmup > 0 else None
    rows = summarize(recorder.samples, since=since)
    columns = ["kind", "name", "count", "failures"] + [f"p{p * 100:g}" for p in PERCENTILES] + ["max", "mean"]
    with open(folder / PERCENTILES_CSV, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows({k: _fmt(v) for k, v in row.items()} for row in rows)
    with open(folder / RAW_CSV, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["kind", "name", "at", "value", "ok", "source"])
        writer.writerows(s.row() for s in sorted(recorder.samples, key=lambda s: s.at))
    sources = sorted({s.source for s in recorder.samples})
    summary = {
        "generated": time.time(), "started": started, "warmup_seconds": warmup, "settings": settings,
        "sources": sources, "figures": rows,
        "violations": {"counts": recorder.violation_counts, "first": [v.to_dict() for v in recorder.violations]},
        "failures": failures,
        "units": "ms for METRIC and HTTP rows; counts for COUNT rows; percentiles are exact (nearest rank)",
    }
    (folder / SUMMARY).write_text(json.dumps(summary, indent=2, default=str))
    series = {name: [s for s in recorder.samples if s.kind == METRIC and s.name == name] for name in PLOTTED}
    series = {k: v for k, v in series.items() if v}
    if not series:  # no streams or runs: plot the HTTP requests as one series
        series = {"requests": [s for s in recorder.samples if s.kind in ("GET", "POST", "DELETE")]}
    (folder / PLOT).write_text(latency_svg(series, t0=started, warmup_end=since, title="latency over time (ms)"))
    return summary


def _fmt(value):
    return f"{value:.3f}" if isinstance(value, float) else value
