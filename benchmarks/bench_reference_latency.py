"""Retrieve-run latency at 50 concurrent clients against the reference server (target p99 < 10 ms).

Makes RUNS completed runs, then CLIENTS keep-alive connections each GET a random one of them for DURATION
seconds. Two ways of loading:
  * paced (the default): each client polls every --interval-ms (25 ms, what the server's
    openai-poll-after-ms asks the SDK's *_and_poll helpers to do), i.e. 50 pollers of live runs;
  * --closed: each client sends its next request as soon as the previous answer arrives (saturation:
    latency is then mostly queueing, ~ clients / throughput).
Latency is measured per request from write to the last byte of the answer.

    python benchmarks/bench_reference_latency.py [--clients 50] [--duration 10] [--closed]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_reference_common import (cpu_seconds, install_uvloop, make_assistant, percentile,  # noqa: E402
                                    reference_server, retrieve_load, run_paths, summary_ms)


async def measure(root_url: str, pid: int, clients: int, duration: float, runs: int, interval: float | None) -> dict:
    paths = await run_paths(root_url, await make_assistant(root_url), runs)
    cpu0 = cpu_seconds(pid)
    result = await retrieve_load(root_url, paths, clients, duration, interval)
    return {**result, "server_cpu_s": cpu_seconds(pid) - cpu0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--interval-ms", type=float, default=25.0)
    parser.add_argument("--closed", action="store_true", help="no pacing: saturate the server")
    args = parser.parse_args()
    install_uvloop()
    interval = None if args.closed else args.interval_ms / 1000
    with reference_server(token_delay_ms=0) as server:
        r = asyncio.run(measure(server.root_url, server.pid, args.clients, args.duration, args.runs, interval))
    mode = "closed loop" if args.closed else f"each polling every {args.interval_ms:g} ms"
    n = len(r["latencies"])
    print(f"retrieve run, {args.clients} clients {mode}: {n / r['elapsed']:.0f} requests/s, errors {r['errors']}, "
          f"server CPU {100 * r['server_cpu_s'] / r['elapsed']:.0f}% of one core")
    print(f"latency: {summary_ms(r['latencies'])}")
    ok = percentile(r["latencies"], 99) < 0.010 and r["errors"] == 0
    print("target p99 < 10 ms:", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
