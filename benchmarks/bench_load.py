"""Load harness benchmarks, same machine, one run each, printed side by side:

1. Throughput on one simple GET (/health of the reference server): wrk (ceiling, if installed), a bare
   Locust FastHttpUser, and the harness's user class (ConformanceClient + LoadSession). Target: harness
   >= 70% of FastHttpUser.
2. Time-to-first-text-delta accuracy: reference server with --token-delay-ms D, 100 concurrent streams
   (streaming profile, 100 users). The first text delta follows the run's first event by one token delay;
   the harness's p50 of (first text delta - first event) must be within 2 ms of D.

    python benchmarks/bench_load.py [--seconds 5] [--delay-ms 20]
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from assistants_conformance.launcher import ReferenceServer
from assistants_conformance.loadtest.cli import main as load_main
from assistants_conformance.loadtest.metrics import percentile

HERE = Path(__file__).resolve().parent


def wrk_rps(url: str, seconds: int) -> float | None:
    if not shutil.which("wrk"):
        return None
    out = subprocess.run(["wrk", "-t1", "-c16", f"-d{seconds}s", url], capture_output=True, text=True,
                         timeout=seconds + 30).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(match.group(1)) if match else None


def locust_rps(user_class: str, host: str, seconds: int, folder: Path) -> tuple[float, int]:
    prefix = folder / user_class
    subprocess.run([sys.executable, "-m", "locust", "-f", str(HERE / "bench_load_locustfile.py"), "--host", host,
                    "--headless", "-u", "16", "-r", "16", "-t", f"{seconds}s", "--only-summary", "--csv", str(prefix),
                    "--report-dir", str(folder / f"{user_class}-report"), user_class],
                   capture_output=True, timeout=seconds + 60)
    with open(f"{prefix}_stats.csv") as fh:
        row = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
    return float(row["Requests/s"]), int(row["Failure Count"])


def throughput(seconds: int, folder: Path) -> None:
    with ReferenceServer() as server:
        root = server.root_url
        ceiling = wrk_rps(root + "/health", seconds)
        bare, bare_fail = locust_rps("BareFastHttpUser", root, seconds, folder)
        harness, harness_fail = locust_rps("HarnessHealthUser", server.base_url, seconds, folder)
    print(f"GET /health, 16 connections/users, {seconds} s each")
    print(f"  wrk (ceiling)          {ceiling:>9.0f} req/s" if ceiling else "  wrk                    not installed")
    print(f"  Locust FastHttpUser    {bare:>9.0f} req/s  ({bare_fail} failures)")
    print(f"  harness user class     {harness:>9.0f} req/s  ({harness_fail} failures)  = "
          f"{100 * harness / bare:.0f}% of FastHttpUser (target >= 70%)")


def first_delta_accuracy(delay_ms: int, seconds: int, folder: Path) -> None:
    with ReferenceServer(token_delay_ms=delay_ms) as server:
        load_main(["--profile", "streaming", "--users", "100", "--spawn-rate", "100", "--run-time", f"{seconds + 3}s",
                   "--warmup", "3", "--target-url", server.base_url, "--target-profile", "reference",
                   "--report-dir", str(folder / "ttfe")])
    per_stream: dict[tuple, dict] = defaultdict(dict)
    with open(folder / "ttfe" / "load-raw-timings.csv") as fh:
        rows = list(csv.DictReader(fh))
    start = min(float(r["at"]) for r in rows) + 3
    for r in rows:
        if r["kind"] == "METRIC" and float(r["at"]) >= start:
            per_stream[(r["at"], r["source"])][r["name"]] = float(r["value"])
    diffs = sorted(s["time_to_first_text_delta"] - s["time_to_first_event"] for s in per_stream.values()
                   if "time_to_first_text_delta" in s and "time_to_first_event" in s)
    gaps = sorted(float(r["value"]) for r in rows if r["name"] == "event_gap" and float(r["at"]) >= start)
    delta_gaps = [g for g in gaps if g >= delay_ms / 2]  # gaps between tokens (the others are same-tick events)
    p50 = percentile(diffs, 0.5)
    print(f"100 concurrent streams, token delay {delay_ms} ms, {len(diffs)} streams after a 3 s warm-up")
    print(f"  first text delta - first event: p50 {p50:.2f} ms (|error| {abs(p50 - delay_ms):.2f} ms, target < 2),"
          f" p90 {percentile(diffs, 0.9):.2f}, p99 {percentile(diffs, 0.99):.2f}")
    print(f"  gaps between tokens: p50 {percentile(delta_gaps, 0.5):.2f} ms, p99 {percentile(delta_gaps, 0.99):.2f} ms")


def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument("--seconds", type=int, default=5)
    args.add_argument("--delay-ms", type=int, default=20)
    opts = args.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        throughput(opts.seconds, Path(tmp))
        first_delta_accuracy(opts.delay_ms, opts.seconds, Path(tmp))


if __name__ == "__main__":
    main()
