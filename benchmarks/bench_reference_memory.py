"""Server RSS after 10,000 runs (target < 300 MB).

Starts the server at --token-delay-ms 0 and completes RUNS create-thread-and-run + poll flows (each: a
thread, a user message, a run, a step, an assistant message) over a few keep-alive connections, printing
the server's RSS (/proc/PID/statm) at the start, every 2,000 runs and at the end.

    python benchmarks/bench_reference_memory.py [--runs 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_reference_common import (Connection, flow, install_uvloop, make_assistant,  # noqa: E402
                                    reference_server, rss_mb)

CONNECTIONS = 16


async def measure(root_url: str, pid: int, runs: int) -> float:
    assistant_id = await make_assistant(root_url)
    print(f"RSS at start: {rss_mb(pid):.0f} MB")
    conns = [await Connection.open(root_url) for _ in range(CONNECTIONS)]
    started = done = 0

    async def worker(conn: Connection) -> None:
        nonlocal started, done
        while started < runs:
            started += 1
            await flow(conn, assistant_id)
            done += 1
            if done % 2000 == 0:
                print(f"RSS after {done} runs: {rss_mb(pid):.0f} MB")

    await asyncio.wait_for(asyncio.gather(*[worker(c) for c in conns]), 600)
    for c in conns:
        await c.close()
    await asyncio.sleep(0.2)   # let the server's batched writes settle
    return rss_mb(pid)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    args = parser.parse_args()
    install_uvloop()
    with reference_server(token_delay_ms=0) as server:
        final = asyncio.run(measure(server.root_url, server.pid, args.runs))
    print(f"RSS after {args.runs} runs: {final:.0f} MB")
    ok = final < 300
    print("target < 300 MB:", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
