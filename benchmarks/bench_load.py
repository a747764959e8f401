"""Load harness benchmarks, same machine, one run each, printed side by side:

1. Throughput on one simple GET of the reference server, GET /v1/assistants/{id} (what a load user does:
   auth headers, a JSON body) and GET /health (the cheapest answer): wrk (ceiling, if installed), a bare
   Locust FastHttpUser, and the harness's user class (LoadSession.call: its request path, checks, events
   and raw samples), same URL and headers, 16 users, one after the other. Target: harness >= 70% of
   FastHttpUser.
2. Time-to-first-text-delta accuracy: reference server with --token-delay-ms D, 100 concurrent streams
   (streaming profile, 100 users). The first text delta follows the run's first event by one token delay;
   the harness's p50 of (first text delta - first event) must be within 2 ms of D.

    python benchmarks/bench_load.py [--seconds 5] [--delay-ms 20]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from assistants_conformance.wire.client import ConformanceClient
from assistants_conformance.wire.config import resolve_config
from assistants_conformance.launcher import ReferenceServer
from assistants_conformance.loadtest.cli import main as load_main
from assistants_conformance.loadtest.metrics import percentile

HERE = Path(__file__).resolve().parent


BENCH_KEY = "bench-load-key"
HEADERS = {"Authorization": f"Bearer {BENCH_KEY}", "OpenAI-Beta": "assistants=v2"}


def wrk_rps(url: str, seconds: int, headers: dict[str, str]) -> float | None:
    if not shutil.which("wrk"):
        return None
    flags = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
    out = subprocess.run(["wrk", "-t1", "-c16", f"-d{seconds}s", *flags, url], capture_output=True, text=True,
                         timeout=seconds + 30).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(match.group(1)) if match else None


def locust_rps(user_class: str, host: str, path: str, seconds: int, folder: Path) -> tuple[float, int]:
    prefix = folder / user_class
    env = dict(os.environ, BENCH_PATH=path, BENCH_HEADERS=json.dumps(HEADERS), OPENAI_API_KEY=BENCH_KEY)
    subprocess.run([sys.executable, "-m", "locust", "-f", str(HERE / "bench_load_locustfile.py"), "--host", host,
                    "--headless", "-u", "16", "-r", "16", "-t", f"{seconds}s", "--only-summary", "--csv", str(prefix),
                    "--report-dir", str(folder / f"{user_class}-report"), user_class],
                   capture_output=True, timeout=seconds + 60, env=env)
    with open(f"{prefix}_stats.csv") as fh:
        row = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
    return float(row["Requests/s"]), int(row["Failure Count"])


def throughput(seconds: int, folder: Path) -> list[dict]:
    """Each endpoint: wrk, bare FastHttpUser, harness user, one after the other on one server."""
    rows, before = [], os.getloadavg()  # the runs themselves load both cores: the figure before is the one that matters
    with ReferenceServer(api_keys=(BENCH_KEY,)) as server:
        config = resolve_config({"target_url": server.base_url}, {"OPENAI_API_KEY": BENCH_KEY})
        with ConformanceClient(config) as client:
            assistant = client.post("/assistants", json={"model": config.profile.model, "name": "bench"}).json["id"]
        # The API GET is what a load user does (auth, JSON body, the harness's checks); /health is the
        # cheapest thing the server answers.
        for label, path in (("GET /v1/assistants/{id}", f"/v1/assistants/{assistant}"), ("GET /health", "/health")):
            ceiling = wrk_rps(server.root_url + path, seconds, HEADERS)
            bare, bare_fail = locust_rps("BareFastHttpUser", server.root_url, path, seconds, folder)
            harness, harness_fail = locust_rps("HarnessGetUser", server.base_url, path, seconds, folder)
            rows.append({"endpoint": label, "wrk": ceiling, "bare": bare, "bare_failures": bare_fail,
                         "harness": harness, "harness_failures": harness_fail})
    after = os.getloadavg()
    print(f"16 connections/users, {seconds} s each; load average (1/5/15 min) before {before[0]:.2f} {before[1]:.2f} "
          f"{before[2]:.2f}, after {after[0]:.2f} {after[1]:.2f} {after[2]:.2f}")
    for r in rows:
        print(f"{r['endpoint']}")
        print(f"  wrk (ceiling)          {r['wrk']:>9.0f} req/s" if r["wrk"] else "  wrk                    not installed")
        print(f"  Locust FastHttpUser    {r['bare']:>9.0f} req/s  ({r['bare_failures']} failures)")
        print(f"  harness user class     {r['harness']:>9.0f} req/s  ({r['harness_failures']} failures)  = "
              f"{100 * r['harness'] / r['bare']:.0f}% of FastHttpUser (target >= 70%)")
    return rows


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
    args.add_argument("--throughput-only", action="store_true")
    opts = args.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        throughput(opts.seconds, Path(tmp))
        if not opts.throughput_only:
            first_delta_accuracy(opts.delay_ms, opts.seconds, Path(tmp))


if __name__ == "__main__":
    main()
