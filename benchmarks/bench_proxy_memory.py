"""The proxy's judging memory over a long session: RSS while N retrieve-run exchanges (a new run each time,
on 50,000 threads, a third of them completed) pass through proxy.judge.Judge. The state's LRU caps must
make it level off.

    python benchmarks/bench_proxy_memory.py [--exchanges 300000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from assistants_conformance.protocol.grammar import load_grammar
from assistants_conformance.proxy.exchange import Observed
from assistants_conformance.proxy.judge import Judge
from assistants_conformance.spec import load_contract

RUN = {"object": "thread.run", "created_at": 1, "assistant_id": "asst_1", "started_at": 1, "expires_at": 600,
       "cancelled_at": None, "failed_at": None, "completed_at": None, "required_action": None, "last_error": None,
       "model": "m", "instructions": "Be brief. " * 200, "tools": [], "metadata": {}, "usage": None,
       "incomplete_details": None, "temperature": 1.0, "top_p": 1.0, "max_prompt_tokens": None,
       "max_completion_tokens": None, "truncation_strategy": {"type": "auto", "last_messages": None},
       "response_format": "auto", "tool_choice": "auto", "parallel_tool_calls": True}


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exchanges", type=int, default=300_000)
    args = ap.parse_args()
    judge = Judge(load_contract(), load_grammar())
    marks, t0 = [], time.process_time()
    for i in range(1, args.exchanges + 1):
        run = dict(RUN, id=f"run_{i}", thread_id=f"thread_{i % 50_000}", status="completed" if i % 3 == 0 else "in_progress")
        path = f"/v1/threads/{run['thread_id']}/runs/{run['id']}"
        ex = Observed(i, "GET", "http://t" + path, path, {}, b"", float(i), status=200,
                      response_headers={"content-type": "application/json"}, ended=i + 0.5)
        ex.keep(json.dumps(run).encode())
        judge.begin(ex)
        judge.end(ex)
        ex.settle()
        if i % (args.exchanges // 6) == 0:
            marks.append(rss_mb())
            print(f"{i:>8} exchanges: RSS {marks[-1]:.0f} MB, runs held {len(judge.state.runs)}, "
                  f"threads held {len(judge.state.threads)}", flush=True)
    per = (time.process_time() - t0) / args.exchanges * 1e6
    growth = marks[-1] - marks[len(marks) // 2]
    print(f"second half growth {growth:.0f} MB; {per:.0f} µs of CPU per exchange judged; findings "
          f"{dict(judge.findings.found) or 'none'}")
    return 0 if growth < 20 and not judge.findings.found else 1


if __name__ == "__main__":
    sys.exit(main())
