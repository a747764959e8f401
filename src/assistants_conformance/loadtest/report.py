"""The report folder: exact percentiles (CSV + JSON), raw timings, violations, and the latency plot,
written next to Locust's own HTML and CSV."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

from .checks import ALL
from .metrics import CHECK, COUNT, METRIC, PERCENTILES, Recorder, summarize
from .plot import latency_svg

SUMMARY = "load-summary.json"
PERCENTILES_CSV = "load-percentiles.csv"
RAW_CSV = "load-raw-timings.csv"
PLOT = "load-latency.svg"
PLOTTED = ("time_to_first_event", "time_to_first_text_delta", "time_to_done", "run_end_to_end")
NOT_REQUESTS = (METRIC, COUNT, CHECK)  # figures' kinds that are not HTTP requests
# The Locust process prints its progress lines with this prefix; `load` shows them (the rest goes to its log).
PROGRESS_PREFIX = "assistants-conformance load: "
# Figures shown by `load` at the end (all are in the report files), in this order.
SHOWN = ("time_to_first_event", "time_to_first_text_delta", "event_gap", "time_to_done", "run_end_to_end",
         "requires_action_round_trip", "polls_per_run", "usage_completion_tokens", "time_to_indexed",
         "file_search_run_end_to_end")


def write_report(folder: str | Path, recorder: Recorder, *, started: float, warmup: float,
                 settings: dict, failures: list[dict], stopped: float | None = None) -> dict:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    since = started + warmup if warmup > 0 else None
    rows = summarize(recorder.samples, since=since)
    http = [r for r in rows if r["kind"] not in NOT_REQUESTS]
    seconds = max(0.0, (stopped or time.time()) - (since or started))
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
        "requests": {"count": sum(r["count"] for r in http), "failures": sum(r["failures"] for r in http),
                     "seconds": seconds, "per_second": sum(r["count"] for r in http) / seconds if seconds else None},
        "checks": {c.check_id: {"title": c.title, "checked": recorder.checked_counts.get(c.check_id, 0),
                                "violations": recorder.violation_counts.get(c.check_id, 0)} for c in ALL},
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


def unit_of(kind: str, name: str) -> str:
    if kind != COUNT:
        return "ms"
    return "tokens" if name.startswith("usage_") else "count"


def summary_lines(summary: dict, folder: str | Path) -> list[str]:
    """What `load` prints at the end: requests, rate and failures; the figures with their units; a verdict
    line per LOAD-* check."""
    requests = summary.get("requests") or {}
    count, failed, seconds = requests.get("count", 0), requests.get("failures", 0), requests.get("seconds") or 0.0
    rate = f"{requests['per_second']:.1f} req/s" if requests.get("per_second") is not None else "- req/s"
    share = f" ({100 * failed / count:.1f} %)" if count else ""
    lines = [f"load report: {folder}  (exact percentiles; warm-up {summary['warmup_seconds']:g} s excluded)",
             f"  {count} requests in {seconds:.1f} s = {rate}, {failed} failed{share}"]
    rows = [r for r in summary["figures"] if r["kind"] != CHECK
            and (r["kind"] not in (METRIC, COUNT) or r["name"] in SHOWN)]
    rows.sort(key=lambda r: (r["kind"] in (METRIC, COUNT), SHOWN.index(r["name"]) if r["name"] in SHOWN else 0,
                             r["name"], r["kind"]))
    labels = [r["name"] if r["kind"] in (METRIC, COUNT) else f"{r['kind']} {r['name']}" for r in rows]
    width = max([len(label) for label in labels] + [len("figure")]) + 2
    columns = ("p50", "p90", "p99", "p99.9", "max")
    lines.append(f"  {'figure':<{width}}{'unit':<8}{'count':>8}{'failed':>8}" + "".join(f"{c:>10}" for c in columns))
    for label, r in zip(labels, rows):
        lines.append(f"  {label:<{width}}{unit_of(r['kind'], r['name']):<8}{r['count']:>8}{r['failures']:>8}"
                     + "".join(f"{_num(r[c]):>10}" for c in columns))
    for failure in summary["failures"]:
        if failure["method"] != CHECK:
            lines.append(f"  failure x{failure['occurrences']}: {failure['method']} {failure['name']}: {failure['error']}")
    firsts = {}
    for v in summary["violations"]["first"]:
        firsts.setdefault(v["check_id"], v["message"])
    for check_id, c in (summary.get("checks") or {}).items():
        if c["violations"]:
            verdict = f"VIOLATED x{c['violations']} (of {c['checked']} checked): {firsts.get(check_id, '')[:300]}"
        elif c["checked"]:
            verdict = f"pass ({c['checked']} checked)"
        else:
            verdict = "not exercised (nothing this profile did is judged by it)"
        lines.append(f"{check_id} {c['title']}: {verdict}")
    return lines


def _num(value) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if isinstance(value, float) and not float(value).is_integer() else f"{value:g}"
