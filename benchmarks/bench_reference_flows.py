"""Completed create-thread-and-run + poll flows per second against the reference server (target >= 300/s).

Starts the server on 127.0.0.1 at --token-delay-ms 0, runs CONCURRENCY keep-alive connections, each doing
flows back to back (POST /threads/runs, then GET the run until it is terminal) for DURATION seconds
after a short warm-up. Reports flows/s, requests/s, the server's own CPU seconds per flow (/proc/PID/stat)
and the load generator's CPU, so one can see which side was the bottleneck.

    python benchmarks/bench_reference_flows.py [--duration 10] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_reference_common import (Connection, cpu_seconds, flow, install_uvloop, make_assistant,  # noqa: E402
                                    reference_server, rss_mb)


async def measure(root_url: str, pid: int, duration: float, concurrency: int, warmup: float) -> dict:
    assistant_id = await make_assistant(root_url)
    conns = [await Connection.open(root_url) for _ in range(concurrency)]
    counts = {"flows": 0, "polls": 0, "errors": 0}
    measuring = False
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + warmup + duration

    async def worker(conn: Connection) -> None:
        while loop.time() < stop_at:
            try:
                polls = await flow(conn, assistant_id)
            except Exception as exc:   # counted, reported, never hidden
                counts["errors"] += 1
                print(f"error: {exc!r}", file=sys.stderr)
                return
            if measuring:
                counts["flows"] += 1
                counts["polls"] += polls

    tasks = [asyncio.create_task(worker(c)) for c in conns]
    await asyncio.sleep(warmup)
    measuring = True
    cpu0, own0, t0 = cpu_seconds(pid), time.process_time(), time.monotonic()
    await asyncio.wait_for(asyncio.gather(*tasks), duration + 30)
    elapsed = time.monotonic() - t0
    cpu = cpu_seconds(pid) - cpu0
    own = time.process_time() - own0
    for c in conns:
        await c.close()
    flows = counts["flows"]
    return {"flows": flows, "elapsed": elapsed, "flows_per_s": flows / elapsed,
            "requests_per_s": (flows + counts["polls"]) / elapsed, "polls_per_flow": counts["polls"] / max(1, flows),
            "server_cpu_s": cpu, "server_cpu_ms_per_flow": 1000 * cpu / max(1, flows),
            "client_cpu_s": own, "errors": counts["errors"], "rss_mb": rss_mb(pid)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    install_uvloop()
    with reference_server(token_delay_ms=0) as server:
        r = asyncio.run(measure(server.root_url, server.pid, args.duration, args.concurrency, args.warmup))
    print(f"flows: {r['flows']} in {r['elapsed']:.1f} s = {r['flows_per_s']:.0f} flows/s "
          f"({r['requests_per_s']:.0f} requests/s, {r['polls_per_flow']:.2f} polls per flow), errors: {r['errors']}")
    print(f"server CPU: {r['server_cpu_s']:.2f} s = {r['server_cpu_ms_per_flow']:.3f} ms per flow "
          f"({100 * r['server_cpu_s'] / r['elapsed']:.0f}% of one core); load generator CPU: {r['client_cpu_s']:.2f} s; "
          f"server RSS {r['rss_mb']:.0f} MB")
    ok = r["flows_per_s"] >= 300 and r["errors"] == 0
    print("target >= 300 flows/s without errors:", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
